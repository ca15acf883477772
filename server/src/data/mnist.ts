/**
 * MNIST-format IDX files (MNIST, Fashion-MNIST, EMNIST), gzipped or not. An images file is a
 * big-endian header (magic 0x00000803: unsigned bytes, three dimensions) and count × 28 × 28 grey
 * pixels; its labels file (magic 0x00000801) sits beside it with `labels` for `images` and `idx1`
 * for `idx3` in the name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Finding } from './findings';
import { shown } from './text';
import type { TensorSet } from './tensors';

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export function isIdxName(file: string): boolean {
  return /(-ubyte|\.idx\d?)(\.gz)?$/i.test(file);
}

/** The labels file that belongs to an images file, by the names MNIST and its relatives use. */
export function labelsFileFor(imagesFile: string): string {
  const name = path.basename(imagesFile).replace(/images/i, (m) => (m === 'IMAGES' ? 'LABELS' : 'labels')).replace(/idx3/i, 'idx1');
  return path.join(path.dirname(imagesFile), name);
}

/** `file` or, when it is missing, the same name with or without `.gz`. */
function existing(file: string): string | undefined {
  for (const candidate of [file, file.endsWith('.gz') ? file.slice(0, -3) : `${file}.gz`]) if (fs.existsSync(candidate)) return candidate;
  return undefined;
}

function parseIdx(file: string, expectDims: number): { dims: number[]; data: Uint8Array } {
  let bytes: Buffer = fs.readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (error) {
      throw new Error(`it is a damaged gzip file (${(error as Error).message})`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new Error('it does not start with an IDX header');
  if (bytes[2] !== 0x08) throw new Error(`its values are of type 0x${bytes[2]!.toString(16)}, not unsigned bytes (0x08)`);
  const dims = bytes[3]!;
  if (dims !== expectDims) throw new Error(`it has ${dims} dimensions where ${expectDims} were expected`);
  const shape: number[] = [];
  for (let d = 0; d < dims; d++) shape.push(bytes.readUInt32BE(4 + d * 4));
  const header = 4 + dims * 4;
  const expected = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - header < expected) throw new Error(`its header promises ${expected.toLocaleString('en-US')} values but it holds ${(bytes.length - header).toLocaleString('en-US')}; it is cut short`);
  return { dims: shape, data: new Uint8Array(bytes.buffer, bytes.byteOffset + header, expected) };
}

/** Reads an images file and its labels file. EMNIST stores images transposed; they are turned upright. */
export function readIdx(imagesFile: string): { set?: TensorSet; findings: Finding[] } {
  const fail = (file: string, why: string): { findings: Finding[] } => ({
    findings: [{ code: 'corrupt-tensor-file', severity: 'error', file, message: `'${shown(file)}' cannot be used as an IDX file: ${why}. Download it again.` }],
  });
  const images = existing(imagesFile);
  if (!images) return { findings: [{ code: 'missing-path', severity: 'error', file: imagesFile, message: `The IDX images file '${shown(imagesFile)}' does not exist.` }] };
  const labelsFile = existing(labelsFileFor(images));
  if (!labelsFile) {
    return { findings: [{ code: 'missing-path', severity: 'error', file: images, message: `The labels for '${shown(images)}' are missing: expected '${shown(labelsFileFor(images))}' beside it. Download the labels file too.` }] };
  }
  let pixels: { dims: number[]; data: Uint8Array };
  let labels: { dims: number[]; data: Uint8Array };
  try {
    pixels = parseIdx(images, 3);
  } catch (error) {
    return fail(images, (error as Error).message);
  }
  try {
    labels = parseIdx(labelsFile, 1);
  } catch (error) {
    return fail(labelsFile, (error as Error).message);
  }
  const [count, height, width] = pixels.dims as [number, number, number];
  const findings: Finding[] = [];
  let n = count;
  if (labels.dims[0] !== count) {
    n = Math.min(count, labels.dims[0]!);
    findings.push({ code: 'corrupt-tensor-file', severity: 'error', file: labelsFile, message: `'${shown(labelsFile)}' has ${labels.dims[0]!.toLocaleString('en-US')} labels for ${count.toLocaleString('en-US')} images; only the first ${n.toLocaleString('en-US')} are used. Check that the two files belong together.` });
  }
  const size = height * width;
  let data = pixels.data.subarray(0, n * size);
  if (/emnist/i.test(images)) {
    const upright = new Uint8Array(data.length);
    for (let i = 0; i < n; i++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) upright[i * size + y * width + x] = data[i * size + x * height + y]!;
    data = upright;
  } else data = data.slice();
  const labelArray = Int32Array.from(labels.data.subarray(0, n));
  const maxLabel = labelArray.reduce((m, v) => Math.max(m, v), 0);
  const classes = /fashion/i.test(images) && maxLabel < 10 ? FASHION_CLASSES.slice() : Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  const ids = Array.from({ length: n }, (_, i) => `${images}#${i}`);
  return { set: { shape: [1, height, width], pixels: data, labels: labelArray, ids, classes }, findings };
}
