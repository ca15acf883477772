/**
 * Adam's update of one weight on the wasm backend as one pass over the heap: the new moments and
 * weight are written into three fresh tensors, where the same formula as TensorFlow.js operations
 * makes about ten weight-sized temporaries. Besides the time, the temporaries fragmented the
 * WebAssembly heap, which never shrinks: on ResNet18 the update grew it from 221 to 383 MB.
 * Values are computed in doubles and rounded once, so they may differ from the operations' by
 * float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

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

/** New first moment, second moment and weight, or undefined when the backend is not wasm. */
export function adamOnHeap(weight: tf.Tensor, gradient: tf.Tensor, first: tf.Tensor, second: tf.Tensor, step: AdamStep): [tf.Tensor, tf.Tensor, tf.Tensor] | undefined {
  if (tf.getBackend() !== 'wasm' || [weight, gradient, first, second].some((t) => t.dtype !== 'float32')) return undefined;
  const wasm = tf.backend() as BackendWasm;
  // Outputs first: allocating may grow the heap, which detaches views taken before.
  const outputs = [first, second, weight].map((t) => wasm.makeOutput(t.shape, 'float32'));
  const [g, m, v, p] = [gradient, first, second, weight].map((t) => wasm.typedArrayFromHeap(t) as Float32Array);
  const [mOut, vOut, pOut] = outputs.map((o) => wasm.typedArrayFromHeap(o) as Float32Array);
  const { beta1, beta2, eps, l2, decay, stepSize, rootCorrection2 } = step;
  for (let j = 0; j < p!.length; j++) {
    const w = p![j]!;
    const grad = g![j]! + l2 * w;
    const mj = beta1 * m![j]! + (1 - beta1) * grad;
    const vj = beta2 * v![j]! + (1 - beta2) * grad * grad;
    mOut![j] = mj;
    vOut![j] = vj;
    pOut![j] = w * decay - (stepSize * mj) / (Math.sqrt(vj) / rootCorrection2 + eps);
  }
  return outputs.map((o) => tf.engine().makeTensorFromTensorInfo(o)) as [tf.Tensor, tf.Tensor, tf.Tensor];
}
