/**
 * Gradient saliency through the engine: for a linear model the gradient of a class's score is
 * that class's weight row, so the map is |W[class]| laid out as the image; a convolutional model
 * (pooling, batchnorm, dropout in inference mode) gives one finite map per image on wasm.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TfjsEngine } from '../../server/src/engine/tfjs/tfjs-engine';
import { modelOf, modelSource } from '../engine/helpers';
import { Random } from '../../server/src/random';

let engine: TfjsEngine;
before(async () => (engine = await TfjsEngine.create({ preference: 'wasm' })));

test('a linear model\'s saliency is the absolute weight row of the chosen class', async () => {
  const model = await engine.build(modelOf(modelSource('1x2x3', 'flatten', 'dense 2')), { seed: 1 });
  const weights = Float32Array.from([1, -2, 3, -4, 5, -6, 0.5, 0.25, -0.125, 2, -1, 0]);
  model.setWeights(new Map([['dense1.weight', { shape: [2, 6], values: weights }]]));
  const images = new Float32Array(12).fill(0.5);
  const map = await model.saliency(images, Int32Array.from([0, 1]));
  assert.deepEqual(Array.from(map), [1, 2, 3, 4, 5, 6, 0.5, 0.25, 0.125, 2, 1, 0]);
  model.dispose();
});

test('a convolutional model gives one finite H×W map per image', async () => {
  const source = modelSource('3x8x8', 'conv 4 kernel=3 padding=1', 'batchnorm', 'relu', 'maxpool 2', 'dropout 0.5', 'flatten', 'dense 3');
  const model = await engine.build(modelOf(source), { seed: 2 });
  const images = new Float32Array(2 * 3 * 8 * 8);
  new Random(5).fillUniform(images, 0, 1);
  const map = await model.saliency(images, Int32Array.from([2, 0]));
  assert.equal(map.length, 2 * 8 * 8);
  assert.ok(map.every((v) => Number.isFinite(v) && v >= 0));
  assert.ok(map.some((v) => v > 0), 'some pixel moves the score');
  model.dispose();
});
