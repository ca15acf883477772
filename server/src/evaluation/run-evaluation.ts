/**
 * Evaluating a training run: its best checkpoint (the last one when no epoch was validated) on a
 * split of its dataset, written to `evaluation.json` in the run folder; and the saliency of that
 * checkpoint for images of the evaluation. The run record says which model file, model, dataset
 * and classes; the model file and dataset are read as they are now, and a run whose classes no
 * longer match its dataset is refused.
 */
import * as fs from 'node:fs';
import type { SaliencyOverlay } from '../../../protocol/protocol';
import type { BackendPreference, WeightMap } from '../engine/engine';
import type { Split } from '../data/index';
import { cacheDirFor } from '../host/datasets';
import { checkpointFile, readCheckpoint, readRun, type RunRecord } from '../training/runs';
import type { Evaluation } from './document';
import { EvaluationError, evaluateModel, type EvaluationProgress } from './evaluate-model';
import { saliencyOverlays } from './saliency';
import { evaluationFile, writeEvaluation } from './store';

export interface RunEvaluationRequest {
  readonly runDir: string;
  readonly split?: Split;
  /** Images per predict call, and the batch size of the throughput figure. */
  readonly batchSize?: number;
  readonly backend?: BackendPreference;
  /** The editor's workspace folders (or the command line's current folder): decoded images are cached as the dataset scan caches them. */
  readonly workspaceFolders?: readonly string[];
  /** The cache folder itself, in place of the one the workspace folders give (training passes its own). */
  readonly cacheDir?: string;
}

export interface RunEvaluationResult {
  /** The evaluation.json written. */
  readonly file: string;
  readonly evaluation: Evaluation;
}

export const DEFAULT_EVALUATION_BATCH = 64;

/** A run's record and the weights of its best checkpoint, or its last when it has no best. */
function runWeights(runDir: string): { run: RunRecord; name: string; epoch: number; weights: WeightMap } {
  const run = readRun(runDir);
  const name = fs.existsSync(checkpointFile(runDir, 'best')) ? 'best' : 'last';
  const file = checkpointFile(runDir, name);
  if (!fs.existsSync(file)) throw new EvaluationError(`Run ${run.id} has no checkpoint yet (${file}): it has not finished an epoch.`);
  const checkpoint = readCheckpoint(file);
  return { run, name, epoch: checkpoint.epoch, weights: checkpoint.weights };
}

export async function evaluateRun(request: RunEvaluationRequest, onProgress?: (progress: EvaluationProgress) => void, signal?: AbortSignal): Promise<RunEvaluationResult> {
  const { run, name, epoch, weights } = runWeights(request.runDir);
  const evaluation = await evaluateModel(
    {
      modelFile: run.modelFile,
      modelName: run.modelName,
      datasetName: run.dataset,
      ...(request.split ? { split: request.split } : {}),
      weights,
      classes: run.classes,
      batchSize: request.batchSize ?? DEFAULT_EVALUATION_BATCH,
      ...(request.backend ? { backend: request.backend } : {}),
      cacheDir: request.cacheDir ?? cacheDirFor(run.modelFile, request.workspaceFolders ?? []),
      runId: run.id,
      checkpoint: { name, epoch },
    },
    onProgress,
    signal,
  );
  const file = evaluationFile(request.runDir);
  writeEvaluation(file, evaluation);
  return { file, evaluation };
}

/** Saliency overlays of a run's evaluated checkpoint for images and the classes to explain. */
export async function runSaliency(runDir: string, files: readonly string[], classes: readonly number[]): Promise<SaliencyOverlay[]> {
  const { run, weights } = runWeights(runDir);
  return saliencyOverlays({ modelFile: run.modelFile, modelName: run.modelName, datasetName: run.dataset, weights, files, classes });
}

/**
 * The evaluation at the end of training, called once by the training loop (in its worker
 * thread, with the cache folder it decoded into): the finished run on its test split, else val.
 * It never throws: a run whose dataset has neither split, or whose evaluation fails, keeps
 * everything training wrote and simply has no evaluation.json; the reason is returned.
 */
export async function evaluateAfterTraining(runDir: string, cacheDir?: string): Promise<{ readonly file: string; readonly accuracy: number } | { readonly skipped: string }> {
  try {
    const { file, evaluation } = await evaluateRun({ runDir, ...(cacheDir ? { cacheDir } : {}) });
    return { file, accuracy: evaluation.accuracy };
  } catch (error) {
    return { skipped: error instanceof Error ? error.message : String(error) };
  }
}
