/**
 * Protocol tests of training in the editor, on the real server over stdio: `ocular/train` trains a
 * generated dataset in the worker with work-done progress (epoch, batch, loss, images/s, time
 * left) and `ocular/runsChanged`; `ocular/listRuns` lists the run; a dataset whose validation
 * labels are swapped makes the model "overfit" (training accuracy far above validation), and the
 * model file gets the overfitting warning with its quick fixes; stopping ends a run as stopped;
 * the device request names a backend; a file with errors is refused with its line.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CodeActionRequest, CodeLensRequest, InitializedNotification, InitializeRequest, WorkDoneProgressCreateRequest, type ProgressToken, type WorkDoneProgressBegin, type WorkDoneProgressEnd, type WorkDoneProgressReport } from 'vscode-languageserver-protocol';
import { DeviceRequest, ListRunsRequest, RunsChangedNotification, StopTrainingRequest, TRAIN_MODEL_COMMAND, TrainingEventNotification, TrainRequest, type TrainingEventParams } from '../../protocol/protocol';
import { removeDir } from '../data/fixtures';
import { writeRunRecord } from '../support/runs';
import { CLASSES, writeFixture } from '../training/fixtures';
import { LspClient } from './lsp-client';

const TRAIN_TIMEOUT_MS = 120_000;

/** Swaps two class folders of the validation split, so validation labels disagree with what training learns. */
function swapValidationLabels(modelFile: string): void {
  const val = path.join(path.dirname(modelFile), 'data', 'val');
  fs.renameSync(path.join(val, 'left'), path.join(val, 'swap'));
  fs.renameSync(path.join(val, 'right'), path.join(val, 'left'));
  fs.renameSync(path.join(val, 'swap'), path.join(val, 'right'));
}

