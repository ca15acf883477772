/**
 * The training loop, engine-neutral, in the thread that calls it: the language server and the
 * command line call it through the worker host (`host.ts`), never on their own event loop.
 *
 * One run: the model file analysed as it is now, the dataset loaded through the data layer (the
 * decoded-image cache, seeded shuffles and augmentation, normalisation), the model built on the
 * engine, then per epoch a train phase and a val phase. After each epoch, in this order: the
 * checkpoints (best when the monitored value improved, then last), the epoch line of
 * `metrics.jsonl`, `run.json`. So whatever moment the process dies at, `last.ckpt` is a complete
 * epoch, and resuming from it (`resumeRunId`) repeats exactly what the uninterrupted run would have
 * done: the data streams are derived from (seed, epoch, batch), and the checkpoint holds the
 * optimizer's and dropout's state; the schedule's and early stopping's state follow from the
 * history, which is replayed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, type Analysis } from '../language/analysis';
import type { DatasetConfig, TrainConfig } from '../language/semantics/settings';
import type { Span } from '../language/syntax/span';
import { LineIndex } from '../language/text';
import type { BackendPreference, DeviceInfo, EngineModel } from '../engine/engine';
import { lossTargets } from '../engine/loss';
import { LearningRateSchedule } from '../engine/schedule';
import { trainingSetup } from '../engine/training';
import { TfjsEngine } from '../engine/tfjs/tfjs-engine';
import { batchCount, epochOrder, loadDataset, makeBatch, type BatchOptions, type ImageShape, type LoadProgress, type TensorSplit } from '../data/index';
import { cacheDirFor, specOf } from '../host/datasets';
import { evaluateAfterTraining } from '../evaluation/run-evaluation';
import {
  appendMetrics,
  checkpointFile,
  createRunFolder,
  modelHashOf,
  readCheckpoint,
  readRun,
  runsFolderFor,
  runState,
  writeCheckpoint,
  writeRun,
  type BatchLine,
  type Checkpoint,
  type EpochLine,
  type RunErrorKind,
  type RunRecord,
} from './runs';

/** The device a run trains on, as the engine describes it, with the data-parallel threads it uses. */
export function trainingDevice(device: DeviceInfo, threads: number): DeviceInfo {
  return threads > 1 ? { ...device, description: `${device.description} × ${threads} data-parallel threads` } : device;
}

export interface TrainRequest {
  /** The model file, absolute. */
  readonly modelFile: string;
  /** The model whose train section to run; the file's first train section when absent. */
  readonly model?: string;
  readonly backend?: BackendPreference;
  /** Continue this run (an id in the model file's runs folder) from its last complete epoch. */
  readonly resumeRunId?: string;
  /** Epochs in all, in place of the train section's. */
  readonly epochs?: number;
  /** Where decoded images are cached; `.ocular/cache` beside the model file by default. */
  readonly cacheDir?: string;
  /** Data-parallel training threads on the one-threaded backends (wasm, cpu); one per core when absent. */
  readonly threads?: number;
  /** Decoding threads (the data layer's default when absent). */
  readonly decodeWorkers?: number;
}

/** How far loading is, before the run's first epoch. */
export type LoadEvent = { readonly type: 'loading'; readonly progress: LoadProgress };

export type TrainEvent =
  | LoadEvent
  | { readonly type: 'started'; readonly run: RunRecord; readonly device: DeviceInfo; readonly resumedFrom?: number }
  | { readonly type: 'batch'; readonly metrics: BatchLine }
  | { readonly type: 'epoch'; readonly metrics: EpochLine; readonly history: readonly EpochLine[] }
  /** `final`: the validation figures of the weights the run ends with (the best ones after early stopping). */
  | { readonly type: 'finished'; readonly run: RunRecord; readonly final?: { readonly val_loss: number; readonly val_acc: number } }
  | { readonly type: 'failed'; readonly run?: RunRecord; readonly error: TrainingFailure };

/** Why a run failed or was refused; `file` and `line` (1-based) point at what to change. */
export interface TrainingFailure {
  readonly kind: RunErrorKind;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
}

