/**
 * Evaluates trained weights of a model file's model on one split of its dataset: loads the model
 * file and the dataset as the file says now, builds the model on the engine, sets the weights,
 * predicts the split, measures latency and throughput, and returns the `Evaluation`. It runs in
 * the thread that calls it: the language server and the command line call it through the
 * evaluation worker (`host/evaluation.ts`), never on their own event loop.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendPreference, WeightMap } from '../engine/engine';
import { TfjsEngine } from '../engine/tfjs/tfjs-engine';
import { loadDataset, type ImageShape, type Split } from '../data/index';
import type { ModelInfo } from '../language/semantics/model';
import type { DatasetConfig } from '../language/semantics/settings';
import { analyze } from '../language/analysis';
import { specOf } from '../host/datasets';
import type { Evaluation } from './document';
import { makeEvaluation, predictSplit } from './evaluation';
import { DEFAULT_SPEED, measureSpeed } from './speed';

export interface ModelEvaluationRequest {
  /** The model file, absolute. */
  readonly modelFile: string;
  readonly modelName: string;
  readonly datasetName: string;
  /** The split to evaluate; test when the dataset has one, else val. */
  readonly split?: Split;
  readonly weights: WeightMap;
  /** The classes the weights were trained on, in label order: the dataset must still have them. */
  readonly classes?: readonly string[];
  readonly batchSize: number;
  readonly backend?: BackendPreference;
  readonly cacheDir?: string;
  readonly runId?: string;
  readonly checkpoint?: { readonly name: string; readonly epoch: number };
}

/** How far an evaluation is, for progress reports. */
export interface EvaluationProgress {
  readonly stage: 'load' | 'predict' | 'speed';
  readonly done: number;
  readonly total: number;
}

/** Something about the request that makes evaluating impossible, in words a user can act on. */
export class EvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationError';
  }
}

/** The split evaluated when none is asked for: test, else val. */
export function defaultSplit(available: readonly Split[]): Split | undefined {
  return available.includes('test') ? 'test' : available.includes('val') ? 'val' : undefined;
}

/** A model file's model and dataset as the file says now, refused with the reason when either is gone or the file has errors. */
export function modelAndDataset(file: string, modelName: string, datasetName: string): { model: ModelInfo; dataset: DatasetConfig; image: ImageShape } {
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new EvaluationError(`Cannot read the model file ${file}: ${(error as Error).message}`);
  }
  const analysis = analyze(source);
  const model = analysis.models.find((m) => m.name === modelName);
  if (!model) throw new EvaluationError(`${file} has no model named ${modelName} any more.`);
  const dataset = analysis.datasets.find((d) => d.name === datasetName);
  if (!dataset) throw new EvaluationError(`${file} has no dataset named ${datasetName} any more.`);
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new EvaluationError(`${file} has errors (${errors[0]!.message}); fix them to evaluate.`);
  if (!model.input || model.input.length !== 3) throw new EvaluationError(`Model ${model.name} in ${file} has no C×H×W input shape.`);
  return { model, dataset, image: model.input as unknown as ImageShape };
}

export async function evaluateModel(request: ModelEvaluationRequest, onProgress: (progress: EvaluationProgress) => void = () => {}, signal?: AbortSignal): Promise<Evaluation> {
  const file = request.modelFile;
  const { model, dataset, image } = modelAndDataset(file, request.modelName, request.datasetName);

  onProgress({ stage: 'load', done: 0, total: 1 });
  const loaded = await loadDataset(specOf(dataset), {
    baseDir: path.dirname(file),
    image,
    ...(request.cacheDir ? { cacheDir: request.cacheDir } : {}),
    ...(signal ? { signal } : {}),
  });
  const available = (['train', 'val', 'test'] as const).filter((s) => loaded.splits[s]);
  const splitName = request.split ?? defaultSplit(available);
  const split = splitName && loaded.splits[splitName];
  if (!splitName || !split) {
    throw new EvaluationError(`Dataset ${dataset.name} has no ${request.split ?? 'test or val'} split to evaluate${available.length > 0 ? ` (it has ${available.join(', ')})` : ''}.`);
  }
  if (split.count === 0) throw new EvaluationError(`The ${splitName} split of dataset ${dataset.name} has no image that decodes.`);
  if (request.classes && request.classes.join('\n') !== loaded.classes.join('\n')) {
    throw new EvaluationError(`Dataset ${dataset.name} now has the classes ${loaded.classes.join(', ')}, but the weights were trained on ${request.classes.join(', ')}.`);
  }
  onProgress({ stage: 'load', done: 1, total: 1 });

  const engine = await TfjsEngine.create({ preference: request.backend ?? 'auto' });
  const built = await engine.build(model, { seed: 0 });
  try {
    if (built.classes !== loaded.classes.length) {
      throw new EvaluationError(`Model ${model.name} ends in ${built.classes} scores but dataset ${dataset.name} has ${loaded.classes.length} classes.`);
    }
    built.setWeights(request.weights);
    const start = performance.now();
    const probabilities = await predictSplit(built, split, {
      batchSize: request.batchSize,
      ...(dataset.normalize ? { normalize: dataset.normalize } : {}),
      ...(signal ? { signal } : {}),
      onProgress: (done, total) => onProgress({ stage: 'predict', done, total }),
    });
    const predictMs = performance.now() - start;
    onProgress({ stage: 'speed', done: 0, total: 1 });
    const speed = await measureSpeed(built, image, { ...DEFAULT_SPEED, batchSize: request.batchSize });
    onProgress({ stage: 'speed', done: 1, total: 1 });
    return makeEvaluation(
      {
        split: splitName,
        classes: loaded.classes,
        backend: engine.device.backend,
        device: engine.device.description,
        ...(request.runId !== undefined ? { runId: request.runId } : {}),
        ...(request.checkpoint ? { checkpoint: request.checkpoint } : {}),
      },
      split.labels,
      probabilities,
      split.ids,
      predictMs,
      speed,
    );
  } finally {
    built.dispose();
  }
}
