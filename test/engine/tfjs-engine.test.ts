/**
 * The TensorFlow.js engine through the `Engine` interface: training steps lower the loss on the
 * cpu and wasm backends, the live tensor count stays flat, gradient accumulation equals one larger
 * batch (an epoch's leftover batches too, applied as their mean), runs repeat exactly from their
 * seed, and weights and images cross as typed arrays.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, EngineModel, TrainingSetup, WeightMap } from '../../server/src/engine/engine';
import { TfjsEngine } from '../../server/src/engine/tfjs/tfjs-engine';
import { modelOf, modelSource } from './helpers';

const adam: TrainingSetup = { optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, labelSmoothing: 0, accumulate: 1 };
const sgd = (accumulate: number): TrainingSetup => ({ optimizer: { name: 'sgd', momentum: 0, nesterov: false, weightDecay: 0 }, labelSmoothing: 0, accumulate });

const tiny = modelOf(modelSource('3x8x8', 'conv 6 padding=1', 'batchnorm', 'relu', 'maxpool 2', 'flatten', 'dropout 0.2', 'dense 3'));
const linear = modelOf(modelSource('1x4x4', 'conv 2 kernel=3 padding=1', 'tanh', 'flatten', 'dense 3'));

/** Images whose class is which third of the picture is bright, with noise from a fixed formula. */
function batch(count: number, shape: readonly number[], offset = 0): Batch {
  const [c, h, w] = shape as [number, number, number];
  const images = new Uint8Array(count * c * h * w);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = (n + offset) % 3;
    labels[n] = label;
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const noise = Math.abs(Math.sin(n * 131 + ch * 17 + y * 7 + x + offset)) * 60;
          images[((n * c + ch) * h + y) * w + x] = Math.floor(x * 3 / w) === label ? 190 + noise : noise;
        }
      }
    }
  }
  return { images, labels };
}

async function weightsOf(model: EngineModel): Promise<WeightMap> {
  return model.getWeights();
}

