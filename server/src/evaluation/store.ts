/**
 * `evaluation.json` on disk: written atomically (the runs folder's `writeAtomic`, so a reader
 * never sees half a file and a crash keeps the previous evaluation) and
 * read back with a check of its version and shape, so a damaged or foreign file gives a message
 * naming it rather than a broken page.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeAtomic } from '../training/runs';
import type { Evaluation } from './document';

export const EVALUATION_FILE = 'evaluation.json';

export function evaluationFile(runDir: string): string {
  return path.join(runDir, EVALUATION_FILE);
}

export function writeEvaluation(file: string, evaluation: Evaluation): void {
  writeAtomic(file, `${JSON.stringify(evaluation)}\n`);
}

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Reads an evaluation file; throws an Error whose message names the file and what is wrong. */
export function readEvaluation(file: string): Evaluation {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new Error(`Cannot read the evaluation ${file}: ${reason}`);
  }
  const e = data as Partial<Evaluation>;
  const n = Array.isArray(e.classes) ? e.classes.length : -1;
  const square = (m: unknown): boolean => Array.isArray(m) && m.length === n && m.every((row) => Array.isArray(row) && row.length === n && row.every(isNumber));
  const problem =
    e.version !== 1
      ? `version ${String(e.version)} is not one this Ocular reads (1)`
      : n < 1 || !e.classes!.every((c) => typeof c === 'string')
        ? 'it has no class list'
        : !square(e.confusion) || !square(e.confusionNormalized)
          ? `its confusion matrix is not ${n}×${n}`
          : !Array.isArray(e.perClass) || e.perClass.length !== n
            ? `it has no per-class metrics for ${n} classes`
            : !Array.isArray(e.images) || !isNumber(e.accuracy) || !e.speed
              ? 'it lacks the images, accuracy or speed'
              : undefined;
  if (problem) throw new Error(`${file} is not an Ocular evaluation: ${problem}.`);
  return e as Evaluation;
}
