/**
 * Decoding many files into one shared block of tensors. The same code runs in the worker threads
 * of pool.ts and, with `workers: 0`, on the calling thread; results land in SharedArrayBuffers so
 * that nothing is copied back from a worker.
 */
import * as fs from 'node:fs';
import { DEFAULT_LIMITS, decodeImage, type DecodeLimits, type DecodeTarget } from './decode';
import type { Finding } from './findings';
import { shown } from './text';

/**
 * The pixels of a block too large to hold in memory, left in the cache file they were read from
 * and read one image at a time (see `imagePixels`). Plain data, so it crosses to worker threads.
 */
export interface FilePixels {
  readonly kind: 'file';
  readonly file: string;
  /** The file's inode, size and modification time when the block was read: a cache rewritten since is refused, not misread. */
  readonly inode: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** Byte offset of the first image in the file. */
  readonly offset: number;
}

/** Per-file results, indexed like the input list. */
export interface DecodedBlock {
  readonly count: number;
  readonly shape: DecodeTarget['shape'];
  /**
   * count × C×H×W in memory, or left in the cache file for a block larger than the in-memory
   * limit; read one image with `imagePixels`. A file that failed leaves its slot black.
   */
  readonly pixels: Uint8Array | FilePixels;
  /** 1 where the file decoded. */
  readonly ok: Uint8Array;
  /** The image's own width and height, 0 where it failed. */
  readonly widths: Int32Array;
  readonly heights: Int32Array;
  /** Two 32-bit halves per file. */
  readonly bytesHashes: Uint32Array;
  readonly dHashes: Uint32Array;
}

/** A block whose pixels are in memory: what decoding writes into. */
export interface MemoryBlock extends DecodedBlock {
  readonly pixels: Uint8Array;
}

/**
 * Open cache files by path and inode; a handful per process, kept open while it runs. A file
 * renamed over one of them leaves the open one readable, so a block keeps reading what it was read from.
 */
const openFiles = new Map<string, number>();

function descriptorFor(pixels: FilePixels): number {
  const key = `${pixels.inode}:${pixels.file}`;
  let fd = openFiles.get(key);
  if (fd === undefined) {
    fd = fs.openSync(pixels.file, 'r');
    const stat = fs.fstatSync(fd);
    if (stat.ino !== pixels.inode || stat.size !== pixels.size || stat.mtimeMs !== pixels.mtimeMs) {
      fs.closeSync(fd);
      throw new Error(`The image cache '${pixels.file}' was rewritten while its images were in use; load the dataset again.`);
    }
    openFiles.set(key, fd);
  }
  return fd;
}

/**
 * The `size` pixels (C×H×W) of one slot of a block's `pixels`: a view into memory, or read from
 * the cache file (into `into` when given, which must hold one image).
 */
export function imagePixels(pixels: Uint8Array | FilePixels, size: number, slot: number, into?: Uint8Array): Uint8Array {
  if (pixels instanceof Uint8Array) return pixels.subarray(slot * size, (slot + 1) * size);
  const out = into ?? new Uint8Array(size);
  const fd = descriptorFor(pixels);
  let read = 0;
  while (read < size) {
    const n = fs.readSync(fd, out, read, size - read, pixels.offset + slot * size + read);
    if (n === 0) throw new Error(`The image cache '${pixels.file}' ends early; delete it to have it rebuilt.`);
    read += n;
  }
  return out;
}

export function allocateBlock(count: number, shape: DecodeTarget['shape']): MemoryBlock {
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
export async function decodeInto(block: MemoryBlock, files: readonly string[], slots: readonly number[], target: DecodeTarget, limits: DecodeLimits = DEFAULT_LIMITS): Promise<IndexedFinding[]> {
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
