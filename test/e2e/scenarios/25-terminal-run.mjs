// A run trained outside the editor (`ocular train` in a terminal) while its model file is open:
// the file's feedback follows the run's record on disk epoch by epoch, without reopening the file.
// The run is written here as training writes it (run.json rewritten after each epoch's metrics
// line), into the workspace (never the repository), and removed at the end: the results
// scenarios after this one expect only the runs they write themselves.
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot } from '../lib/codeserver.mjs';
import { openProblems, scenario, session } from '../lib/harness.mjs';
import { poll } from '../lib/session.mjs';

const require = createRequire(import.meta.url);
// Written by the unit tests' fixture and the runs module, compiled by `npx tsc -p .` (npm test does it).
const { writeRunRecord } = require(path.join(repoRoot, 'out', 'test', 'support', 'runs.js'));
const { appendMetrics } = require(path.join(repoRoot, 'out', 'server', 'src', 'training', 'runs.js'));

const MODEL_FILE = 'terminal.ocular';
const RUN_ID = 'DigitsCNN-20261128-130000';

/** Epoch `epoch` of a run whose training accuracy runs away from a validation accuracy of 50%. */
function epochLine(epoch) {
  const train_acc = [0.6, 0.8, 0.95][epoch];
  return { type: 'epoch', epoch, train_loss: 1 - train_acc, train_acc, val_loss: 1, val_acc: 0.5, lr: 0.001, images_per_s: 900, seconds: 2, val_predicted: [5, 5, 5, 5, 5, 5, 5, 5, 5, 5], time: new Date().toISOString() };
}

scenario('a run trained in a terminal: the open file warns of overfitting as its epochs land', async () => {
  const { page } = session;
  const modelFile = path.join(session.workspace, MODEL_FILE);
  const runDir = path.join(session.workspace, '.ocular', 'runs', RUN_ID);
  copyFileSync(path.join(session.workspace, 'digits.ocular'), modelFile);
  const record = (epochsDone) =>
    writeRunRecord({ id: RUN_ID, modelFile, modelName: 'DigitsCNN', dataset: 'digits', classes: [...'0123456789'], inputShape: [1, 8, 8], seed: 42, status: 'running', startedAt: '2026-11-28T13:00:00.000Z', epochs: 3, epochsDone });
  try {
    await page.keyboard.press('Escape');
    await session.quickOpen(MODEL_FILE);
    await session.editorLine('train {').waitFor();
    const markers = await openProblems();
    const warning = markers.locator('.monaco-list-row', { hasText: /Overfitting after epoch 3: training accuracy 95/ }).first();

    // The first epoch: a gap, but not yet for two epochs in a row.
    const dir = record(0);
    appendMetrics(dir, epochLine(0));
    record(1);
    await page.waitForTimeout(3_000);
    assert.equal(await warning.count(), 0, 'no overfitting warning after one epoch');

    appendMetrics(dir, epochLine(1));
    record(2);
    appendMetrics(dir, epochLine(2));
    record(3);
    const shown = await poll(async () => (await warning.count()) > 0, { timeoutMs: 30_000 });
    await session.shot('terminal run - the overfitting warning of a run trained outside the editor');
    assert.ok(shown, 'the Problems panel shows the overfitting warning of the run trained outside the editor');
    await page.keyboard.press('Escape');
  } finally {
    rmSync(runDir, { recursive: true, force: true });
    rmSync(modelFile, { force: true });
  }
}, 120_000);
