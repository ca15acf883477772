/**
 * Two layers TensorFlow.js's layer library lacks in the form PyTorch defines them.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { streamSeed } from '../../random';

type Pair = [number, number];

/** A shard of a batch: its first image's index in the whole batch, and the whole batch's size. */
export interface BatchShard {
  readonly start: number;
  readonly total: number;
}

const single = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(inputs) ? inputs[0]! : inputs);

/**
 * Max pooling with padding as PyTorch pads it: with −∞, so a padded position never wins. The
 * library's pooling layers only know `valid` and `same`, and zero padding would beat negative
 * inputs; `tf.maxPool` with explicit padding skips padded positions, which is the same thing.
 */
export class PaddedMaxPool extends tfl.layers.Layer {
  static readonly className = 'OcularPaddedMaxPool';

  constructor(
    private readonly kernel: Pair,
    private readonly stride: Pair,
    private readonly padding: Pair,
    name: string,
  ) {
    super({ name });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [batch, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const out = (size: number | null, axis: 0 | 1): number | null => (size === null ? null : Math.floor((size + 2 * this.padding[axis] - this.kernel[axis]) / this.stride[axis]) + 1);
    return [batch ?? null, out(h ?? null, 0), out(w ?? null, 1), c ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [ph, pw] = this.padding;
    return tf.maxPool(single(inputs) as tf.Tensor4D, this.kernel, this.stride, [
      [0, 0],
      [ph, ph],
      [pw, pw],
      [0, 0],
    ]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kernel: this.kernel, stride: this.stride, padding: this.padding };
  }
}

/**
 * Dropout that is seeded and still draws a new mask every step. The library's dropout with a
 * seed draws the same mask on every call, and without one it uses Math.random, so a run could
 * not be repeated; here each call takes the next stream of the run's seed.
 */
export class SeededDropout extends tfl.layers.Layer {
  static readonly className = 'OcularSeededDropout';
  /** Masks drawn so far: part of a checkpoint's training state, so a resumed run draws the same next mask. */
  calls = 0;
  /**
   * Set while a data-parallel replica trains on a shard of a batch: where its images sit in the
   * whole batch. The layer then draws the whole batch's mask and keeps the shard's rows, so the
   * replicas together drop what one thread training on the whole batch would.
   */
  shard: BatchShard | undefined;

  constructor(
    private readonly rate: number,
    private readonly seed: number,
    name: string,
  ) {
    super({ name });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor {
    const x = single(inputs);
    if (kwargs['training'] !== true || this.rate === 0) return x;
    const seed = streamSeed(this.seed, `${this.name}#${this.calls++}`);
    const shard = this.shard;
    if (!shard || (shard.start === 0 && shard.total === x.shape[0])) return tf.dropout(x, this.rate, undefined, seed);
    // tf.dropout multiplies by exactly this tensor, so a shard's rows come out as in the whole batch.
    const [count, ...rest] = x.shape;
    const multiplier = tf.dropout(tf.ones([shard.total, ...rest]), this.rate, undefined, seed);
    return tf.mul(x, tf.slice(multiplier, [shard.start, ...rest.map(() => 0)], [count!, ...rest]));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
