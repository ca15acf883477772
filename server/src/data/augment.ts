/**
 * Training-time augmentation on batches of float tensors (N×C×H×W, values in [0, 1]), in plain
 * TypeScript with the seeded generator: the same seed gives the same images on every engine
 * backend, so a run can be repeated and compared across machines. Each operation follows its
 * torchvision namesake in what it draws; `rotate` and `randomresizedcrop` sample bilinearly.
 */
import type { Random } from '../random';
import type { AugmentationSpec, ImageShape, NormalizeSpec } from './types';

type Op = (batch: Float32Array, n: number, shape: ImageShape, rng: Random) => void;

const num = (args: AugmentationSpec['args'], name: string, fallback: number): number => {
  const v = args[name];
  return typeof v === 'number' ? v : fallback;
};
const pair = (args: AugmentationSpec['args'], name: string, fallback: [number, number]): [number, number] => {
  const v = args[name];
  return Array.isArray(v) && v.length === 2 ? [v[0]!, v[1]!] : fallback;
};

function flip(horizontal: boolean, p: number): Op {
  return (batch, n, [c, h, w], rng) => {
    for (let i = 0; i < n; i++) {
      if (rng.next() >= p) continue;
      for (let ch = 0; ch < c; ch++) {
        const plane = (i * c + ch) * h * w;
        if (horizontal) {
          for (let y = 0; y < h; y++) batch.subarray(plane + y * w, plane + (y + 1) * w).reverse();
        } else {
          for (let y = 0; y < h >> 1; y++) {
            const top = batch.slice(plane + y * w, plane + (y + 1) * w);
            batch.copyWithin(plane + y * w, plane + (h - 1 - y) * w, plane + (h - y) * w);
            batch.set(top, plane + (h - 1 - y) * w);
          }
        }
      }
    }
  };
}

/** Bilinear sample of one plane at (x, y) in pixel-centre coordinates; outside is 0. */
function sample(src: Float32Array, base: number, h: number, w: number, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx: number, yy: number): number => (xx < 0 || yy < 0 || xx >= w || yy >= h ? 0 : src[base + yy * w + xx]!);
  return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
}

function rotate(degrees: number): Op {
  return (batch, n, [c, h, w], rng) => {
    const image = new Float32Array(c * h * w);
    const cx = (w - 1) / 2;
    const cy = (h - 1) / 2;
    for (let i = 0; i < n; i++) {
      const angle = (rng.uniform(-degrees, degrees) * Math.PI) / 180;
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      image.set(batch.subarray(i * c * h * w, (i + 1) * c * h * w));
      for (let ch = 0; ch < c; ch++) {
        const base = ch * h * w;
        const out = (i * c + ch) * h * w;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            // Inverse mapping: where in the source this output pixel comes from; the fill is black.
            const dx = x - cx;
            const dy = y - cy;
            batch[out + y * w + x] = sample(image, base, h, w, cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
          }
        }
      }
    }
  };
}

/** torchvision's RandomResizedCrop.get_params: ten tries at a random area and aspect, else the centre. */
export function cropBox(h: number, w: number, scale: [number, number], ratio: [number, number], rng: Random): { top: number; left: number; height: number; width: number } {
  const area = h * w;
  const logLow = Math.log(ratio[0]);
  const logHigh = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLow, logHigh));
    const cw = Math.round(Math.sqrt(target * aspect));
    const chh = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && chh > 0 && chh <= h) return { top: rng.int(h - chh + 1), left: rng.int(w - cw + 1), height: chh, width: cw };
  }
  const inRatio = w / h;
  let cw = w;
  let chh = h;
  if (inRatio < ratio[0]) chh = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) cw = Math.round(h * ratio[1]);
  return { top: Math.floor((h - chh) / 2), left: Math.floor((w - cw) / 2), height: chh, width: cw };
}

function randomResizedCrop(scale: [number, number], ratio: [number, number]): Op {
  return (batch, n, [c, h, w], rng) => {
    const image = new Float32Array(c * h * w);
    for (let i = 0; i < n; i++) {
      const box = cropBox(h, w, scale, ratio, rng);
      image.set(batch.subarray(i * c * h * w, (i + 1) * c * h * w));
      const sx = box.width / w;
      const sy = box.height / h;
      for (let ch = 0; ch < c; ch++) {
        const base = ch * h * w;
        const out = (i * c + ch) * h * w;
        for (let y = 0; y < h; y++) {
          const srcY = Math.min(box.top + box.height - 1, Math.max(box.top, box.top + (y + 0.5) * sy - 0.5));
          for (let x = 0; x < w; x++) {
            const srcX = Math.min(box.left + box.width - 1, Math.max(box.left, box.left + (x + 0.5) * sx - 0.5));
            batch[out + y * w + x] = sample(image, base, h, w, srcX, srcY);
          }
        }
      }
    }
  };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let hue = 0;
  if (d > 0) {
    if (max === r) hue = ((g - b) / d) % 6;
    else if (max === g) hue = (b - r) / d + 2;
    else hue = (r - g) / d + 4;
    hue /= 6;
    if (hue < 0) hue += 1;
  }
  return [hue, max === 0 ? 0 : d / max, max];
}

