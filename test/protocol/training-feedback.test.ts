/**
 * A run's feedback on the open model file over its life, on the real server over stdio: a run
 * whose loss becomes NaN fails, and the file gets the error on its learning rate with the quick
 * fix that lowers it; once the file is edited the error stays but the fix is withdrawn (it was
 * worked out for the text that trained); the next run, at the lowered rate, trains to the end and
 * the error is gone.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CodeActionRequest, InitializedNotification, InitializeRequest, WorkDoneProgressCreateRequest, type Diagnostic } from 'vscode-languageserver-protocol';
import { TrainRequest } from '../../protocol/protocol';
import { removeDir } from '../data/fixtures';
import { writeFixture } from '../training/fixtures';
import { LspClient } from './lsp-client';

const TRAIN_TIMEOUT_MS = 120_000;
// Two linear convolutions and a dense layer at learning rate 10 blow up within the second epoch (as in test/training/run.test.ts).
const LAYERS = ['conv 16 kernel=3 padding=1', 'conv 16 kernel=3 padding=1', 'flatten', 'dense 64'];

describe('training feedback on the open model file', () => {
  let client: LspClient;
  let file: string;

  before(async () => {
    file = writeFixture({ train: ['epochs 3', 'batch 16', 'optimizer sgd lr=10', 'seed 1'], layers: LAYERS });
    client = new LspClient();
    client.connection.onRequest(WorkDoneProgressCreateRequest.method, () => null);
    await client.request(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: { window: { workDoneProgress: true } }, workspaceFolders: null });
    await client.connection.sendNotification(InitializedNotification.type, {});
  });

  after(() => {
    client.dispose();
    removeDir(path.dirname(file));
  });

  test('a NaN loss: the error on the learning rate with its fix, the fix withdrawn after an edit, the error gone after a good run', async () => {
    const uri = pathToFileURL(file).href;
    const text = fs.readFileSync(file, 'utf8');
    await client.open(uri, text);
    const failed = await client.request(TrainRequest, { uri, backend: 'wasm' }, TRAIN_TIMEOUT_MS);
    assert.equal(failed.status, 'failed');

    const isNaN = (d: Diagnostic): boolean => d.code === 'loss-not-finite';
    const published = await client.waitForDiagnostics(uri, (p) => p.diagnostics.some(isNaN), 'the NaN loss error', 10_000);
    const error = published.diagnostics.find(isNaN)!;
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('optimizer sgd lr=10'));
    const column = lines[line]!.indexOf('10');
    assert.deepEqual([error.severity, error.range], [1, { start: { line, character: column }, end: { line, character: column + 2 } }]);
    assert.match(typeof error.message === 'string' ? error.message : error.message.value, /^The loss became NaN or infinite .*so training stopped\. The learning rate 10 is the usual cause: lower it to 1\.$/);
    const actions = async (): Promise<string[]> => ((await client.request(CodeActionRequest.type, { textDocument: { uri }, range: error.range, context: { diagnostics: [error] } })) ?? []).map((a) => a.title);
    assert.deepEqual(await actions(), ['Lower the learning rate to 1']);

    // The user lowers the rate further by hand: the finding stays (nothing has trained the new text) but its fix goes.
    const lowered = text.replace('lr=10', 'lr=0.01');
    fs.writeFileSync(file, lowered);
    await client.change(uri, 2, [{ text: lowered }]);
    const edited = await client.diagnostics(uri, 2);
    assert.ok(edited.diagnostics.some(isNaN), JSON.stringify(edited.diagnostics));
    assert.deepEqual(await actions(), []);

    const completed = await client.request(TrainRequest, { uri, backend: 'wasm' }, TRAIN_TIMEOUT_MS);
    assert.equal(completed.status, 'completed');
    // The server publishes the finished run's feedback before it answers, so the last publication is the file after the run.
    const afterRun = client.allDiagnostics(uri);
    const last = afterRun[afterRun.length - 1]!;
    assert.deepEqual([last.version, last.diagnostics.filter((d) => d.severity === 1)], [2, []]);
  });
});
