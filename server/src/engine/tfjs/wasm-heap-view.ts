/**
 * Float32 tensors' data read and written where it lies, in the wasm backend's heap: `dataSync`
 * copies a tensor out (a weight-sized JavaScript buffer per read), and writing through operations
 * makes a new tensor per result, which grows the heap that never shrinks. A view is valid until the
 * heap next grows, which any allocation may do: take it after allocating, use it at once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The tensor's values in the wasm heap, or undefined on another backend or for another dtype. */
export function heapView(tensor: tf.Tensor): Float32Array | undefined {
  if (tf.getBackend() !== 'wasm' || tensor.dtype !== 'float32') return undefined;
  return (tf.backend() as BackendWasm).typedArrayFromHeap(tensor) as Float32Array;
}

/**
 * `heapView` where no other tensor shares the data (Identity and Reshape share it on wasm), so
 * that writing the view changes this tensor alone; undefined otherwise.
 */
export function writableHeapView(tensor: tf.Tensor): Float32Array | undefined {
  if (tf.getBackend() !== 'wasm' || tf.backend().refCount(tensor.dataId) !== 1) return undefined;
  return heapView(tensor);
}
