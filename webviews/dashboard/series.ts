/**
 * The dashboard's data, independent of the chart library: which lines each chart draws for a set
 * of runs, the merge of their x values into the one x column uPlot plots against (each line's
 * missing x values left as gaps), and the CSV and JSON exports.
 */
import type { DashboardRun, EpochPoint } from '../../protocol/protocol';

/** One line of a chart: a name for the legend, its points and how it is drawn. */
export interface Line {
  readonly label: string;
  /** Index of the run among those shown: picks the colour. */
  readonly run: number;
  readonly style: 'train' | 'val' | 'batch';
  readonly xs: ArrayLike<number>;
  readonly ys: ArrayLike<number | null>;
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly percent: boolean;
  lines(run: DashboardRun, index: number, showBatches: boolean): Line[];
}

/** Epoch points plotted at the end of their epoch. */
function epochLine(run: DashboardRun, index: number, label: string, style: Line['style'], pick: (p: EpochPoint) => number | null): Line[] {
  const points = run.epochs.filter((p) => pick(p) !== null);
  if (points.length === 0) return [];
  return [{ label: `${run.id} ${label}`, run: index, style, xs: points.map((p) => p.epoch), ys: points.map(pick) }];
}

function batchLine(run: DashboardRun, index: number, label: string, pick: (b: DashboardRun['batches'][number]) => number): Line[] {
  if (run.batches.length === 0) return [];
  return [{ label: `${run.id} ${label}`, run: index, style: 'batch', xs: run.batches.map((b) => b.x), ys: run.batches.map(pick) }];
}

export const CHARTS: readonly ChartSpec[] = [
  {
    id: 'loss',
    title: 'Loss',
    percent: false,
    lines: (run, i, batches) => [...(batches ? batchLine(run, i, 'train (batches)', (b) => b.loss) : []), ...epochLine(run, i, 'train', 'train', (p) => p.trainLoss), ...epochLine(run, i, 'val', 'val', (p) => p.valLoss)],
  },
  {
    id: 'accuracy',
    title: 'Accuracy',
    percent: true,
    lines: (run, i, batches) => [...(batches ? batchLine(run, i, 'train (batches)', (b) => b.acc) : []), ...epochLine(run, i, 'train', 'train', (p) => p.trainAcc), ...epochLine(run, i, 'val', 'val', (p) => p.valAcc)],
  },
  { id: 'lr', title: 'Learning rate', percent: false, lines: (run, i) => epochLine(run, i, 'lr', 'train', (p) => p.lr) },
  {
    id: 'speed',
    title: 'Images per second',
    percent: false,
    lines: (run, i, batches) => [...(batches ? batchLine(run, i, 'batches', (b) => b.imagesPerSecond) : []), ...epochLine(run, i, 'epoch', 'train', (p) => p.imagesPerSecond)],
  },
];

/**
 * uPlot's aligned data: the sorted union of every line's x values, and one column per line with
 * null where that line has no point. Each line's xs must be ascending (epochs and batches are).
 */
export function alignLines(lines: readonly Line[]): [Float64Array, ...(number | null)[][]] {
  let total = 0;
  for (const line of lines) total += line.xs.length;
  const all = new Float64Array(total);
  let at = 0;
  for (const line of lines) for (let i = 0; i < line.xs.length; i++) all[at++] = line.xs[i]!;
  all.sort();
  let unique = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[unique - 1]) all[unique++] = all[i]!;
  const xs = all.slice(0, unique);
  const columns = lines.map((line) => {
    const column = new Array<number | null>(unique).fill(null);
    let j = 0;
    for (let i = 0; i < line.xs.length; i++) {
      const x = line.xs[i]!;
      while (xs[j]! < x) j++;
      column[j] = line.ys[i]!;
    }
    return column;
  });
  return [xs, ...columns];
}

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
