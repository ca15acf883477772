/**
 * One export: a model file or run folder, optionally pruned (and then fine-tuned) and quantised,
 * written in one format
 * and checked on the spot: the written files are loaded back and predict the same images as the
 * engine with the same weights (parity), and when the weights were compressed, the engine with
 * the original weights is compared with the compressed ones (accuracy per class when the images
 * have labels). A parity beyond tolerance is an `ExportError` after the files are written, so
 * they can be inspected.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendPreference, WeightMap } from '../engine/engine';
import { fineTunePruned, type FineTuneOptions } from '../compress/finetune';
import { kernelSparsity, pruneWeights, type LayerSparsity } from '../compress/prune';
import { loadServable, type Servable } from '../serve/servable';
import { loadOnnx } from './onnx-runtime';
import { exportOnnx, ONNX_MODEL_FILE } from './onnx';
import { compareProbabilities, parityImages, parityLine, type ParityImages, type ParityReport } from './parity';
import { preparedImages } from './prepare';
import { exportPytorch, PYTORCH_MODEL_FILE } from './pytorch';
import { quantizedWeights, type WeightEncoding } from './quantize';
import { exportTfjs, loadTfjsExport, predictTfjsExport } from './tfjs';

export type ExportFormat = 'onnx' | 'tfjs' | 'pytorch';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['onnx', 'tfjs', 'pytorch'];

export interface ExportRequest {
  readonly target: string;
  readonly format: ExportFormat;
  readonly outDir: string;
  readonly quantize?: 'int8' | 'float16';
  /** Share of each kernel's weights to set to zero, 0–1. */
  readonly prune?: number;
  /** Epochs to fine-tune the pruned weights for, with the zeros kept (needs `prune`). */
  readonly fineTune?: number;
  /** Told after each fine-tuning epoch, for people following a long export. */
  readonly onFineTuneEpoch?: FineTuneOptions['onEpoch'];
  readonly backend?: BackendPreference;
  readonly cacheDir?: string;
  /** Most images the parity check predicts (default PARITY_IMAGES; generated images are fewer). */
  readonly parityImages?: number;
}

export interface AccuracyFigures {
  readonly accuracy: number;
  /** Per class, in label order: correct / images of that class (NaN for a class with none). */
  readonly perClass: readonly number[];
}

export interface FineTuningReport {
  readonly epochs: number;
  readonly learningRate: number;
  readonly trainImages: number;
  /** Each epoch's mean training loss and accuracy. */
  readonly trainLoss: readonly number[];
  readonly trainAcc: readonly number[];
  /** The pruned weights before fine-tuning, when the images have labels. */
  readonly afterPruning?: AccuracyFigures;
}

export interface CompressionReport {
  readonly quantize?: 'int8' | 'float16';
  readonly prune?: number;
  /** Each kernel's sparsity in the exported weights (after fine-tuning, which keeps the zeros). */
  readonly layers?: readonly LayerSparsity[];
  /** Absent when the pruned weights were exported as pruned. */
  readonly fineTuning?: FineTuningReport;
  /** Bytes of weights as float32 and as the export stores them (ONNX: the file's size). */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Share of images whose top class is unchanged. */
  readonly top1Agreement: number;
  /** Accuracy of the original weights and of the exported ones, when the images have labels. */
  readonly before?: AccuracyFigures;
  readonly after?: AccuracyFigures;
}

export interface ExportReport {
  readonly format: ExportFormat;
  readonly model: string;
  readonly weightsSource: string;
  readonly files: readonly string[];
  /** Undefined when the format could not be checked here (the PyTorch export without torch), with the reason. */
  readonly parity?: ParityReport;
  readonly parityUnchecked?: string;
  readonly compression?: CompressionReport;
  readonly classes: readonly string[];
}

export class ExportError extends Error {
  constructor(message: string, readonly report?: ExportReport) {
    super(message);
    this.name = 'ExportError';
  }
}

