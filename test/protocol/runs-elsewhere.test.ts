/**
 * A run trained elsewhere (by `ocular train` in a terminal) while its model file is open, on the
 * real server over stdio: the server follows the open file's runs folder, so the file's feedback
 * follows the run epoch by epoch without the file being opened again, and the Runs view is told
 * to list the runs again. Once the file is closed its runs folder is no longer followed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { RunsChangedNotification } from '../../protocol/protocol';
import { POLL_EVERY_MS } from '../../server/src/host/runs-poller';
import { appendMetrics } from '../../server/src/training/runs';
import { writeRunRecord, type FixtureRun } from '../support/runs';
import { writeFixture } from '../training/fixtures';
import { LspClient } from './lsp-client';

/** Training accuracy far above a validation accuracy of 50%, epoch by epoch: from the second epoch, the feedback's overfitting warning. */
const EPOCHS = [0.7, 0.8, 0.95].map((train_acc, epoch) => ({ type: 'epoch' as const, epoch, train_loss: 1 - train_acc, train_acc, val_loss: 1, val_acc: 0.5, lr: 0.01, images_per_s: 100, seconds: 1, val_predicted: [4, 3, 3], time: '2026-11-28T12:00:00.000Z' }));

const overfitting = (published: PublishDiagnosticsParams): string | undefined => {
  const warning = published.diagnostics.find((d) => d.code === 'overfitting');
  return warning && (typeof warning.message === 'string' ? warning.message : warning.message.value);
};

/** Long enough for a poll to have seen a change and the server to have published. */
const SETTLE_MS = 3 * POLL_EVERY_MS;

describe('a run trained elsewhere while its model file is open', () => {
  let client: LspClient;
  let file: string;
  const runsChanged: string[] = [];

  before(async () => {
    file = writeFixture();
    client = new LspClient();
    client.connection.onNotification(RunsChangedNotification.method, (params: { uri: string }) => void runsChanged.push(params.uri));
    await client.initialize();
  });

  after(() => client.dispose());

  test('the open file follows the run epoch by epoch; a closed file no longer does', async () => {
    const uri = pathToFileURL(file).href;
    await client.open(uri, fs.readFileSync(file, 'utf8'));
    assert.equal(overfitting(await client.diagnostics(uri, 1)), undefined);

    // The run lands on disk after the file opened, as a terminal's `ocular train` writes it: an
    // epoch's metrics line, then its record rewritten.
    const run: FixtureRun = { id: 'Tiny-20261128-120000', modelFile: file, modelName: 'Tiny', dataset: 'shapes', classes: ['a', 'b', 'c'], inputShape: [1, 8, 8], seed: 7, status: 'running', startedAt: '2026-11-28T12:00:00.000Z', epochs: 3, epochsDone: 0 };
    const dir = writeRunRecord(run);
    const epoch = (n: number): void => {
      appendMetrics(dir, EPOCHS[n]!);
      writeRunRecord({ ...run, epochsDone: n + 1 });
    };
    // The server publishes the file again, then tells the client to list its runs again: once the
    // n-th notification is in, so are the diagnostics published before it.
    const afterChange = async (n: number): Promise<string | undefined> => {
      const deadline = Date.now() + SETTLE_MS + 5_000;
      while (runsChanged.length < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(runsChanged, Array.from({ length: n }, () => uri), `runs changed notification ${n}`);
      return overfitting(client.allDiagnostics(uri).at(-1)!);
    };
    epoch(0);
    assert.equal(await afterChange(1), undefined, 'one epoch is not yet overfitting');
    epoch(1);
    assert.match((await afterChange(2)) ?? '', /^Overfitting after epoch 2: training accuracy 80(\.0)?% against validation 50(\.0)?%/);
    epoch(2);
    assert.match((await afterChange(3)) ?? '', /^Overfitting after epoch 3: training accuracy 95(\.0)?% against validation 50(\.0)?%/);

    // Closed, the file is cleared and left alone: a run ending changes nothing any more.
    const open = client.allDiagnostics(uri).length;
    await client.close(uri);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    assert.deepEqual(client.allDiagnostics(uri).slice(open), [{ uri, diagnostics: [] }], 'the closed file cleared once');
    const published = client.allDiagnostics(uri).length;
    const notified = runsChanged.length;
    writeRunRecord({ ...run, epochsDone: 3, status: 'completed', endedAt: '2026-11-28T12:01:00.000Z' });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    assert.deepEqual([client.allDiagnostics(uri).length, runsChanged.length], [published, notified]);
  });
});