/** A request that cannot train, with the reason and the place to fix it. */
export class TrainingError extends Error {
  constructor(readonly failure: TrainingFailure) {
    super(failure.message);
    this.name = 'TrainingError';
  }
}

/** Batch progress goes to metrics.jsonl at most this often, and to `onEvent` a few times more. */
const BATCH_LINE_MS = 1000;
const BATCH_EVENT_MS = 250;

interface Resolved {
  readonly source: string;
  readonly analysis: Analysis;
  readonly train: TrainConfig;
  readonly dataset: DatasetConfig;
  readonly image: ImageShape;
  readonly where: (span: Span) => { file: string; line: number; text: string };
}

/** The model file as it is now, refused with file:line when it cannot train. */
function resolve(request: TrainRequest): Resolved & { model: NonNullable<Analysis['models'][number]> } {
  const file = request.modelFile;
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new TrainingError({ kind: 'error', message: `Cannot read the model file ${file}: ${(error as Error).message}`, file });
  }
  const analysis = analyze(source);
  const index = new LineIndex(source);
  const where = (span: Span): { file: string; line: number; text: string } => {
    const { line, character } = index.position(span.start);
    return { file, line: line + 1, text: `${file}:${line + 1}:${character + 1}` };
  };
  const refuse = (span: Span | undefined, message: string, kind: RunErrorKind = 'error'): never => {
    const at = span ? where(span) : undefined;
    throw new TrainingError({ kind, message: at ? `${at.text}: ${message}` : `${file}: ${message}`, file, ...(at ? { line: at.line } : {}) });
  };
  const error = analysis.diagnostics.find((d) => d.severity === 'error');
  if (error) refuse(error.span, `${error.message} (fix the errors in the file to train)`);
  const train = request.model === undefined ? analysis.trains[0] : analysis.trains.find((t) => t.model === request.model);
  if (!train) {
    return refuse(undefined, request.model === undefined ? 'has no train section: add one, as train { model Net  data images  epochs 10 }' : `has no train section for model ${request.model}`);
  }
  const model = analysis.models.find((m) => m.name === train.model);
  if (!model) return refuse(train.section.keyword.span, 'this train section names no model: add a line model <Name>');
  const dataset = analysis.datasets.find((d) => d.name === train.data);
  if (!dataset) return refuse(train.section.keyword.span, 'this train section names no dataset: add a line data <name>', 'data');
  if (!model.input || model.input.length !== 3) return refuse(model.section.keyword.span, `model ${model.name} has no CxHxW input shape`);
  return { source, analysis, train, dataset, model, image: model.input as unknown as ImageShape, where };
}

/**
 * Why a run cannot resume from the model file as it is now, or undefined when it can. A run goes
 * on only from the text it trained (its `modelHash`): its checkpoints hold weights and optimizer
 * state for that text's layers and settings, and its history was made with them.
 */
export function resumeRefusal(run: RunRecord, file: string, source: string): string | undefined {
  if (run.modelFile !== file) return `Cannot resume ${run.id}: it trained ${run.modelFile}, not ${file}. Resume it from that file, or start a new run of this one.`;
  if (run.modelHash === modelHashOf(source)) return undefined;
  return `Cannot resume ${run.id}: ${file} has changed since the run trained it (its text no longer has the run's sha256, ${run.modelHash.slice(0, 12)}…), and the run's checkpoints belong to the text it trained. Start a new run to train the file as it is now, or put the file back as it was to resume this one.`;
}

/** The train and dataset settings as plain JSON, for run.json (the syntax trees left out). */
function plainConfig(train: TrainConfig, dataset: DatasetConfig, epochs: number): Record<string, unknown> {
  const { section: _train, ...trainSettings } = train;
  const { section: _dataset, sources, ...datasetSettings } = dataset;
  return { train: { ...trainSettings, epochs }, dataset: { ...datasetSettings, sources: sources.map((s) => ({ split: s.split, path: s.path })) } };
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** TensorFlow.js and WebAssembly report an exhausted memory in these words. */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof RangeError || /out of memory|\bOOM\b|failed to allocate|allocation failed|cannot allocate|Cannot enlarge memory/i.test(message(error));
}

