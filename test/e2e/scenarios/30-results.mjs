// Results (issue 7): the metrics dashboard shows a fixture run's curves and follows its
// metrics.jsonl live; the evaluation page shows the confusion matrix with the right counts and a
// cell lists the right images, which open. The run folder, its metrics and its evaluation.json
// are written here into the workspace (never the repository), as training and evaluation would.
// Last, a model trained for real with `ocular train` is evaluated with Ocular: Evaluate Model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot } from '../lib/codeserver.mjs';
import { scenario, session, webviewFrame } from '../lib/harness.mjs';
import { poll } from '../lib/session.mjs';

// The run record is written by the unit tests' fixture, compiled by `npx tsc -p .` (npm test does it).
const { writeRunRecord } = createRequire(import.meta.url)(path.join(repoRoot, 'out', 'test', 'support', 'runs.js'));

const MODEL_FILE = 'results.ocular';
const RUN_ID = 'Digits-20261128-070000';
const runDir = () => path.join(session.workspace, '.ocular', 'runs', RUN_ID);

/** Two classes of digits PNGs in results-data/val; their evaluation's labels and predictions. */
const IMAGES = [
  ['0', 0, 0.9],
  ['0', 0, 0.8],
  ['0', 1, 0.7],
  ['1', 1, 0.95],
  ['1', 1, 0.6],
];

function epochLine(epoch) {
  return JSON.stringify({ type: 'epoch', epoch, train_loss: 2 / (epoch + 1), train_acc: 0.5 + epoch * 0.1, val_loss: 2.2 / (epoch + 1), val_acc: 0.45 + epoch * 0.1, lr: 0.001, images_per_s: 800 + epoch, seconds: 1, val_predicted: [3, 2], time: new Date().toISOString() });
}

function batchLines(epoch) {
  return [0, 1, 2, 3].map((batch) => JSON.stringify({ type: 'batch', epoch, batch, batches: 4, loss: 2 / (epoch + 1 + batch / 4), acc: 0.5, images_per_s: 800 }));
}

/** Writes the run's record as training would. */
function writeRecord(status, epochsDone, endedAt) {
  const model = { modelFile: path.join(session.workspace, MODEL_FILE), modelName: 'DigitsCNN', dataset: 'digits', classes: ['0', '1'], inputShape: [1, 8, 8], seed: 42 };
  writeRunRecord({ id: RUN_ID, ...model, status, startedAt: '2026-11-28T07:00:00.000Z', epochs: 5, epochsDone, ...(endedAt ? { endedAt } : {}) });
}

/** The evaluation of IMAGES worked out by hand: confusion [[2, 1], [0, 2]]. */
function evaluation(files) {
  const perClass = [
    { precision: 1, recall: 2 / 3, f1: 0.8, support: 3, predicted: 2 },
    { precision: 2 / 3, recall: 1, f1: 0.8, support: 2, predicted: 3 },
  ];
  return {
    version: 1,
    runId: RUN_ID,
    split: 'val',
    checkpoint: { name: 'best', epoch: 2 },
    classes: ['0', '1'],
    backend: 'wasm',
    device: 'WebAssembly',
    createdAt: new Date().toISOString(),
    predictMs: 3,
    count: 5,
    accuracy: 0.8,
    topK: [],
    loss: 0.5,
    perClass,
    macro: { precision: 5 / 6, recall: 5 / 6, f1: 0.8 },
    weighted: { precision: 0.8666, recall: 0.8, f1: 0.8 },
    confusion: [
      [2, 1],
      [0, 2],
    ],
    confusionNormalized: [
      [2 / 3, 1 / 3],
      [0, 1],
    ],
    speed: { latencyMs: { p50: 0.5, p95: 0.9, runs: 50 }, throughput: { batchSize: 64, imagesPerSecond: 5000 } },
    images: IMAGES.map(([cls, predicted, p], i) => ({ file: files[i], label: Number(cls), predicted, probability: p, labelProbability: Number(cls) === predicted ? p : 1 - p, loss: -Math.log(Number(cls) === predicted ? p : 1 - p) })),
  };
}

function writeFixtureRun() {
  const digits = path.join(session.workspace, 'data', 'digits', 'val');
  const files = IMAGES.map(([cls], i) => {
    const from = path.join(digits, cls);
    const name = readdirSync(from).sort()[i];
    const to = path.join(session.workspace, 'results-data', 'val', cls, name);
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(path.join(from, name), to);
    return to;
  });
  writeFileSync(path.join(session.workspace, MODEL_FILE), ['model DigitsCNN {', '  input 1x8x8', '  flatten', '  dense classes', '}', '', 'dataset digits {', '  train "results-data/val"', '  val "results-data/val"', '  image 1x8x8', '  classes 2', '}', '', 'train {', '  model DigitsCNN', '  data digits', '  epochs 5', '}', ''].join('\n'));
  mkdirSync(path.join(runDir(), 'checkpoints'), { recursive: true });
  writeRecord('running', 3);
  writeFileSync(path.join(runDir(), 'metrics.jsonl'), [0, 1, 2].flatMap((e) => [...batchLines(e), epochLine(e)]).join('\n') + '\n');
  writeFileSync(path.join(runDir(), 'evaluation.json'), JSON.stringify(evaluation(files)));
  return files;
}

let files = [];

