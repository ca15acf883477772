/**
 * Findings: what a scan, a decode or a check learned about a dataset, as plain data. The language
 * server turns them into diagnostics on the dataset's lines and the dataset view lists them; the
 * command line prints them. A message always names the file, class or split it is about and says
 * what to do, because it is read far from the code that wrote it.
 */
import * as path from 'node:path';
import { withRelativePaths } from './text';
import type { Split } from './types';

export type FindingSeverity = 'error' | 'warning' | 'info';

export type FindingCode =
  // Files and folders.
  | 'missing-path'
  | 'unreadable-folder'
  | 'symlink-loop'
  | 'broken-link'
  | 'bad-file-name'
  | 'no-classes'
  | 'loose-images'
  | 'unknown-source'
  // Images.
  | 'empty-file'
  | 'not-an-image'
  | 'unsupported-format'
  | 'corrupt-image'
  | 'unreadable-file'
  | 'decompression-bomb'
  | 'large-image'
  | 'small-images'
  // Classes.
  | 'empty-class'
  | 'missing-class'
  | 'unknown-class'
  | 'class-count'
  | 'class-imbalance'
  | 'small-split'
  // Duplicates.
  | 'duplicate-across-splits'
  | 'duplicate-in-class'
  | 'duplicate-across-classes'
  // Tensor files.
  | 'corrupt-tensor-file'
  // The cache.
  | 'cache-not-written';

export interface Finding {
  readonly code: FindingCode;
  readonly severity: FindingSeverity;
  readonly message: string;
  /** The file or folder the finding is about, absolute. */
  readonly file?: string;
  readonly split?: Split;
  readonly class?: string;
  /** Other files involved, such as the other copies of a duplicate. */
  readonly related?: readonly string[];
  /** How many images the finding covers, when it sums up several. */
  readonly count?: number;
}

/** Counts of findings by severity, for a status line. */
export function summarize(findings: readonly Finding[]): Record<FindingSeverity, number> {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const finding of findings) counts[finding.severity]++;
  return counts;
}

/**
 * Findings as a person with the model file open reads them: the paths in each message relative to
 * the model file's folder, or, for a source outside it, to the folder holding the source (so the
 * source's own name, such as train/, still shows). `file` and `related` stay absolute: the editor
 * opens them and the gallery matches them to its images.
 */
export function withReadablePaths(findings: readonly Finding[], modelFolder: string, sourcePaths: readonly string[]): Finding[] {
  const bases = readableBases(modelFolder, sourcePaths);
  return findings.map((finding) => ({ ...finding, message: withRelativePaths(finding.message, bases) }));
}

/** The folders paths are shown relative to (withRelativePaths): the model file's, and the one holding each source outside it. */
export function readableBases(modelFolder: string, sourcePaths: readonly string[]): string[] {
  const inside = (file: string): boolean => file.startsWith(modelFolder.endsWith(path.sep) ? modelFolder : modelFolder + path.sep);
  return [modelFolder, ...sourcePaths.filter((source) => !inside(source)).map((source) => path.dirname(source))];
}
