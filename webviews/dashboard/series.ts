/**
 * The dashboard's data, independent of the chart library: which lines each chart draws for a set
 * of runs (each line with its own x and y columns), and the CSV and JSON exports.
 */
import type { BatchPoint, DashboardRun, EpochPoint } from '../../protocol/protocol';

/** One line of a chart: a name for the legend, its points and how it is drawn. */
export interface Line {
  readonly label: string;
  /** Index of the run among those shown: picks the colour. */
  readonly run: number;
  readonly style: 'train' | 'val' | 'batch';
  readonly xs: ArrayLike<number>;
  readonly ys: ArrayLike<number | null>;
}

/**
 * A run's per-batch points as columns, appended to in place as live lines arrive, so a redraw
 * reads 100,000 points without copying or mapping them again.
 */
export interface RunSeries {
  run: DashboardRun;
  readonly batchX: number[];
  readonly batchLoss: number[];
  readonly batchAcc: number[];
  readonly batchSpeed: number[];
}

export function runSeries(run: DashboardRun): RunSeries {
  const series: RunSeries = { run, batchX: [], batchLoss: [], batchAcc: [], batchSpeed: [] };
  appendBatches(series, run.batches);
  return series;
}

export function appendBatches(series: RunSeries, batches: readonly BatchPoint[]): void {
  for (const b of batches) {
    series.batchX.push(b.x);
    series.batchLoss.push(b.loss);
    series.batchAcc.push(b.acc);
    series.batchSpeed.push(b.imagesPerSecond);
  }
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly percent: boolean;
  lines(series: RunSeries, index: number, showBatches: boolean): Line[];
}

/** Epoch points plotted at the end of their epoch. */
function epochLine(run: DashboardRun, index: number, label: string, style: Line['style'], pick: (p: EpochPoint) => number | null): Line[] {
  const points = run.epochs.filter((p) => pick(p) !== null);
  if (points.length === 0) return [];
  return [{ label: `${run.id} ${label}`, run: index, style, xs: points.map((p) => p.epoch), ys: points.map(pick) }];
}

function batchLine(series: RunSeries, index: number, label: string, ys: readonly number[]): Line[] {
  if (series.batchX.length === 0) return [];
  return [{ label: `${series.run.id} ${label}`, run: index, style: 'batch', xs: series.batchX, ys }];
}

export const CHARTS: readonly ChartSpec[] = [
  {
    id: 'loss',
    title: 'Loss',
    percent: false,
    lines: (s, i, batches) => [...(batches ? batchLine(s, i, 'train (batches)', s.batchLoss) : []), ...epochLine(s.run, i, 'train', 'train', (p) => p.trainLoss), ...epochLine(s.run, i, 'val', 'val', (p) => p.valLoss)],
  },
  {
    id: 'accuracy',
    title: 'Accuracy',
    percent: true,
    lines: (s, i, batches) => [...(batches ? batchLine(s, i, 'train (batches)', s.batchAcc) : []), ...epochLine(s.run, i, 'train', 'train', (p) => p.trainAcc), ...epochLine(s.run, i, 'val', 'val', (p) => p.valAcc)],
  },
  { id: 'lr', title: 'Learning rate', percent: false, lines: (s, i) => epochLine(s.run, i, 'lr', 'train', (p) => p.lr) },
  {
    id: 'speed',
    title: 'Images per second',
    percent: false,
    lines: (s, i, batches) => [...(batches ? batchLine(s, i, 'batches', s.batchSpeed) : []), ...epochLine(s.run, i, 'epoch', 'train', (p) => p.imagesPerSecond)],
  },
];

const CSV_COLUMNS = ['run', 'model', 'epoch', 'train_loss', 'train_acc', 'val_loss', 'val_acc', 'lr', 'images_per_s'] as const;

/** A CSV field: quoted when it holds a comma, quote or line break (a run id is a file name). */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per epoch of each run, in metrics.jsonl's column names. */
export function runsCsv(runs: readonly DashboardRun[]): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const run of runs) {
    for (const p of run.epochs) rows.push([run.id, run.model, p.epoch, p.trainLoss, p.trainAcc, p.valLoss, p.valAcc, p.lr, p.imagesPerSecond].map(csvField).join(','));
  }
  return `${rows.join('\n')}\n`;
}

export function runsJson(runs: readonly DashboardRun[]): string {
  return `${JSON.stringify(runs.map((r) => ({ id: r.id, model: r.model, status: r.status, epochs: r.epochs, batches: r.batches })), null, 2)}\n`;
}
