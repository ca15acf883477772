/**
 * Dataset checks for the editor: a dataset section is scanned and decoded by the data layer in a
 * worker thread (scan-worker.ts), and what it finds is turned into diagnostics on the section's
 * lines and into a per-split, per-class summary for the dataset explorer. Nothing here speaks LSP;
 * the language server decides when to scan and how to publish.
 */
import * as path from 'node:path';
import type { Finding, DatasetSpec, LoadProgress, Split } from '../data';
import type { Analysis } from '../language/analysis';
import type { Diagnostic } from '../language/diagnostics';
import type { DatasetConfig } from '../language/semantics/settings';
import { runWorkerJob } from './worker-job';

/** What the scan worker is asked to do: one dataset section, with paths resolved from `baseDir`. */
export interface ScanRequest {
  readonly name: string;
  readonly spec: DatasetSpec;
  /** The model file's folder. */
  readonly baseDir: string;
  /** Where decoded images are cached between scans (`.ocular/cache`). */
  readonly cacheDir: string;
}

export interface ClassSummary {
  readonly name: string;
  /** Usable images of the class in the split (those that decode). */
  readonly count: number;
  /** The class's first image file (usable or not), absolute; absent for CIFAR and IDX records or a class folder with no image files. */
  readonly firstFile?: string;
}

export interface SplitSummary {
  readonly split: Split;
  /** The source path, absolute. */
  readonly path: string;
  readonly count: number;
  readonly classes: readonly ClassSummary[];
  /** Set when the split was carved out of another by `split val=… test=…`. */
  readonly carvedFrom?: Split;
}

/** What one scan of a dataset section learned: its findings and its images per split and class. */
export interface DatasetScanResult {
  readonly name: string;
  readonly classes: readonly string[];
  readonly splits: readonly SplitSummary[];
  readonly findings: readonly Finding[];
}

/** The plain, cloneable part of a dataset section that the data layer reads. */
export function specOf(dataset: DatasetConfig): DatasetSpec {
  return {
    sources: dataset.sources.map((s) => ({ split: s.split, path: s.path })),
    ...(dataset.split ? { split: dataset.split } : {}),
    ...(dataset.image ? { image: dataset.image } : {}),
    resize: dataset.resize,
    ...(dataset.classes !== undefined ? { classes: dataset.classes } : {}),
    augment: dataset.augment.map((a) => ({ name: a.name, args: a.args })),
    ...(dataset.normalize ? { normalize: dataset.normalize } : {}),
  };
}

/**
 * Scans and decodes one dataset in a new worker thread, so that the caller's event loop stays
 * free however large the dataset is. Aborting `signal` terminates the worker (and the decode
 * workers it started) and rejects with the signal's reason.
 */
export function scanInWorker(
  request: ScanRequest,
  options: { readonly signal?: AbortSignal; readonly onProgress?: (progress: LoadProgress) => void; readonly workerScript?: string } = {},
): Promise<DatasetScanResult> {
  return runWorkerJob<ScanRequest, DatasetScanResult, LoadProgress>(options.workerScript ?? path.join(__dirname, 'scan-worker.js'), request, options);
}

/**
 * The diagnostics for the latest scans of a file, placed in its current text: a finding about a
 * split goes on that split's path string, any other on the dataset's name. Findings are anchored
 * by dataset name and split rather than by offset, so after edits they follow the section, and a
 * dataset that was renamed or removed since the scan loses its findings until the next one.
 * Missing paths are left out: the host's own `missing-path` check reports them as you type.
 */
export function datasetDiagnostics(analysis: Analysis, results: readonly DatasetScanResult[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const result of results) {
    const dataset = analysis.datasets.find((d) => d.name === result.name);
    if (!dataset) continue;
    const nameSpan = dataset.section.name?.span ?? dataset.section.keyword.span;
    for (const finding of result.findings) {
      if (finding.code === 'missing-path') continue;
      const source = finding.split ? dataset.sources.find((s) => s.split === finding.split) : undefined;
      // A split carved out of the training images by `split` has no path of its own; its findings go on train's.
      const span = source?.span ?? (finding.split ? dataset.sources.find((s) => s.split === 'train')?.span : undefined) ?? nameSpan;
      diagnostics.push({ span, severity: finding.severity, code: finding.code, message: finding.message });
    }
  }
  return diagnostics;
}

/**
 * Where a model file's decoded images are cached: `.ocular/cache` in the workspace folder that
 * holds the file, or next to the file when it is in none.
 */
export function cacheDirFor(modelFile: string, workspaceFolders: readonly string[]): string {
  const inside = workspaceFolders.filter((folder) => modelFile.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep)).sort((a, b) => b.length - a.length)[0];
  return path.join(inside ?? path.dirname(modelFile), '.ocular', 'cache');
}
