/**
 * The runs folder on disk: ids and their collisions, run.json written atomically and checked
 * when read, metrics.jsonl appended with torn lines and resume lines, checkpoints round-tripped,
 * and interrupted runs told from running ones.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  appendMetrics,
  checkpointFile,
  createRunFolder,
  listRuns,
  readCheckpoint,
  readMetrics,
  readRun,
  runIdFor,
  runState,
  runsFolderFor,
  writeCheckpoint,
  writeRun,
  type EpochLine,
  type RunRecord,
} from '../../server/src/training/runs';

const temporaryFolder = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-runs-'));

const record = (id: string, overrides: Partial<RunRecord> = {}): RunRecord => ({
  version: 1,
  id,
  modelFile: '/work/m.ocular',
  modelName: 'M',
  modelHash: 'abc',
  dataset: 'd',
  classes: ['a', 'b'],
  inputShape: [1, 4, 4],
  config: { epochs: 3 },
  backend: 'cpu',
  device: 'plain JavaScript',
  seed: 1,
  pid: process.pid,
  status: 'running',
  startedAt: '2026-11-28T08:00:00.000Z',
  epochs: 3,
  epochsDone: 0,
  ...overrides,
});

const epochLine = (epoch: number, val_loss: number): EpochLine => ({ type: 'epoch', epoch, train_loss: 1, train_acc: 0.5, val_loss, val_acc: 0.5, lr: 0.1, images_per_s: 10, seconds: 1, val_predicted: [1, 1], time: 'T' });

describe('runs on disk', () => {
  it('names runs by model and UTC time, and numbers collisions', () => {
    const runs = temporaryFolder();
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    assert.equal(runIdFor('Net', date), 'Net-20260102-030405');
    const ids = [1, 2, 3].map(() => createRunFolder(runs, 'Net', date).id);
    assert.deepEqual(ids, ['Net-20260102-030405', 'Net-20260102-030405-2', 'Net-20260102-030405-3']);
    assert.ok(fs.existsSync(path.join(runs, ids[0]!, 'checkpoints')));
    assert.equal(runsFolderFor('/a/b/m.ocular'), path.join('/a/b', '.ocular', 'runs'));
  });

  it('writes run.json atomically, reads it back, and refuses a foreign file by name', () => {
    const runs = temporaryFolder();
    const { id, dir } = createRunFolder(runs, 'M', new Date());
    writeRun(dir, record(id, { epochsDone: 2 }));
    assert.equal(readRun(dir).epochsDone, 2);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    fs.writeFileSync(path.join(dir, 'run.json'), '{"version":7}');
    assert.throws(() => readRun(dir), (error: Error) => error.message.includes(path.join(dir, 'run.json')) && error.message.includes('version 7'));
  });

  it('lists runs oldest first, shows a running run with a dead process as interrupted, and names unreadable ones', () => {
    const runs = temporaryFolder();
    const older = createRunFolder(runs, 'M', new Date(Date.UTC(2026, 0, 1)));
    const newer = createRunFolder(runs, 'M', new Date(Date.UTC(2026, 0, 2)));
    const broken = createRunFolder(runs, 'M', new Date(Date.UTC(2026, 0, 3)));
    writeRun(newer.dir, record(newer.id, { startedAt: '2026-01-02T00:00:00Z', status: 'completed' }));
    writeRun(older.dir, record(older.id, { startedAt: '2026-01-01T00:00:00Z' }));
    const listed = listRuns(runs);
    assert.deepEqual(listed.map((r) => [r.id, r.state]), [[broken.id, undefined], [older.id, 'running'], [newer.id, 'completed']]);
    assert.match(listed[0]!.problem!, /no such file/);
    const cases: [RunRecord['status'], boolean, string][] = [['running', true, 'running'], ['running', false, 'interrupted'], ['stopped', false, 'stopped'], ['completed', false, 'completed']];
    for (const [status, alive, expected] of cases) assert.equal(runState(record('x', { status }), () => alive), expected, `${status}, process alive: ${alive}`);
    assert.deepEqual(listRuns(path.join(runs, 'none')), []);
  });

  it('appends metrics, skips a torn line, keeps lines after it whole, and applies resume lines', () => {
    const dir = temporaryFolder();
    appendMetrics(dir, epochLine(0, 0.9), { type: 'batch', epoch: 1, batch: 3, batches: 10, loss: 1, acc: 0.5, images_per_s: 5 });
    // A kill -9 in the middle of writing epoch 1's line.
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"type":"epoch","epoch":1,"train_lo');
    assert.deepEqual(readMetrics(dir).epochs.map((e) => e.epoch), [0]);
    assert.equal(readMetrics(dir).skipped, 1);
    appendMetrics(dir, { type: 'resume', epoch: 1, time: 'T' }, epochLine(1, 0.8));
    const metrics = readMetrics(dir);
    assert.deepEqual(metrics.epochs.map((e) => [e.epoch, e.val_loss]), [[0, 0.9], [1, 0.8]]);
    assert.deepEqual(metrics.batches, [], 'the interrupted attempt at epoch 1 is superseded');
    assert.equal(metrics.skipped, 1);
    assert.deepEqual(readMetrics(path.join(dir, 'none')), { epochs: [], batches: [], skipped: 0 });
  });

  it('round-trips a checkpoint exactly and refuses a damaged one by name', () => {
    const dir = temporaryFolder();
    fs.mkdirSync(path.join(dir, 'checkpoints'));
    const file = checkpointFile(dir, 'last');
    const weights = new Map([
      ['conv1.weight', { shape: [2, 1, 3, 3], values: Float32Array.from({ length: 18 }, (_, i) => i / 7 - 1) }],
      ['conv1.bias', { shape: [2], values: Float32Array.of(Math.PI, -0) }],
    ]);
    const training = { tensors: new Map([['optimizer.first.0', { shape: [3], values: Float32Array.of(1e-30, 2, 3) }]]), counters: { updates: 12, 'dropout.0': 5 } };
    writeCheckpoint(file, { epoch: 4, weights, training, rng: { seed: 9, nextEpoch: 5 }, history: [epochLine(0, 1)] });
    const back = readCheckpoint(file);
    assert.equal(back.epoch, 4);
    assert.deepEqual(back.rng, { seed: 9, nextEpoch: 5 });
    assert.deepEqual([...back.weights], [...weights]);
    assert.deepEqual([...back.training.tensors], [...training.tensors]);
    assert.deepEqual(back.training.counters, training.counters);
    assert.deepEqual(back.history, [epochLine(0, 1)]);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 8));
    assert.throws(() => readCheckpoint(file), (error: Error) => error.message.startsWith(`${file} is not an Ocular checkpoint`));
    fs.writeFileSync(file, 'hello');
    assert.throws(() => readCheckpoint(file), /does not start as one/);
  });
});
