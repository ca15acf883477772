/**
 * What a dataset path is: an ImageFolder tree, CIFAR batches or MNIST-format IDX files. A folder
 * that holds CIFAR or IDX files stands for the files of the split it is named for (the training
 * batches for `train`, the test batch for `val` and `test`), so a dataset can point every split at
 * the folder a download unpacked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cifarVariant, type CifarVariant } from './cifar';
import type { Finding } from './findings';
import { isIdxName } from './mnist';
import { shown } from './text';
import type { DataSource, Split } from './types';

export type SourceKind = 'imagefolder' | CifarVariant | 'idx';

export interface ResolvedSource {
  readonly split: Split;
  /** Absolute. */
  readonly path: string;
  readonly kind: SourceKind;
  /** For CIFAR and IDX: the batch or images files to read, in order. */
  readonly files: readonly string[];
}

const byName = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

function pickTensorFiles(folder: string, names: readonly string[], split: Split): { kind: SourceKind; files: string[] } | undefined {
  const lower = names.map((n) => n.toLowerCase());
  const train = split === 'train';
  const take = (pattern: RegExp): string[] => names.filter((_, i) => pattern.test(lower[i]!)).sort(byName).map((n) => path.join(folder, n));
  if (lower.some((n) => /^data_batch_\d+\.bin$/.test(n) || n === 'test_batch.bin')) {
    return { kind: 'cifar10', files: take(train ? /^data_batch_\d+\.bin$/ : /^test_batch\.bin$/) };
  }
  if (lower.includes('train.bin') && lower.includes('test.bin')) return { kind: 'cifar100', files: take(train ? /^train\.bin$/ : /^test\.bin$/) };
  const idx = names.filter((n) => isIdxName(n) && /images/i.test(n) && /idx3/i.test(n));
  if (idx.length > 0) {
    // One file per split; prefer the plain file over its .gz twin when both are there.
    const wanted = idx.filter((n) => (train ? /train/i.test(n) : /(t10k|test)/i.test(n))).sort((a, b) => a.length - b.length);
    return { kind: 'idx', files: wanted.slice(0, 1).map((n) => path.join(folder, n)) };
  }
  return undefined;
}

/** Resolves a dataset source against the model file's folder. Problems are findings, never throws. */
export async function resolveSource(source: DataSource, baseDir: string): Promise<{ resolved?: ResolvedSource; findings: Finding[] }> {
  const absolute = path.resolve(baseDir, source.path);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(absolute);
  } catch {
    return { findings: [{ code: 'missing-path', severity: 'error', split: source.split, file: absolute, message: `The ${source.split} path '${shown(absolute)}' does not exist. Check the spelling, or run 'Ocular: Download Dataset' for CIFAR-10 or MNIST.` }] };
  }
  if (stat.isDirectory()) {
    let names: string[] = [];
    try {
      names = await fs.promises.readdir(absolute);
    } catch {
      // listImageFolder reports the unreadable folder with its reason.
    }
    const tensors = pickTensorFiles(absolute, names, source.split);
    if (tensors && tensors.files.length === 0) {
      return { findings: [{ code: 'missing-path', severity: 'error', split: source.split, file: absolute, message: `'${shown(absolute)}' holds ${tensors.kind === 'idx' ? 'IDX' : 'CIFAR'} files, but none for the ${source.split} split (${source.split === 'train' ? 'training' : 'test'} files). Point ${source.split} at the file itself.` }] };
    }
    return { resolved: { split: source.split, path: absolute, kind: tensors?.kind ?? 'imagefolder', files: tensors?.files ?? [] }, findings: [] };
  }
  const variant = absolute.toLowerCase().endsWith('.bin') ? cifarVariant(absolute, stat.size) : undefined;
  if (variant) return { resolved: { split: source.split, path: absolute, kind: variant, files: [absolute] }, findings: [] };
  if (isIdxName(absolute)) return { resolved: { split: source.split, path: absolute, kind: 'idx', files: [absolute] }, findings: [] };
  return {
    findings: [{ code: 'unknown-source', severity: 'error', split: source.split, file: absolute, message: `'${shown(absolute)}' is neither a folder of class folders, a CIFAR .bin batch nor an MNIST IDX file. Point ${source.split} at one of those.` }],
  };
}
