/**
 * A run trained elsewhere (by `ocular train` in a terminal) while its model file is open, on the
 * real server over stdio: the server keeps what it read of the file's runs when the file opened
 * until the client reports a run record changed in that file's runs folder; then the file's
 * feedback follows the run. A record changing in another folder leaves the file as it was.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DidChangeWatchedFilesNotification, FileChangeType, type DidChangeWatchedFilesParams, type PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { appendMetrics, RUN_FILE } from '../../server/src/training/runs';
import { writeRunRecord, type FixtureRun } from '../support/runs';
import { writeFixture } from '../training/fixtures';
import { LspClient } from './lsp-client';

/** Training accuracy far above validation accuracy for three epochs: the feedback's overfitting warning. */
const OVERFITTING = [0.6, 0.8, 0.95].map((train_acc, epoch) => ({ type: 'epoch' as const, epoch, train_loss: 1 - train_acc, train_acc, val_loss: 1, val_acc: 0.5, lr: 0.01, images_per_s: 100, seconds: 1, val_predicted: [4, 3, 3], time: '2026-11-28T12:00:00.000Z' }));

function run(modelFile: string, id: string): FixtureRun {
  return { id, modelFile, modelName: 'Tiny', dataset: 'shapes', classes: ['a', 'b', 'c'], inputShape: [1, 8, 8], seed: 7, status: 'running', startedAt: '2026-11-28T12:00:00.000Z', epochs: 3, epochsDone: 3 };
}

const overfitting = (published: PublishDiagnosticsParams): boolean => published.diagnostics.some((d) => d.code === 'overfitting');

describe('a run trained elsewhere while its model file is open', () => {
  let client: LspClient;
  let file: string;
  let other: string;

  before(async () => {
    file = writeFixture();
    other = writeFixture();
    client = new LspClient();
    await client.initialize();
  });

  after(() => client.dispose());

  test('feedback follows a changed run record of its own runs folder, and only of its own', async () => {
    const uri = pathToFileURL(file).href;
    const text = fs.readFileSync(file, 'utf8');
    await client.open(uri, text);
    assert.equal(overfitting(await client.diagnostics(uri, 1)), false);

    // The run lands on disk after the file opened, as a terminal's `ocular train` would write it.
    const dir = writeRunRecord(run(file, 'Tiny-20261128-120000'));
    appendMetrics(dir, ...OVERFITTING);
    const changed = (runDir: string): DidChangeWatchedFilesParams => ({ changes: [{ uri: pathToFileURL(path.join(runDir, RUN_FILE)).href, type: FileChangeType.Changed }] });

    // Another folder's run changing leaves the file on what it read at opening; an edit publishes it again to show that.
    const elsewhere = writeRunRecord(run(other, 'Tiny-20261128-120001'));
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, changed(elsewhere));
    await client.change(uri, 2, [{ text: `${text}\n` }]);
    assert.equal(overfitting(await client.diagnostics(uri, 2)), false);

    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, changed(dir));
    const published = await client.waitForDiagnostics(uri, overfitting, 'the overfitting warning of the run trained elsewhere');
    assert.equal(published.version, 2);
    const warning = published.diagnostics.find((d) => d.code === 'overfitting')!;
    assert.match(typeof warning.message === 'string' ? warning.message : warning.message.value, /^Overfitting after epoch 3: training accuracy 95(\.0)?% against validation 50(\.0)?%/);
  });
});
