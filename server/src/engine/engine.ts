/**
 * The one interface every training engine implements. It speaks the language core's types
 * (`ModelInfo`, `TrainConfig`) and plain typed arrays, never a framework's tensors, so that a
 * second engine (a PyTorch worker process is planned) can be added without touching the
 * language, the LSP layer or the panels. The TensorFlow.js engine lives in `tfjs/`.
 *
 * Conventions shared by every engine:
 * - Images are channels-first (`N×C×H×W`), as the language writes shapes.
 * - Weights are keyed `<layer path>.<name>` with PyTorch's names and layouts (`conv1.weight` is
 *   `out×in/groups×kh×kw`, `dense1.weight` is `out×in`, batchnorm has `weight`, `bias`,
 *   `running_mean`, `running_var`), so a checkpoint means the same thing in every engine and
 *   exports to PyTorch without reshuffling.
 */
import type { Statement } from '../language/syntax/ast';
import type { ModelInfo } from '../language/semantics/model';

/** Which backend to run on: `auto` takes the fastest that loads. */
export type BackendPreference = 'auto' | 'gpu' | 'native' | 'wasm' | 'cpu';

/** A faster backend that was not used, and why, in words a user can act on. */
export interface SkippedBackend {
  readonly backend: string;
  readonly reason: string;
}

/** Where an engine runs, for the status bar and the run record. */
export interface DeviceInfo {
  readonly engine: string;
  /** The backend in use, such as `tfjs-node-gpu`, `tfjs-node`, `wasm` or `cpu`. */
  readonly backend: string;
  /** For people: the GPU and CUDA version, or the CPU flavour (`WebAssembly, SIMD, 1 thread`). */
  readonly description: string;
  /** The faster backends passed over, fastest first. */
  readonly skipped: readonly SkippedBackend[];
}

/** One tensor of weights in PyTorch's layout. */
export interface WeightTensor {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** All weights of a model (parameters and buffers such as batchnorm's running statistics). */
export type WeightMap = ReadonlyMap<string, WeightTensor>;

/**
 * A batch of images and their labels. `images` holds `labels.length` images of the model's
 * input shape, channels first: raw pixels (0–255) as `Uint8Array`, which the engine scales to
 * [0, 1] and normalises, or prepared values as `Float32Array`, which it takes as they are.
 */
export interface Batch {
  readonly images: Uint8Array | Float32Array;
  readonly labels: Int32Array;
}

/** PyTorch's optimizers as the language names them, with every setting resolved. */
export type OptimizerSettings =
  | { readonly name: 'sgd' | 'momentum'; readonly momentum: number; readonly nesterov: boolean; readonly weightDecay: number }
  | { readonly name: 'adam' | 'adamw'; readonly beta1: number; readonly beta2: number; readonly eps: number; readonly weightDecay: number };

/** What a training step needs besides the model: see `trainingSetup` in `training.ts`. */
export interface TrainingSetup {
  readonly optimizer: OptimizerSettings;
  /** Share of each target spread over all classes (PyTorch's `label_smoothing`). */
  readonly labelSmoothing: number;
  /** One weight per class, or none for equal weights. */
  readonly classWeights?: readonly number[];
  /** Batches whose gradients are averaged before each update. */
  readonly accumulate: number;
}

export interface BuildOptions {
  /** Seeds the initial weights and dropout, so the same file and seed give the same run. */
  readonly seed: number;
  /** Applied to `Uint8Array` images after scaling them to [0, 1]. */
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** Given when the model will train: the engine checks that it can, and prepares the optimizer. */
  readonly training?: TrainingSetup;
  /**
   * Threads a training step may use. Engines whose backend computes on one thread split each
   * batch over this many data-parallel replicas; when absent, the engine decides (one per core for
   * a model large enough to gain from it).
   */
  readonly threads?: number;
}

export interface StepResult {
  /** The batch's mean loss (weighted as the loss says) before the update. */
  readonly loss: number;
  /** Images whose highest score was their label. */
  readonly correct: number;
  readonly count: number;
  /** Whether the weights changed: false while gradients accumulate. */
  readonly updated: boolean;
}

export interface EvaluationResult {
  readonly loss: number;
  readonly correct: number;
  readonly count: number;
}

/**
 * What training needs besides the weights to go on exactly where it stopped: the optimizer's
 * update count and buffers, gradients gathered for accumulation, and the counters that seed
 * dropout masks. Its tensors are in the engine's own layout, so a state is restored only into a
 * model built by the same engine from the same model; checkpoints store it beside the weights.
 */
export interface TrainingState {
  readonly tensors: ReadonlyMap<string, WeightTensor>;
  readonly counters: Readonly<Record<string, number>>;
}

/** A model built by an engine, holding its weights and optimizer state. */
export interface EngineModel {
  /** Trainable parameters, as the language counts them (batchnorm's running statistics excluded). */
  readonly trainableParams: number;
  readonly classes: number;
  /** Threads a training step runs on: data-parallel replicas of the model, or 1. */
  readonly threads: number;
  /** One training step on one batch, at the learning rate the schedule gives for this epoch. */
  trainStep(batch: Batch, learningRate: number): Promise<StepResult>;
  /**
   * Applies the gradients gathered since the last update (fewer batches than `accumulate`), as
   * their mean over the batches gathered, and starts gathering afresh; false when there were none.
   * The training loop calls it at each epoch's end, so an epoch's last batches update the weights
   * in that epoch instead of joining the next epoch's first update.
   */
  applyGatheredGradients(learningRate: number): Promise<boolean>;
  /**
   * Loss and accuracy in inference mode (dropout off, batchnorm on its running statistics), with
   * the training loss's smoothing and class weights, as evaluating PyTorch's criterion would.
   */
  evaluate(batch: Batch): Promise<EvaluationResult>;
  /** Class probabilities for each image, `N×classes`, in inference mode. */
  predict(images: Uint8Array | Float32Array): Promise<Float32Array>;
  /**
   * Gradient saliency (Simonyan et al., 2014) in inference mode: for each image, the absolute
   * gradient of the score (logit) of `classes[i]` with respect to its input values, the largest
   * over channels, as `N×H×W`: which pixels most change the model's score for that class.
   */
  saliency(images: Uint8Array | Float32Array, classes: Int32Array): Promise<Float32Array>;
  /** A copy of every weight, for checkpoints, restoring the best epoch and export. */
  getWeights(): Promise<WeightMap>;
  /** Replaces weights by key; a key the model lacks or a wrong shape is an error. */
  setWeights(weights: WeightMap): void;
  /** A copy of the optimizer and dropout state, for checkpoints (see `TrainingState`). */
  getTrainingState(): Promise<TrainingState>;
  /** Restores a state from `getTrainingState` of the same model; a missing or misshapen tensor is an error. */
  setTrainingState(state: TrainingState): void;
  dispose(): void;
}

/**
 * Training, evaluation and export will join `build` here with the Train Model work; they are
 * written against `EngineModel`, so a second engine implements this interface and nothing else.
 */
export interface Engine {
  readonly device: DeviceInfo;
  build(model: ModelInfo, options: BuildOptions): Promise<EngineModel>;
}

/** The training settings a model was built with: training a model built without them is the caller's mistake. */
export function trainingSettings(options: BuildOptions): TrainingSetup {
  if (!options.training) throw new Error('This model was built without training settings; build it with options.training to train it.');
  return options.training;
}

/**
 * A model file asks for something an engine cannot do (a layer option it lacks). The message
 * says what and what to write instead; `statement` is the line to point at.
 */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly statement?: Statement,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