/** Largest probability difference allowed between an export and the engine with the same weights. */
export const PARITY_TOLERANCE: Readonly<Record<ExportFormat, number>> = { onnx: 1e-4, tfjs: 1e-4, pytorch: 1e-4 };

function accuracy(probabilities: Float32Array, labels: Int32Array, classes: number): AccuracyFigures {
  const correct = new Array<number>(classes).fill(0);
  const total = new Array<number>(classes).fill(0);
  let hits = 0;
  labels.forEach((label, i) => {
    const row = probabilities.subarray(i * classes, (i + 1) * classes);
    const top = row.indexOf(Math.max(...row));
    total[label]!++;
    if (top === label) {
      correct[label]!++;
      hits++;
    }
  });
  return { accuracy: labels.length === 0 ? Number.NaN : hits / labels.length, perClass: correct.map((c, i) => c / total[i]!) };
}

const PYTHON = '/usr/bin/python3';

/** Whether PyTorch imports here; the reason when not. */
export function torchAvailable(): true | string {
  const result = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
  if (result.error) return `${PYTHON} cannot run: ${result.error.message}`;
  return result.status === 0 ? true : `${PYTHON} -c 'import torch' fails: ${(result.stderr.trim().split('\n').at(-1) ?? '').slice(0, 200)}`;
}

