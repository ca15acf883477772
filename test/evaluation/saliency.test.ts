/**
 * Gradient saliency through the engine: for a linear model the gradient of a class's score is
 * that class's weight row, so the map is |W[class]| laid out as the image; a convolutional model
 * (pooling, batchnorm, dropout in inference mode) gives one finite map per image on wasm; the
 * overlays drawn from the maps for the evaluation gallery.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TfjsEngine } from '../../server/src/engine/tfjs/tfjs-engine';
import { modelOf, modelSource } from '../engine/helpers';
import { Random } from '../../server/src/random';
import * as path from 'node:path';
import sharp from 'sharp';
import { overlayPixels, saliencyOverlays } from '../../server/src/evaluation/saliency';
import { removeDir } from '../data/fixtures';
import { brightWeights, writeFixture } from './fixtures';

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

test('overlay pixels: opacity follows the gradient, scaled by the largest', () => {
  const rgba = overlayPixels(Float32Array.from([9, 0, 1, 2]), 1, 3);
  assert.deepEqual(Array.from(rgba), [255, 200, 0, 0, 255, 100, 0, 115, 255, 0, 0, 230]);
  assert.deepEqual(Array.from(overlayPixels(new Float32Array(2), 0, 2)).filter((_, i) => i % 4 === 3), [0, 0], 'a flat map is clear');
});

test('overlays for image files; an unreadable file or an archive record gets the reason', async () => {
  const modelFile = writeFixture();
  try {
    const dark = path.join(path.dirname(modelFile), 'data', 'test', 'dark', 'd1.png');
    const overlays = await saliencyOverlays({ modelFile, modelName: 'Bright', datasetName: 'shades', weights: brightWeights(), files: [dark, '/nowhere/x.png', '/data/cifar/test_batch#3'], classes: [1, 0, 0], backend: 'wasm' });
    assert.equal(overlays.length, 3);
    const first = overlays[0]!;
    assert.ok('image' in first, JSON.stringify(first));
    const png = Buffer.from(first.image.replace(/^data:image\/png;base64,/, ''), 'base64');
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [4, 4, 4]);
    // Every pixel's gradient is |±1|: all equally strong.
    assert.ok(Array.from(data).filter((_, i) => i % 4 === 3).every((a) => a === 230));
    assert.match('problem' in overlays[1]! ? overlays[1].problem : '', /Cannot read \/nowhere\/x\.png/);
    assert.match('problem' in overlays[2]! ? overlays[2].problem : '', /test_batch#3 is inside an archive/);
  } finally {
    removeDir(path.dirname(modelFile));
  }
});
