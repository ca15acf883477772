/**
 * The worker thread behind pool.ts: it receives the shared result block once, then chunks of
 * file names, and answers each chunk with its findings. Bundlers must emit this file as its own
 * entry point next to the module that loads pool.ts (see pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { DecodeLimits, DecodeTarget } from './decode';
import { decodeInto, type MemoryBlock } from './decode-batch';

export interface WorkerInit {
  readonly kind: 'init';
  readonly block: MemoryBlock;
  readonly target: DecodeTarget;
  readonly limits: DecodeLimits;
}

export interface WorkerChunk {
  readonly kind: 'chunk';
  readonly files: readonly string[];
  readonly slots: readonly number[];
}

let state: WorkerInit | undefined;

parentPort?.on('message', (message: WorkerInit | WorkerChunk) => {
  if (message.kind === 'init') {
    state = message;
    return;
  }
  const { block, target, limits } = state!;
  decodeInto(block, message.files, message.slots, target, limits).then(
    (findings) => parentPort!.postMessage({ findings, done: message.files.length }),
    (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
});
