/**
 * Decoding many files into one shared block of tensors. The same code runs in the worker threads
 * of pool.ts and, with `workers: 0`, on the calling thread; results land in SharedArrayBuffers so
 * that nothing is copied back from a worker.
 */
import * as fs from 'node:fs';
import { DEFAULT_LIMITS, decodeImage, type DecodeLimits, type DecodeTarget } from './decode';
import type { Finding } from './findings';
import { shown } from './text';

/** Per-file results, indexed like the input list. */
export interface DecodedBlock {
  readonly count: number;
  readonly shape: DecodeTarget['shape'];
  /** count × C×H×W; a file that failed leaves its slot black. */
  readonly pixels: Uint8Array;
  /** 1 where the file decoded. */
  readonly ok: Uint8Array;
  /** The image's own width and height, 0 where it failed. */
  readonly widths: Int32Array;
  readonly heights: Int32Array;
  /** Two 32-bit halves per file. */
  readonly bytesHashes: Uint32Array;
  readonly dHashes: Uint32Array;
}

export function allocateBlock(count: number, shape: DecodeTarget['shape']): DecodedBlock {
  const shared = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(bytes);
  return {
    count,
    shape,
    pixels: new Uint8Array(shared(count * shape[0] * shape[1] * shape[2])),
    ok: new Uint8Array(shared(count)),
    widths: new Int32Array(shared(count * 4)),
    heights: new Int32Array(shared(count * 4)),
    bytesHashes: new Uint32Array(shared(count * 8)),
    dHashes: new Uint32Array(shared(count * 8)),
  };
}

export interface IndexedFinding {
  readonly index: number;
  readonly finding: Finding;
}

/** Decodes `files[i]` into slot `slots[i]` of `block`, returning the findings. */
export async function decodeInto(block: DecodedBlock, files: readonly string[], slots: readonly number[], target: DecodeTarget, limits: DecodeLimits = DEFAULT_LIMITS): Promise<IndexedFinding[]> {
  const findings: IndexedFinding[] = [];
  const size = target.shape[0] * target.shape[1] * target.shape[2];
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const slot = slots[i]!;
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'an error';
      findings.push({ index: slot, finding: { code: 'unreadable-file', severity: 'warning', file, message: `'${shown(file)}' cannot be read (${code}); it is skipped. Check its permissions.` } });
      continue;
    }
    const outcome = await decodeImage(bytes, file, target, limits);
    if (!outcome.ok) {
      findings.push({ index: slot, finding: outcome.finding });
      continue;
    }
    block.pixels.set(outcome.pixels, slot * size);
    block.ok[slot] = 1;
    block.widths[slot] = outcome.width;
    block.heights[slot] = outcome.height;
    block.bytesHashes[slot * 2] = outcome.bytesHash[0];
    block.bytesHashes[slot * 2 + 1] = outcome.bytesHash[1];
    block.dHashes[slot * 2] = outcome.dHash[0];
    block.dHashes[slot * 2 + 1] = outcome.dHash[1];
    if (outcome.finding) findings.push({ index: slot, finding: outcome.finding });
  }
  return findings;
}
