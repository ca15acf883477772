/**
 * Magnitude pruning: in each convolution kernel and dense matrix, the weights of smallest
 * magnitude are set to zero until the target share of that layer's weights is zero (biases and
 * batchnorm are kept whole). Fine-tuning the pruned weights, keeping the zeros, is
 * `finetune.ts`.
 */
import type { WeightMap, WeightTensor } from '../engine/engine';

export interface LayerSparsity {
  readonly key: string;
  readonly weights: number;
  /** Share of the tensor's values that are zero, 0–1. */
  readonly sparsity: number;
}

/** Whether pruning applies to a tensor: a convolution kernel or dense matrix, not a bias or batchnorm. */
const isKernel = (key: string, tensor: WeightTensor): boolean => tensor.shape.length >= 2 && key.endsWith('.weight');

/** The share of zeros in each kernel of some weights, in their order. */
export function kernelSparsity(weights: WeightMap): LayerSparsity[] {
  const layers: LayerSparsity[] = [];
  for (const [key, tensor] of weights) {
    if (!isKernel(key, tensor)) continue;
    const zeros = tensor.values.reduce((count, value) => (value === 0 ? count + 1 : count), 0);
    layers.push({ key, weights: tensor.values.length, sparsity: zeros / tensor.values.length });
  }
  return layers;
}

export function pruneWeights(weights: WeightMap, target: number): { weights: Map<string, WeightTensor>; layers: LayerSparsity[] } {
  if (!(target >= 0 && target < 1)) throw new Error(`The pruning target is a share of the weights from 0 up to (not including) 1, not ${target}.`);
  const out = new Map<string, WeightTensor>();
  for (const [key, tensor] of weights) {
    if (!isKernel(key, tensor)) {
      out.set(key, tensor);
      continue;
    }
    const magnitudes = Float32Array.from(tensor.values, Math.abs).sort();
    const cut = Math.floor(target * magnitudes.length);
    const threshold = cut > 0 ? magnitudes[cut - 1]! : -1;
    const values = new Float32Array(tensor.values.length);
    // Ties at the threshold are pruned only up to the target count, so the share is exact.
    let ties = cut - magnitudes.findIndex((m) => m >= threshold);
    for (let i = 0; i < values.length; i++) {
      const value = tensor.values[i]!;
      const tie = Math.abs(value) === threshold && ties > 0;
      if (tie) ties--;
      const prune = Math.abs(value) < threshold || tie;
      values[i] = prune ? 0 : value;
    }
    out.set(key, { shape: tensor.shape, values });
  }
  return { weights: out, layers: kernelSparsity(out) };
}