describe('training requests', () => {
  let client: LspClient;
  const files: string[] = [];
  const progress: { token: ProgressToken; value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd }[] = [];
  const runsChanged: string[] = [];
  const events: TrainingEventParams[] = [];

  const fixture = (options: Parameters<typeof writeFixture>[0]): { file: string; uri: string; text: string } => {
    const file = writeFixture(options);
    files.push(file);
    return { file, uri: pathToFileURL(file).href, text: fs.readFileSync(file, 'utf8') };
  };

  before(async () => {
    client = new LspClient();
    client.connection.onRequest(WorkDoneProgressCreateRequest.method, () => null);
    client.connection.onNotification('$/progress', (params: (typeof progress)[number]) => void progress.push(params));
    client.connection.onNotification(RunsChangedNotification, (params) => void runsChanged.push(params.uri));
    client.connection.onNotification(TrainingEventNotification, (params) => void events.push(params));
    await client.request(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: { window: { workDoneProgress: true } }, workspaceFolders: null });
    await client.connection.sendNotification(InitializedNotification.type, {});
  });

  after(() => {
    client.dispose();
    for (const file of files) removeDir(path.dirname(file));
  });

  test('ocular/train runs to the end with progress, and the run is listed', async () => {
    const { uri } = fixture({ train: ['epochs 3', 'batch 16', 'optimizer adam lr=0.01', 'seed 7'] });
    const result = await client.request(TrainRequest, { uri, backend: 'wasm' }, TRAIN_TIMEOUT_MS);
    assert.equal(result.status, 'completed');
    assert.deepEqual([result.epochsDone, result.epochs], [3, 3]);
    assert.ok(result.bestValAcc !== undefined && result.bestValAcc > 0.5, `best validation accuracy ${result.bestValAcc}`);

    const begin = progress.find((p) => p.value.kind === 'begin' && p.value.title === 'Training tiny.ocular');
    assert.ok(begin, JSON.stringify(progress.slice(0, 5)));
    const reports = progress.filter((p) => p.token === begin.token && p.value.kind === 'report').map((p) => (p.value as WorkDoneProgressReport).message ?? '');
    assert.ok(reports.some((m) => /^epoch [1-3]\/3 · batch \d+\/\d+ · loss \d+\.\d{3} · \d+ images\/s · .+ left$/.test(m)), reports.join('\n'));
    assert.ok(progress.some((p) => p.token === begin.token && p.value.kind === 'end'));
    assert.ok(runsChanged.includes(uri));
    assert.deepEqual([...new Set(events.filter((e) => e.runId === result.runId).map((e) => e.kind))].sort(), ['batch', 'epoch', 'finished', 'started']);
    // The client's notification shows the server's own progress line.
    assert.ok(events.some((e) => e.runId === result.runId && e.kind === 'batch' && e.message !== undefined && reports.includes(e.message)));

    const runs = await client.request(ListRunsRequest, { uris: [uri] });
    assert.equal(runs.length, 1);
    assert.deepEqual([runs[0]!.id, runs[0]!.model, runs[0]!.status, runs[0]!.epochsDone, runs[0]!.bestValAcc], [result.runId, 'Tiny', 'completed', 3, result.bestValAcc]);
    assert.ok(runs[0]!.seconds !== undefined && runs[0]!.seconds >= 0);
  });

  test('the train section has a Train lens; an overfitting run gets its warning on the open model file, with quick fixes', async () => {
    const { uri, file, text } = fixture({ train: ['epochs 5', 'batch 16', 'optimizer adam lr=0.01', 'seed 7'] });
    swapValidationLabels(file);
    await client.open(uri, text);
    const lenses = await client.request(CodeLensRequest.type, { textDocument: { uri } });
    const trainLine = text.split('\n').indexOf('train {');
    assert.deepEqual(
      (lenses ?? []).map((lens) => [lens.range.start.line, lens.command?.title, lens.command?.command, lens.command?.arguments]),
      [[trainLine, '$(play) Train Tiny', TRAIN_MODEL_COMMAND, [uri, 'Tiny']]],
    );
    const result = await client.request(TrainRequest, { uri, backend: 'wasm' }, TRAIN_TIMEOUT_MS);
    assert.equal(result.status, 'completed');
    const published = await client.waitForDiagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'overfitting'), 'the overfitting warning', 10_000);
    const warning = published.diagnostics.find((d) => d.code === 'overfitting')!;
    const line = text.split('\n').findIndex((l) => l.trim() === 'model Tiny' && l.startsWith('  '));
    assert.equal(warning.range.start.line, line);
    assert.match(typeof warning.message === 'string' ? warning.message : warning.message.value, /^Overfitting after epoch \d: training accuracy \d+\.\d% against validation \d+\.\d%/);
    const actions = await client.request(CodeActionRequest.type, { textDocument: { uri }, range: warning.range, context: { diagnostics: [warning] } });
    const titles = (actions ?? []).map((a) => a.title);
    assert.deepEqual(titles, ['Add dropout 0.5 before the last dense layer', 'Add augmentation: hflip, rotate 10', 'Add early_stop monitor=val_loss patience=3']);

    // Another server (a window opened later, or after `ocular train` in a terminal) reads the run
    // from the runs folder: the newest run of the model only, so an older run whose metrics cannot
    // be read (a folder where metrics.jsonl should be) does not hide it.
    const older = writeRunRecord({ id: 'Tiny-20000101-000000', modelFile: file, modelName: 'Tiny', dataset: 'shapes', classes: CLASSES, inputShape: [1, 8, 8], seed: 7, status: 'completed', startedAt: '2000-01-01T00:00:00.000Z', epochs: 1, epochsDone: 1 });
    fs.mkdirSync(path.join(older, 'metrics.jsonl'));
    const later = new LspClient();
    try {
      await later.request(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
      await later.connection.sendNotification(InitializedNotification.type, {});
      await later.open(uri, text);
      const fromDisk = await later.waitForDiagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'overfitting'), 'the overfitting warning from disk', 10_000);
      assert.deepEqual(fromDisk.diagnostics.find((d) => d.code === 'overfitting')!.range, warning.range);
    } finally {
      later.dispose();
    }
  });

  test('ocular/stopTraining stops a run at its next batch', async () => {
    const { uri } = fixture({ train: ['epochs 200', 'batch 4', 'optimizer adam lr=0.01', 'seed 7'] });
    const training = client.request(TrainRequest, { uri, backend: 'wasm' }, TRAIN_TIMEOUT_MS);
    const started = Date.now();
    while (!events.some((e) => e.uri === uri && e.kind === 'batch')) {
      assert.ok(Date.now() - started < TRAIN_TIMEOUT_MS, 'no batch event');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(await client.request(StopTrainingRequest, { uri }), { stopped: 1 });
    const result = await training;
    assert.equal(result.status, 'stopped');
    assert.ok(result.epochsDone < 200);
  });

  test('a file with errors is refused with its line', async () => {
    const { uri, file } = fixture({ train: ['epochs 1', 'optimizer adam lr=-1'] });
    await assert.rejects(client.request(TrainRequest, { uri, backend: 'wasm' }, TRAIN_TIMEOUT_MS), (error: Error) => {
      assert.ok(error.message.startsWith(`${file}:`), error.message);
      return true;
    });
  });

  test('ocular/device names the backend the setting gives', async () => {
    const device = await client.request(DeviceRequest, { backend: 'cpu' });
    assert.equal(device.backend, 'cpu');
    assert.match(device.description, /JavaScript/);
  });
});
