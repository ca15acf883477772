/**
 * `ocular check` (the bundled dist/ocular.js) on a model file whose dataset has bad images: the
 * dataset scan's findings come out compiler-style on the dataset's lines, naming each image, and
 * `--no-data` leaves them out. `check`, `summary` and `format` refuse an unknown option or a
 * missing file as the other subcommands do (exit 2, the refusal and the usage), touching nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHECK_USAGE, FORMAT_USAGE, SUMMARY_USAGE } from '../../server/src/cli/file-commands';
import { greyPng } from '../support/png';

const cli = path.resolve(__dirname, '../../../dist/ocular.js');

const MODEL = `model Net {
  input 1x8x8
  flatten
  dense classes
}

dataset marks {
  train "data/train"
  image 1x8x8
}
`;

function run(dir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('ocular check', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-cli-'));
    for (const [name, base] of [['tick', 0], ['cross', 100]] as const) {
      fs.mkdirSync(path.join(dir, 'data/train', name), { recursive: true });
      for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(dir, 'data/train', name, `${i}.png`), greyPng(8, 8, Uint8Array.from({ length: 64 }, (_, p) => (p * (i + 1) + base) % 256)));
    }
    fs.writeFileSync(path.join(dir, 'data/train/tick/zero.png'), '');
    fs.writeFileSync(path.join(dir, 'data/train/cross/notes.jpg'), 'not a picture\n');
    fs.writeFileSync(path.join(dir, 'model.ocular'), MODEL);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('prints the dataset findings on the train path, naming each image', () => {
    const { status, stdout, stderr } = run(dir, 'check', 'model.ocular');
    const lines = stdout.trim().split('\n');
    assert.equal(status, 0, stderr);
    const zero = lines.find((line) => line.includes('zero.png'));
    const notes = lines.find((line) => line.includes('notes.jpg'));
    // Images are named relative to the model file's folder, as the editor names them.
    assert.match(zero ?? '', /^model\.ocular:8:9: warning: 'data\/train\/tick\/zero\.png' is empty/, stdout);
    assert.match(notes ?? '', /^model\.ocular:8:9: warning: 'data\/train\/cross\/notes\.jpg'/, stdout);
    assert.match(stderr, /0 errors, \d+ warnings in 1 file/);
    assert.ok(fs.existsSync(path.join(dir, '.ocular/cache')), 'the decoded images are cached in the current folder');
  });

  test('--no-data checks the file alone', () => {
    const { status, stdout, stderr } = run(dir, 'check', 'model.ocular', '--no-data');
    assert.equal(status, 0, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /0 errors, 0 warnings in 1 file/);
  });
});

describe('wrong command lines of check, summary and format', () => {
  let dir: string;
  /** A model file that format would change (its layer lines are not indented). */
  const UNFORMATTED = 'model Net {\ninput 1x8x8\nflatten\ndense 2\n}\n';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-cli-'));
    fs.writeFileSync(path.join(dir, 'model.ocular'), UNFORMATTED);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: [string[], string, string][] = [
    [['check', 'model.ocular', '--nodata'], 'unknown option --nodata', CHECK_USAGE],
    [['check', '--no-data'], 'give one or more model files to check', CHECK_USAGE],
    [['summary', 'model.ocular', '--model', 'Net'], 'unknown option --model', SUMMARY_USAGE],
    [['summary', 'model.ocular', 'Net', 'Other'], "a model file and a model name, not 'model.ocular', 'Net' and 'Other'", SUMMARY_USAGE],
    [['format', 'model.ocular', '--dry-run'], 'unknown option --dry-run', FORMAT_USAGE],
    [['format', '--check'], 'give one or more model files to format', FORMAT_USAGE],
  ];
  for (const [args, refusal, usage] of cases) {
    test(`ocular ${args.join(' ')} exits 2 saying ${refusal}, and does nothing`, () => {
      const { status, stdout, stderr } = run(dir, ...args);
      assert.equal(status, 2, stdout + stderr);
      assert.equal(stderr, `ocular ${args[0]}: ${refusal}\nUsage:\n${usage}`);
      assert.equal(stdout, '');
      assert.equal(fs.readFileSync(path.join(dir, 'model.ocular'), 'utf8'), UNFORMATTED, 'the file is as it was');
      assert.ok(!fs.existsSync(path.join(dir, '.ocular')), 'no dataset was scanned');
    });
  }

  test('the options they know still work: format --check lists the file, format rewrites it', () => {
    const listed = run(dir, 'format', 'model.ocular', '--check');
    assert.deepEqual([listed.status, listed.stdout], [1, 'model.ocular: not formatted\n']);
    const formatted = run(dir, 'format', 'model.ocular');
    assert.deepEqual([formatted.status, formatted.stdout], [0, 'model.ocular: formatted\n']);
    assert.equal(fs.readFileSync(path.join(dir, 'model.ocular'), 'utf8'), 'model Net {\n  input 1x8x8\n  flatten\n  dense 2\n}\n');
    const summary = run(dir, 'summary', 'model.ocular', 'Net');
    assert.equal(summary.status, 0, summary.stderr);
    assert.match(summary.stdout, /dense/);
  });
});
