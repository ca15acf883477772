/**
 * `ocular eval` (the bundled dist/ocular.js) on a fixture run whose predictions are known: the
 * tables on stdout, evaluation.json in the run folder and the --json copy; a model file's newest
 * run; and the command lines and runs it refuses, with their exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseEvalArgs } from '../../server/src/cli/eval';
import { readEvaluation } from '../../server/src/evaluation/store';
import { removeDir } from '../data/fixtures';
import { EXPECTED_CONFUSION, writeFixture, writeRunFixture } from '../evaluation/fixtures';

const cli = path.resolve(__dirname, '../../../dist/ocular.js');

function run(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, 'eval', ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const argCases: [string[], ReturnType<typeof parseEvalArgs>][] = [
  [['run'], { target: 'run' }],
  [['m.ocular', '--split', 'val', '--batch', '8', '--json', 'o.json'], { target: 'm.ocular', split: 'val', batch: 8, json: 'o.json' }],
  [['--split', 'dev', 'x'], '--split takes train, val, test'],
  [['x', '--batch', '0'], '--batch takes a whole number of images, 1 or more'],
  [['x', '--json'], '--json takes the file to write'],
  [['x', '--fast'], 'unknown option --fast'],
  [['a', 'b'], "one model file or run folder, not 'a' and 'b'"],
  [[], 'give a model file or a run folder'],
];
for (const [args, expected] of argCases) {
  test(`ocular eval ${args.join(' ') || '(nothing)'}`, () => assert.deepEqual(parseEvalArgs(args), expected));
}

describe('ocular eval', () => {
  let dir: string;
  let modelFile: string;
  let runDir: string;
  before(() => {
    modelFile = writeFixture();
    dir = path.dirname(modelFile);
    runDir = writeRunFixture(modelFile, 'Bright-20261128-070000');
  });
  after(() => removeDir(dir));

  test('a run folder: the tables, evaluation.json and the --json copy', () => {
    const { status, stdout, stderr } = run(dir, runDir, '--json', 'copy.json');
    assert.equal(status, 0, stderr);
    assert.match(stdout, /^Evaluation: run Bright-20261128-070000, test split, best checkpoint \(epoch 1\); 5 images, 2 classes\naccuracy 80\.00%/);
    assert.match(stdout, /\nclass +precision +recall +f1 +support\ndark +1\.000 +0\.667 +0\.800 +3\nlight +0\.667 +1\.000 +0\.800 +2\nmacro avg +0\.833 +0\.833 +0\.800 +5\n/);
    assert.match(stdout, /\n +dark +light\ndark +2 +1\nlight +0 +2\n/);
    assert.match(stdout, /latency at batch 1 p50 [\d.]+ ms, p95 [\d.]+ ms; throughput at batch 64 \d+ images\/s\n$/);
    assert.deepEqual(readEvaluation(path.join(runDir, 'evaluation.json')).confusion, EXPECTED_CONFUSION);
    assert.deepEqual(readEvaluation(path.join(dir, 'copy.json')).confusion, EXPECTED_CONFUSION);
  });

  test('a model file: its newest run with a checkpoint', () => {
    const newer = writeRunFixture(modelFile, 'Bright-20261128-080000');
    const { status, stdout, stderr } = run(dir, path.basename(modelFile), '--batch', '2');
    assert.equal(status, 0, stderr);
    assert.match(stdout, /^Evaluation: run Bright-20261128-080000,/);
    assert.ok(fs.existsSync(path.join(newer, 'evaluation.json')));
    assert.match(stdout, /throughput at batch 2 /);
  });

  const refusals: [string, () => string[], number, RegExp][] = [
    ['a split the dataset lacks', () => [runDir, '--split', 'val'], 1, /^ocular eval: error: Dataset shades has no val split to evaluate \(it has train, test\)\.$/m],
    ['a missing file', () => ['nowhere.ocular'], 1, /^ocular eval: error: nowhere\.ocular: no such file or folder$/m],
    ['a folder that is not a run', () => [dir], 1, /is a folder without run\.json/],
    ['a model file never trained', () => [writeUntrained()], 1, /has no trained run to evaluate/],
    ['a wrong command line', () => ['--split'], 2, /^ocular eval: --split takes train, val, test\nUsage:/],
  ];
  for (const [name, args, code, message] of refusals) {
    test(`refuses ${name}`, () => {
      const { status, stderr } = run(dir, ...args());
      assert.equal(status, code, stderr);
      assert.match(stderr, message);
    });
  }

  /** A model file in a folder of its own, so it has no runs. */
  function writeUntrained(): string {
    const file = path.join(dir, 'untrained', 'm.ocular');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'model M {\n  input 1x4x4\n  flatten\n  dense 2\n}\n');
    return file;
  }
});