/** Mean loss as the training loss defines it (`lossTargets`) from class probabilities, and the images predicted as each class. */
function validationFigures(probabilities: Float32Array, labels: Int32Array, classes: number, smoothing: number, weights: readonly number[] | undefined): { loss: number; correct: number; predicted: number[] } {
  const targets = lossTargets(labels, classes, smoothing, weights);
  const predicted = new Array<number>(classes).fill(0);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 0; c < classes; c++) {
      const p = probabilities[i * classes + c]!;
      // The smallest positive float32 keeps a probability that underflowed to 0 from making the loss infinite.
      loss -= targets[i * classes + c]! * Math.log(Math.max(p, 1.4e-45));
      if (p > probabilities[i * classes + best]!) best = c;
    }
    predicted[best]!++;
    if (best === labels[i]) correct++;
  }
  return { loss, correct, predicted };
}

/** Lets messages and signals (a cancel from the host, Ctrl+C) through between batches. */
const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains the request's model and resolves with the run's final record, whatever its status
 * (completed, early-stopped, stopped, failed). Rejects with a `TrainingError` only when the
 * request is refused before a run exists (the file has errors, no train section, no data).
 */
export async function trainModel(request: TrainRequest, onEvent: (event: TrainEvent) => void, signal?: AbortSignal): Promise<RunRecord> {
  const file = path.resolve(request.modelFile);
  const resolved = resolve({ ...request, modelFile: file });
  const { train, dataset, model, image, source, where } = resolved;
  const runsDir = runsFolderFor(file);

  let previous: RunRecord | undefined;
  let checkpoint: Checkpoint | undefined;
  if (request.resumeRunId !== undefined) {
    const dir = path.join(runsDir, request.resumeRunId);
    try {
      previous = readRun(dir);
    } catch (error) {
      throw new TrainingError({ kind: 'error', message: `Cannot resume ${request.resumeRunId}: ${message(error)}`, file });
    }
    if (runState(previous) === 'running') throw new TrainingError({ kind: 'error', message: `Run ${previous.id} is still training (process ${previous.pid}); stop it before resuming it.`, file });
    if (previous.modelName !== model.name) throw new TrainingError({ kind: 'error', message: `Run ${previous.id} trained model ${previous.modelName}, not ${model.name}.`, file });
    const refusal = resumeRefusal(previous, file, source);
    if (refusal) throw new TrainingError({ kind: 'error', message: refusal, file });
    if (fs.existsSync(checkpointFile(dir, 'last'))) checkpoint = readCheckpoint(checkpointFile(dir, 'last'));
  }
  const seed = previous?.seed ?? train.seed;
  const epochs = request.epochs ?? previous?.epochs ?? train.epochs;

  const loaded = await loadDataset(specOf(dataset), {
    baseDir: path.dirname(file),
    image,
    cacheDir: request.cacheDir ?? cacheDirFor(file, []),
    ...(request.decodeWorkers !== undefined ? { workers: request.decodeWorkers } : {}),
    ...(signal ? { signal } : {}),
    onProgress: (progress) => onEvent({ type: 'loading', progress }),
  });
  const trainSplit = loaded.splits.train;
  const valSplit = loaded.splits.val;
  const datasetLine = where(dataset.section.name?.span ?? dataset.section.keyword.span);
  const dataProblem = (what: string): never => {
    const firstError = loaded.findings.find((f) => f.severity === 'error');
    throw new TrainingError({ kind: 'data', message: `${datasetLine.text}: dataset ${dataset.name} ${what}${firstError ? ` (${firstError.message})` : ''}.`, file, line: datasetLine.line });
  };
  if (!trainSplit || trainSplit.count === 0) dataProblem('has no training images that decode');
  if (!valSplit || valSplit.count === 0) dataProblem("has no validation images: add a val folder (val \"path\") or 'split val=0.2'");
  const classes = loaded.classes;
  if (model.output?.[0] !== classes.length) {
    throw new TrainingError({ kind: 'data', message: `${where(model.section.keyword.span).text}: model ${model.name} ends in ${model.output?.join('×')} scores, but dataset ${dataset.name} has ${classes.length} classes.`, file });
  }
  if (previous && previous.classes.join('\n') !== classes.join('\n')) {
    throw new TrainingError({ kind: 'data', message: `Run ${previous.id} trained on the classes ${previous.classes.join(', ')}; dataset ${dataset.name} now has ${classes.join(', ')}.`, file });
  }

  const counts = new Array<number>(classes.length).fill(0);
  for (const label of trainSplit!.labels) counts[label]!++;
  const setup = trainingSetup(train, counts);
  const engine = await TfjsEngine.create({ preference: request.backend ?? 'auto' });
  const built = await engine.build(model, { seed, training: setup, ...(request.threads ? { threads: request.threads } : {}) });
  const device = trainingDevice(engine.device, built.threads);

  const { id, dir } = previous ? { id: previous.id, dir: path.join(runsDir, previous.id) } : createRunFolder(runsDir, model.name, new Date());
  let record: RunRecord = {
    version: 1,
    id,
    modelFile: file,
    modelName: model.name,
    modelHash: modelHashOf(source),
    dataset: dataset.name,
    classes,
    inputShape: image,
    ...(dataset.normalize ? { normalize: dataset.normalize } : {}),
    config: plainConfig(train, dataset, epochs),
    backend: engine.device.backend,
    device: device.description,
    seed,
    pid: process.pid,
    status: 'running',
    startedAt: previous?.startedAt ?? new Date().toISOString(),
    epochs,
    epochsDone: checkpoint ? checkpoint.epoch + 1 : 0,
    ...(previous?.best ? { best: previous.best } : {}),
  };
  const save = (changes: Partial<RunRecord>): RunRecord => {
    record = { ...record, ...changes };
    writeRun(dir, record);
    return record;
  };

  try {
    let history: EpochLine[] = [];
    if (checkpoint) {
      built.setWeights(checkpoint.weights);
      built.setTrainingState(checkpoint.training);
      history = checkpoint.history.filter((line) => line.epoch <= checkpoint!.epoch);
    }
    const startEpoch = checkpoint ? checkpoint.epoch + 1 : 0;
    if (previous) appendMetrics(dir, { type: 'resume', epoch: startEpoch, time: new Date().toISOString() });
    save({});
    onEvent({ type: 'started', run: record, device, ...(checkpoint ? { resumedFrom: startEpoch } : {}) });

    const loop = new EpochLoop(built, { trainSplit: trainSplit!, valSplit: valSplit!, train, dataset, seed, classes: classes.length, smoothing: setup.labelSmoothing, classWeights: setup.classWeights }, onEvent, dir, save, signal, epochs);
    const outcome = await loop.run(history, startEpoch, epochs);
    const optimizerLine = train.section.body.statements.find((s) => s.head.text === 'optimizer');
    const lrAt = optimizerLine ? where(optimizerLine.span) : where(train.section.keyword.span);
    const batchLine = train.section.body.statements.find((s) => s.head.text === 'batch');
    const batchAt = batchLine ? where(batchLine.span) : where(train.section.keyword.span);
    const ended = new Date().toISOString();
    const done = { epochsDone: outcome.epochsDone, ...(outcome.best ? { best: outcome.best } : {}), endedAt: ended };
    let failure: TrainingFailure | undefined;
    switch (outcome.kind) {
      case 'nan':
        const when = outcome.batch < 0 ? `the validation loss became ${outcome.value} after epoch ${outcome.epoch + 1}` : `the training loss became ${outcome.value} at epoch ${outcome.epoch + 1}, batch ${outcome.batch + 1}`;
        failure = { kind: 'nan', message: `${lrAt.text}: ${when} (learning rate ${outcome.lr}): lower the learning rate.`, file, line: lrAt.line };
        break;
      case 'oom': {
        const smaller = Math.max(1, Math.floor(train.batch / 2));
        failure = { kind: 'oom', message: `${batchAt.text}: out of memory training batches of ${train.batch} (${outcome.detail}): try batch ${smaller}.`, file, line: batchAt.line };
        break;
      }
      case 'error':
        failure = { kind: 'error', message: outcome.detail, file };
        break;
    }
    if (failure) {
      save({ ...done, status: 'failed', error: { kind: failure.kind, message: failure.message } });
      onEvent({ type: 'failed', run: record, error: failure });
      return record;
    }
    save({ ...done, status: outcome.kind === 'early-stopped' ? 'early-stopped' : outcome.kind === 'stopped' ? 'stopped' : 'completed' });
    // A run that ran to its end is evaluated (test split, else val) into evaluation.json; it never throws, and a stopped run is left alone.
    if (outcome.kind !== 'stopped') await evaluateAfterTraining(dir, request.cacheDir ?? cacheDirFor(file, []));
    const final = 'final' in outcome ? outcome.final : undefined;
    onEvent({ type: 'finished', run: record, ...(final ? { final } : {}) });
    return record;
  } catch (error) {
    const failure: TrainingFailure = { kind: 'error', message: message(error), file };
    save({ status: 'failed', endedAt: new Date().toISOString(), error: { kind: failure.kind, message: failure.message } });
    onEvent({ type: 'failed', run: record, error: failure });
    return record;
  } finally {
    built.dispose();
  }
}

