/**
 * Data-parallel training over worker threads, for backends that compute on one thread (wasm,
 * cpu): with it a training step uses every core. Each thread holds a replica of the model and its
 * optimizer. A step splits the batch into shards, one per replica; each replica computes its
 * shard's gradients (the shards' loss coefficients are rows of the whole batch's, so their
 * gradients add up to the whole batch's); each replica writes its gradients, with its batchnorm
 * running statistics, into its own shared buffer. The primary sums them with its own (and averages
 * the statistics) and writes the sums over the first replica's buffer; then every thread applies
 * those same float32 sums with the same update, so the replicas stay identical without sending
 * weights.
 * Dropout draws the whole batch's masks in every replica and keeps its shard's rows (see
 * `SeededDropout.shard`), so without batchnorm a step equals one thread's within float rounding.
 * Batchnorm normalises each shard with the shard's own statistics, as PyTorch's DataParallel and
 * DistributedDataParallel without SyncBatchNorm do; the running statistics are averaged over the
 * shards, weighted by their sizes.
 *
 * The model in this thread is the primary. Prediction and evaluation are sharded like a step;
 * the weights and state read for checkpoints are the primary's, and weights and state written to
 * it are sent to every replica before its next step.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInfo } from '../../language/semantics/model';
import { trainingSettings, type BackendPreference, type Batch, type BuildOptions, type EngineModel, type EvaluationResult, type StepResult, type TrainingState, type WeightMap } from '../engine';
import { lossTargets } from '../loss';
import type { ShardGradients, TfjsModel } from './tfjs-engine';
import { heapView, writableHeapView } from './wasm-heap-view';

/** What a replica thread is started with. */
export interface ReplicaSetup {
  readonly model: ModelInfo;
  readonly options: BuildOptions;
  readonly backend: BackendPreference;
  /**
   * One exchange buffer per replica, for replicas 1, 2, …: replica `index` writes its shard into
   * `exchange[index - 1]`; the primary writes the step's sums over the first (`reduceShards`).
   */
  readonly exchange: readonly SharedArrayBuffer[];
  readonly index: number;
}

/** From the primary to a replica; every message is answered, in order. */
export type ToReplica =
  | { readonly type: 'step'; readonly batch: Batch; readonly targets: Float32Array; readonly start: number; readonly total: number }
  /**
   * The sums are in the first exchange buffer: apply them. `dropoutCalls`: the primary's dropout
   * counters after the step, for a replica that had no shard.
   */
  | { readonly type: 'combine'; readonly learningRate: number; readonly dropoutCalls: number[] }
  /** At an epoch's end: the gradients gathered for accumulation are applied (`EngineModel.applyGatheredGradients`). */
  | { readonly type: 'apply-gathered'; readonly learningRate: number }
  | { readonly type: 'evaluate'; readonly batch: Batch; readonly targets: Float32Array }
  | { readonly type: 'predict'; readonly images: Uint8Array | Float32Array }
  | { readonly type: 'weights'; readonly weights: WeightMap }
  | { readonly type: 'state'; readonly state: TrainingState };

/** From a replica to the primary. */
export type FromReplica =
  | { readonly type: 'ready' }
  | { readonly type: 'gradients'; readonly loss: number; readonly correct: number }
  | { readonly type: 'evaluation'; readonly loss: number; readonly correct: number }
  | { readonly type: 'probabilities'; readonly values: Float32Array }
  | { readonly type: 'done' }
  | { readonly type: 'failed'; readonly message: string };

/** Floats of a model's exchange buffer: every trainable value, then every running statistic. */
export function exchangeLength(model: TfjsModel): number {
  return [...model.trainableVariables, ...model.statistics].reduce((sum, v) => sum + v.size, 0);
}

/** A float tensor's values, read where they lie on wasm: `dataSync` would copy each out of the heap. */
function valuesOf(tensor: tf.Tensor): Float32Array {
  return heapView(tensor) ?? (tensor.dataSync() as Float32Array);
}

/** Writes a shard's gradients and the model's running statistics into its exchange buffer. */
export function writeShard(model: TfjsModel, shard: ShardGradients, buffer: Float32Array): void {
  let offset = 0;
  for (const tensor of [...shard.gradients, ...model.statistics]) {
    buffer.set(valuesOf(tensor), offset);
    offset += tensor.size;
  }
}

/**
 * The primary's part of combining a step: the sum of the shards' gradients (its own shard's, then
 * the replicas' from `buffers` in shard order, added in float32) and the size-weighted mean of
 * their running statistics, written into `sums` for every thread to apply (`applySums`). `sums`
 * may be one of `buffers` (the first replica's): each value is read before its place is written.
 * Replicas without a shard (`counts` 0) wrote nothing and are left out.
 */
