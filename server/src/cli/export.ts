/**
 * `ocular export FILE|RUN_DIR --format onnx|tfjs|pytorch --out DIR [--quantize int8|float16]
 * [--prune SHARE [--finetune EPOCHS]] [--backend B]`: writes the export, loads it back, checks its predictions against
 * the model's and prints the parity (and compression) report. Exit 1 when parity fails or the
 * export cannot be made (the files stay for inspection), 2 on a usage mistake.
 */
import type { BackendPreference } from '../engine/engine';
import { EXPORT_FORMATS, ExportError, exportModel, exportReportText, type ExportFormat, type ExportRequest } from '../export/export';

export const EXPORT_USAGE = '  ocular export FILE|RUN_DIR --format onnx|tfjs|pytorch --out DIR [--quantize int8|float16] [--prune 0.5 [--finetune 2]]\n                                   export a run (or a model file\'s newest run) and check its predictions\n';

export function parseExportArgs(args: readonly string[]): ExportRequest | string {
  let target: string | undefined;
  let format: ExportFormat | undefined;
  let outDir: string | undefined;
  let quantize: 'int8' | 'float16' | undefined;
  let prune: number | undefined;
  let fineTune: number | undefined;
  let backend: BackendPreference | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = args[i + 1];
    if (arg === '--format') {
      if (!value || !(EXPORT_FORMATS as readonly string[]).includes(value)) return `--format takes ${EXPORT_FORMATS.join(', ')}`;
      format = value as ExportFormat;
      i++;
    } else if (arg === '--out') {
      if (!value) return '--out takes the folder to write';
      outDir = value;
      i++;
    } else if (arg === '--quantize') {
      if (value !== 'int8' && value !== 'float16') return '--quantize takes int8 or float16';
      quantize = value;
      i++;
    } else if (arg === '--prune') {
      prune = Number(value);
      if (!(prune >= 0 && prune < 1)) return '--prune takes the share of weights to zero, such as 0.5 (0 up to, not including, 1)';
      i++;
    } else if (arg === '--finetune') {
      fineTune = Number(value);
      if (!value || !/^\d+$/.test(value) || fineTune < 1) return `--finetune takes the number of epochs to fine-tune the pruned weights, a whole number such as 2 (1 or more), not '${value ?? ''}'`;
      i++;
    } else if (arg === '--backend') {
      if (!value || !['auto', 'gpu', 'native', 'wasm', 'cpu'].includes(value)) return '--backend takes auto, gpu, native, wasm or cpu';
      backend = value as BackendPreference;
      i++;
    } else if (arg.startsWith('--')) {
      return `unknown option ${arg}`;
    } else if (target === undefined) {
      target = arg;
    } else {
      return `one model file or run folder, not '${target}' and '${arg}'`;
    }
  }
  if (target === undefined) return 'give a model file or a run folder';
  if (!format) return `--format is needed: ${EXPORT_FORMATS.join(', ')}`;
  if (!outDir) return '--out is needed: the folder to write the export into';
  if (fineTune !== undefined && !(prune !== undefined && prune > 0)) return '--finetune fine-tunes pruned weights: give --prune with a share above 0 too, such as --prune 0.5 --finetune 2';
  return { target, format, outDir, ...(quantize ? { quantize } : {}), ...(prune !== undefined ? { prune } : {}), ...(fineTune !== undefined ? { fineTune } : {}), ...(backend ? { backend } : {}) };
}

export async function exportCommand(args: readonly string[]): Promise<number> {
  const request = parseExportArgs(args);
  if (typeof request === 'string') {
    process.stderr.write(`ocular export: ${request}\nUsage:\n${EXPORT_USAGE}`);
    return 2;
  }
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