/** Runs the exported model.py on the images with torch; its probabilities and parameter count. */
function predictPytorch(outDir: string, servable: Servable, images: ParityImages): { probabilities: Float32Array; parameters: number } {
  const [c, h, w] = servable.preprocessing.inputShape;
  const input = path.join(outDir, '.parity-input.bin');
  const output = path.join(outDir, '.parity-output.bin');
  fs.writeFileSync(input, preparedImages(images.images, servable.preprocessing));
  const script = [
    'import sys, torch',
    `sys.path.insert(0, ${JSON.stringify(outDir)})`,
    'from model import load_model',
    'model = load_model()',
    `x = torch.frombuffer(bytearray(open(${JSON.stringify(input)}, "rb").read()), dtype=torch.float32).reshape(${images.count}, ${c}, ${h}, ${w})`,
    'with torch.no_grad(): p = model(x).softmax(1).contiguous()',
    `open(${JSON.stringify(output)}, "wb").write(p.numpy().tobytes() if hasattr(p, "numpy") else bytes(p.storage()))`,
    'print(sum(q.numel() for q in model.parameters()))',
  ].join('\n');
  try {
    const result = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', timeout: 300_000, cwd: outDir });
    if (result.status !== 0) throw new ExportError(`The exported ${PYTORCH_MODEL_FILE} failed in PyTorch: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
    const bytes = fs.readFileSync(output);
    return { probabilities: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), parameters: Number(result.stdout.trim().split('\n').at(-1)) };
  } finally {
    fs.rmSync(input, { force: true });
    fs.rmSync(output, { force: true });
    fs.rmSync(path.join(outDir, '__pycache__'), { recursive: true, force: true });
  }
}

const weightBytes = (weights: WeightMap): number => [...weights.values()].reduce((sum, t) => sum + t.values.byteLength, 0);

/** Refuses a request whose options do not go together, before anything is loaded. */
function checkRequest(request: Omit<ExportRequest, 'target'>): void {
  if (request.quantize && request.format !== 'onnx') throw new ExportError(`--quantize is for the ONNX export, which stores int8 and float16 weights; ${request.format} stores float32.`);
  if (request.fineTune !== undefined && !(Number.isInteger(request.fineTune) && request.fineTune >= 1)) throw new ExportError(`--finetune takes a whole number of epochs, 1 or more, not ${request.fineTune}.`);
  if (request.fineTune !== undefined && !(request.prune !== undefined && request.prune > 0)) throw new ExportError('--finetune fine-tunes pruned weights: give --prune with a share above 0 too.');
}

/** Exports a loaded model; the caller disposes of it. */
export async function exportServable(servable: Servable, request: Omit<ExportRequest, 'target'>): Promise<ExportReport> {
  checkRequest(request);
  const images = await parityImages(servable, { ...(request.cacheDir ? { cacheDir: request.cacheDir } : {}), ...(request.parityImages ? { max: request.parityImages } : {}) });
  const classes = servable.preprocessing.classes.length;
  const originalWeights = servable.weights;
  const originalProbabilities = await servable.engineModel.predict(images.images);

  // The weights as the export will hold them: pruned, fine-tuned with the zeros kept, then quantised.
  let weights: WeightMap = originalWeights;
  let layers: LayerSparsity[] | undefined;
  let fineTuning: FineTuningReport | undefined;
  let preprocessing = servable.preprocessing;
  if (request.prune !== undefined && request.prune > 0) ({ weights, layers } = pruneWeights(weights, request.prune));
  if (request.fineTune !== undefined && layers) {
    servable.engineModel.setWeights(weights);
    const prunedProbabilities = await servable.engineModel.predict(images.images);
    const tuned = await fineTunePruned(servable, weights, layers, {
      epochs: request.fineTune,
      ...(request.backend ? { backend: request.backend } : {}),
      ...(request.cacheDir ? { cacheDir: request.cacheDir } : {}),
      ...(request.onFineTuneEpoch ? { onEpoch: request.onFineTuneEpoch } : {}),
    });
    weights = tuned.weights;
    layers = kernelSparsity(weights);
    // Weights that were untrained carry placeholder class names; fine-tuned, they learned the dataset's.
    preprocessing = { ...preprocessing, classes: tuned.classes };
    const { weights: _weights, classes: _classes, ...figures } = tuned;
    fineTuning = { ...figures, ...(images.labels ? { afterPruning: accuracy(prunedProbabilities, images.labels, classes) } : {}) };
  }
  const encoding: WeightEncoding = request.quantize ?? 'float32';
  if (encoding !== 'float32') weights = quantizedWeights(weights, encoding);
  const compressed = weights !== originalWeights;
  if (compressed) servable.engineModel.setWeights(weights);
  const exportable: Servable = { ...servable, weights, preprocessing };
  const engineProbabilities = compressed ? await servable.engineModel.predict(images.images) : originalProbabilities;

  fs.mkdirSync(request.outDir, { recursive: true });
  let files: string[];
  let exported: Float32Array | undefined;
  let parityUnchecked: string | undefined;
  let pytorchParameters: number | undefined;
  if (request.format === 'onnx') {
    files = [exportOnnx(exportable, path.join(request.outDir, ONNX_MODEL_FILE), encoding)];
    const runner = await loadOnnx(fs.readFileSync(files[0]!), servable.preprocessing);
    try {
      exported = await runner.predict(images.images);
    } finally {
      await runner.release();
    }
  } else if (request.format === 'tfjs') {
    files = await exportTfjs(exportable, request.outDir);
    const reloaded = await loadTfjsExport(request.outDir);
    try {
      exported = predictTfjsExport(reloaded, servable.preprocessing, images.images);
    } finally {
      reloaded.dispose();
    }
  } else {
    files = exportPytorch(exportable, request.outDir);
    const torch = torchAvailable();
    if (torch === true) {
      const result = predictPytorch(request.outDir, exportable, images);
      exported = result.probabilities;
      pytorchParameters = result.parameters;
    } else {
      parityUnchecked = `not checked: ${torch}`;
    }
  }

  let compression: CompressionReport | undefined;
  if (compressed) {
    const agreement = compareProbabilities('compression', images.source, originalProbabilities, engineProbabilities, classes, 1).top1Agreement;
    compression = {
      ...(request.quantize ? { quantize: request.quantize } : {}),
      ...(request.prune ? { prune: request.prune } : {}),
      ...(layers ? { layers } : {}),
      ...(fineTuning ? { fineTuning } : {}),
      bytesBefore: weightBytes(originalWeights),
      bytesAfter: request.format === 'onnx' ? fs.statSync(files[0]!).size : weightBytes(weights),
      top1Agreement: agreement,
      ...(images.labels ? { before: accuracy(originalProbabilities, images.labels, classes), after: accuracy(engineProbabilities, images.labels, classes) } : {}),
    };
  }
  const parity = exported && compareProbabilities(request.format, images.source, engineProbabilities, exported, classes, PARITY_TOLERANCE[request.format]);
  const report: ExportReport = {
    format: request.format,
    model: servable.model.name,
    weightsSource: servable.weightsSource,
    files,
    classes: preprocessing.classes,
    ...(parity ? { parity } : {}),
    ...(parityUnchecked ? { parityUnchecked } : {}),
    ...(compression ? { compression } : {}),
  };
  if (pytorchParameters !== undefined && pytorchParameters !== servable.model.totalParams) {
    throw new ExportError(`The PyTorch export has ${pytorchParameters} parameters where the model file has ${servable.model.totalParams}.`, report);
  }
  if (parity && !parity.ok) throw new ExportError(`The ${request.format} export does not match the model: ${parityLine(parity)}`, report);
  return report;
}

export async function exportModel(request: ExportRequest): Promise<ExportReport> {
  checkRequest(request);
  const servable = await loadServable(request.target, request.backend ? { backend: request.backend } : {});
  try {
    return await exportServable(servable, request);
  } finally {
    servable.engineModel.dispose();
  }
}

const percent = (value: number): string => (Number.isNaN(value) ? '—' : `${(value * 100).toFixed(1)}%`);

/** The report for people: files, parity and compression figures. */
export function exportReportText(report: ExportReport): string {
  const lines = [`Exported ${report.model} (${report.weightsSource}) as ${report.format}:`, ...report.files.map((file) => `  ${file}`)];
  lines.push(report.parity ? `Parity — ${parityLine(report.parity)}` : `Parity — ${report.parityUnchecked ?? 'not checked'}`);
  const compression = report.compression;
  if (compression) {
    const tuning = compression.fineTuning;
    const pruned = compression.prune ? `pruned to ${percent(compression.prune)} sparsity ${tuning ? `and fine-tuned ${tuning.epochs} epoch${tuning.epochs === 1 ? '' : 's'} at lr ${tuning.learningRate} on ${tuning.trainImages} training images` : '(no fine-tuning)'}` : '';
    const what = [pruned, compression.quantize ? `${compression.quantize} weights` : ''].filter(Boolean).join(', ');
    lines.push(`Compression — ${what}: ${(compression.bytesBefore / 1024).toFixed(1)} KiB of float32 weights → ${(compression.bytesAfter / 1024).toFixed(1)} KiB; top-1 unchanged on ${percent(compression.top1Agreement)}`);
    tuning?.trainLoss.forEach((loss, e) => lines.push(`  fine-tuning epoch ${e + 1}: train loss ${loss.toFixed(4)}, train accuracy ${percent(tuning.trainAcc[e]!)}`));
    const { before, after } = compression;
    if (before && after) {
      // With fine-tuning, three columns: the original weights, the pruned ones, the exported (fine-tuned) ones.
      const columns = tuning?.afterPruning ? [before, tuning.afterPruning, after] : [before, after];
      const arrow = (figure: (a: AccuracyFigures) => number): string => columns.map((c) => percent(figure(c))).join(' → ');
      lines.push(`  accuracy ${arrow((c) => c.accuracy)}${tuning?.afterPruning ? ' (before pruning → after pruning → after fine-tuning)' : ''}`);
      before.perClass.forEach((_, i) => lines.push(`    ${report.classes[i]}: ${arrow((c) => c.perClass[i]!)}`));
    }
    for (const layer of compression.layers ?? []) lines.push(`  ${layer.key}: ${percent(layer.sparsity)} zero of ${layer.weights}`);
  }
  return `${lines.join('\n')}\n`;
}