export function reduceShards(model: TfjsModel, own: ShardGradients, buffers: readonly Float32Array[], counts: readonly number[], sums: Float32Array): void {
  const total = counts.reduce((a, b) => a + b, 0);
  /** The replicas' buffers that hold a shard, with their shard's share of the batch. */
  const others = buffers.map((buffer, i) => ({ buffer, share: counts[i + 1]! / total })).filter((_, i) => counts[i + 1]! > 0);
  let offset = 0;
  for (const tensor of own.gradients) {
    const start = offset;
    // One gradient at a time, so the heap holds one gradient's sum at most; the backend adds
    // (wasm: SIMD, five times as fast as a JavaScript loop over the values).
    const sum = tf.tidy(() => others.reduce((partial, { buffer }) => tf.add(partial, tf.tensor(buffer.subarray(start, start + tensor.size), tensor.shape)), tensor));
    sums.set(valuesOf(sum), start);
    if (sum !== tensor) sum.dispose();
    offset += tensor.size;
  }
  const ownShare = counts[0]! / total;
  for (const statistic of model.statistics) {
    const mine = valuesOf(statistic);
    const parts = others.map(({ buffer, share }) => ({ values: buffer.subarray(offset, offset + statistic.size), share }));
    const target = sums.subarray(offset, offset + statistic.size);
    for (let j = 0; j < target.length; j++) target[j] = parts.reduce((mean, { values, share }) => mean + values[j]! * share, mine[j]! * ownShare);
    offset += statistic.size;
  }
}

/**
 * Applies the sums `reduceShards` wrote: the gradients become the sums and the running
 * statistics the means, and the optimizer steps. Every thread applies the same float32 values, so
 * all get the same weights. `own` is this thread's shard (undefined when it had none): the sums are
 * written over its gradient tensors where no other tensor shares their data, so the heap, which
 * never shrinks, gains no gradient-sized tensors. Returns whether the weights changed
 * (`TfjsModel.update`).
 */
export function applySums(model: TfjsModel, own: ShardGradients | undefined, sums: Float32Array, learningRate: number): boolean {
  let offset = 0;
  /** The next `size` values of `sums`, as a copy: a tensor made from a view may keep the view (cpu backend). */
  const next = (size: number): Float32Array => sums.slice(offset, (offset += size));
  const made: tf.Tensor[] = [];
  const gradients = model.trainableVariables.map((v, k) => {
    const mine = own?.gradients[k];
    const target = mine && writableHeapView(mine);
    if (target) {
      target.set(sums.subarray(offset, (offset += v.size)));
      return mine;
    }
    const tensor = tf.tensor(next(v.size), v.shape);
    made.push(tensor);
    return tensor;
  });
  try {
    tf.tidy(() => model.statistics.forEach((v) => v.assign(tf.tensor(next(v.size), v.shape))));
    return model.update(gradients, learningRate);
  } finally {
    tf.dispose(made);
  }
}

