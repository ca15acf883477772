/**
 * CIFAR-10 and CIFAR-100 binary batches. A CIFAR-10 record is one label byte and 3,072 pixel bytes
 * (the red, green and blue 32×32 planes, already C×H×W); a CIFAR-100 record has a coarse and a fine
 * label byte before the pixels, and Ocular trains on the fine label.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Finding } from './findings';
import { shown } from './text';
import type { TensorSet } from './tensors';

export const CIFAR_PIXELS = 3 * 32 * 32;

export type CifarVariant = 'cifar10' | 'cifar100';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Which variant a batch file is, from its name, then its size. */
export function cifarVariant(file: string, size: number): CifarVariant | undefined {
  const name = path.basename(file).toLowerCase();
  if (/^(data_batch_\d+|test_batch)\.bin$/.test(name)) return 'cifar10';
  if (/^(train|test)\.bin$/.test(name)) return 'cifar100';
  if (size > 0 && size % (CIFAR_PIXELS + 1) === 0) return 'cifar10';
  if (size > 0 && size % (CIFAR_PIXELS + 2) === 0) return 'cifar100';
  return undefined;
}

/** Class names from the label-name file beside a batch, when there is one. */
function labelNames(folder: string, variant: CifarVariant, classes: number): string[] {
  const candidates = variant === 'cifar10' ? ['batches.meta.txt'] : ['fine_label_names.txt'];
  for (const name of candidates) {
    try {
      const names = fs.readFileSync(path.join(folder, name), 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
      if (names.length >= classes) return names;
    } catch {
      // No names file: CIFAR-10 has well-known names, CIFAR-100 falls back to numbers.
    }
  }
  return variant === 'cifar10' && classes <= 10 ? CIFAR10_CLASSES.slice() : Array.from({ length: classes }, (_, i) => String(i));
}

/** Reads CIFAR batches (all of one variant) into one tensor set; bad files become findings. */
export function readCifar(files: readonly string[], variant: CifarVariant): { set: TensorSet; findings: Finding[] } {
  const record = CIFAR_PIXELS + (variant === 'cifar10' ? 1 : 2);
  const findings: Finding[] = [];
  const buffers: { file: string; bytes: Buffer }[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (error) {
      findings.push({ code: 'unreadable-file', severity: 'error', file, message: `'${shown(file)}' cannot be read (${(error as NodeJS.ErrnoException).code ?? 'an error'}). Check that it exists and its permissions.` });
      continue;
    }
    if (bytes.length === 0 || bytes.length % record !== 0) {
      const whole = Math.floor(bytes.length / record);
      findings.push({
        code: 'corrupt-tensor-file',
        severity: 'error',
        file,
        message: `'${shown(file)}' is ${bytes.length.toLocaleString('en-US')} bytes, not a whole number of ${variant === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} records (${record} bytes each); ${whole > 0 ? `the first ${whole.toLocaleString('en-US')} records are used. ` : ''}Download it again: it is probably cut short.`,
      });
      if (whole === 0) continue;
      bytes = bytes.subarray(0, whole * record);
    }
    buffers.push({ file, bytes });
  }
  const count = buffers.reduce((n, b) => n + b.bytes.length / record, 0);
  const pixels = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Int32Array(count);
  const ids: string[] = [];
  let n = 0;
  let maxLabel = variant === 'cifar10' ? 9 : 99;
  for (const { file, bytes } of buffers) {
    for (let r = 0; r < bytes.length / record; r++, n++) {
      const at = r * record;
      labels[n] = bytes[at + record - CIFAR_PIXELS - 1]!;
      maxLabel = Math.max(maxLabel, labels[n]!);
      pixels.set(bytes.subarray(at + record - CIFAR_PIXELS, at + record), n * CIFAR_PIXELS);
      ids.push(`${file}#${r}`);
    }
  }
  const folder = files[0] ? path.dirname(files[0]) : '.';
  return { set: { shape: [3, 32, 32], pixels, labels, ids, classes: labelNames(folder, variant, maxLabel + 1) }, findings };
}
