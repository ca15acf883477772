/**
 * Every example model exported in each format and loaded back from disk: ONNX through ONNX
 * Runtime (wasm), TF.js through tf.loadLayersModel, PyTorch through /usr/bin/python3 where
 * `import torch` works (else skipped with the reason). Parity with the engine is asserted on
 * seeded generated images (the examples' datasets are not on disk here). The 224×224 models go
 * only through ONNX, on two images, to stay quick.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportModel, exportReportText, torchAvailable, type ExportFormat } from '../../server/src/export/export';
import { analyze } from '../../server/src/language/analysis';

const examples = path.resolve(__dirname, '../../../examples');
const torch = torchAvailable();

const cases: [string, readonly ExportFormat[], number][] = [
  ['digits.ocular', ['onnx', 'tfjs', 'pytorch'], 16],
  ['simple_cnn_cifar.ocular', ['onnx', 'tfjs', 'pytorch'], 8],
  ['mobilenet_small.ocular', ['onnx', 'tfjs', 'pytorch'], 4],
  ['resnet18.ocular', ['onnx'], 2],
  ['simple_cnn_224.ocular', ['onnx'], 2],
];

describe('export round trips', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-export-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [example, formats, images] of cases) {
    for (const format of formats) {
      test(`${example} as ${format}`, async (t) => {
        if (format === 'pytorch' && torch !== true) {
          t.skip(`PyTorch export not checked: ${torch}`);
          process.stdout.write(`# skipped ${example} as pytorch: ${torch}\n`);
          return;
        }
        // A copy in a fresh folder, so no run of the example is picked up: a seeded, untrained model.
        const work = path.join(dir, `${path.basename(example, '.ocular')}-${format}`);
        fs.mkdirSync(work, { recursive: true });
        fs.copyFileSync(path.join(examples, example), path.join(work, example));
        const report = await exportModel({ target: path.join(work, example), format, outDir: path.join(work, 'out'), backend: 'wasm', parityImages: images });
        process.stdout.write(exportReportText(report).replace(/^/gm, '# '));
        assert.ok(report.parity, 'parity was checked');
        assert.equal(report.parity.ok, true);
        assert.equal(report.parity.top1Agreement, 1);
        assert.ok(report.parity.maxProbabilityDiff < 1e-4);
        for (const file of report.files) assert.ok(fs.statSync(file).size > 0, file);
      });
    }
  }

  test('ONNX metadata carries the preprocessing', async () => {
    const work = path.join(dir, 'metadata');
    fs.mkdirSync(work);
    fs.copyFileSync(path.join(examples, 'simple_cnn_cifar.ocular'), path.join(work, 'm.ocular'));
    const report = await exportModel({ target: path.join(work, 'm.ocular'), format: 'onnx', outDir: path.join(work, 'out'), backend: 'wasm', parityImages: 2 });
    const bytes = fs.readFileSync(report.files[0]!).toString('latin1');
    for (const expected of ['ocular.classes', 'ocular.input_shape', '[3,32,32]', 'ocular.normalize', 'ocular.resize', 'stretch']) assert.ok(bytes.includes(expected), expected);
  });
});

describe('compression', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-compress-'));
    fs.copyFileSync(path.join(examples, 'simple_cnn_cifar.ocular'), path.join(dir, 'm.ocular'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const sizeOf = async (quantize?: 'int8' | 'float16'): Promise<number> => {
    const report = await exportModel({ target: path.join(dir, 'm.ocular'), format: 'onnx', outDir: path.join(dir, quantize ?? 'float32'), backend: 'wasm', parityImages: 4, ...(quantize ? { quantize } : {}) });
    assert.equal(report.parity?.ok, true);
    if (quantize) assert.equal(report.compression?.quantize, quantize);
    return fs.statSync(report.files[0]!).size;
  };

  test('float16 halves and int8 quarters the ONNX file, with parity against the quantised weights', async () => {
    const full = await sizeOf();
    const half = await sizeOf('float16');
    const quarter = await sizeOf('int8');
    assert.ok(Math.abs(half / full - 0.5) < 0.02, `float16 ${half} of ${full}`);
    assert.ok(Math.abs(quarter / full - 0.25) < 0.02, `int8 ${quarter} of ${full}`);
  });

  test('pruning reaches the target sparsity in every kernel', async () => {
    const report = await exportModel({ target: path.join(dir, 'm.ocular'), format: 'onnx', outDir: path.join(dir, 'pruned'), backend: 'wasm', parityImages: 4, prune: 0.5 });
    const model = analyze(fs.readFileSync(path.join(dir, 'm.ocular'), 'utf8')).models[0]!;
    assert.deepEqual(report.compression?.layers?.map((l) => [l.key, l.sparsity]), model.layers.filter((l) => l.kind === 'conv' || l.kind === 'dense').map((l) => [`${l.path}.weight`, 0.5]));
    assert.equal(report.compression?.fineTuning, undefined);
  });

  test('quantising a TF.js export is refused with the reason', async () => {
    await assert.rejects(exportModel({ target: path.join(dir, 'm.ocular'), format: 'tfjs', outDir: path.join(dir, 'refused'), quantize: 'int8' }), /ONNX export/);
  });
});
