/**
 * The training worker host: a worker that dies after its run started leaves the run marked
 * failed (not 'running' for ever) and resolves with that record; one that dies before any run
 * rejects with the reason. Real training through the host is tested by cli.test.ts (the bundled
 * worker, cancelled by Ctrl+C).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTraining } from '../../server/src/training/host';
import type { TrainEvent } from '../../server/src/training/run';
import { createRunFolder, readRun, runsFolderFor, writeRun, type RunRecord } from '../../server/src/training/runs';

/** A worker script that posts `messages` and then ends with `ending` (JavaScript). */
function fakeWorker(messages: readonly unknown[], ending: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-host-')), 'worker.js');
  fs.writeFileSync(file, `const { parentPort } = require('node:worker_threads');\n${messages.map((m) => `parentPort.postMessage(${JSON.stringify(m)});`).join('\n')}\n${ending}\n`);
  return file;
}

describe('the training worker host', () => {
  const endings: [string, string, RegExp][] = [
    ['throws', "throw new Error('wasm memory access out of bounds');", /wasm memory access out of bounds/],
    ['exits', 'process.exit(3);', /exit code 3/],
  ];
  for (const [name, ending, reason] of endings) {
    it(`marks the run failed when its worker ${name} mid-run`, async () => {
      const modelFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-host-model-')), 'm.ocular');
      const { id, dir } = createRunFolder(runsFolderFor(modelFile), 'M', new Date());
      const run: RunRecord = { version: 1, id, modelFile, modelName: 'M', modelHash: 'h', dataset: 'd', classes: ['a', 'b'], inputShape: [1, 2, 2], config: {}, backend: 'cpu', device: 'cpu', seed: 1, pid: process.pid, status: 'running', startedAt: 'T', epochs: 3, epochsDone: 1 };
      writeRun(dir, run);
      const events: TrainEvent[] = [];
      const handle = startTraining({ modelFile }, (event) => events.push(event), { workerScript: fakeWorker([{ type: 'event', event: { type: 'started', run, device: { engine: 'tfjs', backend: 'cpu', description: 'cpu', skipped: [] } } }], ending) });
      const record = await handle.done;
      assert.equal(record.status, 'failed');
      assert.match(record.error!.message, reason);
      assert.deepEqual(readRun(dir), record);
      assert.deepEqual(events.map((e) => e.type), ['started', 'failed']);
    });
  }

  it('rejects with the reason when the worker dies before a run starts', async () => {
    const handle = startTraining({ modelFile: '/nowhere/m.ocular' }, () => {}, { workerScript: fakeWorker([], "throw new Error('cannot load the backend');") });
    await assert.rejects(handle.done, /Training stopped before its run started: cannot load the backend/);
  });

  it('passes a refusal on as a TrainingError with its place', async () => {
    const failure = { kind: 'error', message: '/m.ocular:3:1: bad', file: '/m.ocular', line: 3 };
    const handle = startTraining({ modelFile: '/m.ocular' }, () => {}, { workerScript: fakeWorker([{ type: 'refused', failure }], '') });
    await assert.rejects(handle.done, (error: Error & { failure?: unknown }) => error.name === 'TrainingError' && JSON.stringify(error.failure) === JSON.stringify(failure));
  });
});
