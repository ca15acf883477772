/**
 * A model file and dataset whose evaluation is known by hand: `Bright` (flatten, dense 2) on
 * 4×4 grey images, with weights that predict `light` when an image's mean brightness is above
 * one half. The test split holds two dark and two light images in their own folders, plus a
 * light image filed under `dark`: the confusion matrix is [[2, 1], [0, 2]].
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WeightMap } from '../../server/src/engine/engine';
import { checkpointFile, writeCheckpoint } from '../../server/src/training/runs';
import { greyPng } from '../support/png';
import { writeRunRecord } from '../support/runs';
import { tempDir, write } from '../data/fixtures';

export const MODEL_SOURCE = `model Bright {
  input 1x4x4
  flatten
  dense classes
}

dataset shades {
  train "data/train"
  test "data/test"
  image 1x4x4
  classes 2
}

train {
  model Bright
  data shades
  epochs 1
  batch 2
}
`;

/** Images by split, class and grey level; the odd one out is `dark/odd.png`. */
const IMAGES: [split: string, cls: string, name: string, grey: number][] = [
  ['train', 'dark', 'a.png', 20],
  ['train', 'light', 'b.png', 230],
  ['test', 'dark', 'd1.png', 30],
  ['test', 'dark', 'd2.png', 40],
  ['test', 'dark', 'odd.png', 200],
  ['test', 'light', 'l1.png', 210],
  ['test', 'light', 'l2.png', 240],
];

export const EXPECTED_CONFUSION = [
  [2, 1],
  [0, 2],
];

/** Writes the model file and its images into a new temporary folder; returns the model file. */
export function writeFixture(dir = tempDir('evaluation')): string {
  for (const [split, cls, name, grey] of IMAGES) write(path.join(dir, 'data', split, cls, name), greyPng(4, 4, new Uint8Array(16).fill(grey)));
  return write(path.join(dir, 'bright.ocular'), MODEL_SOURCE);
}

/**
 * Weights for `Bright`: logit(light) − logit(dark) = 2·Σx − 16 over the 16 pixels scaled to
 * [0, 1], so light wins when the mean is above one half.
 */
export function brightWeights(): WeightMap {
  return new Map([
    ['dense1.weight', { shape: [2, 16], values: Float32Array.from({ length: 32 }, (_, i) => (i < 16 ? -1 : 1)) }],
    ['dense1.bias', { shape: [2], values: Float32Array.from([8, -8]) }],
  ]);
}

/** A completed run of `Bright` beside the model file, with `brightWeights` as its best checkpoint; returns the run folder. */
export function writeRunFixture(modelFile: string, id = 'Bright-20261128-070000'): string {
  const startedAt = `2026-11-28T${id.slice(-6, -4)}:${id.slice(-4, -2)}:${id.slice(-2)}.000Z`;
  const model = { modelFile, modelName: 'Bright', dataset: 'shades', classes: ['dark', 'light'], inputShape: [1, 4, 4] as const, seed: 1 };
  const dir = writeRunRecord({ id, ...model, status: 'completed', startedAt, endedAt: '2026-11-28T09:00:00.000Z', epochs: 1, epochsDone: 1 });
  fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  writeCheckpoint(checkpointFile(dir, 'best'), { epoch: 0, weights: brightWeights(), training: { tensors: new Map(), counters: {} }, rng: { seed: 1, nextEpoch: 1 }, history: [] });
  return dir;
}
