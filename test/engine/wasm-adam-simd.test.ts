/**
 * Adam's update on the wasm heap: the SIMD kernel (wasm-adam-simd.ts) gives the same floats, to
 * the bit, as the update written out in doubles and rounded once (wasm-adam.ts's formula), for
 * even and odd lengths (the odd value is left to the JavaScript loop).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../server/src/engine/tfjs/backends';
import { type AdamStep, adamOnHeap } from '../../server/src/engine/tfjs/wasm-adam';
import { Random } from '../../server/src/random';

/** The update as wasm-adam.ts documents it, in doubles, each result rounded to float32 once. */
function expected(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, step: AdamStep): [Float32Array, Float32Array, Float32Array] {
  const [mOut, vOut, wOut] = [new Float32Array(w.length), new Float32Array(w.length), new Float32Array(w.length)];
  for (let j = 0; j < w.length; j++) {
    const grad = g[j]! + step.l2 * w[j]!;
    const mj = step.beta1 * m[j]! + (1 - step.beta1) * grad;
    const vj = step.beta2 * v[j]! + (1 - step.beta2) * grad * grad;
    [mOut[j], vOut[j]] = [mj, vj];
    wOut[j] = w[j]! * step.decay - (step.stepSize * mj) / (Math.sqrt(vj) / step.rootCorrection2 + step.eps);
  }
  return [mOut, vOut, wOut];
}

describe('Adam on the wasm heap', () => {
  const steps: AdamStep[] = [
    { beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 0, decay: 1, stepSize: 0.001, rootCorrection2: Math.sqrt(1 - 0.999) },
    { beta1: 0.8, beta2: 0.99, eps: 1e-6, l2: 0.01, decay: 0.9995, stepSize: 0.03 / (1 - 0.8 ** 3), rootCorrection2: Math.sqrt(1 - 0.99 ** 3) },
  ];
  for (const length of [1, 2, 7, 64, 1001]) {
    for (const [s, step] of steps.entries()) {
      it(`gives the formula's floats to the bit for ${length} value${length > 1 ? 's' : ''} (step constants ${s + 1})`, async () => {
        await selectBackend({ preference: 'wasm' });
        const random = new Random(length * 10 + s);
        const draw = (scale: number, positive = false): Float32Array => Float32Array.from({ length }, () => (positive ? random.next() : random.next() * 2 - 1) * scale);
        const [w, g, m, v] = [draw(1), draw(0.1), draw(0.01), draw(1e-4, true)];
        const [weight, first, second] = [w, m, v].map((values) => tf.variable(tf.tensor1d(values)));
        const gradient = tf.tensor1d(g);
        assert.ok(adamOnHeap(weight!, gradient, first!, second!, step));
        const [mWant, vWant, wWant] = expected(w, g, m, v, step);
        const check = (actual: tf.Tensor, want: Float32Array, what: string): void => {
          const values = actual.dataSync();
          want.forEach((x, i) => assert.ok(Object.is(values[i], x), `${what}[${i}]: ${values[i]} ≠ ${x}`));
        };
        check(first!, mWant, 'first moment');
        check(second!, vWant, 'second moment');
        check(weight!, wWant, 'weight');
        tf.dispose([weight!, first!, second!, gradient]);
      });
    }
  }
});
