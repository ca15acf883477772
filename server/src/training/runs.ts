/**
 * The runs folder: every training run of a model file lives in
 * `<folder of the model file>/.ocular/runs/<id>/` with
 * - `run.json`: the `RunRecord`, rewritten atomically (temporary file, fsync, rename);
 * - `metrics.jsonl`: one JSON object per line, only ever appended to; a reader skips a torn last
 *   line (a kill -9 in the middle of a write) and honours `resume` lines (below);
 * - `checkpoints/last.ckpt` and `checkpoints/best.ckpt`: weights, training state, epoch and the
 *   random streams' position, written atomically.
 * The editor, the command line and the dashboard all read runs through this module.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainingState, WeightMap, WeightTensor } from '../engine/engine';

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CHECKPOINTS_FOLDER = 'checkpoints';

export type RunStatus = 'running' | 'completed' | 'early-stopped' | 'stopped' | 'failed';
/** A run's status as shown: a `running` record whose process is gone was interrupted (it can be resumed). */
export type RunState = RunStatus | 'interrupted';
export type RunErrorKind = 'nan' | 'oom' | 'data' | 'error';

/** A model file's text as a run records it (`RunRecord.modelHash`): its sha256, in hex. */
export function modelHashOf(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

export interface RunRecord {
  readonly version: 1;
  readonly id: string;
  /** The model file, absolute. */
  readonly modelFile: string;
  readonly modelName: string;
  /** sha256 of the model file's text when the run started. */
  readonly modelHash: string;
  readonly dataset: string;
  readonly classes: readonly string[];
  /** Channels, height, width. */
  readonly inputShape: readonly [number, number, number];
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** The resolved train and dataset settings as plain JSON. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly backend: string;
  readonly device: string;
  readonly seed: number;
  /** The process training it (last started or resumed). */
  readonly pid: number;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly endedAt?: string;
  /** Epochs planned. */
  readonly epochs: number;
  readonly epochsDone: number;
  readonly best?: { readonly epoch: number; readonly val_loss: number; readonly val_acc: number };
  readonly error?: { readonly kind: RunErrorKind; readonly message: string };
}

/** One line of `metrics.jsonl` after an epoch (epochs count from 0). */
export interface EpochLine {
  readonly type: 'epoch';
  readonly epoch: number;
  readonly train_loss: number;
  readonly train_acc: number;
  readonly val_loss: number;
  readonly val_acc: number;
  readonly lr: number;
  readonly images_per_s: number;
  readonly seconds: number;
  /** How many validation images the model predicted as each class. */
  readonly val_predicted: readonly number[];
  readonly time: string;
}

/** A progress line during an epoch, at most about one per second. */
export interface BatchLine {
  readonly type: 'batch';
  readonly epoch: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
  readonly acc: number;
  readonly images_per_s: number;
}

/**
 * Written when a run resumes: it goes on from `epoch`, so epoch and batch lines of `epoch` and
 * later written before this line belong to the interrupted attempt and are superseded.
 */
export interface ResumeLine {
  readonly type: 'resume';
  readonly epoch: number;
  readonly time: string;
}

export type MetricsLine = EpochLine | BatchLine | ResumeLine;

/** The metrics of a run as they stand: the resume lines applied. */
export interface RunMetrics {
  readonly epochs: readonly EpochLine[];
  readonly batches: readonly BatchLine[];
  /** Lines that did not parse (a torn last line, a foreign line), skipped. */
  readonly skipped: number;
}

/** `<folder of the model file>/.ocular/runs`. */
export function runsFolderFor(modelFile: string): string {
  return path.join(path.dirname(path.resolve(modelFile)), '.ocular', 'runs');
}

/** Writes a file so a reader sees the old content or the new, never part of it, even after a crash. */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, 'w');
  try {
    if (typeof data === 'string') fs.writeSync(fd, data);
    else fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `<ModelName>-<YYYYMMDD-HHMMSS>` in UTC. */
export function runIdFor(modelName: string, date: Date): string {
  const day = `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  const time = `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
  return `${modelName}-${day}-${time}`;
}

/**
 * Makes a new run's folder (and its checkpoints folder) under `runsDir`, its id taken from the
 * model's name and `date`, with `-2`, `-3`… when another run already has that id.
 */
export function createRunFolder(runsDir: string, modelName: string, date: Date): { id: string; dir: string } {
  fs.mkdirSync(runsDir, { recursive: true });
  const base = runIdFor(modelName, date);
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    const dir = path.join(runsDir, id);
    try {
      // Not recursive: an existing folder is an error, which makes the claim of the id atomic.
      fs.mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    fs.mkdirSync(path.join(dir, CHECKPOINTS_FOLDER));
    return { id, dir };
  }
}

export function writeRun(dir: string, record: RunRecord): void {
  writeAtomic(path.join(dir, RUN_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** Reads `run.json`; throws an Error naming the file and what is wrong with it. */
export function readRun(dir: string): RunRecord {
  const file = path.join(dir, RUN_FILE);
  let data: Partial<RunRecord>;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<RunRecord>;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new Error(`Cannot read the run ${file}: ${reason}`);
  }
  const problem =
    data.version !== 1
      ? `version ${String(data.version)} is not one this Ocular reads (1)`
      : typeof data.id !== 'string' || typeof data.modelFile !== 'string' || typeof data.modelName !== 'string'
        ? 'it lacks the id, model file or model name'
        : !Array.isArray(data.classes) || !Array.isArray(data.inputShape)
          ? 'it lacks the classes or input shape'
          : typeof data.status !== 'string' || typeof data.epochsDone !== 'number' || typeof data.epochs !== 'number'
            ? 'it lacks the status or epoch counts'
            : undefined;
  if (problem) throw new Error(`${file} is not an Ocular run: ${problem}.`);
  return data as RunRecord;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The status to show: `running` with a dead process is `interrupted`. */
export function runState(record: RunRecord, alive: (pid: number) => boolean = processAlive): RunState {
  return record.status === 'running' && !alive(record.pid) ? 'interrupted' : record.status;
}

export interface ListedRun {
  readonly id: string;
  readonly dir: string;
  /** Absent when `run.json` cannot be read; `problem` says why. */
  readonly record?: RunRecord;
  readonly state?: RunState;
  readonly problem?: string;
}

/** The runs in a runs folder, oldest first; an unreadable run is listed with its problem. A missing folder has no runs. */
export function listRuns(runsDir: string): ListedRun[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(runsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const runs = entries
    .filter((entry) => entry.isDirectory())
    .map((entry): ListedRun => {
      const dir = path.join(runsDir, entry.name);
      try {
        const record = readRun(dir);
        return { id: entry.name, dir, record, state: runState(record) };
      } catch (error) {
        return { id: entry.name, dir, problem: (error as Error).message };
      }
    });
  return runs.sort((a, b) => (a.record?.startedAt ?? '').localeCompare(b.record?.startedAt ?? '') || a.id.localeCompare(b.id));
}

/**
 * Appends lines to `metrics.jsonl`. When the file ends in a torn line (the process was killed
 * while writing it), a line break goes first, so the torn text stays a line of its own that
 * readers skip and the new line stays whole.
 */
export function appendMetrics(dir: string, ...lines: readonly MetricsLine[]): void {
  const file = path.join(dir, METRICS_FILE);
  let prefix = '';
  try {
    const size = fs.statSync(file).size;
    if (size > 0) {
      const fd = fs.openSync(file, 'r');
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      fs.closeSync(fd);
      if (last[0] !== 0x0a) prefix = '\n';
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.appendFileSync(file, prefix + lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
}

function parseLine(text: string): MetricsLine | undefined {
  try {
    const value = JSON.parse(text) as Partial<MetricsLine> | null;
    if (!value || typeof value !== 'object' || typeof value.epoch !== 'number') return undefined;
    return value.type === 'epoch' || value.type === 'batch' || value.type === 'resume' ? (value as MetricsLine) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads `metrics.jsonl` (none yet: no metrics), skipping lines that do not parse and applying resume lines. */
export function readMetrics(dir: string): RunMetrics {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, METRICS_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { epochs: [], batches: [], skipped: 0 };
    throw error;
  }
  let epochs: EpochLine[] = [];
  let batches: BatchLine[] = [];
  let skipped = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = parseLine(raw);
    if (!line) skipped++;
    else if (line.type === 'epoch') epochs.push(line);
    else if (line.type === 'batch') batches.push(line);
    else {
      epochs = epochs.filter((e) => e.epoch < line.epoch);
      batches = batches.filter((b) => b.epoch < line.epoch);
    }
  }
  return { epochs, batches, skipped };
}

export function checkpointFile(dir: string, name: 'last' | 'best'): string {
  return path.join(dir, CHECKPOINTS_FOLDER, `${name}.ckpt`);
}

/** Everything a run needs to go on after `epoch` (counted from 0) as if it had never stopped. */
export interface Checkpoint {
  /** The last complete epoch. */
  readonly epoch: number;
  /** Weights by PyTorch names. */
  readonly weights: WeightMap;
  /** The engine's optimizer and dropout state. */
  readonly training: TrainingState;
  /**
   * The random streams' position: data order and augmentation are derived from (seed, epoch,
   * batch), so the seed and the next epoch place them; dropout's counters are in `training`.
   */
  readonly rng: { readonly seed: number; readonly nextEpoch: number };
  /** The epoch lines up to `epoch`, so a resumed run has its history even if metrics.jsonl lost a line. */
  readonly history: readonly EpochLine[];
}

const MAGIC = 'OCULAR-CKPT-1\n';

interface TensorEntry {
  readonly group: 'weights' | 'training';
  readonly name: string;
  readonly shape: readonly number[];
  /** Offset in float32 values from the start of the data. */
  readonly offset: number;
}

interface CheckpointHeader {
  readonly epoch: number;
  readonly counters: Readonly<Record<string, number>>;
  readonly rng: Checkpoint['rng'];
  readonly history: readonly EpochLine[];
  readonly tensors: readonly TensorEntry[];
}

/**
 * A checkpoint file: the magic line, the header's byte length (uint32, little endian), the
 * header as JSON padded to 4 bytes, then every tensor's float32 values (little endian) in the
 * header's order. Written atomically.
 */
export function writeCheckpoint(file: string, checkpoint: Checkpoint): void {
  const tensors: TensorEntry[] = [];
  const values: Float32Array[] = [];
  let offset = 0;
  const add = (group: TensorEntry['group'], map: ReadonlyMap<string, WeightTensor>): void => {
    for (const [name, tensor] of map) {
      tensors.push({ group, name, shape: tensor.shape, offset });
      values.push(tensor.values);
      offset += tensor.values.length;
    }
  };
  add('weights', checkpoint.weights);
  add('training', checkpoint.training.tensors);
  const header: CheckpointHeader = { epoch: checkpoint.epoch, counters: checkpoint.training.counters, rng: checkpoint.rng, history: checkpoint.history, tensors };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = MAGIC.length + 4;
  const padding = (4 - ((start + json.length) % 4)) % 4;
  json = Buffer.concat([json, Buffer.alloc(padding, 0x20)]);
  const buffer = Buffer.alloc(start + json.length + offset * 4);
  buffer.write(MAGIC, 0, 'latin1');
  buffer.writeUInt32LE(json.length, MAGIC.length);
  json.copy(buffer, start);
  const data = new Float32Array(buffer.buffer, buffer.byteOffset + start + json.length, offset);
  let at = 0;
  for (const v of values) {
    data.set(v, at);
    at += v.length;
  }
  writeAtomic(file, buffer);
}

/** Reads a checkpoint; throws an Error naming the file and what is wrong with it. */
export function readCheckpoint(file: string): Checkpoint {
  let buffer: Buffer;
  try {
    buffer = fs.readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new Error(`Cannot read the checkpoint ${file}: ${reason}`);
  }
  const fail = (what: string): never => {
    throw new Error(`${file} is not an Ocular checkpoint: ${what}.`);
  };
  if (buffer.length < MAGIC.length + 4 || buffer.toString('latin1', 0, MAGIC.length) !== MAGIC) fail('it does not start as one');
  const length = buffer.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4 + length;
  if (start > buffer.length) fail('its header is cut short');
  let header: CheckpointHeader;
  try {
    header = JSON.parse(buffer.toString('utf8', MAGIC.length + 4, start)) as CheckpointHeader;
  } catch {
    return fail('its header is not JSON');
  }
  // Copied out, aligned: the file's buffer may not start on a 4-byte boundary.
  const floats = (buffer.length - start) / 4;
  const data = new Float32Array(floats);
  new Uint8Array(data.buffer).set(buffer.subarray(start, start + floats * 4));
  const weights = new Map<string, WeightTensor>();
  const tensors = new Map<string, WeightTensor>();
  for (const entry of header.tensors ?? []) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.offset + size > floats) fail(`${entry.name} lies past its end`);
    (entry.group === 'weights' ? weights : tensors).set(entry.name, { shape: entry.shape, values: data.slice(entry.offset, entry.offset + size) });
  }
  return { epoch: header.epoch, weights, training: { tensors, counters: header.counters ?? {} }, rng: header.rng, history: header.history ?? [] };
}
