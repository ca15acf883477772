/**
 * The training loop evaluates a run that ran to its end: training the fixture model for an
 * epoch leaves an evaluation.json of its test split in the run folder.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readEvaluation } from '../../server/src/evaluation/store';
import { trainModel } from '../../server/src/training/run';
import { removeDir, write } from '../data/fixtures';
import { greyPng } from '../support/png';
import { MODEL_SOURCE, writeFixture } from './fixtures';

// Training needs validation images: the fixture with a val split of one image per class.
const modelFile = writeFixture();
fs.writeFileSync(modelFile, MODEL_SOURCE.replace('  test "data/test"\n', '  val "data/val"\n  test "data/test"\n'));
for (const [cls, grey] of [['dark', 60], ['light', 190]] as const) write(path.join(path.dirname(modelFile), 'data', 'val', cls, 'v.png'), greyPng(4, 4, new Uint8Array(16).fill(grey)));
after(() => removeDir(path.dirname(modelFile)));

test('a completed training run has its evaluation', async () => {
  const events: string[] = [];
  const record = await trainModel({ modelFile, backend: 'wasm', decodeWorkers: 0 }, (event) => events.push(event.type));
  assert.equal(record.status, 'completed', JSON.stringify(record.error));
  assert.equal(events.at(-1), 'finished');
  const evaluation = readEvaluation(path.join(path.dirname(modelFile), '.ocular', 'runs', record.id, 'evaluation.json'));
  assert.deepEqual([evaluation.runId, evaluation.split, evaluation.count, evaluation.classes], [record.id, 'test', 5, ['dark', 'light']]);
});
