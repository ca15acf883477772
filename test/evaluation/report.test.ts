/**
 * The terminal tables of `ocular eval` for a hand-made evaluation, and evaluation.json written
 * and read back, with damaged files refused by name.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Evaluation } from '../../server/src/evaluation/document';
import { makeEvaluation } from '../../server/src/evaluation/evaluation';
import { evaluationText } from '../../server/src/evaluation/report';
import { readEvaluation, writeEvaluation } from '../../server/src/evaluation/store';
import { removeDir, tempDir } from '../data/fixtures';

const dir = tempDir('evaluation-store');
after(() => removeDir(dir));

/** Labels [0,0,1,1] predicted [0,1,1,1] with p=0.75; a class name with a control character. */
function sample(): Evaluation {
  const p = Float32Array.from([0.75, 0.25, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75]);
  return makeEvaluation(
    { split: 'test', classes: ['cat', 'dog\u001b[31m'], backend: 'wasm', device: 'WebAssembly', runId: 'Net-1', checkpoint: { name: 'best', epoch: 2 } },
    Int32Array.from([0, 0, 1, 1]),
    p,
    ['a.png', 'b.png', 'c.png', 'd.png'],
    12,
    { latencyMs: { p50: 1.5, p95: 2.25, runs: 50 }, throughput: { batchSize: 32, imagesPerSecond: 1234.4 } },
  );
}

test('prints the figures, the per-class table, the confusion matrix and the speed', () => {
  // cat: P 1/1 R 1/2 F1 2/3; dog: P 2/3 R 1 F1 4/5; macro F1 (2/3 + 4/5)/2 = 0.733.
  assert.equal(
    evaluationText(sample()),
    [
      'Evaluation: run Net-1, test split, best checkpoint (epoch 3); 4 images, 2 classes',
      `accuracy 75.00%, loss ${(-Math.log(0.75) * 3 / 4 - Math.log(0.25) / 4).toFixed(4)}`,
      '',
      'class         precision  recall     f1  support',
      'cat               1.000   0.500  0.667        2',
      'dog?[31m          0.667   1.000  0.800        2',
      'macro avg         0.833   0.750  0.733        4',
      'weighted avg      0.833   0.750  0.733        4',
      '',
      'confusion matrix (rows: true class, columns: predicted)',
      '          cat  dog?[31m',
      'cat         1         1',
      'dog?[31m    0         2',
      '',
      'speed on wasm (WebAssembly): latency at batch 1 p50 1.50 ms, p95 2.25 ms; throughput at batch 32 1234 images/s',
      '',
    ].join('\n'),
  );
});

test('evaluation.json is written whole and read back', () => {
  const file = path.join(dir, 'evaluation.json');
  const e = sample();
  writeEvaluation(file, e);
  assert.deepEqual(readEvaluation(file), JSON.parse(JSON.stringify(e)));
  assert.deepEqual(fs.readdirSync(dir), ['evaluation.json'], 'no temporary file is left');
});

const damaged: [string, string, RegExp][] = [
  ['missing.json', '', /Cannot read the evaluation .*missing\.json: no such file/],
  ['torn.json', '{"version":1,"clas', /Cannot read the evaluation .*torn\.json: .*JSON/],
  ['future.json', JSON.stringify({ ...sample(), version: 2 }), /future\.json is not an Ocular evaluation: version 2 is not one this Ocular reads/],
  ['ragged.json', JSON.stringify({ ...sample(), confusion: [[1, 1], [0]] }), /ragged\.json is not an Ocular evaluation: its confusion matrix is not 2×2/],
];
for (const [name, content, message] of damaged) {
  test(`refuses ${name}`, () => {
    const file = path.join(dir, name);
    if (content) fs.writeFileSync(file, content);
    assert.throws(() => readEvaluation(file), message);
  });
}
