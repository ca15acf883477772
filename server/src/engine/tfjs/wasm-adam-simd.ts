/**
 * Adam's update as a WebAssembly SIMD kernel of our own (wasm-assembler.ts), two values a vector
 * in doubles: the same operations in the same order as the JavaScript loop of wasm-adam.ts, each
 * rounded to float32 once when stored, so the new weights and moments are that loop's to the bit.
 * The loop took about 14 ns a value (ResNet18's 11.2M weights: 150 ms a step, more than any
 * kernel but the convolutions).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { AdamStep } from './wasm-adam';
import { F64, FunctionBody, I32, V128, backendMemory, kernelsOnMemory } from './wasm-assembler';

const ADDRESSES = ['gradient', 'first', 'second', 'weight', 'firstOut', 'secondOut', 'weightOut', 'pairs'] as const;

/** The step's constants, f64 parameters after the addresses and the count, in this order. */
const CONSTANTS = ['l2', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'decay', 'stepSize', 'rootCorrection2', 'eps'] as const;

/**
 * `adam`: for `pairs` pairs of floats, with w the weight and g the gradient:
 * grad = g + l2·w; m' = β1·m + (1 − β1)·grad; v' = β2·v + (1 − β2)·grad·grad;
 * w' = w·decay − (stepSize·m') / (√v' / rootCorrection2 + eps).
 */
function adamKernel(): FunctionBody {
  const f = new FunctionBody(ADDRESSES.length + CONSTANTS.length, [...ADDRESSES.map(() => I32), ...CONSTANTS.map(() => F64)]);
  const [gradient, first, second, weight, firstOut, secondOut, weightOut, pairs] = ADDRESSES.map((_, i) => i) as number[] as [number, number, number, number, number, number, number, number];
  const constant = Object.fromEntries(CONSTANTS.map((name) => [name, f.local(V128)])) as Record<(typeof CONSTANTS)[number], number>;
  const [w, grad, m, v] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const [pair, offset] = [f.local(I32), f.local(I32)];
  CONSTANTS.forEach((name, i) => f.get(ADDRESSES.length + i).splatF64x2().set(constant[name]));
  f.i32(0).set(offset);
  /** Pushes the pair of floats at `array` + offset, as doubles. */
  const pairAt = (array: number): void => {
    f.get(array).get(offset).add().loadLow().promoteLow();
  };
  /** Stores the doubles that `value` pushes as floats at `array` + offset. */
  const storeAt = (array: number, value: () => void): void => {
    f.get(array).get(offset).add();
    value();
    f.demote().storeLow();
  };
  f.repeat(pairs, pair, () => {
    pairAt(weight);
    f.set(w);
    pairAt(gradient);
    f.get(constant.l2).get(w).mulF64x2().addF64x2().set(grad);
    f.get(constant.beta1);
    pairAt(first);
    f.mulF64x2().get(constant.oneMinusBeta1).get(grad).mulF64x2().addF64x2().set(m);
    f.get(constant.beta2);
    pairAt(second);
    f.mulF64x2().get(constant.oneMinusBeta2).get(grad).mulF64x2().get(grad).mulF64x2().addF64x2().set(v);
    storeAt(firstOut, () => f.get(m));
    storeAt(secondOut, () => f.get(v));
    storeAt(weightOut, () => {
      f.get(w).get(constant.decay).mulF64x2();
      f.get(constant.stepSize).get(m).mulF64x2();
      f.get(v).sqrtF64x2().get(constant.rootCorrection2).divF64x2().get(constant.eps).addF64x2();
      f.divF64x2().subF64x2();
    });
    f.step(offset, 8);
  });
  return f;
}

type Adam = (gradient: number, first: number, second: number, weight: number, firstOut: number, secondOut: number, weightOut: number, pairs: number, ...constants: number[]) => void;

const kernels = kernelsOnMemory<{ adam: Adam }>(() => [{ name: 'adam', body: adamKernel() }]);

/**
 * Runs Adam's update over the first 2·⌊n/2⌋ values of the float arrays (views of the wasm heap;
 * outputs may be the inputs), and returns how many values it updated: the caller updates the odd
 * one left, if any. Allocates nothing, so the views stay valid.
 */
export function adamBySimd(wasm: BackendWasm, inputs: { g: Float32Array; m: Float32Array; v: Float32Array; p: Float32Array }, outputs: { m: Float32Array; v: Float32Array; p: Float32Array }, step: AdamStep): number {
  const pairs = Math.floor(inputs.p.length / 2);
  if (pairs === 0) return 0;
  const values: Record<(typeof CONSTANTS)[number], number> = {
    l2: step.l2,
    beta1: step.beta1,
    oneMinusBeta1: 1 - step.beta1,
    beta2: step.beta2,
    oneMinusBeta2: 1 - step.beta2,
    decay: step.decay,
    stepSize: step.stepSize,
    rootCorrection2: step.rootCorrection2,
    eps: step.eps,
  };
  kernels(backendMemory(wasm)).adam(inputs.g.byteOffset, inputs.m.byteOffset, inputs.v.byteOffset, inputs.p.byteOffset, outputs.m.byteOffset, outputs.v.byteOffset, outputs.p.byteOffset, pairs, ...CONSTANTS.map((name) => values[name]));
  return pairs * 2;
}
