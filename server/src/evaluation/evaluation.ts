/**
 * The evaluation of a model on one split, as stored in a run folder's `evaluation.json` and
 * printed by `ocular eval`. Predicting runs through `EngineModel.predict` on batches made by the
 * data layer (same scaling and normalisation as training, no augmentation, in split order), so
 * any engine evaluates the same way. The document's types are in document.ts; the file format is
 * documented in ARCHITECTURE.md ("Evaluation") and versioned by `version`.
 */
import type { EngineModel } from '../engine/engine';
import { batchCount, epochOrder, makeBatch, type BatchSource, type NormalizeSpec, type Split } from '../data/index';
import type { Evaluation, SpeedReport } from './document';
import { classificationMetrics } from './metrics';
import { imageRecords } from './records';

export interface PredictOptions {
  readonly batchSize: number;
  readonly normalize?: NormalizeSpec;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Class probabilities of every image of a split (`count×classes`), in split order. */
export async function predictSplit(model: EngineModel, split: BatchSource, options: PredictOptions): Promise<Float32Array> {
  const classes = model.classes;
  const probabilities = new Float32Array(split.count * classes);
  const order = epochOrder(split.count, 0, 0, false);
  const batchOptions = { batchSize: options.batchSize, seed: 0, epoch: 0, shuffle: false, ...(options.normalize ? { normalize: options.normalize } : {}) };
  const total = batchCount(split, batchOptions);
  for (let b = 0; b < total; b++) {
    options.signal?.throwIfAborted();
    const batch = makeBatch(split, batchOptions, order, b);
    probabilities.set(await model.predict(batch.x), b * options.batchSize * classes);
    options.onProgress?.(b + 1, total);
  }
  return probabilities;
}

export interface EvaluationContext {
  readonly split: Split;
  readonly classes: readonly string[];
  readonly backend: string;
  readonly device: string;
  readonly runId?: string;
  readonly checkpoint?: { readonly name: string; readonly epoch: number };
  readonly topK?: readonly number[];
}

/** Puts predictions, their timing and the speed measurement together into an `Evaluation`. */
export function makeEvaluation(
  context: EvaluationContext,
  labels: Int32Array,
  probabilities: Float32Array,
  files: readonly string[],
  predictMs: number,
  speed: SpeedReport,
): Evaluation {
  const classes = context.classes.length;
  return {
    version: 1,
    ...(context.runId !== undefined ? { runId: context.runId } : {}),
    split: context.split,
    ...(context.checkpoint ? { checkpoint: context.checkpoint } : {}),
    classes: context.classes,
    backend: context.backend,
    device: context.device,
    createdAt: new Date().toISOString(),
    predictMs,
    ...classificationMetrics(labels, probabilities, classes, context.topK),
    speed,
    images: imageRecords(labels, probabilities, classes, files),
  };
}
