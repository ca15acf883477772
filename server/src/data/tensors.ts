/** Images that arrive already decoded, from CIFAR batches or IDX files, and fitting them to a shape. */
import { toTensor } from './resize';
import type { ImageShape, ResizeMode } from './types';

export interface TensorSet {
  /** The stored shape, C×H×W. */
  readonly shape: ImageShape;
  /** count × C×H×W. */
  readonly pixels: Uint8Array;
  readonly labels: Int32Array;
  /** One per image: the file and the record number, as `file#12`. */
  readonly ids: readonly string[];
  /** Class names in label order, from the files or as numbers. */
  readonly classes: readonly string[];
}

const same = (a: ImageShape, b: ImageShape): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

/** The set's pixels in `shape`: the same array when it already matches, resized otherwise. */
export function fitTensors(set: TensorSet, shape: ImageShape, mode: ResizeMode): Uint8Array {
  if (same(set.shape, shape)) return set.pixels;
  const [c, h, w] = set.shape;
  const inSize = c * h * w;
  const outSize = shape[0] * shape[1] * shape[2];
  const count = set.labels.length;
  const out = new Uint8Array(count * outSize);
  const interleaved = new Uint8Array(inSize);
  for (let i = 0; i < count; i++) {
    const planar = set.pixels.subarray(i * inSize, (i + 1) * inSize);
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) interleaved[p * c + ch] = planar[ch * h * w + p]!;
    toTensor({ width: w, height: h, channels: c, data: interleaved }, shape, mode, out.subarray(i * outSize, (i + 1) * outSize));
  }
  return out;
}
