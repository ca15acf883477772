/**
 * The language server's side of training: `ocular/train` runs the worker host's `startTraining`
 * under a work-done progress (epoch, batch, loss, images/s, time left; cancelling it, or the
 * request, stops the run at its next batch), `ocular/stopTraining`, `ocular/listRuns`, the
 * device and GPU-setup checks (in a worker thread), the "Train" code lens on train sections,
 * and the feedback diagnostics: each open model file's latest run per model, read from its runs
 * folder and followed live while it trains, turned into diagnostics by `training/feedback.ts`
 * on the file as it is now.
 */
import * as path from 'node:path';
import { ResponseError, type CancellationToken, type CodeLens, type Connection } from 'vscode-languageserver/node';
import {
  DeviceRequest,
  GpuSetupRequest,
  ListRunsRequest,
  RunsChangedNotification,
  StopTrainingRequest,
  TRAIN_MODEL_COMMAND,
  TrainingEventNotification,
  TrainRequest,
  type RunSummary,
  type TrainingEventParams,
  type TrainResult,
} from '../../../protocol/protocol';
import type { Analysis } from '../language/analysis';
import type { Diagnostic } from '../language/diagnostics';
import type { LineIndex } from '../language/text';
import { runDeviceJob } from '../host/device';
import { RunsPoller } from '../host/runs-poller';
import { trainingFeedback, type FeedbackInput } from '../training/feedback';
import { startTraining } from '../training/host';
import type { TrainEvent } from '../training/run';
import { listRuns, modelHashOf, readMetrics, runsFolderFor, type RunRecord } from '../training/runs';
import { toRange } from './convert';

export interface TrainingSources {
  /** Publishes a document's diagnostics again (the feedback changed). */
  publish(uri: string): void;
  /** The file path of a `file:` URI, undefined for any other. */
  filePath(uri: string): string | undefined;
  log(message: string): void;
}

export interface TrainingFeedbackSource {
  /** The feedback diagnostics of an open model file, on its current analysis. */
  diagnostics(uri: string, analysis: Analysis): Diagnostic[];
  /**
   * A model file opened: its runs are read from disk again at its next diagnostics (runs trained
   * elsewhere since it was last open), and its runs folder is followed while it stays open, so
   * that a run trained elsewhere (`ocular train` in a terminal) updates it epoch by epoch.
   */
  opened(uri: string): void;
  /** A model file closed: its runs folder is no longer followed for it. */
  closed(uri: string): void;
  /** A "Train" lens on each train section that names a model. */
  lenses(uri: string, analysis: Analysis, index: LineIndex): CodeLens[];
}

