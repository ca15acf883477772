/**
 * `ocular check` (the bundled dist/ocular.js) on a model file whose dataset has bad images: the
 * dataset scan's findings come out compiler-style on the dataset's lines, naming each image, and
 * `--no-data` leaves them out.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
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
