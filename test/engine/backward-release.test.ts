/**
 * Freeing what backpropagation is done with (`releaseBehindBackward`): the same loss and
 * gradients to the bit as TensorFlow.js computes without it, a lower peak of tensor memory, and
 * no tensor left behind, on the cpu and wasm backends. The network passes through matrix
 * products, ReLUs, a residual sum and `mod`, whose gradient is its output's gradient itself (the
 * same tensor is then stored for two tensors and must outlive the operation that handed it back).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../server/src/engine/tfjs/backends';
import { releaseBehindBackward } from '../../server/src/engine/tfjs/backward-release';
import { Random } from '../../server/src/random';

const BATCH = 256;
const WIDTHS = [32, 64, 64, 10];

interface Outcome {
  readonly loss: Float32Array;
  readonly gradients: Float32Array[];
  readonly peakBytes: number;
  readonly tensorsLeft: number;
}

async function backpropagate(release: boolean): Promise<Outcome> {
  const random = new Random(11);
  const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => random.normal());
  const x = tf.tensor2d(values(BATCH * WIDTHS[0]!), [BATCH, WIDTHS[0]!]);
  const weights = WIDTHS.slice(1).map((width, i) => tf.variable(tf.tensor2d(values(WIDTHS[i]! * width), [WIDTHS[i]!, width])));
  const before = tf.memory().numTensors;
  let outcome: Omit<Outcome, 'peakBytes' | 'tensorsLeft'> | undefined;
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => {
      let h: tf.Tensor2D = x;
      weights.forEach((w, i) => {
        const product = tf.matMul(h, w);
        h = (i === 1 ? tf.add(tf.relu(product), h) : tf.relu(product)) as tf.Tensor2D;
      });
      const wrapped = tf.mod(tf.add(h, 100), 1000);
      const loss = tf.mean(tf.square(wrapped)) as tf.Scalar;
      if (release) releaseBehindBackward();
      return loss;
    }, weights);
    outcome = { loss: value.dataSync() as Float32Array, gradients: weights.map((w) => grads[w.name]!.dataSync() as Float32Array) };
    tf.dispose([value, ...Object.values(grads)]);
    return [];
  });
  const tensorsLeft = tf.memory().numTensors - before;
  tf.dispose([x, ...weights]);
  return { ...outcome!, peakBytes: profile.peakBytes, tensorsLeft };
}

describe('releasing what backpropagation is done with', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: the same gradients to the bit, a lower peak, nothing left behind`, async () => {
      await selectBackend({ preference: backend });
      assert.equal(tf.getBackend(), backend);
      const plain = await backpropagate(false);
      const released = await backpropagate(true);
      assert.deepEqual(released.loss, plain.loss);
      released.gradients.forEach((gradient, i) => assert.deepEqual(gradient, plain.gradients[i], `weight ${i + 1}`));
      assert.ok(released.peakBytes < plain.peakBytes, `peak ${released.peakBytes} bytes with the release, ${plain.peakBytes} without`);
      assert.equal(released.tensorsLeft, 0);
      assert.equal(plain.tensorsLeft, 0);
    });
  }
});
