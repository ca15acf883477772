/**
 * The evaluation at the end of training: a finished run gets its evaluation.json; a run that
 * cannot be evaluated keeps what it has and the reason comes back instead of an exception.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateAfterTraining } from '../../server/src/evaluation/run-evaluation';
import { readEvaluation } from '../../server/src/evaluation/store';
import { checkpointFile } from '../../server/src/training/runs';
import { removeDir } from '../data/fixtures';
import { EXPECTED_CONFUSION, writeFixture, writeRunFixture } from './fixtures';

const modelFile = writeFixture();
after(() => removeDir(path.dirname(modelFile)));

test('a finished run is evaluated on its test split', async () => {
  const runDir = writeRunFixture(modelFile);
  const outcome = await evaluateAfterTraining(runDir, path.join(path.dirname(modelFile), 'cache'));
  assert.ok('file' in outcome, JSON.stringify(outcome));
  assert.ok(Math.abs(outcome.accuracy - 0.8) < 1e-9);
  const evaluation = readEvaluation(outcome.file);
  assert.deepEqual([evaluation.split, evaluation.confusion], ['test', EXPECTED_CONFUSION]);
  assert.ok(fs.readdirSync(path.join(path.dirname(modelFile), 'cache')).length > 0, 'the images were decoded into the given cache');
});

test('a run without a checkpoint is left as it is, with the reason', async () => {
  const runDir = writeRunFixture(modelFile, 'Bright-20261128-090000');
  fs.rmSync(checkpointFile(runDir, 'best'));
  const outcome = await evaluateAfterTraining(runDir);
  assert.deepEqual(outcome, { skipped: `Run Bright-20261128-090000 has no checkpoint yet (${checkpointFile(runDir, 'last')}): it has not finished an epoch.` });
  assert.deepEqual(fs.readdirSync(runDir).sort(), ['checkpoints', 'run.json']);
});
