/**
 * Metrics against values worked out by hand (in the comments), including a class with no images
 * and a class never predicted, and one seeded case against scikit-learn when /usr/bin/python3 has it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { classificationMetrics, labelRank } from '../../server/src/evaluation/metrics';
import { cellImages, imageRecords } from '../../server/src/evaluation/records';
import { quantile } from '../../server/src/evaluation/speed';
import { Random } from '../../server/src/random';

/** Rows of probabilities where the predicted class gets `high` and the others share the rest equally. */
function confident(predicted: readonly number[], classes: number, high = 0.7): Float32Array {
  const p = new Float32Array(predicted.length * classes).fill((1 - high) / (classes - 1));
  predicted.forEach((c, i) => (p[i * classes + c] = high));
  return p;
}

const close = (actual: number, expected: number, what: string): void => assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} ≠ ${expected}`);

function closeAll(actual: Record<string, number>, expected: Record<string, number>, what: string): void {
  for (const [key, value] of Object.entries(expected)) close(actual[key]!, value, `${what}.${key}`);
}

// Four classes: class 2 has images but is never predicted; class 3 is predicted once but has no images.
//   confusion  t\p  0 1 2 3      class 0: P 2/3  R 2/3  F1 2/3   support 3
//              0    2 1 0 0      class 1: P 1/3  R 1/2  F1 2/5   support 2
//              1    0 1 0 1      class 2: P 0/0→0 R 0   F1 0     support 2
//              2    1 1 0 0      class 3: P 0/1  R 0/0→0 F1 0    support 0
//              3    0 0 0 0
//   accuracy 3/7; macro P 1/4, R 7/24, F1 4/15; weighted P 8/21, R 3/7, F1 2/5.
const labels = Int32Array.from([0, 0, 0, 1, 1, 2, 2]);
const predicted = [0, 0, 1, 1, 3, 0, 1];

test('per-class, macro and weighted metrics with an empty class and a never-predicted class (zero_division=0)', () => {
  const m = classificationMetrics(labels, confident(predicted, 4), 4);
  assert.equal(m.count, 7);
  close(m.accuracy, 3 / 7, 'accuracy');
  assert.deepEqual(m.confusion, [
    [2, 1, 0, 0],
    [0, 1, 0, 1],
    [1, 1, 0, 0],
    [0, 0, 0, 0],
  ]);
  const expected = [
    { precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, support: 3, predicted: 3 },
    { precision: 1 / 3, recall: 1 / 2, f1: 2 / 5, support: 2, predicted: 3 },
    { precision: 0, recall: 0, f1: 0, support: 2, predicted: 0 },
    { precision: 0, recall: 0, f1: 0, support: 0, predicted: 1 },
  ];
  expected.forEach((row, c) => closeAll({ ...m.perClass[c]! }, row, `class ${c}`));
  closeAll({ ...m.macro }, { precision: 1 / 4, recall: 7 / 24, f1: 4 / 15 }, 'macro');
  closeAll({ ...m.weighted }, { precision: 8 / 21, recall: 3 / 7, f1: 2 / 5 }, 'weighted');
  assert.deepEqual(m.confusionNormalized[1], [0, 0.5, 0, 0.5]);
  assert.deepEqual(m.confusionNormalized[3], [0, 0, 0, 0]);
  // Three right at p=0.7, four wrong with p(true)=0.1.
  close(m.loss, (-3 * Math.log(0.7) - 4 * Math.log(0.1)) / 7, 'loss');
});

// Ranks with ties broken by class index, so top-1 is the argmax:
//   row 0 [.1 .2 .3 .4] label 0 → rank 3      row 2 [.25 ×4] label 3 → rank 3
//   row 1 [.1 .2 .3 .4] label 2 → rank 1      row 3 [.25 ×4] label 0 → rank 0
//   accuracy 1/4; top-2 and top-3 2/4; top-5 is left out (only four classes).
test('top-k accuracy', () => {
  const p = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
  const y = Int32Array.from([0, 2, 3, 0]);
  assert.deepEqual([0, 1, 2, 3].map((i) => labelRank(p, 4, i, y[i]!)), [3, 1, 3, 0]);
  const m = classificationMetrics(y, p, 4, [2, 3, 5]);
  close(m.accuracy, 0.25, 'accuracy');
  assert.deepEqual(m.topK, [
    { k: 2, accuracy: 0.5 },
    { k: 3, accuracy: 0.5 },
  ]);
});

const edgeCases: [string, Int32Array, number[], number, { accuracy: number; macroF1: number }][] = [
  ['no images', new Int32Array(0), [], 3, { accuracy: 0, macroF1: 0 }],
  ['all right', Int32Array.from([0, 1, 1]), [0, 1, 1], 2, { accuracy: 1, macroF1: 1 }],
  // Class 0: P 0/1, R 0/1; class 1: P 0/1, R 0/1.
  ['all wrong', Int32Array.from([0, 1]), [1, 0], 2, { accuracy: 0, macroF1: 0 }],
];
for (const [name, y, p, classes, expected] of edgeCases) {
  test(`edge case: ${name}`, () => {
    const m = classificationMetrics(y, confident(p, classes), classes);
    close(m.accuracy, expected.accuracy, 'accuracy');
    close(m.macro.f1, expected.macroF1, 'macro F1');
  });
}

test('bad input is refused with what is wrong', () => {
  assert.throws(() => classificationMetrics(Int32Array.from([0]), new Float32Array(3), 2), /Expected 1×2 probabilities, got 3/);
  assert.throws(() => classificationMetrics(Int32Array.from([5]), new Float32Array(2), 2), /Image 0 has label 5, outside the 2 classes/);
});

test('image records and a cell gallery sorted by loss', () => {
  const p = Float32Array.from([0.9, 0.1, 0.4, 0.6, 0.2, 0.8, 0.3, 0.7]);
  const records = imageRecords(Int32Array.from([0, 0, 0, 1]), p, 2, ['a.png', 'b.png', 'c.png', 'd.png']);
  assert.deepEqual(
    records.map((r) => [r.file, r.label, r.predicted]),
    [
      ['a.png', 0, 0],
      ['b.png', 0, 1],
      ['c.png', 0, 1],
      ['d.png', 1, 1],
    ],
  );
  close(records[1]!.probability, 0.6, 'probability of the prediction');
  close(records[1]!.labelProbability, 0.4, 'probability of the label');
  close(records[1]!.loss, -Math.log(0.4), 'loss');
  assert.deepEqual(cellImages(records, 0, 1).map((r) => r.file), ['c.png', 'b.png']);
  assert.deepEqual(cellImages(records, 1, 0), []);
});

const quantiles: [number[], number, number][] = [
  [[1, 2, 3, 4], 0.5, 2.5],
  [[1, 2, 3, 4], 0.95, 3.85],
  [[7], 0.95, 7],
  [[], 0.5, 0],
];
for (const [values, q, expected] of quantiles) {
  test(`quantile ${q} of [${values}] is ${expected}`, () => close(quantile(values, q), expected, 'quantile'));
}

const PYTHON = '/usr/bin/python3';
const sklearnMissing = ((): string | undefined => {
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot run (${probe.error.message})`;
  return probe.status === 0 ? undefined : `${PYTHON} has no sklearn module; install python3-sklearn to compare with scikit-learn`;
})();

