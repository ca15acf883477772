/**
 * `ocular eval FILE|RUN_DIR [--split train|val|test] [--batch N] [--json OUT]`: evaluates a run's
 * best checkpoint (for a model file, its newest run that has one) in a worker thread, writes
 * evaluation.json into the run folder, prints the tables, and with --json copies the evaluation
 * to OUT. Errors name the run or file and exit 1; a wrong command line exits 2.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SPLITS, type Split } from '../data/index';
import { evaluateInWorker } from '../host/evaluation';
import { evaluationText } from '../evaluation/report';
import { readEvaluation, writeEvaluation } from '../evaluation/store';
import { checkpointFile, listRuns, runsFolderFor } from '../training/runs';
import { MODEL_OR_RUN, oneOf, readCommandLine, refuseCommandLine, text, wholeNumber } from './args';

export const EVAL_USAGE = '  ocular eval FILE|RUN_DIR [--split val|test] [--batch N] [--json OUT]\n                                   evaluate a run (or a model file\'s newest run) and print its metrics\n';

interface EvalOptions {
  readonly target: string;
  readonly split?: Split;
  readonly batch?: number;
  readonly json?: string;
}

const EVAL_OPTIONS = {
  split: oneOf(SPLITS, `--split takes ${SPLITS.join(', ')}`),
  batch: wholeNumber(1, Infinity, '--batch takes a whole number of images, 1 or more'),
  json: text('--json takes the file to write'),
};

/** The options, or a message saying what is wrong with the command line. */
export function parseEvalArgs(args: readonly string[]): EvalOptions | string {
  const line = readCommandLine(args, EVAL_OPTIONS, MODEL_OR_RUN);
  return typeof line === 'string' ? line : { target: line.target, ...line.options };
}

/** The run folder to evaluate: the folder itself, or the model file's newest run with a checkpoint. */
function runDirOf(target: string): string {
  const absolute = path.resolve(target);
  if (fs.existsSync(path.join(absolute, 'run.json'))) return absolute;
  if (!fs.existsSync(absolute)) throw new Error(`${target}: no such file or folder`);
  if (fs.statSync(absolute).isDirectory()) throw new Error(`${target} is a folder without run.json: give a run folder (.ocular/runs/<id>) or a model file`);
  // listRuns gives the oldest first.
  const newest = listRuns(runsFolderFor(absolute))
    // The runs folder is per folder, shared by every model file in it: only this file's runs count.
    .filter((run) => run.record?.modelFile === absolute && (fs.existsSync(checkpointFile(run.dir, 'best')) || fs.existsSync(checkpointFile(run.dir, 'last'))))
    .at(-1)?.dir;
  if (!newest) throw new Error(`${target} has no trained run to evaluate (none with a checkpoint in ${runsFolderFor(absolute)}): train it first`);
  return newest;
}

export async function evalCommand(args: readonly string[]): Promise<number> {
  const options = parseEvalArgs(args);
  if (typeof options === 'string') return refuseCommandLine('eval', options, EVAL_USAGE);
  try {
    const runDir = runDirOf(options.target);
    process.stderr.write(`Evaluating ${runDir}${options.split ? ` on ${options.split}` : ''}…\n`);
    const summary = await evaluateInWorker({ runDir, ...(options.split ? { split: options.split } : {}), ...(options.batch ? { batchSize: options.batch } : {}), workspaceFolders: [process.cwd()] });
    const evaluation = readEvaluation(summary.file);
    process.stdout.write(evaluationText(evaluation));
    process.stderr.write(`wrote ${summary.file}\n`);
    if (options.json) {
      writeEvaluation(path.resolve(options.json), evaluation);
      process.stderr.write(`wrote ${options.json}\n`);
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]!.replace(/^\w*Error: /, '') : String(error);
    process.stderr.write(`ocular eval: error: ${message}\n`);
    return 1;
  }
}
