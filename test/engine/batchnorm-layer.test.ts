/**
 * The training batchnorm layer (one closed-form gradient) against the library's batchnorm layer it
 * replaces, on cpu and wasm, over seeded random shapes (images N×H×W×C and vectors N×C, batches
 * of one, odd sizes): the training output, the gradients of the input, γ and β, the running
 * statistics after the step, and the inference output with those statistics.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../server/src/engine/tfjs/backends';
import { TrainingBatchNorm } from '../../server/src/engine/tfjs/batchnorm-layer';
import { Random } from '../../server/src/random';

interface Case {
  readonly shape: readonly number[];
  readonly epsilon: number;
  readonly momentum: number;
  readonly seed: number;
}

/** What a layer gives for one training step and one prediction after it. */
interface Figures {
  readonly output: Float32Array;
  readonly dx: Float32Array;
  readonly dGamma: Float32Array;
  readonly dBeta: Float32Array;
  readonly runningMean: Float32Array;
  readonly runningVariance: Float32Array;
  readonly inference: Float32Array;
}

/** Seeded cases: a few fixed edges (a batch of one, a single value per channel) and random shapes. */
function cases(count: number, seed: number): Case[] {
  const random = new Random(seed);
  const fixed: Case[] = [
    { shape: [1, 5, 3, 4], epsilon: 1e-5, momentum: 0.1, seed: 1 },
    { shape: [1, 1, 1, 3], epsilon: 1e-3, momentum: 0.2, seed: 2 },
    { shape: [7, 5], epsilon: 1e-5, momentum: 0.1, seed: 3 },
    { shape: [1, 6], epsilon: 1e-5, momentum: 0.5, seed: 4 },
  ];
  const drawn = Array.from({ length: count }, (_, i): Case => {
    const channels = 1 + random.int(9);
    const shape = random.next() < 0.25 ? [1 + random.int(9), channels] : [1 + random.int(4), 1 + 2 * random.int(5), 1 + 2 * random.int(4), channels];
    return { shape, epsilon: random.next() < 0.5 ? 1e-5 : 1e-3, momentum: random.uniform(0.05, 0.9), seed: 100 + i };
  });
  return [...fixed, ...drawn];
}

/** One step of a layer: weights and input drawn from the case's seed (channels with their own mean and spread). */
function step(layer: tfl.layers.Layer, c: Case): Figures {
  const random = new Random(c.seed);
  const channels = c.shape[c.shape.length - 1]!;
  const size = c.shape.reduce((a, b) => a * b, 1);
  const centres = Array.from({ length: channels }, () => random.uniform(-3, 3));
  const spreads = Array.from({ length: channels }, () => random.uniform(0.1, 4));
  const values = Float32Array.from({ length: size }, (_, i) => centres[i % channels]! + spreads[i % channels]! * random.uniform(-1, 1));
  const perChannel = (low: number, high: number): Float32Array => Float32Array.from({ length: channels }, () => random.uniform(low, high));
  const upstream = Float32Array.from({ length: size }, () => random.uniform(-1, 1));
  const tensors = tf.tidy((): Record<keyof Figures, tf.Tensor> => {
    const x = tf.variable(tf.tensor(values, [...c.shape]));
    layer.apply(x, { training: false }); // Builds the layer.
    layer.setWeights([tf.tensor(perChannel(0.5, 2)), tf.tensor(perChannel(-1, 1)), tf.tensor(perChannel(-1, 1)), tf.tensor(perChannel(0.5, 3))]);
    const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const weights = tf.tensor(upstream, [...c.shape]);
    let output: tf.Tensor | undefined;
    // A weighted sum, so every output position sends a different gradient back.
    const { grads } = tf.variableGrads(() => {
      output = tf.keep(layer.apply(x, { training: true }) as tf.Tensor);
      return tf.sum(tf.mul(output, weights));
    }, [x, gamma!, beta!]);
    const [, , runningMean, runningVariance] = layer.getWeights();
    const result = {
      output: output!,
      dx: grads[x.name]!,
      dGamma: grads[gamma!.name]!,
      dBeta: grads[beta!.name]!,
      // getWeights gives the variables themselves, which the layer disposes.
      runningMean: tf.clone(runningMean!),
      runningVariance: tf.clone(runningVariance!),
      inference: layer.apply(x, { training: false }) as tf.Tensor,
    };
    x.dispose();
    return result;
  });
  const figures = Object.fromEntries(Object.entries(tensors).map(([key, tensor]) => [key, tensor.dataSync() as Float32Array])) as unknown as Figures;
  tf.dispose(Object.values(tensors));
  return figures;
}

const close = (actual: Float32Array, expected: Float32Array, what: string): void => {
  assert.equal(actual.length, expected.length, what);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= 2e-5 * scale, `${what}[${i}]: ${actual[i]} ≠ the library's ${e}`));
};

after(() => assert.equal(tf.memory().numTensors, 0, 'every tensor is disposed'));

describe('the training batchnorm layer computes what the library layer computes', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const c of cases(12, 2026)) {
      it(`on ${backend}: ${c.shape.join('×')}, eps ${c.epsilon}, momentum ${c.momentum.toFixed(3)}`, async () => {
        await selectBackend({ preference: backend });
        const ours = new TrainingBatchNorm(c.epsilon, c.momentum, 'ours');
        const library = tfl.layers.batchNormalization({ name: 'library', axis: -1, epsilon: c.epsilon, momentum: 1 - c.momentum });
        try {
          const expected = step(library, c);
          const actual = step(ours, c);
          for (const key of Object.keys(expected) as (keyof Figures)[]) close(actual[key], expected[key], key);
        } finally {
          ours.dispose();
          library.dispose();
        }
      });
    }
  }

  it('names, orders and flags its weights as the library does, so the PyTorch bindings hold either', () => {
    const ours = new TrainingBatchNorm(1e-5, 0.1, 'ours');
    const library = tfl.layers.batchNormalization({ name: 'library', axis: -1 });
    tf.tidy(() => [ours, library].forEach((layer) => layer.apply(tf.zeros([1, 4, 4, 3]))));
    const describe = (layer: tfl.layers.Layer): string[] => layer.weights.map((w) => `${w.originalName.split('/').pop()} ${w.shape.join('×')} ${w.trainable ? 'trainable' : 'fixed'}`);
    assert.deepEqual(describe(ours), describe(library));
    assert.deepEqual(describe(ours), ['gamma 3 trainable', 'beta 3 trainable', 'moving_mean 3 fixed', 'moving_variance 3 fixed']);
    ours.dispose();
    library.dispose();
  });
});
