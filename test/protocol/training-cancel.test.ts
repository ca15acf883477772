/**
 * Cancelling a run from its progress and resuming it, on the real server over stdio: the client
 * cancels the work-done progress of `ocular/train` (what the Cancel button of VS Code's progress
 * notification sends), the run ends as stopped with its complete epochs kept, `ocular/listRuns`
 * shows it stopped, `ocular/train` with its id is refused while the model file differs from the
 * text the run trained (the run folder untouched), and, the file put back, goes on from the last
 * complete epoch to the planned number in the same run folder, with the history of both parts in
 * metrics.jsonl.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { InitializedNotification, InitializeRequest, WorkDoneProgressCancelNotification, WorkDoneProgressCreateRequest, type ProgressToken } from 'vscode-languageserver-protocol';
import { ListRunsRequest, TrainingEventNotification, TrainRequest, type TrainingEventParams } from '../../protocol/protocol';
import { readMetrics } from '../../server/src/training/runs';
import { removeDir } from '../data/fixtures';
import { folderContents } from '../support/runs';
import { writeFixture } from '../training/fixtures';
import { LspClient } from './lsp-client';

const TRAIN_TIMEOUT_MS = 120_000;
const EPOCHS = 4;

describe('training cancelled from its progress, then resumed', () => {
  let client: LspClient;
  let file: string;
  const tokens: ProgressToken[] = [];
  const events: TrainingEventParams[] = [];

  before(async () => {
    file = writeFixture({ train: [`epochs ${EPOCHS}`, 'batch 4', 'optimizer adam lr=0.01', 'seed 11'] });
    client = new LspClient();
    client.connection.onRequest(WorkDoneProgressCreateRequest.method, (params: { token: ProgressToken }) => {
      tokens.push(params.token);
      return null;
    });
    client.connection.onNotification(TrainingEventNotification, (params) => void events.push(params));
    await client.request(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: { window: { workDoneProgress: true } }, workspaceFolders: null });
    await client.connection.sendNotification(InitializedNotification.type, {});
  });

  after(() => {
    client.dispose();
    removeDir(path.dirname(file));
  });

  test('cancelling the progress after the first epoch stops the run; resuming is refused once the file changed, and finishes the run in the same folder from the file as it was', async () => {
    const uri = pathToFileURL(file).href;
    const training = client.request(TrainRequest, { uri, backend: 'wasm' }, TRAIN_TIMEOUT_MS);
    const started = Date.now();
    while (!events.some((e) => e.kind === 'epoch')) {
      assert.ok(Date.now() - started < TRAIN_TIMEOUT_MS, 'no epoch event');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(tokens.length, 1, 'one work-done progress for the run');
    await client.connection.sendNotification(WorkDoneProgressCancelNotification.type, { token: tokens[0]! });
    const stopped = await training;
    assert.equal(stopped.status, 'stopped');
    assert.ok(stopped.epochsDone >= 1 && stopped.epochsDone < EPOCHS, `epochs done when stopped: ${stopped.epochsDone}`);
    const listed = await client.request(ListRunsRequest, { uris: [uri] });
    assert.deepEqual(
      listed.map((r) => [r.id, r.status, r.epochsDone]),
      [[stopped.runId, 'stopped', stopped.epochsDone]],
    );

    // Edited since the run trained it, the file cannot resume the run, and the run folder stays as it was.
    const text = fs.readFileSync(file, 'utf8');
    const untouched = folderContents(stopped.runDir);
    fs.writeFileSync(file, text.replace('lr=0.01', 'lr=0.001'));
    await assert.rejects(client.request(TrainRequest, { uri, backend: 'wasm', resumeRunId: stopped.runId }, TRAIN_TIMEOUT_MS), (error: Error) => {
      assert.ok(error.message.startsWith(`Cannot resume ${stopped.runId}: ${file} has changed since the run trained it`), error.message);
      assert.match(error.message, /Start a new run to train the file as it is now/);
      return true;
    });
    assert.deepEqual(folderContents(stopped.runDir), untouched);
    fs.writeFileSync(file, text);

    const resumed = await client.request(TrainRequest, { uri, backend: 'wasm', resumeRunId: stopped.runId }, TRAIN_TIMEOUT_MS);
    assert.deepEqual([resumed.runId, resumed.runDir, resumed.status, resumed.epochsDone], [stopped.runId, stopped.runDir, 'completed', EPOCHS]);
    assert.deepEqual(
      readMetrics(resumed.runDir).epochs.map((e) => e.epoch),
      Array.from({ length: EPOCHS }, (_, i) => i),
    );
    assert.ok(fs.existsSync(path.join(resumed.runDir, 'run.json')));
  });
});
