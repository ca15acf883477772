/**
 * Pruning with fine-tuning, on a tiny generated project trained for a few epochs: the exported
 * weights keep every pruned weight at exactly zero (each kernel's sparsity at least the target;
 * with gradient accumulation, whose leftover batches update at each epoch's end, the zeros are put
 * back after that update too), fine-tuning changes the weights it kept, the report gives the
 * accuracy before pruning, after pruning and after fine-tuning, the run's folder is
 * byte-identical afterwards, and bad `--finetune` values are refused with a message naming the
 * option.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { parseExportArgs } from '../../server/src/cli/export';
import { pruneWeights } from '../../server/src/compress/prune';
import type { WeightTensor } from '../../server/src/engine/engine';
import { exportModel, exportReportText, type ExportReport } from '../../server/src/export/export';
import { PYTORCH_WEIGHTS_FILE } from '../../server/src/export/pytorch';
import { trainModel } from '../../server/src/training/run';
import { checkpointFile, listRuns, readCheckpoint, runsFolderFor } from '../../server/src/training/runs';
import { folderContents } from '../support/runs';
import { CLASSES, writeFixture } from '../training/fixtures';

/** The tensors of a safetensors file (float32 only, as the PyTorch export writes). */
function readSafetensors(file: string): Map<string, WeightTensor> {
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const data = 8 + headerLength;
  const tensors = new Map<string, WeightTensor>();
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    assert.equal(entry.dtype, 'F32', key);
    const [start, end] = entry.data_offsets;
    tensors.set(key, { shape: entry.shape, values: new Float32Array(bytes.buffer.slice(bytes.byteOffset + data + start, bytes.byteOffset + data + end)) });
  }
  return tensors;
}

describe('parsing --finetune', () => {
  const base = ['m.ocular', '--format', 'onnx', '--out', 'out'];
  const cases: [string[], RegExp | number][] = [
    [['--prune', '0.5', '--finetune', '2'], 2],
    [['--finetune', '1', '--prune', '0.25'], 1],
    [['--prune', '0.5', '--finetune', '-1'], /--finetune takes the number of epochs.*not '-1'/],
    [['--prune', '0.5', '--finetune', 'abc'], /--finetune takes .*not 'abc'/],
    [['--prune', '0.5', '--finetune', '1.5'], /--finetune takes .*not '1.5'/],
    [['--prune', '0.5', '--finetune', '0'], /--finetune takes .*not '0'/],
    [['--prune', '0.5', '--finetune'], /--finetune takes .*not ''/],
    [['--finetune', '2'], /--finetune fine-tunes pruned weights: give --prune/],
    [['--prune', '0', '--finetune', '2'], /give --prune with a share above 0/],
  ];
  for (const [args, expected] of cases) {
    test(args.join(' '), () => {
      const parsed = parseExportArgs([...base, ...args]);
      if (typeof expected === 'number') assert.deepEqual(typeof parsed === 'string' ? parsed : parsed.fineTune, expected);
      else assert.match(typeof parsed === 'string' ? parsed : JSON.stringify(parsed), expected);
    });
  }

  test('exportModel refuses a fine-tuning without pruning, or a bad epoch count, naming the option', async () => {
    await assert.rejects(exportModel({ target: 'nowhere.ocular', format: 'onnx', outDir: 'out', fineTune: 2 }), /--finetune fine-tunes pruned weights/);
    await assert.rejects(exportModel({ target: 'nowhere.ocular', format: 'onnx', outDir: 'out', prune: 0.5, fineTune: -1 }), /--finetune takes a whole number of epochs, 1 or more, not -1/);
  });
});

