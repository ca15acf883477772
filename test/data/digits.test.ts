/**
 * The example dataset that ships in examples/data/digits, loaded and checked as the editor does:
 * its counts are what its README says, and its checks find nothing, so opening
 * examples/digits.ocular shows no dataset warnings. At 8×8 pixels, different handwriting of the
 * same digit must not count as near copies.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkDataset, loadDataset, type DatasetSpec, type LoadedDataset } from '../../server/src/data';

const root = path.resolve(__dirname, '../../..');
const spec: DatasetSpec = {
  sources: [
    { split: 'train', path: 'data/digits/train' },
    { split: 'val', path: 'data/digits/val' },
  ],
  image: [1, 8, 8],
  resize: 'stretch',
  classes: 10,
  augment: [],
};

describe('the digits example dataset', () => {
  let loaded: LoadedDataset;
  before(async () => {
    loaded = await loadDataset(spec, { baseDir: path.join(root, 'examples'), workers: 0 });
  });

  test('has 1,442 training and 355 validation images in classes 0 to 9', () => {
    assert.deepEqual(loaded.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(loaded.splits.train?.count, 1442);
    assert.equal(loaded.splits.val?.count, 355);
  });

  test('passes every check: no near copies reported among 8×8 handwriting', () => {
    const report = checkDataset(loaded, spec);
    assert.deepEqual(report.findings.map((f) => `${f.code}: ${f.message}`), []);
  });
});
