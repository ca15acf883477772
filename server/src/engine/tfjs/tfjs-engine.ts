/**
 * The TensorFlow.js engine: builds models from the language's analysis and trains them one batch
 * at a time on the backend the ladder picked. Nothing of TensorFlow.js crosses the `Engine`
 * interface: batches come in and weights go out as typed arrays.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { ModelInfo } from '../../language/semantics/model';
import { EngineError, trainingSettings, type BackendPreference, type Batch, type BuildOptions, type DeviceInfo, type Engine, type EngineModel, type EvaluationResult, type StepResult, type TrainingState, type WeightMap, type WeightTensor } from '../engine';
import { lossTargets } from '../loss';
import { eachInitialWeight } from '../network';
import { releaseBehindBackward } from './backward-release';
import { selectBackend, type LadderOptions } from './backends';
import { DataParallelModel } from './data-parallel';
import { buildNetwork, readWeights, writeWeights, type BuiltNetwork } from './builder';
import { SeededDropout, type BatchShard } from './layers';
import { Optimizer } from './optimizers';
import { dropPackedWeights } from './wasm-packed-weights';

/** PyTorch's cross-entropy from logits and the coefficient matrix of `lossTargets`. */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)))) as tf.Scalar);
}

/** One shard's share of a training step, as tensors the caller disposes. */
export interface ShardGradients {
  readonly loss: tf.Scalar;
  readonly correct: tf.Scalar;
  readonly gradients: tf.Tensor[];
}

export class TfjsModel implements EngineModel {
  readonly threads = 1;
  readonly trainableParams: number;
  readonly classes: number;
  private readonly trainable: tf.Variable[];
  private readonly optimizer: Optimizer | undefined;
  /** Gradient sums while `accumulate` batches gather, created on first use. */
  private sums: tf.Variable[] | undefined;
  private gathered = 0;

  constructor(
    private readonly network: BuiltNetwork,
    private readonly model: ModelInfo,
    private readonly options: BuildOptions,
  ) {
    const trainable = network.bindings.filter((b) => b.spec.trainable);
    this.trainable = trainable.map((b) => b.variable.read() as tf.Variable);
    this.trainableParams = trainable.reduce((sum, b) => sum + b.variable.read().size, 0);
    this.classes = model.output![0]!;
    this.optimizer = options.training ? new Optimizer(options.training.optimizer, this.trainable) : undefined;
  }

  /** Values in one input image (C·H·W). */
  get imageSize(): number {
    const [c, h, w] = this.model.input as [number, number, number];
    return c * h * w;
  }

