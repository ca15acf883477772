/**
 * Training off the caller's event loop: `startTraining` runs `trainModel` in a worker thread
 * (`train-worker.js`, emitted next to the bundle that starts it, as the decode and scan workers
 * are), forwards its events, and cancels it by message, so the run stops at the next batch and
 * leaves a consistent run folder. A worker that dies without answering (a crash, memory
 * exhausted) has its run marked failed, so it is not shown as running for ever.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TrainingError, type TrainEvent, type TrainingFailure, type TrainRequest } from './run';
import { runsFolderFor, writeRun, type RunRecord } from './runs';

/** From the host to the training worker. */
export type ToTrainWorker = { readonly type: 'cancel' };

/** From the training worker to the host. */
export type FromTrainWorker =
  | { readonly type: 'event'; readonly event: TrainEvent }
  | { readonly type: 'done'; readonly run: RunRecord }
  /** The request was refused before a run existed (errors in the file, no train section, no data). */
  | { readonly type: 'refused'; readonly failure: TrainingFailure }
  | { readonly type: 'crashed'; readonly message: string };

export interface TrainingHandle {
  /** The run's final record (completed, early-stopped, stopped or failed); rejects when refused (a `TrainingError`) or cancelled before the run started. */
  readonly done: Promise<RunRecord>;
  /** Stops the run at the next batch; its last complete epoch stays resumable. */
  cancel(): void;
}

export interface HostOptions {
  /** The worker script; `train-worker.js` beside this module by default. */
  readonly workerScript?: string;
}

export function startTraining(request: TrainRequest, onEvent: (event: TrainEvent) => void, options: HostOptions = {}): TrainingHandle {
  const worker = new Worker(options.workerScript ?? path.join(__dirname, 'train-worker.js'), { workerData: request });
  let run: RunRecord | undefined;
  let settled = false;
  const done = new Promise<RunRecord>((resolve, reject) => {
    const finish = (): void => {
      settled = true;
      void worker.terminate();
    };
    /** The worker died without an answer: its run, if it had one, is marked failed. */
    const crash = (reason: string): void => {
      if (settled) return;
      finish();
      if (!run) return reject(new Error(`Training stopped before its run started: ${reason}`));
      const kind = /memory|allocat/i.test(reason) ? 'oom' : 'error';
      const failed: RunRecord = { ...run, status: 'failed', endedAt: new Date().toISOString(), error: { kind, message: `The training worker stopped: ${reason}` } };
      try {
        writeRun(path.join(runsFolderFor(failed.modelFile), failed.id), failed);
      } catch {
        // The record stays 'running'; its process is alive, so it still reads as running until it ends.
      }
      onEvent({ type: 'failed', run: failed, error: { kind, message: failed.error!.message, file: failed.modelFile } });
      resolve(failed);
    };
    worker.on('message', (message: FromTrainWorker) => {
      switch (message.type) {
        case 'event':
          if (message.event.type === 'started' || message.event.type === 'finished' || message.event.type === 'failed') run = message.event.run ?? run;
          onEvent(message.event);
          return;
        case 'done':
          finish();
          return resolve(message.run);
        case 'refused':
          finish();
          return reject(new TrainingError(message.failure));
        case 'crashed':
          return crash(message.message);
      }
    });
    // An uncaught error is followed by 'exit', which comes after the messages the worker posted
    // before it; answering at 'exit' keeps a 'started' posted just before the crash from being lost.
    let uncaught: string | undefined;
    worker.on('error', (error) => (uncaught = error.message));
    worker.on('exit', (code) => crash(uncaught ?? `exit code ${code}`));
  });
  return {
    done,
    cancel: () => {
      if (!settled) worker.postMessage({ type: 'cancel' } satisfies ToTrainWorker);
    },
  };
}
