/**
 * Fine-tuning after magnitude pruning: the pruned weights train for a few more epochs on the
 * model file's train split, with its train section's optimizer, batch size, augmentation, loss
 * settings and seed, while every weight pruning zeroed stays exactly zero: after each optimizer
 * update the zeros are put back (as `torch.nn.utils.prune` multiplies by its mask), so sparsity
 * is what pruning made it. The epochs go through the training loop of runs (`trainEpoch`).
 *
 * The learning rate is the one the exported weights were last trained at (their checkpoint's
 * last epoch line, so the schedule's decay and plateau cuts are in it); weights that never
 * trained take the schedule's first rate. The optimizer starts afresh (new moments), since the
 * run's moments belong to the weights before pruning.
 *
 * Only a new model holds the fine-tuned weights: the run's checkpoints are read, never written.
 */
import * as path from 'node:path';
import type { BackendPreference, WeightMap, WeightTensor } from '../engine/engine';
import { LearningRateSchedule } from '../engine/schedule';
import { trainingSetup } from '../engine/training';
import { TfjsEngine } from '../engine/tfjs/tfjs-engine';
import { loadDataset } from '../data/index';
import { cacheDirFor, specOf } from '../host/datasets';
import type { Servable } from '../serve/servable';
import { epochBatchOptions, NonFinite, trainEpoch } from '../training/run';
import type { LayerSparsity } from './prune';

export interface FineTuneOptions {
  readonly epochs: number;
  readonly backend?: BackendPreference;
  /** Where decoded images are cached; `.ocular/cache` beside the model file by default. */
  readonly cacheDir?: string;
  /** Told after each epoch, for people following a long export. */
  readonly onEpoch?: (epoch: number, epochs: number, loss: number, acc: number, seconds: number) => void;
}

export interface FineTuneResult {
  readonly weights: WeightMap;
  /** The classes the weights were fine-tuned on, in label order (the dataset's). */
  readonly classes: readonly string[];
  readonly epochs: number;
  readonly learningRate: number;
  /** Images in the train split each epoch went through. */
  readonly trainImages: number;
  /** Each epoch's mean training loss and accuracy. */
  readonly trainLoss: readonly number[];
  readonly trainAcc: readonly number[];
}

/** Fine-tuning cannot run; the message says why and what to change. */
export class FineTuneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FineTuneError';
  }
}

/** Where each pruned kernel is zero: these positions are kept at zero through fine-tuning. */
function zeroPositions(weights: WeightMap, layers: readonly LayerSparsity[]): Map<string, Int32Array> {
  const masks = new Map<string, Int32Array>();
  for (const { key } of layers) {
    const values = weights.get(key)!.values;
    const zeros: number[] = [];
    values.forEach((value, i) => value === 0 && zeros.push(i));
    masks.set(key, Int32Array.from(zeros));
  }
  return masks;
}

/** The kernels of `weights` whose masked positions are not all zero, with those positions zeroed. */
function masked(weights: WeightMap, masks: ReadonlyMap<string, Int32Array>): Map<string, WeightTensor> {
  const changed = new Map<string, WeightTensor>();
  for (const [key, zeros] of masks) {
    const tensor = weights.get(key)!;
    if (zeros.every((i) => tensor.values[i] === 0)) continue;
    const values = Float32Array.from(tensor.values);
    for (const i of zeros) values[i] = 0;
    changed.set(key, { shape: tensor.shape, values });
  }
  return changed;
}

/** Trains pruned weights for `options.epochs` epochs with their zeros kept; the servable is left as it was. */
export async function fineTunePruned(servable: Servable, pruned: WeightMap, layers: readonly LayerSparsity[], options: FineTuneOptions): Promise<FineTuneResult> {
  const { train, dataset, modelFile, model } = servable;
  if (!train || !dataset) throw new FineTuneError(`${modelFile} has no train section with a dataset for model ${model.name}: fine-tuning trains with them.`);
  const loaded = await loadDataset(specOf(dataset), {
    baseDir: path.dirname(modelFile),
    image: servable.preprocessing.inputShape,
    cacheDir: options.cacheDir ?? cacheDirFor(modelFile, []),
  });
  const split = loaded.splits.train;
  if (!split || split.count === 0) throw new FineTuneError(`Dataset ${dataset.name} of ${modelFile} has no training images that decode, so the pruned model cannot be fine-tuned.`);
  // Untrained weights learned no classes (the servable names them class0, class1, … when the file does not).
  if (servable.history && loaded.classes.join('\n') !== servable.preprocessing.classes.join('\n')) {
    throw new FineTuneError(`The weights were trained on the classes ${servable.preprocessing.classes.join(', ')}; dataset ${dataset.name} now has ${loaded.classes.join(', ')}.`);
  }

  const counts = new Array<number>(loaded.classes.length).fill(0);
  for (const label of split.labels) counts[label]!++;
  const engine = await TfjsEngine.create({ preference: options.backend ?? 'auto' });
  const tuned = await engine.build(model, { seed: train.seed, training: trainingSetup(train, counts) });
  try {
    tuned.setWeights(pruned);
    const masks = zeroPositions(pruned, layers);
    const learningRate = servable.history?.at(-1)?.lr ?? LearningRateSchedule.of(train).rate(0);
    // The data order goes on from the run's epochs, so fine-tuning does not repeat its first shuffles.
    const firstEpoch = servable.history?.length ?? 0;
    const trainLoss: number[] = [];
    const trainAcc: number[] = [];
    for (let e = 0; e < options.epochs; e++) {
      let figures;
      try {
        figures = await trainEpoch(tuned, split, epochBatchOptions(train, dataset, train.seed, firstEpoch + e, true), learningRate, {
          afterUpdate: async () => {
            const changed = masked(await tuned.getWeights(), masks);
            if (changed.size > 0) tuned.setWeights(changed);
          },
        });
      } catch (error) {
        if (error instanceof NonFinite) throw new FineTuneError(`Fine-tuning epoch ${e + 1}, batch ${error.batch + 1}: the training loss became ${error.value} at learning rate ${learningRate}; lower the train section's lr.`);
        throw error;
      }
      if (figures === 'stopped') throw new FineTuneError('Fine-tuning was stopped.');
      trainLoss.push(figures.loss);
      trainAcc.push(figures.acc);
      options.onEpoch?.(e, options.epochs, figures.loss, figures.acc, figures.seconds);
    }
    const weights = await tuned.getWeights();
    // The masks were applied after every update; a zero missing here would be an engine fault, not a choice.
    if (masked(weights, masks).size > 0) throw new FineTuneError('Fine-tuning left a pruned weight non-zero.');
    return { weights, classes: loaded.classes, epochs: options.epochs, learningRate, trainImages: split.count, trainLoss, trainAcc };
  } finally {
    tuned.dispose();
  }
}
