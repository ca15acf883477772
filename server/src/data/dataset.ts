/**
 * A dataset section brought to life: scanning (which images, which classes, which split each
 * image is in, without decoding anything) and loading (every usable image decoded to the model's
 * shape, through the cache). The dataset view calls scanDataset; training calls loadDataset.
 */
import * as path from 'node:path';
import { decodeWithCache } from './cache';
import { readCifar } from './cifar';
import type { DecodeLimits } from './decode';
import { imagePixels, type DecodedBlock, type IndexedFinding } from './decode-batch';
import type { Finding } from './findings';
import { bytesHash, dHash } from './fingerprint';
import { listImageFolder, type FolderListing } from './listing';
import { readIdx } from './mnist';
import { decodeFiles } from './pool';
import { resolveSource, type ResolvedSource, type SourceKind } from './sources';
import { stratifiedSplit } from './split';
import { fitTensors, type TensorSet } from './tensors';
import { plural, shown } from './text';
import { SPLITS, type DatasetSpec, type ImageShape, type ResizeMode, type Split } from './types';

/** One source folder or file, listed. */
export interface SourceData {
  readonly source: ResolvedSource;
  /** One per listed image: the file, or `file#record` for CIFAR and IDX. */
  readonly ids: readonly string[];
  /** One per listed image: the label in the dataset's class list, or −1 for a class it does not have. */
  readonly labels: Int32Array;
  readonly listing?: FolderListing;
  readonly tensors?: TensorSet;
}

/** The images of one split: positions in its source's list, with their labels. */
export interface SplitView {
  readonly split: Split;
  readonly kind: SourceKind;
  /** The source path, absolute. */
  readonly path: string;
  /** Set when the split was carved out of another by `split val=… test=…`. */
  readonly carvedFrom?: Split;
  readonly members: Int32Array;
  readonly labels: Int32Array;
  readonly ids: readonly string[];
  /** Class folders that exist in this split's source (ImageFolder only). */
  readonly folders?: readonly string[];
}

export interface DatasetScan {
  /** Class names in label order. */
  readonly classes: readonly string[];
  readonly splits: Readonly<Partial<Record<Split, SplitView>>>;
  readonly sources: readonly SourceData[];
  readonly findings: readonly Finding[];
}

export interface ScanOptions {
  /** The folder of the model file; relative source paths start there. */
  readonly baseDir: string;
  /**
   * List only these classes' folders (ImageFolder sources): the dataset views need one class, and
   * listing the rest costs seconds at ImageNet size. Splits carved by `split` are carved per class,
   * so a class's members are the same as in a full scan; class counts and findings about the other
   * classes are not.
   */
  readonly onlyClasses?: readonly string[];
  readonly signal?: AbortSignal;
}

function classNames(spec: DatasetSpec, sources: readonly SourceData[]): string[] {
  if (Array.isArray(spec.classes)) return [...(spec.classes as readonly string[])];
  const main = sources.find((s) => s.source.split === 'train') ?? sources[0];
  if (!main) return [];
  return [...(main.listing?.classes ?? main.tensors?.classes ?? [])];
}

async function readSource(source: ResolvedSource, options: ScanOptions): Promise<{ listing?: FolderListing; tensors?: TensorSet; findings: Finding[] }> {
  if (source.kind === 'imagefolder') {
    const listing = await listImageFolder(source.path, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onlyClasses ? { only: options.onlyClasses } : {}) });
    return { listing, findings: listing.findings.map((f) => ({ ...f, split: source.split })) };
  }
  if (source.kind === 'idx') {
    const parts = source.files.map((file) => readIdx(file));
    const findings = parts.flatMap((p) => p.findings.map((f) => ({ ...f, split: source.split })));
    const sets = parts.flatMap((p) => (p.set ? [p.set] : []));
    return { ...(sets[0] ? { tensors: sets[0] } : {}), findings };
  }
  const { set, findings } = readCifar(source.files, source.kind);
  return { ...(set.labels.length > 0 ? { tensors: set } : {}), findings: findings.map((f) => ({ ...f, split: source.split })) };
}

/**
 * Lists every source of a dataset, decides the class list and the images of each split. Nothing
 * is decoded; CIFAR and IDX files are read (they hold their labels). Never throws for what it
 * finds on disk.
 */