test('a seeded case agrees with scikit-learn', { skip: sklearnMissing }, () => {
  // 300 images, 6 classes; class 5 never appears as a label, so its recall and F1 are 0/0 cases.
  const count = 300;
  const classes = 6;
  const random = new Random(7);
  const y = Int32Array.from({ length: count }, () => random.int(classes - 1));
  const p = new Float32Array(count * classes);
  for (let i = 0; i < count; i++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += p[i * classes + c] = random.next() + (c === y[i] ? 0.6 : 0);
    for (let c = 0; c < classes; c++) p[i * classes + c]! /= sum;
  }
  const script = `
import json, sys
import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, top_k_accuracy_score, log_loss
data = json.load(sys.stdin)
y = np.array(data['y']); p = np.array(data['p'], dtype=np.float64).reshape(len(y), -1)
labels = list(range(p.shape[1])); pred = p.argmax(1)
r = classification_report(y, pred, labels=labels, zero_division=0, output_dict=True)
print(json.dumps({
  'accuracy': accuracy_score(y, pred),
  'top3': top_k_accuracy_score(y, p, k=3, labels=labels),
  'loss': log_loss(y, p, labels=labels),
  'perClass': [[r[str(c)]['precision'], r[str(c)]['recall'], r[str(c)]['f1-score'], r[str(c)]['support']] for c in labels],
  'macro': [r['macro avg'][k] for k in ('precision', 'recall', 'f1-score')],
  'weighted': [r['weighted avg'][k] for k in ('precision', 'recall', 'f1-score')],
  'confusion': confusion_matrix(y, pred, labels=labels).tolist(),
  'normalized': np.nan_to_num(confusion_matrix(y, pred, labels=labels, normalize='true')).tolist(),
}))`;
  const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify({ y: Array.from(y), p: Array.from(p) }), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const expected = JSON.parse(run.stdout) as { accuracy: number; top3: number; loss: number; perClass: number[][]; macro: number[]; weighted: number[]; confusion: number[][]; normalized: number[][] };
  const m = classificationMetrics(y, p, classes, [3]);
  close(m.accuracy, expected.accuracy, 'accuracy');
  close(m.topK[0]!.accuracy, expected.top3, 'top-3');
  assert.ok(Math.abs(m.loss - expected.loss) < 1e-5, `loss ${m.loss} ≠ ${expected.loss}`);
  assert.deepEqual(m.confusion, expected.confusion);
  m.perClass.forEach((row, c) => {
    const [precision, recall, f1, support] = expected.perClass[c]!;
    closeAll({ ...row }, { precision: precision!, recall: recall!, f1: f1!, support: support! }, `class ${c}`);
  });
  const [mp, mr, mf] = expected.macro;
  closeAll({ ...m.macro }, { precision: mp!, recall: mr!, f1: mf! }, 'macro');
  const [wp, wr, wf] = expected.weighted;
  closeAll({ ...m.weighted }, { precision: wp!, recall: wr!, f1: wf! }, 'weighted');
  m.confusionNormalized.forEach((row, t) => row.forEach((v, c) => close(v, expected.normalized[t]![c]!, `normalized ${t},${c}`)));
});