/** Splits `total` images into `parts` shards as even as can be, the larger first. */
export function shardSizes(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Where each shard of `shardSizes` starts in the batch. */
export function shardStarts(counts: readonly number[]): number[] {
  return counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
}

/** The images, labels and loss coefficients (`lossTargets`' rows) `start` to `start + count` of a batch. */
export function sliceShard(batch: Batch, targets: Float32Array, start: number, count: number): { batch: Batch; targets: Float32Array } {
  const perImage = batch.images.length / batch.labels.length;
  const classes = targets.length / batch.labels.length;
  return {
    batch: { images: batch.images.slice(start * perImage, (start + count) * perImage), labels: batch.labels.slice(start, start + count) },
    targets: targets.slice(start * classes, (start + count) * classes),
  };
}

/** One replica thread and its answers, which come in the order the messages went. */
class Replica {
  private readonly waiting: { resolve: (answer: FromReplica) => void; reject: (error: Error) => void }[] = [];
  private stopped: Error | undefined;

  constructor(
    private readonly worker: Worker,
    readonly index: number,
  ) {
    const fail = (error: Error): void => {
      this.stopped ??= error;
      for (const waiter of this.waiting.splice(0)) waiter.reject(this.stopped);
    };
    worker.on('message', (answer: FromReplica) => {
      const waiter = this.waiting.shift();
      if (!waiter) return;
      if (answer.type === 'failed') waiter.reject(new Error(answer.message));
      else waiter.resolve(answer);
    });
    worker.on('error', (error) => fail(new Error(`Training thread ${index + 1} stopped: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`Training thread ${index + 1} stopped (exit code ${code}).`)));
  }

  /** The next answer: `ready` once the replica is built. */
  answer(): Promise<FromReplica> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  ask(message: ToReplica): Promise<FromReplica> {
    const answer = this.answer();
    if (!this.stopped) this.worker.postMessage(message);
    return answer;
  }

  stop(): void {
    this.stopped ??= new Error(`Training thread ${this.index + 1} was stopped.`);
    void this.worker.terminate();
  }
}

export class DataParallelModel implements EngineModel {
  readonly trainableParams: number;
  readonly classes: number;
  /** Weights and state sent to the replicas: their failures, or undefined, checked before the next step. */
  private syncing: Promise<Error | undefined>[] = [];

  private constructor(
    private readonly primary: TfjsModel,
    private readonly replicas: readonly Replica[],
    /** The replicas' exchange buffers (`ReplicaSetup.exchange`). */
    private readonly buffers: readonly Float32Array[],
    private readonly options: BuildOptions,
  ) {
    this.trainableParams = primary.trainableParams;
    this.classes = primary.classes;
  }

  /**
   * Starts `threads − 1` replicas of `primary`, which must be as `buildReplica(model, options)`
   * made it on `backend`: each replica builds the model the same way, from the same seed, so it
   * starts with the primary's weights without their being sent (a copy of every weight in each
   * thread's JavaScript memory, which the C allocator kept: ResNet18's 45 MB in each).
   * `workerScript` is `replica-worker.js` beside this module.
   */
  static async start(primary: TfjsModel, model: ModelInfo, options: BuildOptions, backend: BackendPreference, threads: number, workerScript = path.join(__dirname, 'replica-worker.js')): Promise<DataParallelModel> {
    const length = exchangeLength(primary);
    const exchange = Array.from({ length: threads - 1 }, () => new SharedArrayBuffer(length * 4));
    const replicas: Replica[] = [];
    try {
      for (let index = 1; index < threads; index++) {
        const setup: ReplicaSetup = { model, options: { ...options, threads: 1 }, backend, exchange, index };
        replicas.push(new Replica(new Worker(workerScript, { workerData: setup }), index));
      }
      await Promise.all(replicas.map((replica) => replica.answer()));
    } catch (error) {
      for (const replica of replicas) replica.stop();
      throw error;
    }
    return new DataParallelModel(
      primary,
      replicas,
      exchange.map((buffer) => new Float32Array(buffer)),
      options,
    );
  }

  get threads(): number {
    return this.replicas.length + 1;
  }

  async trainStep(batch: Batch, learningRate: number): Promise<StepResult> {
    const training = trainingSettings(this.options);
    await this.synced();
    const total = batch.labels.length;
    const targets = lossTargets(batch.labels, this.classes, training.labelSmoothing, training.classWeights);
    const counts = shardSizes(total, this.threads);
    const starts = shardStarts(counts);
    const shardOf = (i: number) => sliceShard(batch, targets, starts[i]!, counts[i]!);
    const answers = this.replicas.map((replica) => {
      const i = replica.index;
      if (counts[i] === 0) return Promise.resolve<FromReplica>({ type: 'gradients', loss: 0, correct: 0 });
      return replica.ask({ type: 'step', ...shardOf(i), start: starts[i]!, total });
    });
    // Each answer is handled as it comes, so a failed replica does not leave a rejection unheard.
    const settled = Promise.allSettled(answers);
    const own = shardOf(0);
    const shard = this.primary.shardGradients(own.batch, own.targets, { start: 0, total });
    try {
      let loss = shard.loss.dataSync()[0]!;
      let correct = shard.correct.dataSync()[0]!;
      for (const result of await settled) {
        if (result.status === 'rejected') throw result.reason;
        const answer = result.value;
        if (answer.type !== 'gradients') throw new Error(`A training thread answered ${answer.type} to a step.`);
        loss += answer.loss;
        correct += answer.correct;
      }
      const sums = this.buffers[0]!;
      reduceShards(this.primary, shard, this.buffers, counts, sums);
      const dropoutCalls = this.primary.dropoutCalls;
      const combined = this.replicas.map((replica) => replica.ask({ type: 'combine', learningRate, dropoutCalls }));
      const updated = applySums(this.primary, shard, sums, learningRate);
      // The replicas read the sums while they combine: the next step may write over them only after.
      await Promise.all(combined);
      return { loss, correct, count: total, updated };
    } finally {
      tf.dispose([shard.loss, shard.correct, ...shard.gradients]);
    }
  }

  /** Every replica gathered the same sums (`applySums`), so each applies them as the primary does. */
  async applyGatheredGradients(learningRate: number): Promise<boolean> {
    await this.synced();
    const settled = Promise.allSettled(this.replicas.map((replica) => replica.ask({ type: 'apply-gathered', learningRate })));
    const updated = await this.primary.applyGatheredGradients(learningRate);
    for (const result of await settled) if (result.status === 'rejected') throw result.reason;
    return updated;
  }

  async evaluate(batch: Batch): Promise<EvaluationResult> {
    const training = this.options.training;
    const targets = lossTargets(batch.labels, this.classes, training?.labelSmoothing ?? 0, training?.classWeights);
    const shard = (start: number, count: number) => sliceShard(batch, targets, start, count);
    const parts = await this.onShards<Pick<EvaluationResult, 'loss' | 'correct'>>(
      batch.labels.length,
      (start, count) => ({ type: 'evaluate', ...shard(start, count) }),
      (start, count) => {
        const own = shard(start, count);
        return this.primary.evaluate(own.batch, own.targets);
      },
      (answer) => (answer.type === 'evaluation' ? answer : undefined),
    );
    return { loss: parts.reduce((sum, p) => sum + p.loss, 0), correct: parts.reduce((sum, p) => sum + p.correct, 0), count: batch.labels.length };
  }

  async predict(images: Uint8Array | Float32Array): Promise<Float32Array> {
    const perImage = this.primary.imageSize;
    const slice = (start: number, count: number): Uint8Array | Float32Array => images.slice(start * perImage, (start + count) * perImage);
    const parts = await this.onShards(
      images.length / perImage,
      (start, count) => ({ type: 'predict', images: slice(start, count) }),
      (start, count) => this.primary.predict(slice(start, count)),
      (answer) => (answer.type === 'probabilities' ? answer.values : undefined),
    );
    const probabilities = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0));
    parts.reduce((offset, part) => (probabilities.set(part, offset), offset + part.length), 0);
    return probabilities;
  }

  /**
   * Inference spread over the threads: the first shard of `total` images runs here (`local`), the
   * others in the replicas (`remote` is the message for a shard, `read` takes its answer). The
   * results come in shard order; empty shards are left out.
   */
  private async onShards<T>(total: number, remote: (start: number, count: number) => ToReplica, local: (start: number, count: number) => Promise<T>, read: (answer: FromReplica) => T | undefined): Promise<T[]> {
    if (!Number.isInteger(total)) return [await local(0, total)]; // The primary says what is wrong with the images.
    await this.synced();
    const counts = shardSizes(total, this.threads);
    const starts = shardStarts(counts);
    const answers = this.replicas
      .filter((replica) => counts[replica.index]! > 0)
      .map(async (replica) => {
        const answer = await replica.ask(remote(starts[replica.index]!, counts[replica.index]!));
        const value = read(answer);
        if (value === undefined) throw new Error(`Training thread ${replica.index + 1} answered ${answer.type}.`);
        return value;
      });
    const settled = Promise.allSettled(answers);
    const own = await local(0, counts[0]!);
    const results: T[] = [own];
    for (const result of await settled) {
      if (result.status === 'rejected') throw result.reason;
      results.push(result.value);
    }
    return results;
  }

  saliency(images: Uint8Array | Float32Array, classes: Int32Array): Promise<Float32Array> {
    return this.primary.saliency(images, classes);
  }

  getWeights(): Promise<WeightMap> {
    return this.primary.getWeights();
  }

  setWeights(weights: WeightMap): void {
    this.primary.setWeights(weights);
    this.sync({ type: 'weights', weights });
  }

  getTrainingState(): Promise<TrainingState> {
    return this.primary.getTrainingState();
  }

  setTrainingState(state: TrainingState): void {
    this.primary.setTrainingState(state);
    this.sync({ type: 'state', state });
  }

  /** Waits for the weights and state sent to the replicas; their failure is this call's. */
  private async synced(): Promise<void> {
    for (const failure of await Promise.all(this.syncing.splice(0))) if (failure) throw failure;
  }

  private sync(message: ToReplica): void {
    for (const replica of this.replicas) this.syncing.push(replica.ask(message).then(() => undefined, (error: Error) => error));
  }

  dispose(): void {
    for (const replica of this.replicas) replica.stop();
    this.primary.dispose();
  }
}
