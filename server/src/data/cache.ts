/**
 * The decoded-image cache: one binary file per image folder and target shape, holding every
 * image as C×H×W uint8 plus its original size and fingerprints, and an index of the files it was
 * made from (path, size, modification time). Loading it reads no image file; when files were
 * added or changed, only those are decoded and the rest are copied from the old cache. The file is
 * written to a temporary name and renamed into place, so a crash leaves the old cache or the new
 * one, never half of one.
 *
 * Layout: the magic `OCULARC1`, a uint32 header length, the JSON header, then 8-byte-aligned
 * sections: ok flags (N bytes), widths and heights (N int32 each), byte and difference hashes
 * (2N uint32 each), pixels (N × C×H×W bytes).
 *
 * Reading is bounded in memory: the header and the small sections (about 25 bytes an image) are
 * read whole, the pixels only when they fit the in-memory limit; a larger set (ImageNet at
 * 224×224 is some 190 GB) keeps its pixels in the file and each image is read when it is used.
 */
import { constants as bufferConstants } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DecodeTarget } from './decode';
import { allocateBlock, imagePixels, type DecodedBlock, type IndexedFinding, type MemoryBlock } from './decode-batch';
import type { ImageFile } from './listing';
import { decodeFiles, type DecodeOptions } from './pool';

const MAGIC = 'OCULARC1';
/** Raised whenever decoding changes what it produces for the same file, so old caches are not trusted. */
export const DECODER_VERSION = 2;

/**
 * The most pixel bytes a cache read brings into memory by default: a quarter of the machine's
 * memory, and never more than one typed array can hold. Above it the pixels stay in the file.
 */
export const DEFAULT_IN_MEMORY_BYTES = Math.min(bufferConstants.MAX_LENGTH, Math.floor(os.totalmem() / 4));

export interface CacheOptions extends DecodeOptions {
  /** Pixel bytes above which a cache's images are read from its file one at a time; DEFAULT_IN_MEMORY_BYTES by default. */
  readonly inMemoryBytes?: number;
}

interface Header {
  readonly version: number;
  readonly root: string;
  readonly shape: readonly number[];
  readonly resize: string;
  readonly files: readonly string[];
  readonly sizes: readonly number[];
  readonly mtimes: readonly number[];
  readonly findings: readonly IndexedFinding[];
}

export interface CachedDecode {
  readonly block: DecodedBlock;
  readonly findings: readonly IndexedFinding[];
  /** Images decoded this time (0 when the cache was complete). */
  readonly decoded: number;
  /** Images taken from the cache. */
  readonly reused: number;
  readonly cacheFile: string;
  /** Why the cache could not be written, when it could not; the images are decoded all the same. */
  readonly cacheError?: string;
}

/** The cache file for an image folder and target: the same inputs always give the same name. */
export function cacheFileFor(cacheDir: string, root: string, target: DecodeTarget): string {
  const key = createHash('sha1').update(JSON.stringify([path.resolve(root), target.shape, target.resize, DECODER_VERSION])).digest('hex').slice(0, 16);
  const label = path.basename(root).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'data';
  return path.join(cacheDir, `${label}-${target.shape.join('x')}-${target.resize}-${key}.bin`);
}

const align8 = (n: number): number => (n + 7) & ~7;

function sections(count: number, imageSize: number): { ok: number; widths: number; heights: number; bytesHashes: number; dHashes: number; pixels: number; end: number } {
  const ok = 0;
  const widths = align8(ok + count);
  const heights = widths + align8(count * 4);
  const bytesHashes = heights + align8(count * 4);
  const dHashes = bytesHashes + align8(count * 8);
  const pixels = dHashes + align8(count * 8);
  return { ok, widths, heights, bytesHashes, dHashes, pixels, end: pixels + count * imageSize };
}

/** `length` bytes of `fd` from `position` into a fresh buffer (so typed views on it start aligned), or undefined at the end of the file. */
function readExactly(fd: number, position: number, length: number): Uint8Array | undefined {
  const bytes = new Uint8Array(length);
  let read = 0;
  while (read < length) {
    const n = fs.readSync(fd, bytes, read, length - read, position + read);
    if (n === 0) return undefined;
    read += n;
  }
  return bytes;
}

/**
 * Reads a cache file, or returns undefined when it is missing, damaged or made for other
 * settings. Pixels beyond `inMemoryBytes` are left in the file (see the module comment).
 */
