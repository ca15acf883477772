/**
 * The `ocular` command line: the same language core as the editor, for scripts and CI.
 *
 *   ocular check FILE... [--no-data] diagnostics, compiler-style, with the dataset scans' findings
 *                                   (--no-data: the file alone); exit 1 when any file has errors
 *   ocular summary FILE [MODEL]     a layer-by-layer table of a model
 *   ocular format FILE... [--check] rewrite files formatted, or only report those that are not
 *   ocular eval FILE|RUN_DIR        evaluate a run: metrics tables, evaluation.json (cli/eval.ts)
 *   ocular train FILE               train a model file into its runs folder (cli/train.ts)
 *   ocular serve FILE|RUN_DIR       serve predictions over HTTP (cli/serve.ts)
 *   ocular export FILE|RUN_DIR      export as ONNX, TF.js or PyTorch with a parity check (cli/export.ts)
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
import { EVAL_USAGE, evalCommand } from './eval';
import { TRAIN_USAGE, trainCommand } from './train';
import { SERVE_USAGE, serveCommand } from './serve';
import { EXPORT_USAGE, exportCommand } from './export';

const USAGE = `Usage:
  ocular check FILE... [--no-data] print diagnostics as file:line:col: severity: message, including
                                   what scanning each dataset's images finds (--no-data: skip that)
  ocular summary FILE [MODEL]      print a model's layers, shapes and parameter counts
  ocular format FILE... [--check]  format files in place (--check: list unformatted files)
${EVAL_USAGE}${TRAIN_USAGE}${SERVE_USAGE}${EXPORT_USAGE}`;

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

async function check(files: readonly string[], scanData: boolean): Promise<number> {
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

function summary(file: string, modelName: string | undefined): number {
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

function formatFiles(files: readonly string[], checkOnly: boolean): number {
  let status = 0;
  for (const file of files) {
    const source = read(file);
    if (source === undefined) {
      status = 1;
      continue;
    }
    const formatted = format(source);
    if (formatted === source) continue;
    if (checkOnly) {
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

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const files = rest.filter((a) => !a.startsWith('--'));
  switch (command) {
    case 'check':
      if (files.length === 0) break;
      return check(files, !rest.includes('--no-data'));
    case 'summary':
      if (files.length === 0 || files.length > 2) break;
      return summary(files[0]!, files[1]);
    case 'format':
      if (files.length === 0) break;
      return formatFiles(files, rest.includes('--check'));
    case 'eval':
      return evalCommand(rest);
    case 'train':
      return trainCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case 'export':
      return exportCommand(rest);
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
  }
  process.stderr.write(command && !['check', 'summary', 'format', 'eval', 'train', 'serve', 'export'].includes(command) ? `ocular: unknown command '${command}'\n${USAGE}` : USAGE);
  return 2;
}

void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
