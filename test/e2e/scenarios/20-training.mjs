// Training in the editor (issue 5): Ocular: Train Model on a tiny fixture dataset runs to the end
// with a progress notification; the run appears in the Ocular Runs view with its status, best
// validation accuracy and duration; and, because the fixture's validation labels of two classes
// are swapped (training learns what validation contradicts), the model file gets the overfitting
// warning. The user setting ocular.trainingThreads = 2 (the e2e profile's, lib/session.mjs) makes
// the run data-parallel (the tiny model would train on one thread by default), which its
// run.json's device names. The dataset is digits PNGs copied from the example into the
// workspace, never the repository.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openProblems, scenario, session } from '../lib/harness.mjs';
import { poll } from '../lib/session.mjs';

// In a folder of its own, so its runs (training/.ocular/runs) can be removed when the scenario
// ends: the results scenarios after it expect only the runs they write themselves.
const FOLDER = 'training';
const MODEL_FILE = 'training.ocular';

/** 20 training images of digits 0, 1, 2 each, and 10 validation images each with the labels of 0 and 1 swapped. */
function writeFixture() {
  const digits = path.join(session.workspace, 'data', 'digits');
  const copy = (split, from, to, count) => {
    const source = path.join(digits, split, from);
    const target = path.join(session.workspace, FOLDER, 'data', split, to);
    mkdirSync(target, { recursive: true });
    for (const file of readdirSync(source).sort().slice(0, count)) copyFileSync(path.join(source, file), path.join(target, file));
  };
  for (const cls of ['0', '1', '2']) copy('train', cls, cls, 20);
  for (const [from, to] of [['0', '1'], ['1', '0'], ['2', '2']]) copy('val', from, to, 10);
  writeFileSync(
    path.join(session.workspace, FOLDER, MODEL_FILE),
    [
      '# A fixture written by the e2e run: validation labels of 0 and 1 are swapped.',
      'model TinyDigits {',
      '  input 1x8x8',
      '  flatten',
      '  dense 32',
      '  relu',
      '  dense classes',
      '}',
      '',
      'dataset swapped {',
      '  train "data/train"',
      '  val "data/val"',
      '  image 1x8x8',
      '  classes 3',
      '  normalize mnist',
      '}',
      '',
      'train {',
      '  model TinyDigits',
      '  data swapped',
      '  epochs 6',
      '  batch 8',
      '  optimizer adam lr=0.01',
      '  seed 3',
      '}',
      '',
    ].join('\n'),
  );
}

scenario('training: Train Model runs to the end with progress on the threads set, lists the run and warns of overfitting', async () => {
  writeFixture();
  const { page } = session;
  try {
    await page.keyboard.press('Escape');
    await session.quickOpen(MODEL_FILE);
    await session.editorLine('train {').waitFor();
    // The Train lens above the train section, from the language server.
    await page.locator('.contentWidgets .codelens-decoration', { hasText: 'Train TinyDigits' }).first().waitFor({ timeout: 30_000 });

    await session.runCommand('Ocular: Train Model');
    const toasts = page.locator('.notifications-toasts .notification-toast');
    await toasts.filter({ hasText: `Training ${FOLDER}/${MODEL_FILE}` }).first().waitFor({ timeout: 30_000 });
    await session.shot('training - progress notification while TinyDigits trains');
    const finished = toasts.filter({ hasText: /Run TinyDigits-\d{8}-\d{6}: completed after 6 of 6 epochs, best validation accuracy/ }).first();
    await finished.waitFor({ timeout: 120_000 });
    await session.shot('training - the run completed');
    const runs = path.join(session.workspace, FOLDER, '.ocular', 'runs');
    const [runId] = readdirSync(runs);
    const record = JSON.parse(readFileSync(path.join(runs, runId, 'run.json'), 'utf8'));
    assert.match(record.device, / × 2 data-parallel threads$/, 'the setting ocular.trainingThreads reached the training');

    // The Ocular Runs view in the Explorer, expanded by clicking its header.
    await page.keyboard.press('Control+Shift+E');
    const header = page.locator('.pane-header', { has: page.locator('h3', { hasText: /^ocular runs$/i }) }).first();
    await header.waitFor();
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    const row = page.locator('.pane', { has: header }).locator('.monaco-list-row', { hasText: /TinyDigits-\d{8}-\d{6}/ }).first();
    await row.waitFor({ timeout: 30_000 });
    const description = (await row.locator('.label-description').first().textContent()) ?? '';
    assert.match(description, /^completed · 6\/6 epochs · best val \d+\.\d% · \d+ (s|min \d{2} s)$/);
    await session.shot('training - the run in the Ocular Runs view');

    // Training accuracy climbs while validation, with two classes' labels swapped, cannot follow.
    const markers = await openProblems();
    const overfitting = markers.locator('.monaco-list-row', { hasText: /Overfitting after epoch \d: training accuracy/ }).first();
    const shown = await poll(async () => (await overfitting.count()) > 0, { timeoutMs: 30_000 });
    await session.shot('training - the overfitting warning in Problems');
    assert.ok(shown, 'the Problems panel shows the overfitting warning');
    await page.keyboard.press('Escape');
  } finally {
    // Whether it passed or not, the results scenarios after this one must not see its runs.
    rmSync(path.join(session.workspace, FOLDER, '.ocular', 'runs'), { recursive: true, force: true });
  }
}, 240_000);
