/**
 * `ocular train FILE [--backend auto|gpu|native|wasm|cpu] [--resume RUN_ID] [--epochs N] [--model NAME] [--threads N]`:
 * trains a model file's train section in the training worker, as Train Model does in the editor,
 * into the same runs folder. On a terminal a progress bar follows the batches; otherwise each
 * epoch is one plain line. Ctrl+C stops the run at the next batch (its last complete epoch stays
 * resumable); a second Ctrl+C quits at once. Exit 0 when the run completes or stops early, 1 when
 * it fails, is stopped or is refused, 2 for a wrong command line.
 */
import * as path from 'node:path';
import { cacheDirFor } from '../host/datasets';
import { startTraining } from '../training/host';
import type { TrainEvent, TrainRequest } from '../training/run';
import type { EpochLine, RunRecord } from '../training/runs';
import { BACKENDS, oneOf, readCommandLine, refuseCommandLine, text, wholeNumber } from './args';

export const TRAIN_USAGE =
  '  ocular train FILE [--backend auto|gpu|native|wasm|cpu] [--resume RUN_ID] [--epochs N] [--model NAME] [--threads N]\n                                   train a model file into .ocular/runs/ beside it (Ctrl+C stops)\n';

const TRAIN_OPTIONS = {
  backend: oneOf(BACKENDS, `--backend takes ${BACKENDS.join(', ')}`),
  resume: text('--resume takes a run id (a folder name under .ocular/runs)'),
  epochs: wholeNumber(1, Infinity, '--epochs takes a whole number, 1 or more'),
  threads: wholeNumber(1, Infinity, '--threads takes a whole number, 1 or more'),
  model: text('--model takes the name of a model with a train section'),
};

/** The request, or a message saying what is wrong with the command line. */
export function parseTrainArgs(args: readonly string[]): TrainRequest | string {
  const line = readCommandLine(args, TRAIN_OPTIONS, { one: 'one model file', missing: 'give the model file to train' });
  if (typeof line === 'string') return line;
  const { resume, ...rest } = line.options;
  const modelFile = path.resolve(line.target);
  // The same decoded-image cache as ocular check: .ocular/cache of the current folder when it holds the file.
  return { modelFile, cacheDir: cacheDirFor(modelFile, [process.cwd()]), ...rest, ...(resume !== undefined ? { resumeRunId: resume } : {}) };
}

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

/** One epoch as a plain line. */
export function epochText(line: EpochLine, epochs: number): string {
  return `epoch ${line.epoch + 1}/${epochs}  train loss ${line.train_loss.toFixed(4)} acc ${percent(line.train_acc)}  val loss ${line.val_loss.toFixed(4)} acc ${percent(line.val_acc)}  lr ${line.lr.toPrecision(3)}  ${Math.round(line.images_per_s)} img/s  ${line.seconds.toFixed(1)}s`;
}

function seconds(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

function outcomeText(run: RunRecord): string {
  const best = run.best ? `; best val acc ${percent(run.best.val_acc)} (loss ${run.best.val_loss.toFixed(4)}) at epoch ${run.best.epoch + 1}` : '';
  switch (run.status) {
    case 'completed':
      return `completed ${run.epochsDone} epochs${best}`;
    case 'early-stopped':
      return `stopped early after ${run.epochsDone} epochs, ending on the best weights${best}`;
    case 'stopped':
      return `stopped after ${run.epochsDone} complete epochs${best}; resume with --resume ${run.id}`;
    default:
      return `failed after ${run.epochsDone} epochs${best}`;
  }
}

/** Compiler style: `file:line:col: error: …` when the message starts with a place, else `error: …`. */
export function errorText(message: string): string {
  const place = /^(.+?:\d+:\d+): ([\s\S]*)$/.exec(message);
  return place ? `${place[1]}: error: ${place[2]}` : `error: ${message}`;
}

export async function trainCommand(args: readonly string[]): Promise<number> {
  const request = parseTrainArgs(args);
  if (typeof request === 'string') return refuseCommandLine('train', request, TRAIN_USAGE);
  const tty = process.stdout.isTTY === true;
  const columns = process.stdout.columns ?? 80;
  let epochs = request.epochs ?? 0;
  let barShown = false;
  const clearBar = (): void => {
    if (barShown) process.stdout.write('\r\x1b[K');
    barShown = false;
  };
  const onEvent = (event: TrainEvent): void => {
    switch (event.type) {
      case 'loading':
        if (tty && event.progress.stage === 'decode') {
          process.stdout.write(`\r\x1b[Kdecoding images ${event.progress.done}/${event.progress.total}`);
          barShown = true;
        }
        return;
      case 'started':
        clearBar();
        epochs = event.run.epochs;
        process.stdout.write(`run ${event.run.id} (${event.resumedFrom !== undefined ? `resumed at epoch ${event.resumedFrom + 1}` : 'new'}) on ${event.device.backend}: ${event.device.description}\n`);
        process.stdout.write(`folder ${path.join(path.dirname(event.run.modelFile), '.ocular', 'runs', event.run.id)}\n`);
        return;
      case 'batch': {
        if (!tty) return;
        const m = event.metrics;
        const done = (m.batch + 1) / m.batches;
        const text = ` ${m.batch + 1}/${m.batches}  loss ${m.loss.toFixed(4)} acc ${percent(m.acc)}  ${Math.round(m.images_per_s)} img/s`;
        const head = `epoch ${m.epoch + 1}/${epochs} `;
        const width = Math.max(10, Math.min(30, columns - head.length - text.length - 3));
        const filled = Math.round(done * width);
        process.stdout.write(`\r\x1b[K${head}[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${text}`);
        barShown = true;
        return;
      }
      case 'epoch': {
        clearBar();
        const remaining = epochs - event.metrics.epoch - 1;
        process.stdout.write(`${epochText(event.metrics, epochs)}${remaining > 0 ? `  ~${seconds(remaining * event.metrics.seconds)} left` : ''}\n`);
        return;
      }
      case 'finished':
        clearBar();
        process.stdout.write(`${outcomeText(event.run)}\n`);
        return;
      case 'failed':
        clearBar();
        process.stderr.write(`${errorText(event.error.message)}\n`);
        return;
    }
  };
  const handle = startTraining(request, onEvent);
  let interrupts = 0;
  const interrupt = (): void => {
    if (++interrupts > 1) process.exit(130);
    clearBar();
    process.stderr.write('stopping at the next batch (Ctrl+C again to quit at once)\n');
    handle.cancel();
  };
  process.on('SIGINT', interrupt);
  try {
    const run = await handle.done;
    return run.status === 'completed' || run.status === 'early-stopped' ? 0 : 1;
  } catch (error) {
    clearBar();
    process.stderr.write(`${errorText(error instanceof Error ? error.message : String(error))}\n`);
    return 1;
  } finally {
    process.off('SIGINT', interrupt);
  }
}
