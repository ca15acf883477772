/**
 * The subcommands that read model files' text with the language core, as the editor does:
 *
 *   ocular check FILE... [--no-data] diagnostics, compiler-style, with the dataset scans' findings
 *                                   (--no-data: the file alone); exit 1 when any file has errors
 *   ocular summary FILE [MODEL]     a layer-by-layer table of a model
 *   ocular format FILE... [--check] rewrite files formatted, or only report those that are not
 *
 * Their command lines are read by the reader every subcommand shares (`args.ts`): an unknown
 * option or a missing file is refused with the subcommand's usage and exit code 2.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze } from '../language/analysis';
import type { Diagnostic } from '../language/diagnostics';
import { format } from '../language/features/format';
import { summaryText } from '../language/features/summary';
import { LineIndex } from '../language/text';
import { checkDatasetPaths } from '../host/paths';
import { cacheDirFor, datasetDiagnostics, scanInWorker, specOf, type DatasetScanResult } from '../host/datasets';
import { readCommandLineTargets, refuseCommandLine, SWITCH } from './args';

export const CHECK_USAGE =
  "  ocular check FILE... [--no-data] print diagnostics as file:line:col: severity: message, including\n                                   what scanning each dataset's images finds (--no-data: skip that)\n";
export const SUMMARY_USAGE = "  ocular summary FILE [MODEL]      print a model's layers, shapes and parameter counts\n";
export const FORMAT_USAGE = '  ocular format FILE... [--check]  format files in place (--check: list unformatted files)\n';

const CHECK_OPTIONS = { 'no-data': SWITCH };
const SUMMARY_OPTIONS = {};
const FORMAT_OPTIONS = { check: SWITCH };

/** What `ocular check` does, or a message saying what is wrong with the command line. */
export function parseCheckArgs(args: readonly string[]): { files: readonly string[]; scanData: boolean } | string {
  const line = readCommandLineTargets(args, CHECK_OPTIONS, { missing: 'give one or more model files to check' });
  return typeof line === 'string' ? line : { files: line.targets, scanData: !line.options['no-data'] };
}

/** What `ocular summary` does, or a message saying what is wrong with the command line. */
export function parseSummaryArgs(args: readonly string[]): { file: string; model?: string } | string {
  const line = readCommandLineTargets(args, SUMMARY_OPTIONS, { missing: 'give a model file', most: { count: 2, words: 'a model file and a model name' } });
  if (typeof line === 'string') return line;
  const [file, model] = line.targets as [string, string?];
  return model === undefined ? { file } : { file, model };
}

/** What `ocular format` does, or a message saying what is wrong with the command line. */
export function parseFormatArgs(args: readonly string[]): { files: readonly string[]; checkOnly: boolean } | string {
  const line = readCommandLineTargets(args, FORMAT_OPTIONS, { missing: 'give one or more model files to format' });
  return typeof line === 'string' ? line : { files: line.targets, checkOnly: line.options.check === true };
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    process.stderr.write(`${file}: error: cannot read: ${reason}\n`);
    return undefined;
  }
}

/** One diagnostic as compilers print them, with 1-based line and column. */
export function formatDiagnostic(file: string, index: LineIndex, diagnostic: Diagnostic): string {
  const { line, character } = index.position(diagnostic.span.start);
  return `${file}:${line + 1}:${character + 1}: ${diagnostic.severity}: ${diagnostic.message}`;
}

/**
 * Scans every dataset section of a model file, as the editor does on open and save, in a worker
 * thread; the decoded images go to the same cache (`.ocular/cache` in the current folder when it
 * holds the file, else next to the file). A scan that fails is reported and the check goes on.
 */
async function scanDatasets(file: string, analysis: ReturnType<typeof analyze>): Promise<DatasetScanResult[]> {
  const absolute = path.resolve(file);
  const results: DatasetScanResult[] = [];
  for (const dataset of analysis.datasets) {
    if (dataset.sources.length === 0) continue;
    try {
      results.push(await scanInWorker({ name: dataset.name, spec: specOf(dataset), baseDir: path.dirname(absolute), cacheDir: cacheDirFor(absolute, [process.cwd()]) }));
    } catch (error) {
      process.stderr.write(`${file}: error: scanning dataset ${dataset.name} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
    }
  }
  return results;
}

export async function checkCommand(args: readonly string[]): Promise<number> {
  const request = parseCheckArgs(args);
  if (typeof request === 'string') return refuseCommandLine('check', request, CHECK_USAGE);
  const { files, scanData } = request;
  let errors = 0;
  let warnings = 0;
  let failed = false;
  for (const file of files) {
    const source = read(file);
    if (source === undefined) {
      failed = true;
      continue;
    }
    const analysis = analyze(source);
    const index = new LineIndex(source);
    const scans = scanData ? await scanDatasets(file, analysis) : [];
    const diagnostics = [...analysis.diagnostics, ...checkDatasetPaths(analysis, path.resolve(file)), ...datasetDiagnostics(analysis, scans)].sort((a, b) => a.span.start - b.span.start);
    for (const diagnostic of diagnostics) {
      if (diagnostic.severity === 'hint') continue;
      process.stdout.write(`${formatDiagnostic(file, index, diagnostic)}\n`);
      if (diagnostic.severity === 'error') errors++;
      if (diagnostic.severity === 'warning') warnings++;
    }
  }
  process.stderr.write(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}\n`);
  return errors > 0 || failed ? 1 : 0;
}

export function summaryCommand(args: readonly string[]): number {
  const request = parseSummaryArgs(args);
  if (typeof request === 'string') return refuseCommandLine('summary', request, SUMMARY_USAGE);
  const { file, model: modelName } = request;
  const source = read(file);
  if (source === undefined) return 1;
  const analysis = analyze(source);
  const model = modelName === undefined ? analysis.models[0] : analysis.models.find((m) => m.name === modelName);
  if (!model) {
    const known = analysis.models.map((m) => m.name);
    process.stderr.write(`${file}: error: ${modelName === undefined ? 'no model in this file' : `no model named '${modelName}'${known.length ? ` (models: ${known.join(', ')})` : ''}`}\n`);
    return 1;
  }
  process.stdout.write(summaryText(model));
  const index = new LineIndex(source);
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  for (const diagnostic of errors) process.stderr.write(`${formatDiagnostic(file, index, diagnostic)}\n`);
  return errors.length > 0 ? 1 : 0;
}

export function formatCommand(args: readonly string[]): number {
  const request = parseFormatArgs(args);
  if (typeof request === 'string') return refuseCommandLine('format', request, FORMAT_USAGE);
  let status = 0;
  for (const file of request.files) {
    const source = read(file);
    if (source === undefined) {
      status = 1;
      continue;
    }
    const formatted = format(source);
    if (formatted === source) continue;
    if (request.checkOnly) {
      process.stdout.write(`${file}: not formatted\n`);
      status = 1;
    } else {
      // Written beside the file first and renamed over it, so an interrupted run never leaves half a file.
      const temporary = `${file}.ocular-format.tmp`;
      fs.writeFileSync(temporary, formatted);
      fs.renameSync(temporary, file);
      process.stdout.write(`${file}: formatted\n`);
    }
  }
  return status;
}
