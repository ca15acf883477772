/**
 * Warnings for dataset paths that do not exist name the path as the data layer's findings do:
 * relative to the model file's folder, or, for a source outside it, to the source's own folder;
 * never the absolute path looked for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDatasetPaths } from '../../server/src/host/paths';
import { analyze } from '../../server/src/language/analysis';

/** A model file in a folder that does not exist, so every path it names is missing. */
const MODEL_FILE = '/nonexistent-ocular-test/project/model.ocular';

const cases: [written: string, shown: string][] = [
  ['data/flowres/val', 'data/flowres/val'],
  ['./data//train', 'data/train'],
  ['/nonexistent-ocular-test/project/data/test', 'data/test'],
  ['../shared/cats/train', 'train'],
];

for (const [written, shown] of cases) {
  test(`a missing train path written '${written}' is named '${shown}'`, () => {
    const diagnostics = checkDatasetPaths(analyze(`dataset d {\n  train "${written}"\n}\n`), MODEL_FILE);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.severity, d.message]),
      [['missing-path', 'warning', `The train path '${shown}' does not exist. Training needs it; check the spelling, or download the data there.`]],
    );
  });
}
