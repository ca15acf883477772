/**
 * The training loop on generated data: it learns well above chance on wasm and cpu, writes its
 * run folder, stops early and ends on the best weights, stops cleanly when cancelled, resumes to
 * the same numbers as an uninterrupted run, ends every epoch with an update when gradient
 * accumulation does not divide its batches (as larger batches train), refuses to resume from a
 * model file other than the text the run trained (changing nothing in its folder), stops on a NaN
 * loss naming the learning-rate line, refuses a file it cannot train with file:line, and keeps the
 * live tensor count flat.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { isOutOfMemory, trainModel, TrainingError, type TrainEvent, type TrainRequest } from '../../server/src/training/run';
import { checkpointFile, listRuns, readCheckpoint, readMetrics, readRun, runsFolderFor, writeRun, type EpochLine } from '../../server/src/training/runs';
import { folderContents } from '../support/runs';
import { writeFixture } from './fixtures';

async function train(request: TrainRequest, signalAt?: (event: TrainEvent, abort: () => void) => void): Promise<{ events: TrainEvent[]; run: Awaited<ReturnType<typeof trainModel>> }> {
  const events: TrainEvent[] = [];
  const controller = new AbortController();
  const run = await trainModel({ decodeWorkers: 0, ...request }, (event) => {
    events.push(event);
    signalAt?.(event, () => controller.abort());
  }, controller.signal);
  return { events, run };
}

const figures = (lines: readonly EpochLine[]): number[][] => lines.map((l) => [l.epoch, l.train_loss, l.train_acc, l.val_loss, l.val_acc, l.lr]);

function assertClose(actual: number[][], expected: number[][], tolerance: number): void {
  assert.equal(actual.length, expected.length, `${actual.length} epochs, expected ${expected.length}`);
  actual.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - expected[i]![j]!) <= tolerance, `epoch ${i}, figure ${j}: ${v} ≠ ${expected[i]![j]}`)));
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`training on ${backend}`, () => {
    it('learns a small generated dataset well above chance and records the run', async () => {
      const file = writeFixture();
      const { run, events } = await train({ modelFile: file, backend });
      assert.equal(run.status, 'completed');
      assert.equal(run.backend, backend);
      assert.equal(run.epochsDone, 4);
      const dir = path.join(runsFolderFor(file), run.id);
      assert.deepEqual(readRun(dir), run);
      const metrics = readMetrics(dir);
      assert.deepEqual(metrics.epochs.map((e) => e.epoch), [0, 1, 2, 3]);
      const last = metrics.epochs.at(-1)!;
      assert.ok(last.val_acc > 0.8, `val accuracy ${last.val_acc} (chance is 0.33)`);
      assert.equal(last.val_predicted.reduce((a, b) => a + b, 0), 30);
      assert.deepEqual(events.filter((e) => e.type === 'epoch').map((e) => (e as { metrics: EpochLine }).metrics), metrics.epochs);
      const checkpoint = readCheckpoint(checkpointFile(dir, 'last'));
      assert.equal(checkpoint.epoch, 3);
      assert.deepEqual([...checkpoint.weights.keys()].sort(), ['conv1.bias', 'conv1.weight', 'dense1.bias', 'dense1.weight']);
      assert.equal(readCheckpoint(checkpointFile(dir, 'best')).epoch, run.best!.epoch);
      assert.equal(run.best!.val_loss, Math.min(...metrics.epochs.map((e) => e.val_loss)));
      assert.deepEqual(listRuns(runsFolderFor(file)).map((r) => [r.id, r.state]), [[run.id, 'completed']]);
    });
  });
}

describe('the training loop', () => {
  it('keeps the live tensor count flat across epochs', async () => {
    const file = writeFixture({ train: ['epochs 4', 'batch 16', 'optimizer momentum lr=0.05', 'accumulate 2', 'label_smoothing 0.1', 'seed 3'], layers: ['conv 4 kernel=3 padding=1', 'batchnorm', 'relu', 'flatten', 'dropout 0.2'] });
    const counts: number[] = [];
    const { run } = await train({ modelFile: file, backend: 'wasm' }, (event) => event.type === 'epoch' && counts.push(tf.memory().numTensors));
    assert.equal(run.status, 'completed');
    assert.equal(new Set(counts.slice(1)).size, 1, `live tensors after each epoch: ${counts.join(', ')}`);
  });

  it('stops early and ends on the best epoch\'s weights', async () => {
    // min_delta=1 makes no epoch after the first an improvement, so patience 2 stops after epoch 2.
    const file = writeFixture({ train: ['epochs 10', 'batch 16', 'optimizer adam lr=0.01', 'early_stop monitor=val_loss patience=2 min_delta=1', 'seed 5'] });
    const { run, events } = await train({ modelFile: file, backend: 'wasm' });
    assert.equal(run.status, 'early-stopped');
    assert.equal(run.epochsDone, 3);
    assert.equal(run.best!.epoch, 0);
    const finished = events.find((e) => e.type === 'finished') as Extract<TrainEvent, { type: 'finished' }>;
    assert.ok(Math.abs(finished.final!.val_loss - run.best!.val_loss) < 1e-5, `the restored weights give val loss ${finished.final!.val_loss}, the best epoch had ${run.best!.val_loss}`);
    assert.equal(readCheckpoint(checkpointFile(path.join(runsFolderFor(file), run.id), 'best')).epoch, 0);
  });

  // 90 training images in batches of 8 are 12 batches: accumulate 5 leaves 2 for the update at each epoch's end.
  for (const accumulate of [[], ['accumulate 5']]) {
    it(`stops mid-epoch when cancelled, keeping the last complete epoch, and resumes to the same numbers as an uninterrupted run${accumulate.length ? ` (${accumulate[0]})` : ''}`, async () => {
      const lines = ['epochs 4', 'batch 8', 'optimizer adamw lr=0.01', 'schedule cosine', 'label_smoothing 0.05', ...accumulate, 'seed 11'];
      const layers = ['conv 4 kernel=3 padding=1', 'batchnorm', 'relu', 'flatten', 'dropout 0.3'];
      const wholeFile = writeFixture({ train: lines, layers });
      const whole = await train({ modelFile: wholeFile, backend: 'wasm' });
      const file = writeFixture({ train: lines, layers });
      const stopped = await train({ modelFile: file, backend: 'wasm' }, (event, abort) => event.type === 'batch' && event.metrics.epoch === 2 && abort());
      assert.equal(stopped.run.status, 'stopped');
      assert.equal(stopped.run.epochsDone, 2);
      const dir = path.join(runsFolderFor(file), stopped.run.id);
      assert.equal(readCheckpoint(checkpointFile(dir, 'last')).epoch, 1);
      const resumed = await train({ modelFile: file, backend: 'wasm', resumeRunId: stopped.run.id });
      assert.equal(resumed.run.status, 'completed');
      assert.equal(resumed.run.id, stopped.run.id);
      const wholeMetrics = readMetrics(path.join(runsFolderFor(wholeFile), whole.run.id));
      assertClose(figures(readMetrics(dir).epochs), figures(wholeMetrics.epochs), 1e-5);
    });
  }

  // 90 training images in batches of 10 are 9 batches: accumulate 2 updates after batches 2, 4, 6
  // and 8, then, ending the epoch, from batch 9 alone. Batches of 20 are the same images (the order
  // does not depend on the batch size) in 4 batches of 20 and one of 10, so the two train alike
  // exactly when the leftover is applied as the mean of the batches it gathered, in its own epoch.
  const section = (batch: number, accumulate: number): string[] => ['epochs 3', `batch ${batch}`, 'optimizer momentum lr=0.05', `accumulate ${accumulate}`, 'seed 13'];
  for (const threads of [1, 2]) {
    it(`accumulate 2 over batches of 10 trains as batches of 20 when the epoch has an odd number of batches (${threads === 1 ? 'one thread' : `${threads} data-parallel threads`})`, async () => {
      const largerFile = writeFixture({ train: section(20, 1) });
      const larger = await train({ modelFile: largerFile, backend: 'wasm', threads: 1 });
      const file = writeFixture({ train: section(10, 2) });
      const accumulated = await train({ modelFile: file, backend: 'wasm', threads });
      assert.equal(accumulated.run.status, 'completed');
      assert.match(accumulated.run.device, threads === 1 ? /thread\)$/ : / × 2 data-parallel threads$/);
      const [dir, largerDir] = [path.join(runsFolderFor(file), accumulated.run.id), path.join(runsFolderFor(largerFile), larger.run.id)];
      assertClose(figures(readMetrics(dir).epochs), figures(readMetrics(largerDir).epochs), 1e-5);
      const [last, largerLast] = [readCheckpoint(checkpointFile(dir, 'last')), readCheckpoint(checkpointFile(largerDir, 'last'))];
      assert.equal(last.training.counters['gathered'], 0, 'a complete epoch leaves no gradients gathered');
      assert.equal(last.training.counters['updates'], 3 * 5, 'five updates an epoch');
      for (const [key, tensor] of largerLast.weights) {
        const values = last.weights.get(key)!.values;
        tensor.values.forEach((v, i) => assert.ok(Math.abs(v - values[i]!) <= 1e-5, `${key}[${i}]: ${values[i]} ≠ ${v}`));
      }
    });
  }

  it('stops on a NaN loss with kind nan, pointing at the optimizer line', async () => {
    // Two linear convolutions and a dense layer at learning rate 10 blow up within the second epoch.
    const file = writeFixture({ train: ['epochs 3', 'batch 16', 'optimizer sgd lr=10', 'seed 1'], layers: ['conv 16 kernel=3 padding=1', 'conv 16 kernel=3 padding=1', 'flatten', 'dense 64'] });
    const { run, events } = await train({ modelFile: file, backend: 'wasm' });
    assert.equal(run.status, 'failed');
    assert.equal(run.error?.kind, 'nan');
    const failed = events.find((e) => e.type === 'failed') as Extract<TrainEvent, { type: 'failed' }>;
    const optimizerLine = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('optimizer')) + 1;
    assert.equal(failed.error.line, optimizerLine);
    assert.match(failed.error.message, /lower the learning rate/);
  });

  it('refuses to resume a run that is still training', async () => {
    const file = writeFixture({ train: ['epochs 1', 'batch 16', 'optimizer adam lr=0.01', 'seed 2'] });
    const { run } = await train({ modelFile: file, backend: 'cpu' });
    // As if this process were still training it.
    writeRun(path.join(runsFolderFor(file), run.id), { ...run, status: 'running', pid: process.pid });
    await assert.rejects(train({ modelFile: file, backend: 'cpu', resumeRunId: run.id }), new RegExp(`Run ${run.id} is still training \\(process ${process.pid}\\)`));
  });

  it('refuses to resume a run whose model file has changed or is another file, leaving its folder as it was; the file as it was resumes', async () => {
    const file = writeFixture({ train: ['epochs 1', 'batch 16', 'optimizer adam lr=0.01', 'seed 2'] });
    const { run } = await train({ modelFile: file, backend: 'cpu' });
    const dir = path.join(runsFolderFor(file), run.id);
    const text = fs.readFileSync(file, 'utf8');
    const untouched = folderContents(dir);
    const changed = `Cannot resume ${run.id}: ${file} has changed since the run trained it (its text no longer has the run's sha256, ${run.modelHash.slice(0, 12)}…), and the run's checkpoints belong to the text it trained. Start a new run to train the file as it is now, or put the file back as it was to resume this one.`;
    // Another model file in the same folder shares the runs folder, and so sees the run.
    const other = path.join(path.dirname(file), 'other.ocular');
    const cases: [string, string, string, string][] = [
      ['a comment added', file, `${text}# tried a larger learning rate\n`, changed],
      ['the learning rate changed', file, text.replace('lr=0.01', 'lr=0.02'), changed],
      ['another file with the same text', other, text, `Cannot resume ${run.id}: it trained ${file}, not ${other}. Resume it from that file, or start a new run of this one.`],
    ];
    for (const [name, target, content, expected] of cases) {
      fs.writeFileSync(target, content);
      await assert.rejects(train({ modelFile: target, backend: 'cpu', resumeRunId: run.id, epochs: 2 }), (error: unknown) => {
        assert.ok(error instanceof TrainingError, String(error));
        assert.equal(error.message, expected, name);
        assert.equal(error.failure.file, target);
        return true;
      });
      assert.deepEqual(folderContents(dir), untouched, `${name}: nothing in the run folder changed`);
    }
    fs.writeFileSync(file, text);
    const resumed = await train({ modelFile: file, backend: 'cpu', resumeRunId: run.id, epochs: 2 });
    assert.deepEqual([resumed.run.id, resumed.run.status, resumed.run.epochsDone], [run.id, 'completed', 2]);
    assert.deepEqual(readMetrics(dir).epochs.map((e) => e.epoch), [0, 1]);
  });

  const refusals: [string, (file: string) => void, RegExp][] = [
    ['a file with errors', (file) => fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('relu', 'reluu')), /tiny\.ocular:4:\d+: .*reluu/],
    ['no train section', (file) => fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/train \{[^}]*\}/, '')), /has no train section/],
    ['a missing val folder', (file) => fs.rmSync(path.join(path.dirname(file), 'data', 'val'), { recursive: true }), /tiny\.ocular:\d+:\d+: dataset shapes has no validation images/],
  ];
  for (const [name, damage, expected] of refusals) {
    it(`refuses ${name} with a message naming the place`, async () => {
      const file = writeFixture();
      damage(file);
      await assert.rejects(train({ modelFile: file, backend: 'cpu' }), (error: unknown) => error instanceof TrainingError && expected.test(error.message));
    });
  }
});

describe('out-of-memory errors', () => {
  const cases: [string, unknown, boolean][] = [
    ['a RangeError (typed array allocation)', new RangeError('Array buffer allocation failed'), true],
    ['WebAssembly memory growth', new Error('Cannot enlarge memory arrays to size 4294967296 bytes'), true],
    ['native TensorFlow', new Error('OOM when allocating tensor with shape[128,64,112,112]'), true],
    ['a GPU allocation', new Error('Failed to allocate 2.0GiB'), true],
    ['a shape mistake', new Error('Error in matMul: inner shapes (10) and (12) of Tensors must match'), false],
    ['a thrown string', 'out of memory', true],
  ];
  for (const [name, error, expected] of cases) it(`${expected ? 'recognises' : 'does not take'} ${name}`, () => assert.equal(isOutOfMemory(error), expected));
});