interface LoopData {
  readonly trainSplit: TensorSplit;
  readonly valSplit: TensorSplit;
  readonly train: TrainConfig;
  readonly dataset: DatasetConfig;
  readonly seed: number;
  readonly classes: number;
  readonly smoothing: number;
  readonly classWeights: readonly number[] | undefined;
}

type Best = NonNullable<RunRecord['best']>;

type Outcome = { readonly epochsDone: number; readonly best?: Best } & (
  | { readonly kind: 'completed' | 'stopped' | 'early-stopped'; readonly final?: { val_loss: number; val_acc: number } }
  | { readonly kind: 'nan'; readonly epoch: number; readonly batch: number; readonly lr: number; readonly value: number }
  | { readonly kind: 'oom' | 'error'; readonly detail: string }
);

/** A loss that is not a finite number stops the run; `batch` is -1 for the validation loss. */
export class NonFinite {
  constructor(
    readonly batch: number,
    readonly value: number,
  ) {}
}

/** The epochs of one run: train and val phases, checkpoints, metrics, the schedule and early stopping. */
class EpochLoop {
  private readonly schedule: LearningRateSchedule;
  private readonly monitor: 'val_loss' | 'val_acc';
  private best: Best | undefined;
  /** Epochs since the monitored value last improved by more than min_delta. */
  private waited = 0;

