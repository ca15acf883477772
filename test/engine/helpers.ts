/**
 * Helpers shared by the engine tests: the example files, a model analysed from source text, and
 * the train section of a small file written in a table row.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { analyze } from '../../server/src/language/analysis';
import type { ModelInfo } from '../../server/src/language/semantics/model';
import type { TrainConfig } from '../../server/src/language/semantics/settings';

/** The repository root, from out/test/engine where the compiled tests run. */
export const repoRoot = path.resolve(__dirname, '../../..');

/** Every example model file, as `[file, source]`. */
export function examples(): [string, string][] {
  const dir = path.join(repoRoot, 'examples');
  return fs
    .readdirSync(dir)
    .filter((name) => /^[^.].*\.ocular$/.test(name)) // not the .ocular folder of runs and caches
    .sort()
    .map((name) => [`examples/${name}`, fs.readFileSync(path.join(dir, name), 'utf8')]);
}

/** The first model of a source that must analyse without errors. */
export function modelOf(source: string): ModelInfo {
  const analysis = analyze(source);
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.message), [], 'the test model has errors');
  const model = analysis.models[0];
  assert.ok(model, 'the test source declares a model');
  return model;
}

/** A one-model source: `input` and then the given layer lines. */
export function modelSource(input: string, ...lines: string[]): string {
  return `model M {\n  input ${input}\n${lines.map((line) => `  ${line}\n`).join('')}}\n`;
}

/** The train section of a small file with the given train lines (a model and dataset are supplied). */
export function trainOf(...lines: string[]): TrainConfig {
  const source = `${modelSource('1x4x4', 'flatten', 'dense 2')}dataset d {\n  train "x"\n  split val=0.2\n}\ntrain {\n  model M\n  data d\n${lines.map((line) => `  ${line}\n`).join('')}}\n`;
  const analysis = analyze(source);
  assert.deepEqual(analysis.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  return analysis.trains[0]!;
}