scenario('results: the metrics dashboard shows a run\'s curves and follows its metrics live', async () => {
  files = writeFixtureRun();
  const { page } = session;
  await page.keyboard.press('Escape');
  await session.runCommand('Ocular: Open Metrics Dashboard');
  const dashboard = await webviewFrame('#chart-loss canvas');
  const runRow = dashboard.locator(`#runs .run[data-run="${RUN_ID}"]`);
  await poll(async () => (await runRow.locator('.status').textContent()) === 'running · 3 epochs');
  // Every run of the workspace is listed: this fixture and any the training scenario made (a run
  // that appears later joins the list when the runs folders are next listed, within seconds).
  const listed = async () => (await dashboard.locator('#runs .run').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-run')))).sort();
  const onDisk = () => readdirSync(path.join(session.workspace, '.ocular', 'runs')).sort();
  await poll(async () => JSON.stringify(await listed()) === JSON.stringify(onDisk()));
  assert.deepEqual(await listed(), onDisk());
  const legend = await dashboard.locator('#chart-loss .u-legend .u-series .u-label').allTextContents();
  console.log(`[e2e]   loss chart lines: ${JSON.stringify(legend)}`);
  assert.deepEqual(legend.filter((label) => label.startsWith(RUN_ID)), [`${RUN_ID} train (batches)`, `${RUN_ID} train`, `${RUN_ID} val`]);
  await session.shot('results - dashboard with a fixture run of 3 epochs');

  // Training goes on: two more epochs arrive, then the run completes.
  appendFileSync(path.join(runDir(), 'metrics.jsonl'), [3, 4].flatMap((e) => [...batchLines(e), epochLine(e)]).join('\n') + '\n');
  writeRecord('completed', 5, new Date().toISOString());
  const followed = await poll(async () => (await runRow.locator('.status').textContent()) === 'completed · 5 epochs', { timeoutMs: 30_000 });
  await session.shot('results - dashboard after the run completed 5 epochs');
  assert.ok(followed, `the dashboard shows ${await runRow.locator('.status').textContent()}`);
}, 120_000);

scenario('results: the evaluation shows the confusion matrix with the right counts, and a cell lists its images', async () => {
  const { page } = session;
  await page.keyboard.press('Escape');
  await session.runCommand('Ocular: Show Evaluation', RUN_ID);
  const view = await evaluationShowing(RUN_ID);
  const cells = await view.locator('#matrix .cell').evaluateAll((nodes) => nodes.map((n) => [n.getAttribute('data-label'), n.getAttribute('data-predicted'), n.textContent]));
  assert.deepEqual(cells, [
    ['0', '0', '2'],
    ['0', '1', '1'],
    ['1', '0', '0'],
    ['1', '1', '2'],
  ]);
  await view.locator('#matrix .cell[data-label="0"][data-predicted="0"]').click();
  await poll(async () => (await view.locator('#gallery .image').count()) === 2);
  // Highest loss first: p=0.8 (loss 0.22) before p=0.9 (loss 0.11).
  assert.deepEqual(await view.locator('#gallery .image').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-path'))), [files[1], files[0]]);
  await poll(async () => (await view.locator('#gallery img').evaluateAll((images) => images.every((image) => image.complete && image.naturalWidth > 0))));
  await session.shot('results - evaluation with the 0 → 0 cell\'s images');

  await view.locator('#matrix .cell[data-label="0"][data-predicted="1"]').click();
  await poll(async () => (await view.locator('#gallery .image').count()) === 1);
  assert.deepEqual(await view.locator('#gallery .image').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-path'))), [files[2]]);
  assert.equal(await view.locator('#gallery-title').textContent(), '0 → 1: 1 image, highest loss first');
  await view.locator('#gallery .image').first().click();
  await page.locator('.tab', { hasText: path.basename(files[2]) }).first().waitFor();
  await session.shot('results - a misclassified image opened from the gallery');
}, 120_000);

/**
 * The evaluation page's frame once its title names `text`. The page is found again on every try:
 * showing another run's evaluation gives the panel new resource folders, which reloads its frame.
 */
async function evaluationShowing(text, timeoutMs = 30_000) {
  const frame = await poll(
    async () => {
      try {
        const candidate = await webviewFrame('#matrix .cell', 2_000);
        return ((await candidate.locator('#title').textContent({ timeout: 1_000 })) ?? '').includes(text) ? candidate : undefined;
      } catch {
        return undefined;
      }
    },
    { timeoutMs },
  );
  assert.ok(frame, `no evaluation page shows ${text}`);
  return frame;
}

scenario('results: Evaluate Model evaluates a run trained with ocular train on the split picked', async () => {
  const { page } = session;
  const file = 'digits-linear.ocular';
  writeFileSync(
    path.join(session.workspace, file),
    ['model Linear {', '  input 1x8x8', '  flatten', '  dense classes', '}', '', 'dataset digits {', '  train "data/digits/train"', '  val "data/digits/val"', '  image 1x8x8', '  classes 10', '  normalize mnist', '}', '', 'train {', '  model Linear', '  data digits', '  epochs 2', '  batch 64', '  optimizer adam lr=0.01', '  seed 1', '}', ''].join('\n'),
  );
  const trained = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'ocular.js'), 'train', file, '--backend', 'wasm'], { cwd: session.workspace, encoding: 'utf8', timeout: 120_000 });
  assert.equal(trained.status, 0, `ocular train failed: ${trained.stderr}`);
  const runId = readdirSync(path.join(session.workspace, '.ocular', 'runs')).find((id) => id.startsWith('Linear-'));
  assert.ok(runId, 'ocular train made a Linear run');

  await page.keyboard.press('Escape');
  await session.runCommand('Ocular: Evaluate Model', runId, 'val');
  const view = await evaluationShowing(`${runId} · val`, 90_000);
  const counts = await view.locator('#matrix .cell').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-count'))));
  assert.equal(counts.length, 100, 'a 10×10 matrix');
  assert.equal(counts.reduce((a, b) => a + b, 0), 355, 'every validation image of the digits is counted once');
  assert.match((await view.locator('#figures').textContent()) ?? '', /Images355Accuracy\d/);
  await session.shot('results - Evaluate Model on a run trained with ocular train');
}, 180_000);