  constructor(
    private readonly model: EngineModel,
    private readonly data: LoopData,
    private readonly onEvent: (event: TrainEvent) => void,
    private readonly dir: string,
    private readonly save: (changes: Partial<RunRecord>) => void,
    private readonly signal: AbortSignal | undefined,
    epochs: number,
  ) {
    const train = data.train;
    const lr = train.optimizer['lr'];
    this.schedule = new LearningRateSchedule(train.schedule, typeof lr === 'number' ? lr : 0.001, epochs);
    this.monitor = train.earlyStop?.monitor === 'val_acc' ? 'val_acc' : 'val_loss';
  }

  private batchOptions(epoch: number, training: boolean): BatchOptions {
    return epochBatchOptions(this.data.train, this.data.dataset, this.data.seed, epoch, training);
  }

  /** Updates best and the patience count from a finished epoch; true when it is the new best. */
  private observe(line: EpochLine): boolean {
    this.schedule.observe(line.epoch, line);
    const minDelta = this.data.train.earlyStop?.minDelta ?? 0;
    const value = line[this.monitor];
    const improved = !this.best || (this.monitor === 'val_acc' ? value > this.best.val_acc + minDelta : value < this.best.val_loss - minDelta);
    if (improved) {
      this.best = { epoch: line.epoch, val_loss: line.val_loss, val_acc: line.val_acc };
      this.waited = 0;
    } else this.waited++;
    return improved;
  }

  private get patienceSpent(): boolean {
    const stop = this.data.train.earlyStop;
    return stop !== undefined && this.waited >= stop.patience;
  }