function assertWeightsEqual(a: WeightMap, b: WeightMap, tolerance: number): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [key, tensor] of a) {
    const other = b.get(key)!.values;
    tensor.values.forEach((v, i) => assert.ok(Math.abs(v - other[i]!) <= tolerance, `${key}[${i}]: ${v} ≠ ${other[i]}`));
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`the TensorFlow.js engine on ${backend}`, () => {
    let engine: TfjsEngine;

    it('starts on the backend asked for', async () => {
      engine = await TfjsEngine.create({ preference: backend });
      assert.equal(engine.device.backend, backend);
    });

    it('training steps lower the loss, and the live tensor count stays flat over 20 steps', async () => {
      const model = await engine.build(tiny, { seed: 3, training: adam, normalize: { mean: [0.5], std: [0.25] } });
      const data = batch(12, [3, 8, 8]);
      const losses: number[] = [];
      let tensors = 0;
      for (let step = 0; step < 20; step++) {
        const result = await model.trainStep(data, 0.01);
        assert.equal(result.count, 12);
        assert.ok(result.updated);
        losses.push(result.loss);
        if (step === 1) tensors = tf.memory().numTensors;
        if (step > 1) assert.equal(tf.memory().numTensors, tensors, `live tensors after step ${step + 1}`);
      }
      assert.ok(losses.at(-1)! < losses[0]! / 3, `loss went from ${losses[0]} to ${losses.at(-1)}`);
      const evaluation = await model.evaluate(data);
      assert.equal(evaluation.correct, 12, 'the training images are learnt');
      model.dispose();
    });

    it('gradient accumulation over two batches equals one step on both together', async () => {
      const [a, b] = [batch(6, [1, 4, 4]), batch(6, [1, 4, 4], 1)];
      const both: Batch = { images: new Uint8Array([...a.images, ...b.images]), labels: new Int32Array([...a.labels, ...b.labels]) };
      const accumulated = await engine.build(linear, { seed: 9, training: sgd(2) });
      const single = await engine.build(linear, { seed: 9, training: sgd(1) });
      const flags = [(await accumulated.trainStep(a, 0.5)).updated, (await accumulated.trainStep(b, 0.5)).updated];
      assert.deepEqual(flags, [false, true]);
      await single.trainStep(both, 0.5);
      assertWeightsEqual(await weightsOf(accumulated), await weightsOf(single), 1e-6);
      accumulated.dispose();
      single.dispose();
    });

    it('gradients gathered from fewer batches than accumulate are applied as their mean when asked, once', async () => {
      const [a, b] = [batch(6, [1, 4, 4]), batch(6, [1, 4, 4], 1)];
      const both: Batch = { images: new Uint8Array([...a.images, ...b.images]), labels: new Int32Array([...a.labels, ...b.labels]) };
      const accumulated = await engine.build(linear, { seed: 9, training: sgd(3) });
      const single = await engine.build(linear, { seed: 9, training: sgd(1) });
      const initial = await weightsOf(accumulated);
      assert.equal(await accumulated.applyGatheredGradients(0.5), false, 'nothing gathered yet');
      const flags = [(await accumulated.trainStep(a, 0.5)).updated, (await accumulated.trainStep(b, 0.5)).updated];
      assert.deepEqual(flags, [false, false]);
      assertWeightsEqual(await weightsOf(accumulated), initial, 0);
      assert.equal(await accumulated.applyGatheredGradients(0.5), true);
      await single.trainStep(both, 0.5);
      // The mean over the two batches gathered, not their sum over accumulate's three.
      assertWeightsEqual(await weightsOf(accumulated), await weightsOf(single), 1e-6);
      const state = await accumulated.getTrainingState();
      assert.deepEqual([state.counters['gathered'], state.counters['updates']], [0, 1]);
      assert.equal(await accumulated.applyGatheredGradients(0.5), false, 'the sums start afresh');
      assertWeightsEqual(await weightsOf(accumulated), await weightsOf(single), 1e-6);
      accumulated.dispose();
      single.dispose();
    });

    it('the same seed repeats a run exactly, dropout included; another seed does not', async () => {
      const run = async (seed: number): Promise<WeightMap> => {
        const model = await engine.build(tiny, { seed, training: adam });
        for (let step = 0; step < 3; step++) await model.trainStep(batch(6, [3, 8, 8], step), 0.01);
        const weights = await weightsOf(model);
        model.dispose();
        return weights;
      };
      const [first, again, other] = [await run(11), await run(11), await run(12)];
      assertWeightsEqual(first, again, 0);
      assert.notDeepEqual(first.get('dense1.weight')!.values, other.get('dense1.weight')!.values);
    });

    it('predicts probabilities; raw pixels are scaled and normalised as prepared floats would be', async () => {
      const normalize = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
      const model = await engine.build(tiny, { seed: 5, normalize });
      const { images } = batch(4, [3, 8, 8]);
      const prepared = Float32Array.from(images, (v, i) => {
        const channel = Math.floor(i / 64) % 3;
        return (v / 255 - normalize.mean[channel]!) / normalize.std[channel]!;
      });
      const [fromPixels, fromFloats] = [await model.predict(images), await model.predict(prepared)];
      assert.equal(fromPixels.length, 4 * 3);
      fromPixels.forEach((p, i) => assert.ok(Math.abs(p - fromFloats[i]!) < 1e-5, `probability ${i}`));
      for (let row = 0; row < 4; row++) assert.ok(Math.abs(fromPixels.subarray(row * 3, row * 3 + 3).reduce((s, p) => s + p, 0) - 1) < 1e-5);
      await assert.rejects(model.trainStep(batch(2, [3, 8, 8]), 0.1), /built without training settings/);
      await assert.rejects(model.predict(new Uint8Array(100)), /100 values are not a whole number of 3×8×8 images/);
      model.dispose();
    });

    it('weights go out and back in PyTorch layout; unknown keys and wrong shapes are refused', async () => {
      const model = await engine.build(tiny, { seed: 1 });
      const other = await engine.build(tiny, { seed: 2 });
      other.setWeights(await model.getWeights());
      assertWeightsEqual(await other.getWeights(), await model.getWeights(), 0);
      assert.throws(() => other.setWeights(new Map([['conv9.weight', { shape: [1], values: new Float32Array(1) }]])), /The model has no weight conv9.weight/);
      assert.throws(() => other.setWeights(new Map([['conv1.weight', { shape: [6, 3, 3, 1], values: new Float32Array(54) }]])), /conv1.weight is 6×3×3×1; the model's is 6×3×3×3/);
      model.dispose();
      other.dispose();
      assert.equal(tf.memory().numTensors, 0, 'disposing the models frees every tensor');
    });
  });
}
