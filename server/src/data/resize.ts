/**
 * Channel conversion and resizing of decoded pixels into the model's C×H×W uint8 layout, in plain
 * TypeScript for the images that skip sharp (see png.ts) and for tensors read from CIFAR and IDX
 * files. The filter is a triangle (bilinear) widened by the shrink factor, as PIL's antialiased
 * bilinear resize does, so that downscaling averages rather than skips pixels.
 */
import type { RawImage } from './png';
import type { ImageShape, ResizeMode } from './types';

interface AxisWeights {
  readonly first: Int32Array;
  readonly taps: Int32Array;
  readonly maxTaps: number;
  readonly weights: Float32Array;
}

const weightCache = new Map<string, AxisWeights>();

/** axisWeights, remembered: a dataset's images mostly share a few sizes, so their taps repeat. */
function cachedWeights(start: number, extent: number, limit: number, out: number): AxisWeights {
  const key = `${start},${extent},${limit},${out}`;
  let weights = weightCache.get(key);
  if (!weights) {
    if (weightCache.size > 256) weightCache.clear();
    weights = axisWeights(start, extent, limit, out);
    weightCache.set(key, weights);
  }
  return weights;
}

/** Filter taps for mapping the source span [start, start + extent) of an axis of `limit` pixels onto `out` pixels. */
function axisWeights(start: number, extent: number, limit: number, out: number): AxisWeights {
  const scale = extent / out;
  const support = Math.max(scale, 1);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(out);
  const taps = new Int32Array(out);
  const weights = new Float32Array(out * maxTaps);
  for (let o = 0; o < out; o++) {
    const center = start + (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(limit, Math.ceil(center + support));
    let total = 0;
    let n = 0;
    for (let i = lo; i < hi && n < maxTaps; i++, n++) {
      const w = Math.max(0, 1 - Math.abs((i + 0.5 - center) / support));
      weights[o * maxTaps + n] = w;
      total += w;
    }
    if (total > 0) for (let k = 0; k < n; k++) weights[o * maxTaps + k]! /= total;
    else {
      // A span narrower than a pixel between two centres: take the nearest pixel.
      weights[o * maxTaps] = 1;
      n = 1;
    }
    first[o] = total > 0 ? lo : Math.min(limit - 1, Math.max(0, Math.floor(center)));
    taps[o] = n;
  }
  return { first, taps, maxTaps, weights };
}

/** Where the resized image lands in the output, and which part of the source it shows. */
interface Geometry {
  readonly sx: number;
  readonly sy: number;
  readonly sw: number;
  readonly sh: number;
  readonly dx: number;
  readonly dy: number;
  readonly dw: number;
  readonly dh: number;
}

export function geometry(width: number, height: number, outWidth: number, outHeight: number, mode: ResizeMode): Geometry {
  if (mode === 'crop') {
    const scale = Math.max(outWidth / width, outHeight / height);
    const sw = outWidth / scale;
    const sh = outHeight / scale;
    return { sx: (width - sw) / 2, sy: (height - sh) / 2, sw, sh, dx: 0, dy: 0, dw: outWidth, dh: outHeight };
  }
  if (mode === 'letterbox') {
    const scale = Math.min(outWidth / width, outHeight / height);
    const dw = Math.max(1, Math.min(outWidth, Math.round(width * scale)));
    const dh = Math.max(1, Math.min(outHeight, Math.round(height * scale)));
    return { sx: 0, sy: 0, sw: width, sh: height, dx: Math.floor((outWidth - dw) / 2), dy: Math.floor((outHeight - dh) / 2), dw, dh };
  }
  return { sx: 0, sy: 0, sw: width, sh: height, dx: 0, dy: 0, dw: outWidth, dh: outHeight };
}

/**
 * One plane per output channel, as floats. Grey from colour uses ITU-R 601 luma (PIL's
 * convert('L')); colour from grey repeats the plane; alpha is dropped, as PIL's convert('RGB') does.
 */
function planes(image: RawImage, channels: number): Float32Array[] {
  const { width, height, channels: inChannels, data } = image;
  const n = width * height;
  const plane = (c: number): Float32Array => {
    const p = new Float32Array(n);
    for (let i = 0, j = c; i < n; i++, j += inChannels) p[i] = data[j]!;
    return p;
  };
  if (channels === 1) {
    if (inChannels < 3) return [plane(0)];
    const grey = new Float32Array(n);
    for (let i = 0, j = 0; i < n; i++, j += inChannels) grey[i] = data[j]! * 0.299 + data[j + 1]! * 0.587 + data[j + 2]! * 0.114;
    return [grey];
  }
  if (inChannels < 3) {
    const grey = plane(0);
    return Array.from({ length: channels }, () => grey);
  }
  return Array.from({ length: channels }, (_, c) => plane(Math.min(c, 2)));
}

/** Resizes interleaved pixels into a new C×H×W uint8 tensor of `shape`, as `mode` says. */
export function toTensor(image: RawImage, shape: ImageShape, mode: ResizeMode, out: Uint8Array = new Uint8Array(shape[0] * shape[1] * shape[2])): Uint8Array {
  const [channels, outHeight, outWidth] = shape;
  const { width, height } = image;
  // Only a letterbox leaves pixels unwritten; its bars are black.
  if (mode === 'letterbox') out.fill(0, 0, channels * outHeight * outWidth);
  const g = geometry(width, height, outWidth, outHeight, mode);
  const sources = planes(image, channels);
  const { first: hFirst, taps: hTaps, weights: hWeights, maxTaps: hMax } = cachedWeights(g.sx, g.sw, width, g.dw);
  const { first: vFirst, taps: vTaps, weights: vWeights, maxTaps: vMax } = cachedWeights(g.sy, g.sh, height, g.dh);
  const rowLo = vFirst[0]!;
  const rowHi = vFirst[g.dh - 1]! + vTaps[g.dh - 1]!;
  const dw = g.dw;
  const tmp = new Float32Array((rowHi - rowLo) * dw);
  const done = new Map<Float32Array, number>();
  for (let c = 0; c < channels; c++) {
    const src = sources[c]!;
    const base = c * outHeight * outWidth;
    const copyOf = done.get(src);
    if (copyOf !== undefined) {
      out.copyWithin(base, copyOf, copyOf + outHeight * outWidth);
      continue;
    }
    done.set(src, base);
    for (let y = rowLo; y < rowHi; y++) {
      const row = y * width;
      const t = (y - rowLo) * dw;
      for (let x = 0; x < dw; x++) {
        const f = hFirst[x]! + row;
        const w = x * hMax;
        let sum = 0;
        for (let k = 0, n = hTaps[x]!; k < n; k++) sum += src[f + k]! * hWeights[w + k]!;
        tmp[t + x] = sum;
      }
    }
    for (let y = 0; y < g.dh; y++) {
      const f = (vFirst[y]! - rowLo) * dw;
      const w = y * vMax;
      const n = vTaps[y]!;
      const o = base + (y + g.dy) * outWidth + g.dx;
      for (let x = 0; x < dw; x++) {
        let sum = 0;
        for (let k = 0, at = f + x; k < n; k++, at += dw) sum += tmp[at]! * vWeights[w + k]!;
        out[o + x] = sum <= 0 ? 0 : sum >= 255 ? 255 : Math.round(sum);
      }
    }
  }
  return out;
}

/** Interleaved H×W×C pixels (sharp's raw output) to planar C×H×W. */
export function interleavedToPlanar(data: Uint8Array, channels: number, height: number, width: number, out: Uint8Array = new Uint8Array(data.length)): Uint8Array {
  const n = height * width;
  if (channels === 1) out.set(data.subarray(0, n));
  else for (let c = 0; c < channels; c++) for (let i = 0, j = c; i < n; i++, j += channels) out[c * n + i] = data[j]!;
  return out;
}