  async run(history: EpochLine[], startEpoch: number, epochs: number): Promise<Outcome> {
    // The schedule's plateau state and early stopping's best and patience follow from the history.
    for (const line of history) this.observe(line);
    let epochsDone = startEpoch;
    const done = (): { epochsDone: number; best?: Best } => ({ epochsDone, ...(this.best ? { best: this.best } : {}) });
    if (this.patienceSpent) return { kind: 'early-stopped', ...done() };
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const lr = this.schedule.rate(epoch);
      let ended: 'stopped' | 'early-stopped' | undefined;
      let final: { val_loss: number; val_acc: number } | undefined;
      try {
        ended = await this.epoch(epoch, lr, history);
        if (ended === 'early-stopped') {
          // Early stopping ends on the best epoch's weights, as Keras's restore_best_weights does.
          this.model.setWeights(readCheckpoint(checkpointFile(this.dir, 'best')).weights);
          const figures = await this.validate();
          final = { val_loss: figures.loss, val_acc: figures.acc };
        }
      } catch (error) {
        // Whatever failed (a step, validation, a checkpoint), the epochs before it are complete on disk.
        if (error instanceof NonFinite) return { kind: 'nan', epoch, batch: error.batch, lr, value: error.value, ...done() };
        if (isOutOfMemory(error)) return { kind: 'oom', detail: message(error), ...done() };
        return { kind: 'error', detail: message(error), ...done() };
      }
      if (ended === 'stopped') return { kind: 'stopped', ...done() };
      epochsDone = epoch + 1;
      if (ended === 'early-stopped') return { kind: 'early-stopped', ...(final ? { final } : {}), ...done() };
    }
    return { kind: 'completed', ...done() };
  }

  /** One epoch: train and val phases, then checkpoints, the epoch line and run.json, in that order. */
  private async epoch(epoch: number, lr: number, history: EpochLine[]): Promise<'stopped' | 'early-stopped' | undefined> {
    const started = performance.now();
    const trained = await this.trainPhase(epoch, lr);
    if (trained === 'stopped') return 'stopped';
    const val = await this.validate();
    if (!Number.isFinite(val.loss)) throw new NonFinite(-1, val.loss);
    const line: EpochLine = {
      type: 'epoch',
      epoch,
      train_loss: trained.loss,
      train_acc: trained.acc,
      val_loss: val.loss,
      val_acc: val.acc,
      lr,
      images_per_s: trained.images / trained.seconds,
      seconds: (performance.now() - started) / 1000,
      val_predicted: val.predicted,
      time: new Date().toISOString(),
    };
    history.push(line);
    const improved = this.observe(line);
    const weights = await this.model.getWeights();
    const training = await this.model.getTrainingState();
    const checkpoint: Checkpoint = { epoch, weights, training, rng: { seed: this.data.seed, nextEpoch: epoch + 1 }, history };
    if (improved) writeCheckpoint(checkpointFile(this.dir, 'best'), checkpoint);
    writeCheckpoint(checkpointFile(this.dir, 'last'), checkpoint);
    appendMetrics(this.dir, line);
    this.save({ epochsDone: epoch + 1, ...(this.best ? { best: this.best } : {}) });
    this.onEvent({ type: 'epoch', metrics: line, history: [...history] });
    return this.patienceSpent ? 'early-stopped' : undefined;
  }

  private async trainPhase(epoch: number, lr: number): Promise<EpochTraining | 'stopped'> {
    let lastLine = performance.now();
    let lastEvent = lastLine;
    return trainEpoch(this.model, this.data.trainSplit, this.batchOptions(epoch, true), lr, {
      ...(this.signal ? { signal: this.signal } : {}),
      onBatch: (b, batches, running) => {
        const now = performance.now();
        if (now - lastEvent < BATCH_EVENT_MS && b !== 0 && b !== batches - 1) return;
        const metrics: BatchLine = { type: 'batch', epoch, batch: b, batches, loss: running.loss, acc: running.acc, images_per_s: running.images / running.seconds };
        this.onEvent({ type: 'batch', metrics });
        lastEvent = now;
        if (now - lastLine >= BATCH_LINE_MS) {
          appendMetrics(this.dir, metrics);
          lastLine = now;
        }
      },
    });
  }

  private async validate(): Promise<{ loss: number; acc: number; predicted: number[] }> {
    const split = this.data.valSplit;
    const options = this.batchOptions(0, false);
    const order = epochOrder(split.count, 0, 0, false);
    const probabilities = new Float32Array(split.count * this.data.classes);
    const batches = batchCount(split, options);
    for (let b = 0; b < batches; b++) {
      const batch = makeBatch(split, options, order, b);
      probabilities.set(await this.model.predict(batch.x), b * options.batchSize * this.data.classes);
    }
    const figures = validationFigures(probabilities, split.labels, this.data.classes, this.data.smoothing, this.data.classWeights);
    return { loss: figures.loss, acc: figures.correct / split.count, predicted: figures.predicted };
  }
}