/** What feedback reads of a model's latest run, and the hash of the text it trained. */
interface LatestRun {
  readonly input: FeedbackInput;
  readonly modelHash: string;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function latestFrom(record: RunRecord, history: FeedbackInput['history']): LatestRun {
  return { modelHash: record.modelHash, input: { modelName: record.modelName, history, classes: record.classes, ...(record.error ? { error: record.error } : {}) } };
}

/**
 * The latest run of each model of a file, from its runs folder (runs of other files in the folder
 * skipped). Only those runs' metrics are read: feedback looks at nothing older.
 */
function latestRunsOnDisk(file: string, log: (message: string) => void): Map<string, LatestRun> {
  const latest = new Map<string, LatestRun>();
  try {
    // listRuns is oldest first: a later run of a model replaces an earlier one.
    const newest = new Map<string, { readonly dir: string; readonly record: RunRecord }>();
    for (const { dir, record } of listRuns(runsFolderFor(file))) if (record?.modelFile === file) newest.set(record.modelName, { dir, record });
    for (const [model, { dir, record }] of newest) latest.set(model, latestFrom(record, readMetrics(dir).epochs));
  } catch (error) {
    log(`Reading the runs of ${file} failed: ${message(error)}`);
  }
  return latest;
}

/** Seconds as the progress shows them: `42 s`, `3 min 5 s`, `1 h 2 min`. */
function timeLeft(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function summaryOf(uri: string, run: ReturnType<typeof listRuns>[number]): RunSummary {
  const record = run.record;
  if (!record) return { id: run.id, dir: run.dir, uri, problem: run.problem ?? 'run.json cannot be read' };
  const start = Date.parse(record.startedAt);
  const end = record.endedAt ? Date.parse(record.endedAt) : run.state === 'running' ? Date.now() : NaN;
  return {
    id: run.id,
    dir: run.dir,
    uri,
    model: record.modelName,
    status: run.state ?? record.status,
    epochs: record.epochs,
    epochsDone: record.epochsDone,
    ...(record.best ? { bestValAcc: record.best.val_acc } : {}),
    startedAt: record.startedAt,
    ...(Number.isFinite(end - start) ? { seconds: (end - start) / 1000 } : {}),
    backend: record.backend,
    device: record.device,
  };
}

export function registerTraining(connection: Connection, sources: TrainingSources): TrainingFeedbackSource {
  /** Latest run per model, by model file path; filled from disk the first time a file is asked about. */
  const latest = new Map<string, Map<string, LatestRun>>();
  /** Runs in progress by model file path. */
  const running = new Map<string, { readonly cancel: () => void }>();
  /** Open model files (URI → path), whose runs folders the poller follows. */
  const open = new Map<string, string>();
  const poller = new RunsPoller((folder) => {
    for (const [uri, file] of open) {
      if (running.has(file) || runsFolderFor(file) !== folder) continue;
      latest.delete(file);
      sources.publish(uri);
      void connection.sendNotification(RunsChangedNotification, { uri });
    }
  });

  const latestOf = (file: string): Map<string, LatestRun> => {
    let runs = latest.get(file);
    if (!runs) latest.set(file, (runs = latestRunsOnDisk(file, sources.log)));
    return runs;
  };

  connection.onRequest(TrainRequest, async (params, token: CancellationToken): Promise<TrainResult> => {
    const file = sources.filePath(params.uri);
    if (!file) throw new ResponseError(-32602, `Only a saved file can be trained: ${params.uri} is not a file on disk.`);
    if (running.has(file)) throw new ResponseError(-32600, `${file} is already training; stop that run first.`);
    const progress = await connection.window.createWorkDoneProgress();
    progress.begin(params.resumeRunId ? `Resuming ${params.resumeRunId}` : `Training ${params.model ?? path.basename(file)}`, 0, 'loading the dataset', true);
    /** The run once it has started, and when this process started it from which epoch (for the time left). */
    let run: { readonly record: RunRecord; readonly dir: string; readonly at: number; readonly fromEpoch: number } | undefined;
    const notify = (kind: TrainingEventParams['kind'], status: string, extra: Partial<TrainingEventParams> = {}): void => {
      if (run) void connection.sendNotification(TrainingEventNotification, { uri: params.uri, runId: run.record.id, runDir: run.dir, kind, status, ...extra });
    };
    const setHistory = (record: RunRecord, history: FeedbackInput['history']): void => {
      latestOf(file).set(record.modelName, latestFrom(record, history));
      sources.publish(params.uri);
    };
    const onEvent = (event: TrainEvent): void => {
      try {
        if (event.type === 'loading') progress.report(0, 'loading the dataset');
        else if (event.type === 'started') {
          run = { record: event.run, dir: path.join(runsFolderFor(file), event.run.id), at: Date.now(), fromEpoch: event.resumedFrom ?? 0 };
          // A resumed run goes on from its own history on disk; a new one starts with none.
          setHistory(event.run, event.resumedFrom !== undefined ? readMetrics(run.dir).epochs : []);
          const line = `run ${event.run.id} on ${event.device.backend} (${event.device.description})`;
          progress.report(0, line);
          notify('started', 'running', { message: line });
          void connection.sendNotification(RunsChangedNotification, { uri: params.uri });
        } else if (event.type === 'batch' && run) {
          const { epoch, batch, batches, loss, images_per_s: speed } = event.metrics;
          const epochs = Math.max(1, run.record.epochs);
          const done = (epoch + (batch + 1) / batches) / epochs;
          // The time left is measured from this process's start, so a resumed run's earlier epochs do not skew it.
          const share = (epoch - run.fromEpoch + (batch + 1) / batches) / Math.max(1, epochs - run.fromEpoch);
          const elapsed = (Date.now() - run.at) / 1000;
          const left = share > 0 ? ` · ${timeLeft((elapsed * (1 - share)) / share)} left` : '';
          const line = `epoch ${epoch + 1}/${epochs} · batch ${batch + 1}/${batches} · loss ${loss.toFixed(3)} · ${Math.round(speed)} images/s${left}`;
          progress.report(Math.min(100, Math.floor(100 * done)), line);
          notify('batch', 'running', { epoch, batch, batches, loss, imagesPerSecond: speed, message: line });
        } else if (event.type === 'epoch' && run) {
          setHistory(run.record, event.history);
          notify('epoch', 'running', { epoch: event.metrics.epoch, loss: event.metrics.train_loss, imagesPerSecond: event.metrics.images_per_s });
        } else if (event.type === 'finished' || event.type === 'failed') {
          const record = event.run ?? run?.record;
          if (record) setHistory(record, latestOf(file).get(record.modelName)?.input.history ?? []);
          notify(event.type, event.run?.status ?? 'failed');
          void connection.sendNotification(RunsChangedNotification, { uri: params.uri });
        }
      } catch (error) {
        sources.log(`Training event ${event.type} of ${file} could not be shown: ${message(error)}`);
      }
    };
    const handle = startTraining({ modelFile: file, backend: params.backend, ...(params.threads ? { threads: params.threads } : {}), ...(params.model ? { model: params.model } : {}), ...(params.resumeRunId ? { resumeRunId: params.resumeRunId } : {}) }, onEvent);
    running.set(file, { cancel: handle.cancel });
    const cancellations = [progress.token.onCancellationRequested(() => handle.cancel()), token.onCancellationRequested(() => handle.cancel())];
    try {
      const record = await handle.done;
      return {
        runId: record.id,
        runDir: path.join(runsFolderFor(file), record.id),
        status: record.status,
        epochsDone: record.epochsDone,
        epochs: record.epochs,
        ...(record.best ? { bestValAcc: record.best.val_acc } : {}),
        ...(record.error ? { error: record.error.message } : {}),
      };
    } catch (error) {
      // A refused request (errors in the file, no train section, no data) says why, with file:line.
      throw new ResponseError(-32603, message(error));
    } finally {
      for (const disposable of cancellations) disposable.dispose();
      running.delete(file);
      progress.done();
    }
  });

  connection.onRequest(StopTrainingRequest, (params) => {
    const file = params.uri ? sources.filePath(params.uri) : undefined;
    const targets = [...running.entries()].filter(([path]) => params.uri === undefined || path === file);
    for (const [, run] of targets) run.cancel();
    return { stopped: targets.length };
  });

  connection.onRequest(ListRunsRequest, (params) => {
    const summaries: RunSummary[] = [];
    for (const uri of params.uris) {
      const file = sources.filePath(uri);
      if (!file) continue;
      try {
        for (const run of listRuns(runsFolderFor(file))) if (!run.record || run.record.modelFile === file) summaries.push(summaryOf(uri, run));
      } catch (error) {
        sources.log(`Listing the runs of ${file} failed: ${message(error)}`);
      }
    }
    return summaries.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
  });

  // The checks take well under a second (the GPU facts come from nvidia-smi and ldconfig), so they are not cancellable.
  connection.onRequest(DeviceRequest, async (params) => (await runDeviceJob({ preference: params.backend, diagnoseGpu: false })).device);

  connection.onRequest(GpuSetupRequest, async (params) => {
    const result = await runDeviceJob({ preference: params.backend, diagnoseGpu: true });
    if (!result.gpu) throw new ResponseError(-32603, 'The GPU setup check gave no diagnosis.');
    return { device: result.device, ...result.gpu };
  });

  return {
    diagnostics(uri, analysis) {
      const file = sources.filePath(uri);
      if (!file) return [];
      const runs = [...latestOf(file).values()];
      if (runs.length === 0) return [];
      const hash = modelHashOf(analysis.source);
      return runs.flatMap((run) => trainingFeedback(analysis, { ...run.input, edited: run.modelHash !== hash }));
    },
    opened(uri) {
      const file = sources.filePath(uri);
      if (!file) return;
      // A file training in this server is followed from its run's events instead.
      if (!running.has(file)) latest.delete(file);
      if (open.has(uri)) return;
      open.set(uri, file);
      poller.follow(runsFolderFor(file));
    },
    closed(uri) {
      const file = open.get(uri);
      if (!file) return;
      open.delete(uri);
      poller.unfollow(runsFolderFor(file));
    },
    lenses(uri, analysis, index) {
      if (!sources.filePath(uri)) return [];
      return analysis.trains.flatMap((train) =>
        train.model === undefined || !analysis.models.some((m) => m.name === train.model)
          ? []
          : [{ range: toRange(index, train.section.keyword.span), command: { title: `$(play) Train ${train.model}`, command: TRAIN_MODEL_COMMAND, arguments: [uri, train.model] } }],
      );
    },
  };
}
