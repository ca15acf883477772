/**
 * Run folders written by hand, as training writes them (the run record in `run.json`), for tests
 * that need a run without training one: the evaluation fixtures, and the e2e results scenario,
 * which loads the compiled `out/test/support/runs.js`. What no test looks at (the model file's
 * hash, the resolved config, the backend and device) is the same placeholder in every run. Also
 * a run folder's contents, for tests that check a refusal changed nothing in it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runsFolderFor, writeRun, type RunRecord } from '../../server/src/training/runs';

/** What differs between fixture runs. */
export type FixtureRun = Pick<RunRecord, 'id' | 'modelFile' | 'modelName' | 'dataset' | 'classes' | 'inputShape' | 'seed' | 'status' | 'startedAt' | 'epochs' | 'epochsDone'> &
  Pick<Partial<RunRecord>, 'endedAt'>;

/** Writes `run`'s record into its folder in the runs folder beside its model file, making the folder; returns the folder. */
export function writeRunRecord(run: FixtureRun): string {
  const dir = path.join(runsFolderFor(run.modelFile), run.id);
  fs.mkdirSync(dir, { recursive: true });
  writeRun(dir, { version: 1, modelHash: '0'.repeat(64), config: {}, backend: 'wasm', device: 'WebAssembly', pid: process.pid, ...run });
  return dir;
}

/** Every file under `dir` (relative path → contents, base64), to assert that something left a folder exactly as it was. */
export function folderContents(dir: string): Map<string, string> {
  const contents = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    contents.set(path.relative(dir, file), fs.readFileSync(file).toString('base64'));
  }
  return contents;
}
