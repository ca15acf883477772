/**
 * Evaluation work in a worker thread (`eval-worker.ts`, bundled as `dist/eval-worker.js`), so the
 * language server and the command line keep their event loop while a model predicts a split or
 * explains images. Aborting ends the thread; evaluation.json is written only when the worker
 * finishes.
 */
import * as path from 'node:path';
import type { SaliencyOverlay } from '../../../protocol/protocol';
import type { EvaluationProgress } from '../evaluation/evaluate-model';
import type { RunEvaluationRequest } from '../evaluation/run-evaluation';
import { runWorkerJob } from './worker-job';

export type EvaluationJob = { readonly job: 'evaluate'; readonly request: RunEvaluationRequest } | { readonly job: 'saliency'; readonly runDir: string; readonly files: readonly string[]; readonly classes: readonly number[] };

/** What an evaluation answers: the file written and the headline figures (the file holds the rest). */
export interface EvaluationSummary {
  readonly file: string;
  readonly accuracy: number;
  readonly count: number;
}

export type EvaluationJobResult = EvaluationSummary | { readonly overlays: readonly SaliencyOverlay[] };

interface JobOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: EvaluationProgress) => void;
}

const WORKER = (): string => path.join(__dirname, 'eval-worker.js');

export function evaluateInWorker(request: RunEvaluationRequest, options: JobOptions = {}, workerScript = WORKER()): Promise<EvaluationSummary> {
  return runWorkerJob<EvaluationJob, EvaluationSummary, EvaluationProgress>(workerScript, { job: 'evaluate', request }, options);
}

export async function saliencyInWorker(runDir: string, files: readonly string[], classes: readonly number[], options: JobOptions = {}, workerScript = WORKER()): Promise<readonly SaliencyOverlay[]> {
  const result = await runWorkerJob<EvaluationJob, { overlays: readonly SaliencyOverlay[] }, EvaluationProgress>(workerScript, { job: 'saliency', runDir, files, classes }, options);
  return result.overlays;
}
