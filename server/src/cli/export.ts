/**
 * `ocular export FILE|RUN_DIR --format onnx|tfjs|pytorch --out DIR [--quantize int8|float16]
 * [--prune SHARE [--finetune EPOCHS]] [--backend B]`: writes the export, loads it back, checks its predictions against
 * the model's and prints the parity (and compression) report. Exit 1 when parity fails or the
 * export cannot be made (the files stay for inspection), 2 on a usage mistake.
 */
import { EXPORT_FORMATS, ExportError, exportModel, exportReportText, type ExportRequest } from '../export/export';
import { BACKENDS, MODEL_OR_RUN, oneOf, readCommandLine, refuseCommandLine, text, valueOption } from './args';

export const EXPORT_USAGE = '  ocular export FILE|RUN_DIR --format onnx|tfjs|pytorch --out DIR [--quantize int8|float16] [--prune 0.5 [--finetune 2]]\n                                   export a run (or a model file\'s newest run) and check its predictions\n';

const EXPORT_OPTIONS = {
  format: oneOf(EXPORT_FORMATS, `--format takes ${EXPORT_FORMATS.join(', ')}`),
  out: text('--out takes the folder to write'),
  quantize: oneOf(['int8', 'float16'] as const, '--quantize takes int8 or float16'),
  prune: valueOption((word) => {
    const share = Number(word);
    return share >= 0 && share < 1 ? share : undefined;
  }, '--prune takes the share of weights to zero, such as 0.5 (0 up to, not including, 1)'),
  finetune: valueOption(
    (word) => (word !== undefined && /^\d+$/.test(word) && Number(word) >= 1 ? Number(word) : undefined),
    (word) => `--finetune takes the number of epochs to fine-tune the pruned weights, a whole number such as 2 (1 or more), not '${word ?? ''}'`,
  ),
  backend: oneOf(BACKENDS, '--backend takes auto, gpu, native, wasm or cpu'),
};

/** The request, or a message saying what is wrong with the command line. */
export function parseExportArgs(args: readonly string[]): ExportRequest | string {
  const line = readCommandLine(args, EXPORT_OPTIONS, MODEL_OR_RUN);
  if (typeof line === 'string') return line;
  const { format, out, finetune, ...rest } = line.options;
  if (!format) return `--format is needed: ${EXPORT_FORMATS.join(', ')}`;
  if (!out) return '--out is needed: the folder to write the export into';
  if (finetune !== undefined && !(rest.prune !== undefined && rest.prune > 0)) return '--finetune fine-tunes pruned weights: give --prune with a share above 0 too, such as --prune 0.5 --finetune 2';
  return { target: line.target, format, outDir: out, ...rest, ...(finetune !== undefined ? { fineTune: finetune } : {}) };
}

export async function exportCommand(args: readonly string[]): Promise<number> {
  const request = parseExportArgs(args);
  if (typeof request === 'string') return refuseCommandLine('export', request, EXPORT_USAGE);
  try {
    const onFineTuneEpoch = (epoch: number, epochs: number, loss: number, acc: number, seconds: number): void => {
      process.stderr.write(`fine-tuning epoch ${epoch + 1}/${epochs}: train loss ${loss.toFixed(4)}, accuracy ${(acc * 100).toFixed(1)}% (${seconds.toFixed(1)} s)\n`);
    };
    process.stdout.write(exportReportText(await exportModel({ ...request, onFineTuneEpoch })));
    return 0;
  } catch (error) {
    if (error instanceof ExportError && error.report) process.stdout.write(exportReportText(error.report));
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    process.stderr.write(`ocular export: error: ${message}\n`);
    return 1;
  }
}
