/**
 * The `ocular` command line: the same language core as the editor, for scripts and CI.
 *
 *   ocular check FILE... [--no-data] diagnostics, compiler-style, with the dataset scans' findings
 *                                   (--no-data: the file alone); exit 1 when any file has errors
 *   ocular summary FILE [MODEL]     a layer-by-layer table of a model
 *   ocular format FILE... [--check] rewrite files formatted, or only report those that are not
 *                                   (check, summary and format: cli/file-commands.ts)
 *   ocular eval FILE|RUN_DIR        evaluate a run: metrics tables, evaluation.json (cli/eval.ts)
 *   ocular train FILE               train a model file into its runs folder (cli/train.ts)
 *   ocular serve FILE|RUN_DIR       serve predictions over HTTP (cli/serve.ts)
 *   ocular export FILE|RUN_DIR      export as ONNX, TF.js or PyTorch with a parity check (cli/export.ts)
 *
 * Every subcommand reads its command line with `args.ts`: a wrong one exits 2 with its usage.
 */
import { CHECK_USAGE, checkCommand, FORMAT_USAGE, formatCommand, SUMMARY_USAGE, summaryCommand } from './file-commands';
import { EVAL_USAGE, evalCommand } from './eval';
import { TRAIN_USAGE, trainCommand } from './train';
import { SERVE_USAGE, serveCommand } from './serve';
import { EXPORT_USAGE, exportCommand } from './export';

const USAGE = `Usage:
${CHECK_USAGE}${SUMMARY_USAGE}${FORMAT_USAGE}${EVAL_USAGE}${TRAIN_USAGE}${SERVE_USAGE}${EXPORT_USAGE}`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'check':
      return checkCommand(rest);
    case 'summary':
      return summaryCommand(rest);
    case 'format':
      return formatCommand(rest);
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
  process.stderr.write(command ? `ocular: unknown command '${command}'\n${USAGE}` : USAGE);
  return 2;
}

void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
