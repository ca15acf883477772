/**
 * One job in its own worker thread: the language server and the command line hand heavy data
 * work (a dataset scan, a class listing, an augmentation preview) to a new thread so their event
 * loop stays free, and end the thread to cancel. The worker side answers with `serveJob`.
 */
import { parentPort, workerData, Worker } from 'node:worker_threads';

/** Messages from a job's worker to the thread that started it. */
export type JobMessage<Result, Progress> = { readonly kind: 'progress'; readonly progress: Progress } | { readonly kind: 'done'; readonly result: Result } | { readonly kind: 'failed'; readonly error: string };

export interface JobOptions<Progress> {
  /** Aborting terminates the worker (and any threads it started) and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Progress) => void;
}

/** Runs `script` as a worker thread given `request` and resolves with what it answers. */
export function runWorkerJob<Request, Result, Progress = never>(script: string, request: Request, options: JobOptions<Progress> = {}): Promise<Result> {
  options.signal?.throwIfAborted();
  const worker = new Worker(script, { workerData: request });
  return new Promise<Result>((resolve, reject) => {
    const abort = (): void => {
      void worker.terminate();
      reject(options.signal!.reason);
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    const finish = (): void => {
      options.signal?.removeEventListener('abort', abort);
      void worker.terminate();
    };
    worker.on('message', (message: JobMessage<Result, Progress>) => {
      if (message.kind === 'progress') return options.onProgress?.(message.progress);
      finish();
      if (message.kind === 'done') resolve(message.result);
      else reject(new Error(message.error));
    });
    worker.on('error', (error) => {
      finish();
      reject(error);
    });
    worker.on('exit', (code) => {
      options.signal?.removeEventListener('abort', abort);
      reject(new Error(`The ${script.split(/[\\/]/).pop()} worker stopped with exit code ${code} before it answered.`));
    });
  });
}

/** In a job's worker: runs `job` on the request the thread was started with and posts its answer (or its error). */
export function serveJob<Request, Result, Progress = never>(job: (request: Request, progress: (progress: Progress) => void) => Promise<Result>): void {
  const post = (message: JobMessage<Result, Progress>): void => parentPort!.postMessage(message);
  job(workerData as Request, (progress) => post({ kind: 'progress', progress })).then(
    (result) => post({ kind: 'done', result }),
    (error: unknown) => post({ kind: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
}
