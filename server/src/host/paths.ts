/**
 * The file-system side of the language features, kept out of the pure core: checking that the
 * dataset paths a file names exist, and listing folders for path completion. Used by the
 * language server and the command line alike.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
// The two pure modules, not the data layer's index, which would bring its decoders into the language server.
import { readableBases } from '../data/findings';
import { shown, withRelativePaths } from '../data/text';
import type { Analysis } from '../language/analysis';
import type { Diagnostic } from '../language/diagnostics';

/** Warnings for dataset paths that do not exist, resolved against the model file's folder and named relative to it. */
export function checkDatasetPaths(analysis: Analysis, modelFile: string | undefined): Diagnostic[] {
  if (!modelFile) return [];
  const folder = path.dirname(modelFile);
  const diagnostics: Diagnostic[] = [];
  for (const dataset of analysis.datasets) {
    for (const source of dataset.sources) {
      const resolved = path.resolve(folder, source.path);
      if (!exists(resolved)) {
        // Named as the data layer's findings are: relative to the model file's folder (or, outside it, to the source's own folder).
        const message = `The ${source.split} path '${shown(resolved)}' does not exist. Training needs it; check the spelling, or download the data there.`;
        diagnostics.push({ span: source.span, severity: 'warning', code: 'missing-path', message: withRelativePaths(message, readableBases(folder, [resolved])) });
      }
    }
  }
  return diagnostics;
}

function exists(file: string): boolean {
  try {
    fs.accessSync(file);
    return true;
  } catch {
    return false;
  }
}

export interface PathEntry {
  readonly name: string;
  readonly directory: boolean;
}

/**
 * Entries under the folder that `prefix` (as typed inside the quotes) points into, relative to
 * the model file: folders, and files that a dataset source can be (CIFAR `.bin`, MNIST IDX).
 * Unreadable folders give no entries rather than an error: completion must never fail.
 */
export function listPathEntries(modelFile: string, prefix: string): PathEntry[] {
  const base = path.resolve(path.dirname(modelFile), prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '.');
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(base, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => !e.name.startsWith('.'))
    .filter((e) => e.isDirectory() || /(\.bin|-ubyte|\.idx\d?|\.gz)$/i.test(e.name))
    .slice(0, 500)
    .map((e) => ({ name: e.name, directory: e.isDirectory() }));
}
