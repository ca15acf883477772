/**
 * Adam's update of one weight on the wasm backend as one pass over the heap, written over the
 * weight and its moments, where the same formula as TensorFlow.js operations makes about ten
 * weight-sized temporaries. Besides the time, the temporaries fragmented the WebAssembly heap,
 * which never shrinks: on ResNet18 the update grew it from 221 to 383 MB; three fresh tensors per
 * weight still moved every weight and moment each step. Values are computed in doubles and
 * rounded once, so they may differ from the operations' by float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { adamBySimd } from './wasm-adam-simd';
import { writableHeapView } from './wasm-heap-view';
import { dropPackedWeights } from './wasm-packed-weights';

/** One Adam step's constants (see `Optimizer.adam`). */
export interface AdamStep {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Adam's L2 weight decay, added to the gradient (0 for adamw). */
  readonly l2: number;
  /** The factor the weight decays by first (adamw's 1 − lr·λ; 1 otherwise). */
  readonly decay: number;
  /** lr / (1 − β1^t). */
  readonly stepSize: number;
  /** √(1 − β2^t). */
  readonly rootCorrection2: number;
}

/**
 * Updates the weight and its moments in one pass: true when done, false when the backend is not
 * wasm (the caller then uses operations). Tensors that share their data with another (which
 * writing would change too) are replaced by fresh ones instead of written over.
 */
export function adamOnHeap(weight: tf.Variable, gradient: tf.Tensor, first: tf.Variable, second: tf.Variable, step: AdamStep): boolean {
  if (tf.getBackend() !== 'wasm' || [weight, gradient, first, second].some((t) => t.dtype !== 'float32')) return false;
  const wasm = tf.backend() as BackendWasm;
  const updated = [first, second, weight];
  const inPlace = updated.every((t) => writableHeapView(t) !== undefined);
  // Outputs first: allocating may grow the heap, which detaches views taken before.
  const outputs = inPlace ? updated : updated.map((t) => tf.engine().makeTensorFromTensorInfo(wasm.makeOutput(t.shape, 'float32')));
  const [g, m, v, p] = [gradient, first, second, weight].map((t) => wasm.typedArrayFromHeap(t) as Float32Array);
  const [mOut, vOut, pOut] = outputs.map((o) => wasm.typedArrayFromHeap(o) as Float32Array);
  const { beta1, beta2, eps, l2, decay, stepSize, rootCorrection2 } = step;
  // Pairs of values in SIMD (wasm-adam-simd.ts, the same arithmetic); an odd one left here.
  const done = adamBySimd(wasm, { g: g!, m: m!, v: v!, p: p! }, { m: mOut!, v: vOut!, p: pOut! }, step);
  for (let j = done; j < p!.length; j++) {
    const w = p![j]!;
    const grad = g![j]! + l2 * w;
    const mj = beta1 * m![j]! + (1 - beta1) * grad;
    const vj = beta2 * v![j]! + (1 - beta2) * grad * grad;
    mOut![j] = mj;
    vOut![j] = vj;
    pOut![j] = w * decay - (stepSize * mj) / (Math.sqrt(vj) / rootCorrection2 + eps);
  }
  if (inPlace) {
    // The forward pass's XNNPACK operators packed the old values; they must not be used again.
    dropPackedWeights([weight]);
  } else {
    updated.forEach((t, i) => t.assign(outputs[i]!));
    tf.dispose(outputs);
  }
  return true;
}