function readCache(file: string, root: string, target: DecodeTarget, inMemoryBytes: number): { header: Header; block: DecodedBlock } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const stat = fs.fstatSync(fd);
    const start = readExactly(fd, 0, 12);
    if (!start || Buffer.from(start.subarray(0, 8)).toString('latin1') !== MAGIC) return undefined;
    const headerLength = new DataView(start.buffer).getUint32(8, true);
    const headerBytes = readExactly(fd, 12, headerLength);
    if (!headerBytes) return undefined;
    const header = JSON.parse(Buffer.from(headerBytes).toString('utf8')) as Header;
    if (header.version !== DECODER_VERSION || header.root !== path.resolve(root) || header.resize !== target.resize || header.shape.join('x') !== target.shape.join('x')) return undefined;
    const count = header.files.length;
    const imageSize = target.shape[0] * target.shape[1] * target.shape[2];
    const base = align8(12 + headerLength);
    const at = sections(count, imageSize);
    if (base + at.end !== stat.size) return undefined;
    const small = readExactly(fd, base, at.pixels);
    if (!small) return undefined;
    const pixelBytes = count * imageSize;
    const pixels = pixelBytes <= inMemoryBytes ? readExactly(fd, base + at.pixels, pixelBytes) : { kind: 'file' as const, file, inode: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, offset: base + at.pixels };
    if (!pixels) return undefined;
    const block: DecodedBlock = {
      count,
      shape: target.shape,
      ok: small.subarray(at.ok, at.ok + count),
      widths: new Int32Array(small.buffer, at.widths, count),
      heights: new Int32Array(small.buffer, at.heights, count),
      bytesHashes: new Uint32Array(small.buffer, at.bytesHashes, count * 2),
      dHashes: new Uint32Array(small.buffer, at.dHashes, count * 2),
      pixels,
    };
    return { header, block };
  } catch {
    // A damaged cache is only a slower start: it is rebuilt.
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

async function writeCache(file: string, header: Header, block: MemoryBlock): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(align8(12 + json.length));
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, 8);
  json.copy(prefix, 12);
  const count = block.count;
  const at = sections(count, block.shape[0] * block.shape[1] * block.shape[2]);
  const pad = (view: ArrayBufferView, start: number, next: number): Uint8Array[] => {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    return next - start > bytes.length ? [bytes, new Uint8Array(next - start - bytes.length)] : [bytes];
  };
  const parts: Uint8Array[] = [
    prefix,
    ...pad(block.ok, at.ok, at.widths),
    ...pad(block.widths, at.widths, at.heights),
    ...pad(block.heights, at.heights, at.bytesHashes),
    ...pad(block.bytesHashes, at.bytesHashes, at.dHashes),
    ...pad(block.dHashes, at.dHashes, at.pixels),
    new Uint8Array(block.pixels.buffer, block.pixels.byteOffset, count * block.shape[0] * block.shape[1] * block.shape[2]),
  ];
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const handle = await fs.promises.open(temp, 'w');
  try {
    await handle.writev(parts);
  } finally {
    await handle.close();
  }
  try {
    await fs.promises.rename(temp, file);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
}

/**
 * Decodes the images of an image folder through the cache in `cacheDir`. `files` must carry
 * sizes and modification times (listImageFolder's default). A file whose path, size and
 * modification time match the cache is not read; every other one is decoded. A cache that cannot
 * be written (read-only folder, full disk) only costs the next run its speed.
 */
export async function decodeWithCache(root: string, files: readonly ImageFile[], target: DecodeTarget, cacheDir: string, options: CacheOptions = {}): Promise<CachedDecode> {
  const cacheFile = cacheFileFor(cacheDir, root, target);
  const absoluteRoot = path.resolve(root);
  const relative = files.map((f) => path.relative(absoluteRoot, f.path));
  const old = readCache(cacheFile, root, target, options.inMemoryBytes ?? DEFAULT_IN_MEMORY_BYTES);
  const imageSize = target.shape[0] * target.shape[1] * target.shape[2];

  const oldIndex = new Map<string, number>();
  old?.header.files.forEach((name, i) => oldIndex.set(name, i));
  const reuse = new Int32Array(files.length).fill(-1);
  let unchanged = old !== undefined && old.header.files.length === files.length;
  files.forEach((f, i) => {
    const j = oldIndex.get(relative[i]!);
    if (j !== undefined && old!.header.sizes[j] === f.size && old!.header.mtimes[j] === f.mtimeMs) reuse[i] = j;
    if (reuse[i] !== i) unchanged = false;
  });
  if (unchanged && old) {
    return { block: old.block, findings: old.header.findings, decoded: 0, reused: files.length, cacheFile };
  }

  const block = allocateBlock(files.length, target.shape);
  const oldFindings = new Map<number, IndexedFinding[]>();
  for (const entry of old?.header.findings ?? []) {
    const list = oldFindings.get(entry.index) ?? [];
    list.push(entry);
    oldFindings.set(entry.index, list);
  }
  const findings: IndexedFinding[] = [];
  const toDecode: number[] = [];
  for (let i = 0; i < files.length; i++) {
    const j = reuse[i]!;
    if (j < 0) {
      toDecode.push(i);
      continue;
    }
    const from = old!.block;
    block.ok[i] = from.ok[j]!;
    block.widths[i] = from.widths[j]!;
    block.heights[i] = from.heights[j]!;
    block.bytesHashes.set(from.bytesHashes.subarray(j * 2, j * 2 + 2), i * 2);
    block.dHashes.set(from.dHashes.subarray(j * 2, j * 2 + 2), i * 2);
    block.pixels.set(imagePixels(from.pixels, imageSize, j), i * imageSize);
    for (const entry of oldFindings.get(j) ?? []) findings.push({ index: i, finding: entry.finding });
  }
  const fresh = await decodeFiles(toDecode.map((i) => files[i]!.path), target, options, { block, slots: toDecode });
  findings.push(...fresh.findings);
  findings.sort((a, b) => a.index - b.index);
  const header: Header = {
    version: DECODER_VERSION,
    root: absoluteRoot,
    shape: target.shape,
    resize: target.resize,
    files: relative,
    sizes: files.map((f) => f.size),
    mtimes: files.map((f) => f.mtimeMs),
    findings,
  };
  let cacheError: string | undefined;
  try {
    await writeCache(cacheFile, header, block);
  } catch (error) {
    cacheError = `The image cache '${cacheFile}' could not be written (${(error as Error).message}); the next run decodes the images again.`;
  }
  return { block, findings, decoded: toDecode.length, reused: files.length - toDecode.length, cacheFile, ...(cacheError ? { cacheError } : {}) };
}
