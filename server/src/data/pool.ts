/**
 * Decodes a list of files with a few worker threads, so that a first epoch over 60,000 small
 * images uses every core. Each worker decodes chunks of files into one shared result block.
 *
 * The worker script is `decode-worker.js` next to this module's compiled file; a bundle that
 * inlines this module must emit `server/src/data/decode-worker.ts` as its own entry at that place
 * (or pass `workerScript`).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_LIMITS, type DecodeLimits, type DecodeTarget } from './decode';
import { allocateBlock, decodeInto, type IndexedFinding, type MemoryBlock } from './decode-batch';
import type { WorkerChunk, WorkerInit } from './decode-worker';

export interface DecodeOptions {
  /** Worker threads; 0 decodes on the calling thread. Defaults to the number of cores. */
  readonly workers?: number;
  readonly limits?: DecodeLimits;
  /** Called as files finish, with how many are done out of how many. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
  readonly workerScript?: string;
}

const CHUNK = 128;

/**
 * Decodes `files` (absolute paths) into a new block with one slot per file, in order, or into
 * the given slots of an existing block (which must have been made by allocateBlock, so that its
 * arrays are shared with the workers).
 */
export async function decodeFiles(
  files: readonly string[],
  target: DecodeTarget,
  options: DecodeOptions = {},
  into?: { readonly block: MemoryBlock; readonly slots: readonly number[] },
): Promise<{ block: MemoryBlock; findings: IndexedFinding[] }> {
  const block = into?.block ?? allocateBlock(files.length, target.shape);
  const slotOf = (i: number): number => (into ? into.slots[i]! : i);
  const limits = options.limits ?? DEFAULT_LIMITS;
  const findings: IndexedFinding[] = [];
  const workers = Math.min(options.workers ?? os.availableParallelism(), Math.ceil(files.length / CHUNK));
  let done = 0;
  if (workers <= 0) {
    for (let start = 0; start < files.length; start += CHUNK) {
      options.signal?.throwIfAborted();
      const slots = Array.from({ length: Math.min(CHUNK, files.length - start) }, (_, i) => slotOf(start + i));
      findings.push(...(await decodeInto(block, files.slice(start, start + CHUNK), slots, target, limits)));
      done += slots.length;
      options.onProgress?.(done, files.length);
    }
    return { block, findings };
  }
  const script = options.workerScript ?? path.join(__dirname, 'decode-worker.js');
  let next = 0;
  const pool = Array.from({ length: workers }, () => new Worker(script));
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const abort = (): void => reject(options.signal!.reason);
      options.signal?.addEventListener('abort', abort, { once: true });
      const feed = (worker: Worker): void => {
        if (next >= files.length) {
          if (running === 0) resolve();
          return;
        }
        const start = next;
        next = Math.min(files.length, next + CHUNK);
        running++;
        const chunk: WorkerChunk = { kind: 'chunk', files: files.slice(start, next), slots: Array.from({ length: next - start }, (_, i) => slotOf(start + i)) };
        worker.postMessage(chunk);
      };
      for (const worker of pool) {
        worker.on('message', (reply: { findings?: IndexedFinding[]; done?: number; error?: string }) => {
          running--;
          if (reply.error) return reject(new Error(`Decoding failed in a worker: ${reply.error}`));
          findings.push(...reply.findings!);
          done += reply.done!;
          options.onProgress?.(done, files.length);
          feed(worker);
        });
        worker.on('error', reject);
        const init: WorkerInit = { kind: 'init', block, target, limits };
        worker.postMessage(init);
        feed(worker);
      }
      if (files.length === 0) resolve();
    });
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
  findings.sort((a, b) => a.index - b.index);
  return { block, findings };
}
