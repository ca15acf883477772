/**
 * The data behind the dataset views (the class gallery and the augmentation preview), computed in
 * a worker thread (views-worker.ts) because both list class folders and the preview decodes and
 * augments images. Nothing here speaks LSP; the language server adds the latest scan's findings.
 */
import * as path from 'node:path';
import type { AugmentationSpec, DatasetSpec, Split } from '../data';
import { runWorkerJob } from './worker-job';

export type ViewJob =
  | { readonly job: 'class-images'; readonly spec: DatasetSpec; readonly baseDir: string; readonly split: Split; readonly class: string }
  | { readonly job: 'augment-preview'; readonly spec: DatasetSpec; readonly baseDir: string; readonly image: number; readonly draws: number; readonly seed: number };

export interface ClassFiles {
  /** The class's image files in listing order, absolute; empty for CIFAR and IDX records. */
  readonly files: readonly string[];
  /** False when the split has no such class. */
  readonly found: boolean;
}

export interface AugmentedImages {
  /** The image's file (or `file#record`), relative to the model file's folder when inside it. */
  readonly image: string;
  readonly index: number;
  /** The training images listed: all of them, or, when `more` is set, those up to the image's class. */
  readonly count: number;
  readonly more: boolean;
  readonly shape: readonly [number, number, number];
  /** PNG files, before augmentation and after each draw. */
  readonly original: Uint8Array;
  readonly draws: readonly Uint8Array[];
}

/** What stops a preview that is about the data, not a fault: no training images, an image that does not decode. */
export interface PreviewProblem {
  readonly problem: string;
}

export type ViewJobResult<J extends ViewJob['job']> = J extends 'class-images' ? ClassFiles : AugmentedImages | PreviewProblem;

/** Runs one view job in a new worker thread; aborting `signal` ends the thread. */
export function runViewJob<J extends ViewJob>(job: J, signal?: AbortSignal, workerScript = path.join(__dirname, 'views-worker.js')): Promise<ViewJobResult<J['job']>> {
  return runWorkerJob<ViewJob, ViewJobResult<J['job']>>(workerScript, job, signal ? { signal } : {});
}

/** An augmentation as a line of the model file would write it: `rotate degrees=15`. */
export function describeAugmentation(spec: AugmentationSpec): string {
  const value = (v: number | readonly number[]): string => (typeof v === 'number' ? String(v) : `(${v.join(', ')})`);
  return [spec.name, ...Object.entries(spec.args).map(([name, v]) => `${name}=${value(v)}`)].join(' ');
}
