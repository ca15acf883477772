/**
 * Parity of an exported model with the original: both predict the same images (the validation
 * split when the model's dataset loads, else seeded generated images) and their probabilities
 * are compared: top-1 agreement and the largest probability difference. A difference beyond the
 * tolerance, or a top-1 disagreement where the original was not near a tie, fails the export.
 */
import * as path from 'node:path';
import { imageAt, loadDataset } from '../data/index';
import { specOf } from '../host/datasets';
import { Random } from '../random';
import type { Servable } from '../serve/servable';

export interface ParityImages {
  readonly images: Uint8Array;
  readonly count: number;
  /** Each image's label, when the images are a split of the model's dataset. */
  readonly labels?: Int32Array;
  /** Where they came from, for the report: "val split (200 images)". */
  readonly source: string;
}

export interface ParityReport {
  readonly format: string;
  readonly source: string;
  readonly count: number;
  /** Share of images whose top class is the original's, 0–1. */
  readonly top1Agreement: number;
  readonly maxProbabilityDiff: number;
  readonly tolerance: number;
  readonly ok: boolean;
}

/** The most images a parity check predicts: enough to see a difference, few enough to be quick. */
export const PARITY_IMAGES = 256;
/** Images generated when the model has no data: seeded, so a report repeats. */
export const GENERATED_IMAGES = 32;

/** The images to check on: the validation split (else test, else train) or generated images. */
export async function parityImages(servable: Servable, options: { readonly cacheDir?: string; readonly max?: number } = {}): Promise<ParityImages> {
  const [c, h, w] = servable.preprocessing.inputShape;
  const size = c * h * w;
  const max = options.max ?? PARITY_IMAGES;
  if (servable.dataset && servable.dataset.sources.length > 0) {
    try {
      const loaded = await loadDataset(specOf(servable.dataset), { baseDir: path.dirname(servable.modelFile), image: servable.preprocessing.inputShape, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
      const split = loaded.splits.val ?? loaded.splits.test ?? loaded.splits.train;
      if (split && split.count > 0) {
        const count = Math.min(split.count, max);
        // Evenly spaced over the split, not its first images: a folder split is in class order, and
        // its first images would leave the last classes out of the per-class accuracy.
        const picked = Int32Array.from({ length: count }, (_, i) => Math.floor((i * split.count) / count));
        const images = new Uint8Array(count * size);
        picked.forEach((index, i) => images.set(imageAt(split, index), i * size));
        const labels = picked.map((index) => split.labels[index]!);
        return { images, count, labels, source: `${split.split} split of ${servable.dataset.name} (${count === split.count ? `${count} image${count === 1 ? '' : 's'}` : `${count} of ${split.count} images, evenly spaced`})` };
      }
    } catch {
      // A dataset that is not on this machine (not downloaded yet) leaves generated images.
    }
  }
  const random = new Random(1234);
  const count = Math.min(GENERATED_IMAGES, max);
  const images = Uint8Array.from({ length: count * size }, () => Math.floor(random.next() * 256));
  return { images, count, source: `${count} generated images (no dataset on disk)` };
}

/** Compares two `N×classes` probability arrays. */
export function compareProbabilities(format: string, source: string, original: Float32Array, exported: Float32Array, classes: number, tolerance: number): ParityReport {
  const count = original.length / classes;
  let agree = 0;
  let maxDiff = 0;
  let unexplained = 0;
  for (let i = 0; i < count; i++) {
    const row = (values: Float32Array): Float32Array => values.subarray(i * classes, (i + 1) * classes);
    const a = row(original);
    const b = row(exported);
    const top = (values: Float32Array): number => values.indexOf(Math.max(...values));
    for (let k = 0; k < classes; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
    if (top(a) === top(b)) {
      agree++;
      continue;
    }
    // A disagreement is expected only where the original's two best classes are within the tolerance.
    const sorted = [...a].sort((x, y) => y - x);
    if (sorted[0]! - sorted[1]! > 2 * tolerance) unexplained++;
  }
  return { format, source, count, top1Agreement: count === 0 ? 1 : agree / count, maxProbabilityDiff: maxDiff, tolerance, ok: maxDiff <= tolerance && unexplained === 0 };
}

/** The report as one line for people. */
export function parityLine(report: ParityReport): string {
  return `${report.format}: top-1 agreement ${(report.top1Agreement * 100).toFixed(1)}% on ${report.source}; largest probability difference ${report.maxProbabilityDiff.toExponential(2)} (tolerance ${report.tolerance}) — ${report.ok ? 'OK' : 'BEYOND TOLERANCE'}`;
}
