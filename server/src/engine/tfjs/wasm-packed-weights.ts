/**
 * The wasm backend keeps, for every filter a convolution or a matrix product has used, the XNNPACK
 * operator made for it, with the weights packed into XNNPACK's layout: a second copy of every
 * weight, kept until the weight tensor is disposed. In training the forward pass is the only use
 * of those copies (the backward kernels multiply by reversed, transposed or cropped filters, fresh
 * tensors), and the optimizer replaces every weight after the backward pass, so the copies only
 * raised the step's peak: ResNet18's are 43 MB in each data-parallel replica's heap, which never
 * shrinks.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** What the backend keeps for each tensor, and the C++ side's calls (not in the public types). */
interface WasmInternals {
  readonly dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  readonly wasm: { readonly tfjs: { disposeData(id: number): void; registerTensor(id: number, size: number, memoryOffset: number): void } };
}

/**
 * Deletes the XNNPACK operators, and their packed weights, made for `tensors`; the tensors stay as
 * they are. The C++ side deletes a tensor's operators when the tensor is disposed; here it is told
 * so and then given the same memory back under the same id. Does nothing on other backends.
 */
export function dropPackedWeights(tensors: readonly tf.Tensor[]): void {
  if (tf.getBackend() !== 'wasm') return;
  const backend = tf.backend() as BackendWasm & WasmInternals;
  for (const tensor of tensors) {
    const data = backend.dataIdMap.get(tensor.dataId);
    if (!data) continue;
    backend.wasm.tfjs.disposeData(data.id);
    backend.wasm.tfjs.registerTensor(data.id, tensor.size, data.memoryOffset);
  }
}