describe('pruning with fine-tuning', () => {
  const TARGET = 0.5;
  let file: string;
  let runDir: string;
  let report: ExportReport;
  let original: Map<string, WeightTensor>;
  let exported: Map<string, WeightTensor>;
  let runBefore: Map<string, string>;

  before(async () => {
    // 90 images in batches of 16 are 6 batches: accumulate 4 makes each epoch end with an update
    // from its last 2 (trainEpoch's), after which the pruned zeros must be put back too.
    file = writeFixture({ layers: ['conv 4 kernel=3 padding=1', 'relu', 'maxpool 2', 'flatten', 'dense 16', 'relu'], train: ['epochs 3', 'batch 16', 'optimizer adam lr=0.01', 'accumulate 4', 'seed 7'] });
    const run = await trainModel({ modelFile: file, backend: 'wasm' }, () => {});
    assert.equal(run.status, 'completed');
    runDir = listRuns(runsFolderFor(file)).at(-1)!.dir;
    runBefore = folderContents(runDir);
    original = new Map(readCheckpoint(checkpointFile(runDir, fs.existsSync(checkpointFile(runDir, 'best')) ? 'best' : 'last')).weights);
    const epochs: number[] = [];
    report = await exportModel({ target: file, format: 'pytorch', outDir: path.join(path.dirname(file), 'export'), backend: 'wasm', prune: TARGET, fineTune: 2, onFineTuneEpoch: (epoch) => epochs.push(epoch) });
    process.stdout.write(exportReportText(report).replace(/^/gm, '# '));
    assert.deepEqual(epochs, [0, 1]);
    exported = readSafetensors(path.join(path.dirname(file), 'export', PYTORCH_WEIGHTS_FILE));
  });

  test('every pruned weight is still zero and each kernel is at least the target sparse', () => {
    const { weights: pruned, layers } = pruneWeights(original, TARGET);
    assert.deepEqual(layers.map((l) => l.key), ['conv1.weight', 'dense1.weight', 'dense2.weight']);
    for (const { key } of layers) {
      const before = pruned.get(key)!.values;
      const after = exported.get(key)!.values;
      const stillZero = before.every((value, i) => value !== 0 || after[i] === 0);
      assert.ok(stillZero, `${key}: a pruned weight moved`);
    }
    for (const layer of report.compression!.layers!) {
      assert.ok(layer.sparsity >= TARGET, `${layer.key}: ${layer.sparsity}`);
      const values = exported.get(layer.key)!.values;
      assert.equal(values.filter((v) => v === 0).length / values.length, layer.sparsity, layer.key);
    }
  });

  test('fine-tuning changes the weights pruning kept', () => {
    const { weights: pruned } = pruneWeights(original, TARGET);
    for (const key of ['conv1.weight', 'dense1.weight', 'dense2.weight', 'conv1.bias']) {
      const before = pruned.get(key)!.values;
      const after = exported.get(key)!.values;
      const moved = before.filter((value, i) => value !== 0 && value !== after[i]).length;
      assert.ok(moved > 0, `${key}: no kept weight changed`);
    }
  });

  test('the report gives the accuracy before pruning, after pruning and after fine-tuning, per class', () => {
    const compression = report.compression!;
    const tuning = compression.fineTuning!;
    assert.equal(tuning.epochs, 2);
    assert.equal(tuning.trainLoss.length, 2);
    assert.equal(tuning.trainImages, 90);
    // The lr of the run's last epoch: adam lr=0.01 with no schedule.
    assert.equal(tuning.learningRate, 0.01);
    for (const figures of [compression.before!, tuning.afterPruning!, compression.after!]) {
      assert.ok(figures.accuracy >= 0 && figures.accuracy <= 1);
      assert.equal(figures.perClass.length, 3);
    }
    assert.match(exportReportText(report), /accuracy [\d.]+% → [\d.]+% → [\d.]+% \(before pruning → after pruning → after fine-tuning\)/);
    assert.match(exportReportText(report), /pruned to 50\.0% sparsity and fine-tuned 2 epochs at lr 0\.01 on 90 training images/);
    assert.equal(report.parity?.ok ?? true, true);
  });

  test('a model file never trained is fine-tuned from its seeded weights at the schedule\'s first rate', async () => {
    // The dataset names its classes by count only, so the untrained model's classes are class0, class1, class2.
    const untrained = writeFixture({ train: ['epochs 3', 'batch 16', 'optimizer sgd lr=0.05', 'seed 3'] });
    const fresh = await exportModel({ target: untrained, format: 'onnx', outDir: path.join(path.dirname(untrained), 'export'), backend: 'wasm', prune: 0.5, fineTune: 1 });
    assert.equal(fresh.weightsSource, 'untrained (seed 3)');
    // Fine-tuned, the weights learned the dataset's classes, which the export names in place of class0, class1, class2.
    assert.deepEqual(fresh.classes, CLASSES);
    assert.equal(fresh.compression?.fineTuning?.learningRate, 0.05);
    assert.equal(fresh.compression?.fineTuning?.trainLoss.length, 1);
    assert.ok(fresh.compression?.after && fresh.compression.fineTuning?.afterPruning);
    assert.equal(fs.existsSync(runsFolderFor(untrained)), false, 'no run was made');
  });

  test("the run's folder is byte-identical afterwards", () => {
    const after = folderContents(runDir);
    assert.deepEqual([...after.keys()].sort(), [...runBefore.keys()].sort());
    for (const [name, bytes] of runBefore) assert.ok(bytes === after.get(name), `${name} changed`);
  });
});
