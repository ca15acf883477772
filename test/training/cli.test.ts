/**
 * `ocular train` (the bundled dist/ocular.js and dist/train-worker.js) in real child processes:
 * plain epoch lines when not on a terminal, exit codes, refusals naming file:line (and of a
 * --resume whose model file changed since the run trained it), and a process
 * killed with SIGKILL after its first epoch resumed (--resume) to the same metrics as an
 * uninterrupted run with the same seed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetrics, readRun, runsFolderFor, runState, type EpochLine } from '../../server/src/training/runs';
import { folderContents } from '../support/runs';
import { writeFixture } from './fixtures';

const cli = path.resolve(__dirname, '../../../dist/ocular.js');

function ocular(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
}

const TRAIN = ['epochs 3', 'batch 8', 'optimizer adam lr=0.01', 'schedule step every=1 gamma=0.5', 'seed 21'];
const LAYERS = ['conv 4 kernel=3 padding=1', 'batchnorm', 'relu', 'flatten', 'dropout 0.25'];
const runIdOf = (stdout: string): string => /^run (\S+)/m.exec(stdout)![1]!;
const figures = (lines: readonly EpochLine[]): number[][] => lines.map((l) => [l.epoch, l.train_loss, l.train_acc, l.val_loss, l.val_acc, l.lr]);

describe('ocular train', () => {
  it('trains with one plain line per epoch and exits 0', () => {
    const file = writeFixture();
    const result = ocular('train', file, '--backend', 'wasm', '--epochs', '2');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^run Tiny-\d{8}-\d{6} \(new\) on wasm/m);
    assert.deepEqual(result.stdout.match(/^epoch \d+\/2 /gm), ['epoch 1/2 ', 'epoch 2/2 ']);
    assert.match(result.stdout, /^completed 2 epochs; best val acc/m);
    assert.equal(readRun(path.join(runsFolderFor(file), runIdOf(result.stdout))).status, 'completed');
  });

  it('trains on the data-parallel threads --threads asks for, and says so in the run', () => {
    for (const [threads, device] of [
      ['2', / × 2 data-parallel threads$/],
      ['1', /thread\)$/],
    ] as const) {
      const file = writeFixture();
      const result = ocular('train', file, '--backend', 'wasm', '--epochs', '1', '--threads', threads);
      assert.equal(result.status, 0, result.stderr);
      const record = readRun(path.join(runsFolderFor(file), runIdOf(result.stdout)));
      assert.match(record.device, device);
      assert.ok(result.stdout.includes(record.device), 'the first line names the device');
      assert.equal(record.status, 'completed');
    }
  });

  const wrong: [string, string[], number, RegExp][] = [
    ['an unknown backend', ['--backend', 'tpu'], 2, /--backend takes auto, gpu, native, wasm, cpu/],
    ['no threads', ['--threads', '0'], 2, /--threads takes a whole number, 1 or more/],
    ['a file with errors', ['--epochs', '1'], 1, /tiny\.ocular:4:\d+: error: .*reluu/],
    ['an unknown run to resume', ['--resume', 'Nope-1'], 1, /error: .*Cannot resume Nope-1/],
  ];
  for (const [name, args, status, expected] of wrong) {
    it(`refuses ${name} with exit code ${status}`, () => {
      const file = writeFixture();
      if (name === 'a file with errors') fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('relu', 'reluu'));
      const result = ocular('train', file, ...args);
      assert.equal(result.status, status, result.stdout + result.stderr);
      assert.match(result.stderr, expected);
    });
  }

  it('refuses --resume of a run whose model file has changed, exits 1 and leaves the run folder as it was; the file as it was resumes', () => {
    const file = writeFixture({ train: ['epochs 1', 'batch 16', 'optimizer adam lr=0.01', 'seed 2'] });
    const first = ocular('train', file, '--backend', 'wasm');
    assert.equal(first.status, 0, first.stderr);
    const id = runIdOf(first.stdout);
    const dir = path.join(runsFolderFor(file), id);
    const text = fs.readFileSync(file, 'utf8');
    const untouched = folderContents(dir);
    fs.writeFileSync(file, text.replace('seed 2', 'seed 3'));
    const refused = ocular('train', file, '--resume', id, '--backend', 'wasm', '--epochs', '2');
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.equal(refused.stdout, '');
    assert.ok(refused.stderr.startsWith(`error: Cannot resume ${id}: ${file} has changed since the run trained it`), refused.stderr);
    assert.match(refused.stderr, /Start a new run to train the file as it is now/);
    assert.deepEqual(folderContents(dir), untouched);
    fs.writeFileSync(file, text);
    const resumed = ocular('train', file, '--resume', id, '--backend', 'wasm', '--epochs', '2');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`^run ${id} \\(resumed at epoch 2\\)`, 'm'));
    assert.equal(readRun(dir).epochsDone, 2);
  });

  it('stops at Ctrl+C (SIGINT) with its complete epochs kept, says how to resume, and exits 1', async () => {
    const file = writeFixture({ train: ['epochs 30', 'batch 8', 'optimizer adam lr=0.01', 'seed 4'] });
    const child = spawn(process.execPath, [cli, 'train', file, '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      const first = !/^epoch 1\//m.test(stdout);
      stdout += chunk.toString();
      if (first && /^epoch 1\//m.test(stdout)) child.kill('SIGINT');
    });
    assert.equal(await exited, 1, stderr);
    assert.match(stderr, /stopping at the next batch/);
    const id = runIdOf(stdout);
    assert.match(stdout, new RegExp(`^stopped after \\d+ complete epochs.*resume with --resume ${id}$`, 'm'));
    const record = readRun(path.join(runsFolderFor(file), id));
    assert.equal(record.status, 'stopped');
    assert.ok(record.epochsDone >= 1 && record.epochsDone < 30, `stopped after ${record.epochsDone} epochs`);
    assert.equal(readMetrics(path.join(runsFolderFor(file), id)).epochs.length, record.epochsDone);
  });

  it('resumes a run killed with SIGKILL after its first epoch to the metrics of an uninterrupted run', async () => {
    const whole = writeFixture({ train: TRAIN, layers: LAYERS });
    const uninterrupted = ocular('train', whole, '--backend', 'wasm');
    assert.equal(uninterrupted.status, 0, uninterrupted.stderr);
    const expected = readMetrics(path.join(runsFolderFor(whole), runIdOf(uninterrupted.stdout))).epochs;

    const file = writeFixture({ train: TRAIN, layers: LAYERS });
    const child = spawn(process.execPath, [cli, 'train', file, '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const killed = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/^epoch 1\//m.test(stdout)) child.kill('SIGKILL');
    });
    await killed;
    const id = runIdOf(stdout);
    const dir = path.join(runsFolderFor(file), id);
    const record = readRun(dir);
    assert.equal(runState(record), 'interrupted');
    assert.ok(record.epochsDone >= 1 && record.epochsDone < 3, `killed after ${record.epochsDone} epochs`);

    const resumed = ocular('train', file, '--resume', id, '--backend', 'wasm');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`^run ${id} \\(resumed at epoch ${record.epochsDone + 1}\\)`, 'm'));
    assert.equal(readRun(dir).status, 'completed');
    const actual = figures(readMetrics(dir).epochs);
    const wanted = figures(expected);
    assert.equal(actual.length, wanted.length);
    actual.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - wanted[i]![j]!) <= 1e-5, `epoch ${i}, figure ${j}: ${v} ≠ ${wanted[i]![j]}`)));
  });
});