export async function scanDataset(spec: DatasetSpec, options: ScanOptions): Promise<DatasetScan> {
  const findings: Finding[] = [];
  const resolved: ResolvedSource[] = [];
  for (const source of spec.sources) {
    const result = await resolveSource(source, options.baseDir);
    findings.push(...result.findings);
    if (result.resolved) resolved.push(result.resolved);
  }
  const raw: { source: ResolvedSource; listing?: FolderListing; tensors?: TensorSet }[] = [];
  for (const source of resolved) {
    const read = await readSource(source, options);
    findings.push(...read.findings);
    raw.push({ source, ...(read.listing ? { listing: read.listing } : {}), ...(read.tensors ? { tensors: read.tensors } : {}) });
  }
  const provisional = raw.map((r) => ({ ...r, ids: [], labels: new Int32Array(0) }));
  const classes = classNames(spec, provisional);
  const labelOf = new Map(classes.map((name, i) => [name, i]));

  const sources: SourceData[] = raw.map((r) => {
    if (r.listing) {
      const files = r.listing.files;
      const labels = Int32Array.from(files, (f) => labelOf.get(f.class) ?? -1);
      for (const folder of r.listing.classes.filter((c) => !labelOf.has(c) && (!options.onlyClasses || options.onlyClasses.includes(c)))) {
        const n = files.filter((f) => f.class === folder).length;
        findings.push({
          code: 'unknown-class',
          severity: 'warning',
          split: r.source.split,
          class: folder,
          file: path.join(r.source.path, folder),
          count: n,
          message: `The ${r.source.split} folder has a class folder '${shown(folder)}' (${plural(n, 'image')}) that is not among the dataset's classes; its images are left out. ${Array.isArray(spec.classes) ? 'Add it to classes (…)' : 'Add the same folder to the training images'} or remove it.`,
        });
      }
      return { source: r.source, listing: r.listing, ids: files.map((f) => f.path), labels };
    }
    const set = r.tensors;
    if (!set) return { source: r.source, ids: [], labels: new Int32Array(0) };
    // Tensor files number their classes; names written in the model file replace the numbers.
    const labels = Int32Array.from(set.labels, (l) => (l < classes.length || classes.length === 0 ? l : -1));
    return { source: r.source, tensors: set, ids: set.ids, labels };
  });

  const splits: Partial<Record<Split, SplitView>> = {};
  const view = (data: SourceData, split: Split, members: Int32Array, carvedFrom?: Split): SplitView => ({
    split,
    kind: data.source.kind,
    path: data.source.path,
    ...(carvedFrom ? { carvedFrom } : {}),
    members,
    labels: Int32Array.from(members, (m) => data.labels[m]!),
    ids: Array.from(members, (m) => data.ids[m]!),
    ...(data.listing ? { folders: data.listing.classes } : {}),
  });
  const known = (data: SourceData): Int32Array => {
    const members: number[] = [];
    data.labels.forEach((l, i) => l >= 0 && members.push(i));
    return Int32Array.from(members);
  };
  for (const data of sources) if (!splits[data.source.split]) splits[data.source.split] = view(data, data.source.split, known(data));

  const train = sources.find((s) => s.source.split === 'train');
  const ratios = spec.split;
  const carveVal = ratios && ratios.val > 0 && !splits.val;
  const carveTest = ratios && ratios.test > 0 && !splits.test;
  if (train && ratios && (carveVal || carveTest)) {
    const all = known(train);
    const parts = stratifiedSplit(Int32Array.from(all, (m) => train.labels[m]!), Array.from(all, (m) => train.ids[m]!), {
      val: carveVal ? ratios.val : 0,
      test: carveTest ? ratios.test : 0,
      seed: ratios.seed,
    });
    const pick = (positions: Int32Array): Int32Array => Int32Array.from(positions, (p) => all[p]!);
    splits.train = view(train, 'train', pick(parts.train));
    if (carveVal) splits.val = view(train, 'val', pick(parts.val), 'train');
    if (carveTest) splits.test = view(train, 'test', pick(parts.test), 'train');
  }
  return { classes, splits, sources, findings };
}

/** The images of one split, decoded: what training and evaluation read. */
export interface TensorSplit {
  readonly split: Split;
  readonly shape: ImageShape;
  /** Usable images in the split (those that decoded). */
  readonly count: number;
  /** Every image of the split's source, decoded; the split uses the slots in `index`. */
  readonly block: DecodedBlock;
  /** For each image of the split, its slot in `block`. */
  readonly index: Int32Array;
  readonly labels: Int32Array;
  /** For each image of the split, its file (or `file#record`). */
  readonly ids: readonly string[];
}

export interface LoadedDataset {
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  readonly resize: ResizeMode;
  readonly splits: Readonly<Partial<Record<Split, TensorSplit>>>;
  readonly scan: DatasetScan;
  /** The scan's findings and those of decoding, each naming its file. */
  readonly findings: readonly Finding[];
  /** Images decoded in this load, and images taken from the cache. */
  readonly decoded: number;
  readonly reused: number;
}

export interface LoadProgress {
  readonly stage: 'scan' | 'decode';
  readonly source?: string;
  readonly done: number;
  readonly total: number;
}

export interface LoadOptions extends ScanOptions {
  /** The shape to decode to: the model's input. Defaults to the dataset's `image`, then the files' own shape, then 3×224×224. */
  readonly image?: ImageShape;
  /** Where decoded images are cached (e.g. `.ocular/cache`); without it, every load decodes. */
  readonly cacheDir?: string;
  /** Decoding threads; 0 decodes on the calling thread. Defaults to the number of cores. */
  readonly workers?: number;
  readonly limits?: DecodeLimits;
  readonly onProgress?: (progress: LoadProgress) => void;
  /** A scan made before, to avoid listing twice. */
  readonly scan?: DatasetScan;
  /** Cached pixels above this many bytes per source are read from the cache file image by image (cache.ts). */
  readonly inMemoryBytes?: number;
}