/**
 * The batches of one epoch of a train section: for training, shuffled by (seed, epoch) and
 * augmented as the dataset says; for evaluation, in order and not augmented.
 */
export function epochBatchOptions(train: TrainConfig, dataset: DatasetConfig, seed: number, epoch: number, training: boolean): BatchOptions {
  return {
    batchSize: train.batch,
    seed,
    epoch,
    shuffle: training,
    ...(training && dataset.augment.length > 0 ? { augment: dataset.augment } : {}),
    ...(dataset.normalize ? { normalize: dataset.normalize } : {}),
  };
}

/** An epoch's training figures so far: mean loss and accuracy over the images seen, and the time taken. */
export interface EpochTraining {
  readonly loss: number;
  readonly acc: number;
  readonly seconds: number;
  readonly images: number;
}

export interface EpochHooks {
  /** Checked between batches: when aborted, the epoch ends early as 'stopped'. */
  readonly signal?: AbortSignal;
  /** After each batch, with its index, the epoch's batch count and the figures so far. */
  readonly onBatch?: (batch: number, batches: number, running: EpochTraining) => void;
  /**
   * After each step that changed the weights (not while gradients accumulate), before the next
   * batch: fine-tuning a pruned model puts its zeros back here (`compress/finetune.ts`).
   */
  readonly afterUpdate?: () => Promise<void>;
}

/**
 * One epoch of training steps over a split, in the order `options` gives, at one learning rate:
 * the loop every training goes through (a run's train phase, and fine-tuning after pruning).
 * A complete epoch leaves no gradients gathered for accumulation (see `applyGatheredGradients`),
 * so its checkpoint holds all its updates. A loss that is not a finite number throws `NonFinite`
 * with the batch.
 */
export async function trainEpoch(model: EngineModel, split: TensorSplit, options: BatchOptions, lr: number, hooks: EpochHooks = {}): Promise<EpochTraining | 'stopped'> {
  const order = epochOrder(split.count, options.seed, options.epoch, options.shuffle ?? true);
  const batches = batchCount(split, options);
  let lossSum = 0;
  let correct = 0;
  let images = 0;
  const started = performance.now();
  const figures = (): EpochTraining => ({ loss: lossSum / images, acc: correct / images, seconds: (performance.now() - started) / 1000, images });
  for (let b = 0; b < batches; b++) {
    await yieldToEvents();
    if (hooks.signal?.aborted) return 'stopped';
    const batch = makeBatch(split, options, order, b);
    const step = await model.trainStep({ images: batch.x, labels: batch.y }, lr);
    if (!Number.isFinite(step.loss)) throw new NonFinite(b, step.loss);
    if (step.updated && hooks.afterUpdate) await hooks.afterUpdate();
    lossSum += step.loss * step.count;
    correct += step.correct;
    images += step.count;
    hooks.onBatch?.(b, batches, figures());
  }
  // An epoch ends with an update, as PyTorch's and Keras's loops do: the gradients of its last
  // batches, when `accumulate` does not divide its batch count, are applied now (their mean),
  // never carried into the next epoch's first update.
  if ((await model.applyGatheredGradients(lr)) && hooks.afterUpdate) await hooks.afterUpdate();
  return figures();
}
