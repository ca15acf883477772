/**
 * Protocol tests of evaluation: `ocular/evaluate` evaluates a run in the server's worker under a
 * work-done progress and writes evaluation.json; a split the dataset lacks and a folder that is
 * not a run answer errors saying so; `ocular/saliency` explains images with the run's checkpoint.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { InitializedNotification, InitializeRequest, WorkDoneProgressCreateRequest, type ProgressToken, type WorkDoneProgressBegin, type WorkDoneProgressEnd, type WorkDoneProgressReport } from 'vscode-languageserver-protocol';
import { EvaluateRequest, SaliencyRequest } from '../../protocol/protocol';
import { readEvaluation } from '../../server/src/evaluation/store';
import { removeDir } from '../data/fixtures';
import { EXPECTED_CONFUSION, writeFixture, writeRunFixture } from '../evaluation/fixtures';
import { LspClient } from './lsp-client';

describe('evaluation requests', () => {
  let modelFile: string;
  let runDir: string;
  let client: LspClient;
  const progress: { token: ProgressToken; value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd }[] = [];

  before(async () => {
    modelFile = writeFixture();
    runDir = writeRunFixture(modelFile);
    client = new LspClient();
    client.connection.onRequest(WorkDoneProgressCreateRequest.method, () => null);
    client.connection.onNotification('$/progress', (params: (typeof progress)[number]) => {
      progress.push(params);
    });
    await client.request(InitializeRequest.type, { processId: process.pid, rootUri: pathToFileURL(path.dirname(modelFile)).href, capabilities: { window: { workDoneProgress: true } }, workspaceFolders: null });
    await client.connection.sendNotification(InitializedNotification.type, {});
  });

  after(() => {
    client.dispose();
    removeDir(path.dirname(modelFile));
  });

  test('ocular/evaluate writes evaluation.json for the test split, with progress', async () => {
    const result = await client.request(EvaluateRequest, { runDir });
    assert.equal(result.file, path.join(runDir, 'evaluation.json'));
    assert.equal(result.count, 5);
    assert.ok(Math.abs(result.accuracy - 0.8) < 1e-9);
    const evaluation = readEvaluation(result.file);
    assert.deepEqual([evaluation.split, evaluation.runId, evaluation.checkpoint], ['test', 'Bright-20261128-070000', { name: 'best', epoch: 0 }]);
    assert.deepEqual(evaluation.confusion, EXPECTED_CONFUSION);
    const begin = progress.find((p) => p.value.kind === 'begin' && p.value.title === 'Evaluating');
    assert.ok(begin, JSON.stringify(progress));
    assert.ok(progress.some((p) => p.token === begin.token && p.value.kind === 'report' && p.value.message === 'predicting'));
    assert.ok(progress.some((p) => p.token === begin.token && p.value.kind === 'end'));
  });

  const refusals: [string, () => { runDir: string; split?: 'val' }, RegExp][] = [
    ['a split the dataset lacks', () => ({ runDir, split: 'val' }), /^Dataset shades has no val split to evaluate \(it has train, test\)\.$/],
    ['a folder that is not a run', () => ({ runDir: path.dirname(modelFile) }), /run\.json/],
  ];
  for (const [name, params, message] of refusals) {
    test(`ocular/evaluate refuses ${name}`, async () => {
      await assert.rejects(client.request(EvaluateRequest, params()), (error: Error) => {
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('ocular/saliency explains each image, or says why it cannot', async () => {
    const odd = path.join(path.dirname(modelFile), 'data', 'test', 'dark', 'odd.png');
    const answer = await client.request(SaliencyRequest, { runDir, files: [odd, path.join(path.dirname(modelFile), 'gone.png')], classes: [1, 1] });
    assert.equal(answer.overlays.length, 2);
    assert.match('image' in answer.overlays[0]! ? answer.overlays[0].image : '', /^data:image\/png;base64,/);
    assert.match('problem' in answer.overlays[1]! ? answer.overlays[1].problem : '', /Cannot read .*gone\.png/);
  });
});