/** A block for images that came decoded (CIFAR, IDX), with their fingerprints. */
function tensorBlock(set: TensorSet, shape: ImageShape, resize: ResizeMode): DecodedBlock {
  const pixels = fitTensors(set, shape, resize);
  const count = set.labels.length;
  const size = shape[0] * shape[1] * shape[2];
  const stored = set.shape[0] * set.shape[1] * set.shape[2];
  const bytesHashes = new Uint32Array(count * 2);
  const dHashes = new Uint32Array(count * 2);
  for (let i = 0; i < count; i++) {
    const [a, b] = bytesHash(set.pixels.subarray(i * stored, (i + 1) * stored));
    const [c, d] = dHash(pixels.subarray(i * size, (i + 1) * size), shape);
    bytesHashes[i * 2] = a;
    bytesHashes[i * 2 + 1] = b;
    dHashes[i * 2] = c;
    dHashes[i * 2 + 1] = d;
  }
  return {
    count,
    shape,
    pixels,
    ok: new Uint8Array(count).fill(1),
    widths: new Int32Array(count).fill(set.shape[2]),
    heights: new Int32Array(count).fill(set.shape[1]),
    bytesHashes,
    dHashes,
  };
}

/**
 * Scans (unless given a scan) and decodes a dataset for training. Images that cannot be decoded
 * are left out of their split and reported; the load itself fails only when aborted.
 */
export async function loadDataset(spec: DatasetSpec, options: LoadOptions): Promise<LoadedDataset> {
  options.onProgress?.({ stage: 'scan', done: 0, total: 1 });
  const scan = options.scan ?? (await scanDataset(spec, options));
  options.onProgress?.({ stage: 'scan', done: 1, total: 1 });
  const firstTensor = scan.sources.find((s) => s.tensors)?.tensors;
  const shape: ImageShape = options.image ?? spec.image ?? firstTensor?.shape ?? [3, 224, 224];
  const target = { shape, resize: spec.resize };
  const findings: Finding[] = [...scan.findings];
  let decoded = 0;
  let reused = 0;

  const blocks = new Map<string, DecodedBlock>();
  for (const data of scan.sources) {
    if (blocks.has(data.source.path)) continue;
    options.signal?.throwIfAborted();
    if (data.tensors) {
      blocks.set(data.source.path, tensorBlock(data.tensors, shape, spec.resize));
      continue;
    }
    const files = data.listing?.files ?? [];
    const progress = (done: number, total: number): void => options.onProgress?.({ stage: 'decode', source: data.source.path, done, total });
    const decodeOptions = {
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: progress,
    };
    let result: { block: DecodedBlock; findings: readonly IndexedFinding[] };
    if (options.cacheDir) {
      const cached = await decodeWithCache(data.source.path, files, target, options.cacheDir, { ...decodeOptions, ...(options.inMemoryBytes !== undefined ? { inMemoryBytes: options.inMemoryBytes } : {}) });
      decoded += cached.decoded;
      reused += cached.reused;
      if (cached.cacheError) findings.push({ code: 'cache-not-written', severity: 'info', file: cached.cacheFile, message: cached.cacheError });
      result = cached;
    } else {
      result = await decodeFiles(files.map((f) => f.path), target, decodeOptions);
      decoded += files.length;
    }
    blocks.set(data.source.path, result.block);
    const splitOf = new Map<number, Split>();
    for (const split of SPLITS) {
      const v = scan.splits[split];
      if (v && v.path === data.source.path) for (const m of v.members) splitOf.set(m, split);
    }
    for (const { index, finding } of result.findings) {
      const split = splitOf.get(index) ?? data.source.split;
      findings.push({ ...finding, split, ...(files[index] ? { class: files[index]!.class } : {}) });
    }
  }

  const splits: Partial<Record<Split, TensorSplit>> = {};
  for (const split of SPLITS) {
    const v = scan.splits[split];
    const block = v && blocks.get(v.path);
    if (!v || !block) continue;
    const keep: number[] = [];
    v.members.forEach((m, i) => block.ok[m] && keep.push(i));
    splits[split] = {
      split,
      shape,
      count: keep.length,
      block,
      index: Int32Array.from(keep, (i) => v.members[i]!),
      labels: Int32Array.from(keep, (i) => v.labels[i]!),
      ids: keep.map((i) => v.ids[i]!),
    };
  }
  return { classes: scan.classes, shape, resize: spec.resize, splits, scan, findings, decoded, reused };
}

/** One image of a split as C×H×W uint8: a view when the pixels are in memory, else read from the cache file. */
export function imageAt(split: TensorSplit, i: number): Uint8Array {
  return imagePixels(split.block.pixels, split.shape[0] * split.shape[1] * split.shape[2], split.index[i]!);
}
