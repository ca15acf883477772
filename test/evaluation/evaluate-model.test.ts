/**
 * evaluateModel end to end on the wasm backend: a model file, an ImageFolder dataset and weights
 * whose predictions are known (fixtures.ts), and the requests it must refuse with a clear reason.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { evaluateModel, type ModelEvaluationRequest } from '../../server/src/evaluation/evaluate-model';
import { removeDir } from '../data/fixtures';
import { brightWeights, EXPECTED_CONFUSION, writeFixture } from './fixtures';

const modelFile = writeFixture();
after(() => removeDir(path.dirname(modelFile)));

const request: ModelEvaluationRequest = { modelFile, modelName: 'Bright', datasetName: 'shades', weights: brightWeights(), batchSize: 2, backend: 'wasm' };

test('evaluates the test split by default: metrics, records and speed', async () => {
  const stages = new Set<string>();
  const e = await evaluateModel(request, (p) => stages.add(p.stage));
  assert.equal(e.split, 'test');
  assert.deepEqual(e.classes, ['dark', 'light']);
  assert.deepEqual(e.confusion, EXPECTED_CONFUSION);
  assert.equal(e.count, 5);
  assert.ok(Math.abs(e.accuracy - 0.8) < 1e-9);
  assert.equal(e.backend, 'wasm');
  assert.deepEqual([...stages], ['load', 'predict', 'speed']);
  const odd = e.images.find((r) => r.file.endsWith(`${path.sep}odd.png`));
  assert.ok(odd, 'odd.png has a record');
  assert.deepEqual([odd.label, odd.predicted], [0, 1]);
  // 200/255·16·2 − 16 ≈ 9.1 for light: p(dark) = 1/(1+e^9.1).
  assert.ok(Math.abs(odd.labelProbability - 1 / (1 + Math.exp((200 / 255) * 32 - 16))) < 1e-4, `p(dark) ${odd.labelProbability}`);
  assert.ok(e.speed.latencyMs.p50 > 0 && e.speed.latencyMs.p95 >= e.speed.latencyMs.p50);
  assert.equal(e.speed.throughput.batchSize, 2);
  assert.ok(e.speed.throughput.imagesPerSecond > 0);
});

const refusals: [string, Partial<ModelEvaluationRequest>, RegExp][] = [
  ['a split the dataset lacks', { split: 'val' }, /Dataset shades has no val split to evaluate \(it has train, test\)/],
  ['classes that changed', { classes: ['dark', 'medium', 'light'] }, /now has the classes dark, light, but the weights were trained on dark, medium, light/],
  ['a model that is gone', { modelName: 'Gone' }, /has no model named Gone any more/],
  ['weights of another shape', { weights: new Map([['dense1.weight', { shape: [3, 16], values: new Float32Array(48) }]]) }, /dense1\.weight/],
];
for (const [name, change, message] of refusals) {
  test(`refuses ${name}`, async () => {
    await assert.rejects(evaluateModel({ ...request, ...change }), message);
  });
}
