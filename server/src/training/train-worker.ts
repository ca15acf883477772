/**
 * The training worker thread (bundled as `dist/train-worker.js`): runs `trainModel` on the
 * request it was started with, posts every event, and aborts the run when told to cancel.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromTrainWorker, ToTrainWorker } from './host';
import { trainModel, TrainingError, type TrainRequest } from './run';

const post = (message: FromTrainWorker): void => parentPort!.postMessage(message);
const controller = new AbortController();
parentPort!.on('message', (message: ToTrainWorker) => {
  if (message.type === 'cancel') controller.abort();
});

trainModel(workerData as TrainRequest, (event) => post({ type: 'event', event }), controller.signal).then(
  (run) => post({ type: 'done', run }),
  (error: unknown) => {
    if (error instanceof TrainingError) post({ type: 'refused', failure: error.failure });
    else if (controller.signal.aborted) post({ type: 'crashed', message: 'cancelled before the run started' });
    else post({ type: 'crashed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  },
);