  /** Channels-first images as the channels-last, normalised float tensor the network takes. */
  private images(images: Uint8Array | Float32Array): tf.Tensor4D {
    const [c, h, w] = this.model.input as [number, number, number];
    const count = images.length / (c * h * w);
    if (!Number.isInteger(count)) throw new Error(`${images.length} values are not a whole number of ${c}×${h}×${w} images.`);
    return tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(images, [count, c, h, w], 'float32');
      const normalize = this.options.normalize;
      if (images instanceof Uint8Array) {
        x = tf.div(x, 255);
        if (normalize) {
          const perChannel = (values: readonly number[]): tf.Tensor4D => tf.tensor4d(values.length === 1 ? Array(c).fill(values[0]) : [...values], [1, c, 1, 1]);
          if (normalize.mean.length !== 1 && normalize.mean.length !== c) throw new Error(`normalize gives ${normalize.mean.length} means for ${c} channels.`);
          x = tf.div(tf.sub(x, perChannel(normalize.mean)), perChannel(normalize.std));
        }
      }
      return tf.transpose(x, [0, 2, 3, 1]);
    });
  }

  private targets(labels: Int32Array): tf.Tensor2D {
    const training = this.options.training;
    return tf.tensor2d(lossTargets(labels, this.classes, training?.labelSmoothing ?? 0, training?.classWeights), [labels.length, this.classes]);
  }

  async trainStep(batch: Batch, learningRate: number): Promise<StepResult> {
    const training = trainingSettings(this.options);
    const shard = this.shardGradients(batch, lossTargets(batch.labels, this.classes, training.labelSmoothing, training.classWeights));
    const updated = this.update(shard.gradients, learningRate);
    const [loss, right] = await Promise.all([shard.loss.data(), shard.correct.data()]);
    tf.dispose([shard.loss, shard.correct, ...shard.gradients]);
    return { loss: loss[0]!, correct: right[0]!, count: batch.labels.length, updated };
  }

  /**
   * The gradients of one shard of a batch: `targets` are the shard's rows of the whole batch's
   * loss coefficients (`lossTargets`), so the shards' losses and gradients add up to the whole
   * batch's; `shard` places the images in the batch for dropout's masks. The tensors are the
   * caller's to dispose.
   */
  shardGradients(batch: Batch, targets: Float32Array, shard?: BatchShard): ShardGradients {
    const x = this.images(batch.images);
    const coefficients = tf.tensor2d(targets, [batch.labels.length, this.classes]);
    const labels = tf.tensor1d(batch.labels, 'int32');
    const dropouts = this.dropouts();
    for (const layer of dropouts) layer.shard = shard;
    let correct: tf.Scalar | undefined;
    try {
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.network.model.apply(x, { training: true }) as tf.Tensor2D;
        correct = tf.keep(countCorrect(logits, labels));
        const loss = crossEntropy(logits, coefficients);
        // What the backward pass does not read is freed: tensors behind it, the packed weights of the forward's kernels.
        releaseBehindBackward();
        dropPackedWeights(this.trainable);
        return loss;
      }, this.trainable);
      return { loss: value, correct: correct!, gradients: this.trainable.map((v) => grads[v.name]!) };
    } finally {
      for (const layer of dropouts) layer.shard = undefined;
      tf.dispose([x, coefficients, labels]);
    }
  }

  /**
   * Applies a whole batch's gradients (in `trainable` order) at the learning rate, or adds them
   * to the sums while `accumulate` batches gather. True when the weights changed.
   */
  update(gradients: readonly tf.Tensor[], learningRate: number): boolean {
    const optimizer = this.trainingOptimizer();
    const accumulate = trainingSettings(this.options).accumulate;
    if (accumulate === 1) {
      optimizer.apply(gradients, learningRate);
      return true;
    }
    const sums = (this.sums ??= this.trainable.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false))));
    tf.tidy(() => sums.forEach((sum, i) => sum.assign(tf.add(sum, gradients[i]!))));
    if (++this.gathered < accumulate) return false;
    return this.applyGathered(optimizer, learningRate);
  }

  async applyGatheredGradients(learningRate: number): Promise<boolean> {
    return this.applyGathered(this.trainingOptimizer(), learningRate);
  }

  /** The optimizer, which a model built with training settings has. */
  private trainingOptimizer(): Optimizer {
    trainingSettings(this.options);
    return this.optimizer!;
  }

  /**
   * One update from the gradient sums: their mean over the batches gathered (`accumulate` of them,
   * or fewer at an epoch's end), as PyTorch gets by dividing each batch's loss by the batches in
   * the update. False when nothing was gathered.
   */
  private applyGathered(optimizer: Optimizer, learningRate: number): boolean {
    const sums = this.sums;
    const gathered = this.gathered;
    if (!sums || gathered === 0) return false;
    tf.tidy(() => optimizer.apply(sums.map((sum) => tf.div(sum, gathered)), learningRate));
    tf.tidy(() => sums.forEach((sum) => sum.assign(tf.zerosLike(sum))));
    this.gathered = 0;
    return true;
  }

  /** Masks each dropout layer has drawn: a replica without a shard in a step takes the primary's. */
  get dropoutCalls(): number[] {
    return this.dropouts().map((layer) => layer.calls);
  }

  set dropoutCalls(calls: number[]) {
    this.dropouts().forEach((layer, i) => (layer.calls = calls[i] ?? layer.calls));
  }

  /** The trainable variables, in the order `shardGradients` gives their gradients. */
  get trainableVariables(): readonly tf.Variable[] {
    return this.trainable;
  }

  /** The weights a training step changes besides the trainable ones: batchnorm's running statistics. */
  get statistics(): readonly tf.Variable[] {
    return this.network.bindings.filter((b) => !b.spec.trainable).map((b) => b.variable.read() as tf.Variable);
  }

  /** `targets`: a shard's rows of the whole batch's loss coefficients, as `shardGradients` takes them. */
  async evaluate(batch: Batch, targets?: Float32Array): Promise<EvaluationResult> {
    const [loss, correct] = tf.tidy(() => {
      const labels = tf.tensor1d(batch.labels, 'int32');
      const logits = this.network.model.apply(this.images(batch.images), { training: false }) as tf.Tensor2D;
      const coefficients = targets ? tf.tensor2d(targets, [batch.labels.length, this.classes]) : this.targets(batch.labels);
      return [crossEntropy(logits, coefficients), countCorrect(logits, labels)];
    });
    const [lossValue, correctValue] = await Promise.all([loss.data(), correct.data()]);
    tf.dispose([loss, correct]);
    return { loss: lossValue[0]!, correct: correctValue[0]!, count: batch.labels.length };
  }

  async predict(images: Uint8Array | Float32Array): Promise<Float32Array> {
    const probabilities = tf.tidy(() => tf.softmax(this.network.model.apply(this.images(images), { training: false }) as tf.Tensor2D));
    const values = (await probabilities.data()) as Float32Array;
    probabilities.dispose();
    return values;
  }

  async saliency(images: Uint8Array | Float32Array, classes: Int32Array): Promise<Float32Array> {
    const map = tf.tidy(() => {
      const x = this.images(images);
      const chosen = tf.oneHot(tf.tensor1d(classes, 'int32'), this.classes);
      // The sum over the batch of each image's chosen score: image i's gradient is its own score's.
      const score = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(this.network.model.apply(input, { training: false }) as tf.Tensor2D, chosen));
      return tf.max(tf.abs(tf.grad(score)(x)), 3);
    });
    const values = (await map.data()) as Float32Array;
    map.dispose();
    return values;
  }

  getWeights(): Promise<WeightMap> {
    return readWeights(this.network);
  }

  setWeights(weights: WeightMap): void {
    writeWeights(this.network, weights);
  }

  /** Every tensor of the training state by name: optimizer buffers and accumulated gradient sums. */
  private stateVariables(): Map<string, tf.Variable> {
    const variables = new Map<string, tf.Variable>();
    for (const [name, variable] of this.optimizer?.buffers() ?? []) variables.set(`optimizer.${name}`, variable);
    (this.sums ?? []).forEach((sum, i) => variables.set(`accumulated.${i}`, sum));
    return variables;
  }

  private dropouts(): SeededDropout[] {
    return this.network.model.layers.filter((layer): layer is SeededDropout => layer instanceof SeededDropout);
  }

  async getTrainingState(): Promise<TrainingState> {
    const tensors = new Map<string, WeightTensor>();
    for (const [name, variable] of this.stateVariables()) tensors.set(name, { shape: variable.shape, values: (await variable.data()) as Float32Array });
    const counters: Record<string, number> = { updates: this.optimizer?.updates ?? 0, gathered: this.gathered };
    this.dropouts().forEach((layer, i) => (counters[`dropout.${i}`] = layer.calls));
    return { tensors, counters };
  }

  setTrainingState(state: TrainingState): void {
    if (state.tensors.has('accumulated.0') && !this.sums) this.sums = this.trainable.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    for (const [name, variable] of this.stateVariables()) {
      const tensor = state.tensors.get(name);
      if (!tensor) throw new Error(`The training state has no ${name}.`);
      if (tensor.shape.join('×') !== variable.shape.join('×')) throw new Error(`${name} is ${tensor.shape.join('×')} in the training state; the model's is ${variable.shape.join('×')}.`);
      tf.tidy(() => variable.assign(tf.tensor(tensor.values, variable.shape)));
    }
    if (this.optimizer) this.optimizer.updates = state.counters['updates'] ?? 0;
    this.gathered = state.counters['gathered'] ?? 0;
    this.dropouts().forEach((layer, i) => (layer.calls = state.counters[`dropout.${i}`] ?? 0));
  }

  dispose(): void {
    this.network.model.dispose();
    this.optimizer?.dispose();
    for (const sum of this.sums ?? []) sum.dispose();
  }
}