function hsvToRgb(hue: number, s: number, v: number): [number, number, number] {
  const k = (m: number): number => {
    const t = (m + hue * 6) % 6;
    return v - v * s * Math.max(0, Math.min(t, 4 - t, 1));
  };
  return [k(5), k(3), k(1)];
}

function colorJitter(brightness: number, contrast: number, saturation: number, hue: number): Op {
  return (batch, n, [c, h, w], rng) => {
    const plane = h * w;
    const luma = (base: number, p: number): number => (c >= 3 ? 0.299 * batch[base + p]! + 0.587 * batch[base + plane + p]! + 0.114 * batch[base + 2 * plane + p]! : batch[base + p]!);
    for (let i = 0; i < n; i++) {
      const base = i * c * plane;
      // As torchvision's ColorJitter: each factor drawn from its range, the four applied in a random order.
      const order = rng.shuffle([0, 1, 2, 3]);
      const factors = [
        brightness > 0 ? rng.uniform(Math.max(0, 1 - brightness), 1 + brightness) : 1,
        contrast > 0 ? rng.uniform(Math.max(0, 1 - contrast), 1 + contrast) : 1,
        saturation > 0 ? rng.uniform(Math.max(0, 1 - saturation), 1 + saturation) : 1,
        hue > 0 ? rng.uniform(-hue, hue) : 0,
      ];
      for (const op of order) {
        const f = factors[op]!;
        if (op === 0 && f !== 1) for (let k = base; k < base + c * plane; k++) batch[k] = clamp01(batch[k]! * f);
        else if (op === 1 && f !== 1) {
          let mean = 0;
          for (let p = 0; p < plane; p++) mean += luma(base, p);
          mean /= plane;
          for (let k = base; k < base + c * plane; k++) batch[k] = clamp01((batch[k]! - mean) * f + mean);
        } else if (op === 2 && f !== 1 && c >= 3) {
          for (let p = 0; p < plane; p++) {
            const grey = luma(base, p);
            for (let ch = 0; ch < 3; ch++) batch[base + ch * plane + p] = clamp01((batch[base + ch * plane + p]! - grey) * f + grey);
          }
        } else if (op === 3 && f !== 0 && c >= 3) {
          for (let p = 0; p < plane; p++) {
            const [hh, s, v] = rgbToHsv(batch[base + p]!, batch[base + plane + p]!, batch[base + 2 * plane + p]!);
            const [r, g, b] = hsvToRgb((hh + f + 1) % 1, s, v);
            batch[base + p] = r;
            batch[base + plane + p] = g;
            batch[base + 2 * plane + p] = b;
          }
        }
      }
    }
  };
}

/** The operation for one augmentation statement; unknown names are a programming error, as the language rejects them. */
function operation(spec: AugmentationSpec): Op {
  switch (spec.name) {
    case 'hflip':
      return flip(true, num(spec.args, 'p', 0.5));
    case 'vflip':
      return flip(false, num(spec.args, 'p', 0.5));
    case 'rotate':
      return rotate(num(spec.args, 'degrees', 15));
    case 'randomresizedcrop':
      return randomResizedCrop(pair(spec.args, 'scale', [0.08, 1]), pair(spec.args, 'ratio', [0.75, 4 / 3]));
    case 'colorjitter':
      return colorJitter(num(spec.args, 'brightness', 0), num(spec.args, 'contrast', 0), num(spec.args, 'saturation', 0), num(spec.args, 'hue', 0));
    default:
      throw new Error(`Unknown augmentation '${spec.name}'.`);
  }
}

export type Augmenter = (batch: Float32Array, n: number, rng: Random) => void;

/** Builds the augmentations of a dataset section into one function over a batch, applied in order. */
export function createAugmenter(specs: readonly AugmentationSpec[], shape: ImageShape): Augmenter {
  const ops = specs.map(operation);
  return (batch, n, rng) => {
    for (const op of ops) op(batch, n, shape, rng);
  };
}

/** Subtracts the mean and divides by the standard deviation, per channel (one value applies to all). */
export function normalizeBatch(batch: Float32Array, n: number, shape: ImageShape, normalize: NormalizeSpec): void {
  const [c, h, w] = shape;
  for (let ch = 0; ch < c; ch++) {
    const mean = normalize.mean[ch] ?? normalize.mean[0] ?? 0;
    const scale = 1 / (normalize.std[ch] ?? normalize.std[0] ?? 1);
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * h * w;
      for (let k = base; k < base + h * w; k++) batch[k] = (batch[k]! - mean) * scale;
    }
  }
}
