/**
 * A small generated image-classification project for the training tests and the loop bench:
 * grey 8×8 PNGs whose class is which third of the picture is bright (with noise from a fixed
 * formula), in train/ and val/ class folders, and a model file training a tiny CNN on them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { greyPng } from '../support/png';

export const CLASSES = ['left', 'middle', 'right'];

export interface FixtureOptions {
  readonly trainPerClass?: number;
  readonly valPerClass?: number;
  /** Lines of the train section besides model and data. */
  readonly train?: readonly string[];
  /** Layers of the model between its input and its last dense layer. */
  readonly layers?: readonly string[];
}

function image(label: number, n: number): Uint8Array {
  const pixels = new Uint8Array(64);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const noise = Math.abs(Math.sin(n * 131 + y * 7 + x * 3 + label * 17)) * 90;
      pixels[y * 8 + x] = Math.floor((x * 3) / 8) === label ? 150 + noise : noise;
    }
  }
  return pixels;
}

/** The fixtures' folders, removed when the test process ends (runs folders and caches with them). */
const roots = new Set<string>();
// One exit listener for every fixture: a listener per fixture passes Node's limit of ten in one test file.
process.on('exit', () => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

/** Writes the project into a new temporary folder (removed at exit) and returns its model file. */
export function writeFixture(options: FixtureOptions = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-train-'));
  roots.add(root);
  const splits: [string, number][] = [['train', options.trainPerClass ?? 30], ['val', options.valPerClass ?? 10]];
  for (const [split, perClass] of splits) {
    CLASSES.forEach((name, label) => {
      const folder = path.join(root, 'data', split, name);
      fs.mkdirSync(folder, { recursive: true });
      for (let n = 0; n < perClass; n++) fs.writeFileSync(path.join(folder, `${n}.png`), greyPng(8, 8, image(label, n + (split === 'val' ? 1000 : 0))));
    });
  }
  const layers = options.layers ?? ['conv 4 kernel=3 padding=1', 'relu', 'maxpool 2', 'flatten'];
  const train = options.train ?? ['epochs 4', 'batch 16', 'optimizer adam lr=0.01', 'seed 7'];
  const source = [
    'model Tiny {',
    '  input 1x8x8',
    ...layers.map((l) => `  ${l}`),
    '  dense classes',
    '}',
    '',
    'dataset shapes {',
    '  train "data/train"',
    '  val "data/val"',
    '  image 1x8x8',
    '  classes 3',
    '}',
    '',
    'train {',
    '  model Tiny',
    '  data shapes',
    ...train.map((l) => `  ${l}`),
    '}',
    '',
  ].join('\n');
  const file = path.join(root, 'tiny.ocular');
  fs.writeFileSync(file, source);
  return file;
}
