/**
 * Training batches from a decoded split: shuffled per epoch, gathered from the uint8 images,
 * scaled to [0, 1], augmented and normalized. Every random choice comes from (seed, epoch, batch),
 * so a resumed run sees exactly the batches the interrupted one would have.
 */
import { createAugmenter, normalizeBatch } from './augment';
import { imagePixels, type FilePixels } from './decode-batch';
import { Random, deriveSeed } from '../random';
import type { AugmentationSpec, ImageShape, NormalizeSpec } from './types';

/** What batching needs of a split; a TensorSplit has it. */
export interface BatchSource {
  readonly shape: ImageShape;
  readonly count: number;
  readonly block: { readonly pixels: Uint8Array | FilePixels };
  readonly index: Int32Array;
  readonly labels: Int32Array;
}

export interface BatchOptions {
  readonly batchSize: number;
  readonly seed: number;
  readonly epoch: number;
  /** Shuffle the order each epoch (training); keep it (evaluation). Default true. */
  readonly shuffle?: boolean;
  /** Applied to training batches only; leave empty for evaluation. */
  readonly augment?: readonly AugmentationSpec[];
  readonly normalize?: NormalizeSpec;
  /** N×C×H×W as PyTorch, or N×H×W×C as TensorFlow.js convolutions take by default. */
  readonly layout?: 'nchw' | 'nhwc';
  /** Leave out a last batch smaller than batchSize. */
  readonly dropLast?: boolean;
}

export interface Batch {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly size: number;
  /** Positions in the split of the images in this batch, for showing them. */
  readonly positions: Int32Array;
}

export function batchCount(source: BatchSource, options: Pick<BatchOptions, 'batchSize' | 'dropLast'>): number {
  return options.dropLast ? Math.floor(source.count / options.batchSize) : Math.ceil(source.count / options.batchSize);
}

/** The order of a split's images in an epoch. */
export function epochOrder(count: number, seed: number, epoch: number, shuffle = true): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  return shuffle ? new Random(deriveSeed(seed, epoch)).shuffle(order) : order;
}

/** One batch of an epoch; `batches` yields these in turn, and a data loader may ask for any. */
export function makeBatch(source: BatchSource, options: BatchOptions, order: Int32Array, batch: number): Batch {
  const [c, h, w] = source.shape;
  const size = c * h * w;
  const start = batch * options.batchSize;
  const positions = order.subarray(start, Math.min(order.length, start + options.batchSize));
  const n = positions.length;
  const x = new Float32Array(n * size);
  const y = new Int32Array(n);
  // One image's buffer, reused, for pixels read from a cache file; in-memory pixels are viewed in place.
  const scratch = source.block.pixels instanceof Uint8Array ? undefined : new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    const p = positions[i]!;
    const image = imagePixels(source.block.pixels, size, source.index[p]!, scratch);
    const at = i * size;
    for (let k = 0; k < size; k++) x[at + k] = image[k]! * (1 / 255);
    y[i] = source.labels[p]!;
  }
  if (options.augment && options.augment.length > 0) {
    createAugmenter(options.augment, source.shape)(x, n, new Random(deriveSeed(options.seed, options.epoch, batch, 1)));
  }
  if (options.normalize) normalizeBatch(x, n, source.shape, options.normalize);
  if (options.layout !== 'nhwc' || c === 1) return { x, y, size: n, positions };
  const nhwc = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    const base = i * size;
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) nhwc[base + p * c + ch] = x[base + ch * h * w + p]!;
  }
  return { x: nhwc, y, size: n, positions };
}

/** The batches of one epoch, in order. */
export function* batches(source: BatchSource, options: BatchOptions): Generator<Batch> {
  const order = epochOrder(source.count, options.seed, options.epoch, options.shuffle ?? true);
  const total = batchCount(source, options);
  for (let b = 0; b < total; b++) yield makeBatch(source, options, order, b);
}