function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')));
}

/**
 * Below this many multiply-adds per image a model trains faster on one thread: exchanging the
 * gradients costs more than the threads save (examples/digits.ocular, 0.12M: 5,639 images/s on
 * one thread, 2,730 on two; SimpleCNN32, 7.75M, gains).
 */
const PARALLEL_MACS = 1e6;

export class TfjsEngine implements Engine {
  private constructor(readonly device: DeviceInfo) {}

  /** Picks the backend (see `selectBackend`); TensorFlow.js has one per process, so one engine per process. */
  static async create(options: LadderOptions = {}): Promise<TfjsEngine> {
    return new TfjsEngine(await selectBackend(options));
  }

  async build(model: ModelInfo, options: BuildOptions): Promise<EngineModel> {
    const primary = await this.buildReplica(model, options);
    const threads = options.training ? this.trainingThreads(options.threads, model) : 1;
    if (threads === 1) return primary;
    try {
      return await DataParallelModel.start(primary, model, options, this.device.backend as BackendPreference, threads);
    } catch (error) {
      primary.dispose();
      throw error;
    }
  }

  /** One model in this thread, whatever `options.threads` asks: what a data-parallel replica runs. */
  async buildReplica(model: ModelInfo, options: BuildOptions): Promise<TfjsModel> {
    if (model.output && model.output.length !== 1) {
      throw new EngineError(`Model ${model.name} ends in ${model.output.join('×')}; a classifier ends in one score per class: add 'flatten' (or 'globalavgpool' and 'flatten') and 'dense classes'.`, model.section.body.statements.at(-1));
    }
    const network = buildNetwork(model, options.seed, options.training !== undefined);
    try {
      writeWeights(network, eachInitialWeight(model, options.seed));
    } catch (error) {
      network.model.dispose();
      throw error;
    }
    return new TfjsModel(network, model, options);
  }

  /**
   * Data-parallel threads for training on the backends that compute on one thread (the
   * plain-JavaScript one, and WebAssembly without its thread pool): as asked, or one per core for
   * a model of at least `PARALLEL_MACS` per image. tfjs-node already spreads each kernel over the
   * cores, so there it is always 1.
   */
  private trainingThreads(asked: number | undefined, model: ModelInfo): number {
    const backend = this.device.backend;
    const oneThreaded = backend === 'cpu' || (backend === 'wasm' && getThreadsCount() === 1);
    if (!oneThreaded) return 1;
    if (asked !== undefined) return Math.max(1, Math.floor(asked));
    return model.totalMacs >= PARALLEL_MACS ? os.availableParallelism() : 1;
  }
}
