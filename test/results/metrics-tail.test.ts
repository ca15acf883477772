/**
 * The dashboard's incremental reader of metrics.jsonl: lines appended between reads, a torn last
 * line taken only once finished, foreign and damaged lines skipped, a replaced file read anew.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MetricsTail, pointOf } from '../../client/src/results/metrics-tail';
import { removeDir, tempDir } from '../data/fixtures';

const dir = tempDir('metrics-tail');
after(() => removeDir(dir));

const epochLine = (epoch: number, valLoss: number | null) => JSON.stringify({ type: 'epoch', epoch, train_loss: 1 / (epoch + 1), train_acc: 0.5, val_loss: valLoss, val_acc: null, lr: 0.01, images_per_s: 900, seconds: 2, val_predicted: [1, 2], time: '2026-11-28T07:00:00Z' });
const batchLine = (epoch: number, batch: number) => JSON.stringify({ type: 'batch', epoch, batch, batches: 4, loss: 0.5, acc: 0.75, images_per_s: 1000 });

const points: [string, ReturnType<typeof pointOf>][] = [
  [epochLine(0, 0.8), { epoch: { epoch: 1, trainLoss: 1, trainAcc: 0.5, valLoss: 0.8, valAcc: null, lr: 0.01, imagesPerSecond: 900 } }],
  [batchLine(2, 1), { batch: { x: 2.5, loss: 0.5, acc: 0.75, imagesPerSecond: 1000 } }],
  ['{"type":"epoch"}', undefined],
  ['{"type":"batch","epoch":0,"batch":1,"batches":0,"loss":1}', undefined],
  ['not json', undefined],
  ['null', undefined],
  ['{"type":"resume","epoch":2,"time":"2026-11-28T07:00:00Z"}', { resume: 3 }],
];
for (const [line, expected] of points) {
  test(`pointOf ${line.slice(0, 40)}`, () => assert.deepEqual(pointOf(line), expected));
}

test('reads only what was appended, and a torn line once it is finished', () => {
  const file = path.join(dir, 'metrics.jsonl');
  const tail = new MetricsTail(file);
  assert.deepEqual(tail.read(), { epochs: [], batches: [], resumed: false }, 'no file yet');
  fs.writeFileSync(file, `${batchLine(0, 0)}\n${batchLine(0, 1)}\n`);
  assert.deepEqual(tail.read().batches.map((b) => b.x), [0.25, 0.5]);
  const epoch = epochLine(0, null);
  fs.appendFileSync(file, `${batchLine(0, 3)}\n${epoch.slice(0, 20)}`);
  assert.deepEqual(tail.read(), { epochs: [], batches: [{ x: 1, loss: 0.5, acc: 0.75, imagesPerSecond: 1000 }], resumed: false });
  fs.appendFileSync(file, `${epoch.slice(20)}\ngarbage\n`);
  const finished = tail.read();
  assert.deepEqual(finished.epochs.map((e) => [e.epoch, e.valLoss]), [[1, null]]);
  assert.deepEqual(finished.batches, []);
  assert.deepEqual(tail.read(), { epochs: [], batches: [], resumed: false }, 'nothing new');
  fs.writeFileSync(file, `${epochLine(0, 0.7)}\n`);
  assert.deepEqual(tail.read().epochs.map((e) => e.valLoss), [0.7], 'a replaced file is read from the start');
});

test('a resume line drops the superseded points it follows and says so', () => {
  const file = path.join(dir, 'resumed.jsonl');
  // Epochs 0 and 1 were done, epoch 2 was interrupted mid-way, and the run resumed from epoch 2.
  const resume = JSON.stringify({ type: 'resume', epoch: 2, time: '2026-11-28T07:00:00Z' });
  fs.writeFileSync(file, [epochLine(0, 0.9), epochLine(1, 0.8), batchLine(2, 0), batchLine(2, 1), resume, batchLine(2, 0), epochLine(2, 0.7), ''].join('\n'));
  const points = new MetricsTail(file).read();
  assert.equal(points.resumed, true);
  assert.deepEqual(points.epochs.map((e) => e.epoch), [1, 2, 3]);
  assert.deepEqual(points.batches.map((b) => b.x), [2.25]);
});
