/**
 * Reading a run's `metrics.jsonl` for the dashboard, incrementally: each read starts where the
 * last one stopped, so a live run costs only its new lines however long it has trained. A line
 * is taken only once its newline is written (a line torn by a kill is never half-read), and a
 * line that is not a metrics record is skipped. A `resume` line (a run going on from an epoch)
 * supersedes the points of that epoch and later read before it: within one read they are
 * dropped, and `resumed` tells the caller to read the whole file again for points it already
 * has. Plain Node: no VS Code, so it is tested alone.
 */
import * as fs from 'node:fs';
import type { BatchPoint, EpochPoint } from '../../../protocol/protocol';

export interface MetricsPoints {
  readonly epochs: EpochPoint[];
  readonly batches: BatchPoint[];
  /** A resume line was read: points read before this read may be superseded. */
  readonly resumed: boolean;
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** One line of metrics.jsonl as a dashboard point or a resume, or undefined for anything else. */
export function pointOf(line: string): { epoch: EpochPoint } | { batch: BatchPoint } | { resume: number } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const record = parsed as Record<string, unknown>;
  const epoch = num(record['epoch']);
  if (epoch === null) return undefined;
  if (record['type'] === 'resume') return { resume: epoch + 1 };
  if (record['type'] === 'epoch') {
    return {
      epoch: {
        epoch: epoch + 1,
        trainLoss: num(record['train_loss']),
        trainAcc: num(record['train_acc']),
        valLoss: num(record['val_loss']),
        valAcc: num(record['val_acc']),
        lr: num(record['lr']),
        imagesPerSecond: num(record['images_per_s']),
      },
    };
  }
  const batch = num(record['batch']);
  const batches = num(record['batches']);
  const loss = num(record['loss']);
  if (record['type'] !== 'batch' || batch === null || !batches || loss === null) return undefined;
  return { batch: { x: epoch + (batch + 1) / batches, loss, acc: num(record['acc']) ?? 0, imagesPerSecond: num(record['images_per_s']) ?? 0 } };
}

export class MetricsTail {
  private offset = 0;
  /** The bytes after the last newline read: the start of a line still being written. */
  private partial = Buffer.alloc(0);

  constructor(readonly file: string) {}

  /** The points of the lines completed since the last read; none when the file is missing. */
  read(): MetricsPoints {
    let epochs: EpochPoint[] = [];
    let batches: BatchPoint[] = [];
    let resumed = false;
    const points = (): MetricsPoints => ({ epochs, batches, resumed });
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return points();
    }
    try {
      const size = fs.fstatSync(fd).size;
      // A file shorter than what was read was replaced: read it again from the start.
      if (size < this.offset) {
        this.offset = 0;
        this.partial = Buffer.alloc(0);
      }
      if (size === this.offset) return points();
      const fresh = Buffer.alloc(size - this.offset);
      fs.readSync(fd, fresh, 0, fresh.length, this.offset);
      this.offset = size;
      const text = Buffer.concat([this.partial, fresh]);
      const end = text.lastIndexOf(0x0a);
      this.partial = end < 0 ? text : text.subarray(end + 1);
      if (end < 0) return points();
      for (const line of text.subarray(0, end).toString('utf8').split('\n')) {
        const point = line.trim() ? pointOf(line) : undefined;
        if (!point) continue;
        if ('epoch' in point) epochs.push(point.epoch);
        else if ('batch' in point) batches.push(point.batch);
        else {
          // Epoch points are 1-based (plotted at the end of their epoch); batches sit inside theirs.
          epochs = epochs.filter((e) => e.epoch < point.resume);
          batches = batches.filter((b) => b.x <= point.resume - 1);
          resumed = true;
        }
      }
      return points();
    } finally {
      fs.closeSync(fd);
    }
  }
}
