/**
 * The TensorFlow.js model builder: every example and a table of small models build with the
 * language's parameter count and every layer's shape; seeded weights; clear errors for what the
 * engine cannot do; and one model with every kind of weight computes what PyTorch computes
 * (outputs, loss, gradients and batchnorm statistics from torch 1.13, float64), on cpu and wasm.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { EngineError, type WeightTensor } from '../../server/src/engine/engine';
import { weightSpecs } from '../../server/src/engine/network';
import { buildNetwork } from '../../server/src/engine/tfjs/builder';
import { TfjsEngine } from '../../server/src/engine/tfjs/tfjs-engine';
import { examples, modelOf, modelSource } from './helpers';

const sgd = { optimizer: { name: 'sgd' as const, momentum: 0, nesterov: false, weightDecay: 0 }, labelSmoothing: 0, accumulate: 1 };

/** Builds without weights and checks parameters and every plain layer's shape against the analysis. */
function checkBuild(source: string): void {
  const model = modelOf(source);
  const network = buildNetwork(model, 1, false);
  try {
    const trainable = network.model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
    assert.equal(trainable, model.totalParams, 'trainable parameters');
    for (const layer of model.layers) {
      const shape = network.shapes.get(layer.path);
      if (shape) assert.deepEqual(shape, layer.output, `${layer.path} output`);
    }
    assert.equal(network.shapes.size, model.layers.filter((l) => ['conv', 'dwconv', 'maxpool', 'avgpool', 'globalavgpool', 'globalmaxpool', 'batchnorm', 'relu', 'leakyrelu', 'gelu', 'silu', 'sigmoid', 'tanh', 'softmax', 'dropout', 'flatten', 'dense'].includes(l.kind)).length);
    const output = model.output!;
    assert.deepEqual(network.model.outputs[0]!.shape.slice(1), output.length === 1 ? [...output] : [output[1], output[2], output[0]]);
  } finally {
    network.model.dispose();
  }
}

let engine: TfjsEngine;
after(() => assert.equal(tf.memory().numTensors, 0, 'every tensor is disposed'));

describe('builder', () => {
  it('starts on wasm', async () => {
    engine = await TfjsEngine.create({ preference: 'wasm' });
    assert.equal(engine.device.backend, 'wasm');
  });

  for (const [file, source] of examples()) it(`${file}: parameters and shapes`, () => checkBuild(source));

  const small: [string, string][] = [
    ['conv padding by number, pair, same and valid; strides; no bias', modelSource('3x17x15', 'conv 4 kernel=3 padding=2 stride=2', 'conv 5 kernel=(3, 5) padding=(0, 2)', 'conv 6 kernel=4 padding=same stride=3', 'conv 2 kernel=2 padding=valid bias=false')],
    ['dilation (for prediction)', modelSource('2x12x12', 'conv 3 kernel=3 dilation=2 padding=2', 'conv 4 kernel=(3, 2) dilation=(1, 3) padding=same')],
    ['dwconv with a multiplier and conv with groups equal to the channels', modelSource('4x9x9', 'dwconv multiplier=3 stride=2 padding=1', 'conv 24 groups=12 kernel=1', 'dwconv kernel=(1, 3) bias=false')],
    ['pools with padding and rectangular windows', modelSource('3x11x10', 'maxpool 3 stride=2 padding=1', 'avgpool (2, 3) stride=1 padding=(1, 1)', 'maxpool (2, 1)', 'avgpool 2')],
    ['global pools keep C×1×1, so a conv can follow', modelSource('8x6x6', 'globalavgpool', 'conv 4 kernel=1', 'relu', 'globalmaxpool', 'flatten', 'flatten', 'dense 3')],
    ['batchnorm on images and on vectors; every activation; dropout', modelSource('3x6x6', 'batchnorm eps=0.001 momentum=0.2', 'relu', 'leakyrelu 0.3', 'gelu', 'silu', 'sigmoid', 'tanh', 'softmax', 'dropout 0.1', 'flatten', 'dense 7 bias=false', 'batchnorm', 'dropout', 'dense 2', 'softmax')],
    ['residuals: identity and projection, nested in a repeat and a block', `block down(c) {\n  residual {\n    conv c stride=2 padding=1\n    batchnorm\n  }\n}\n${modelSource('4x9x9', 'repeat 2 {', '  residual {', '    conv 4 padding=1', '  }', '}', 'down 6', 'residual shortcut=projection {', '  relu', '}', 'globalavgpool', 'flatten', 'dense 2')}`],
  ];
  for (const [name, source] of small) it(name, () => checkBuild(source));

  it('the same seed gives the same initial weights, another seed others', async () => {
    const model = modelOf(modelSource('3x8x8', 'conv 4', 'relu', 'flatten', 'dense 3'));
    const weights = async (seed: number): Promise<ReadonlyMap<string, WeightTensor>> => {
      const built = await engine.build(model, { seed });
      const result = await built.getWeights();
      built.dispose();
      return result;
    };
    const [a, b, c] = [await weights(5), await weights(5), await weights(6)];
    assert.deepEqual([...a.keys()], ['conv1.weight', 'conv1.bias', 'dense1.weight', 'dense1.bias']);
    for (const key of a.keys()) {
      assert.deepEqual(a.get(key)!.values, b.get(key)!.values, key);
      if (key.endsWith('weight')) assert.notDeepEqual(a.get(key)!.values, c.get(key)!.values, key);
    }
  });

  const refusals: { name: string; source: string; training: boolean; message: RegExp; line: string }[] = [
    { name: 'conv groups other than 1 or the channels', source: modelSource('4x8x8', 'conv 8 groups=2', 'flatten', 'dense 2'), training: false, message: /conv \(conv1\): groups=2 is not supported by the TensorFlow.js engine yet/, line: 'conv 8 groups=2' },
    { name: 'stride and dilation together', source: modelSource('4x8x8', 'conv 8 stride=2 dilation=2', 'flatten', 'dense 2'), training: false, message: /stride and dilation both above 1/, line: 'conv 8 stride=2 dilation=2' },
    { name: 'training with dilation', source: modelSource('4x8x8', 'conv 4 dilation=2', 'flatten', 'dense 2'), training: true, message: /dilation above 1 cannot be trained by the TensorFlow.js engine yet/, line: 'conv 4 dilation=2' },
    { name: 'a depthwise convolution with dilation', source: modelSource('4x8x8', 'dwconv dilation=(2, 1)', 'flatten', 'dense 2'), training: false, message: /dilation above 1 in a depthwise convolution is not supported/, line: 'dwconv dilation=(2, 1)' },
    { name: 'a model that does not end in class scores', source: modelSource('4x8x8', 'conv 8'), training: false, message: /ends in 8×6×6; a classifier ends in one score per class/, line: 'conv 8' },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with an EngineError naming the line`, async () => {
      const model = modelOf(r.source);
      await assert.rejects(engine.build(model, { seed: 1, ...(r.training ? { training: sgd } : {}) }), (error: unknown) => {
        assert.ok(error instanceof EngineError);
        assert.match(error.message, r.message);
        assert.equal(r.source.slice(error.statement!.span.start, error.statement!.span.end), r.line);
        return true;
      });
    });
  }
});

describe('the same numbers as PyTorch', () => {
  const source = modelSource(
    '2x5x6',
    'conv 4 kernel=(2, 3) stride=(1, 2) padding=1',
    'batchnorm',
    'leakyrelu 0.2',
    'maxpool 2 padding=1',
    'dwconv multiplier=2 padding=1',
    'gelu',
    'avgpool 2 stride=1 padding=1',
    'residual {',
    '  conv 6 stride=2 padding=1 bias=false',
    '  batchnorm',
    '}',
    'silu',
    'conv 6 kernel=(1, 2) groups=6 bias=false',
    'flatten',
    'dense 3',
  );
  /** The fixture's weights: 0.5·sin(offset + 0.7·i), offset from the key; running statistics scaled as the torch script does. */
  function fixtureWeights(): Map<string, WeightTensor> {
    const result = new Map<string, WeightTensor>();
    for (const spec of weightSpecs(modelOf(source))) {
      const offset = [...spec.key].reduce((s, ch) => s + ch.charCodeAt(0), 0) % 97;
      const values = Float32Array.from({ length: spec.shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.5 * Math.sin(offset + 0.7 * i));
      if (spec.key.endsWith('running_mean')) values.forEach((v, i) => (values[i] = v * 0.1));
      if (spec.key.endsWith('running_var')) values.forEach((v, i) => (values[i] = Math.abs(v) + 0.5));
      result.set(spec.key, { shape: spec.shape, values });
    }
    return result;
  }
  const images = Float32Array.from({ length: 2 * 2 * 5 * 6 }, (_, i) => Math.cos(0.3 * i));
  const logits = [0.04956828, -0.03968267, 0.10286374, 0.02331727, -0.06665073, 0.07520911];
  const gradients: [string, number[]][] = [
    ['conv1.weight', [-0.0004954, -0.00022714, -0.00017287, -0.00025861, -4.964e-5, 0.00017911]],
    ['dwconv1.bias', [0.00049777, 0.00077836, -0.00030855, -0.00038824, 3.318e-5, -0.00015439]],
    ['residual1.shortcut.conv.weight', [-3.105e-5, -2.989e-5, -1.29e-5, -1.35e-5, -4.14e-6, -2.4e-6]],
    ['dense1.weight', [-0.01602858, -0.01961752, -0.01939061, 0.02946617, 0.02848904, 0.03265531]],
  ];
  const runningMeans: [string, number[]][] = [
    ['batchnorm1.running_mean', [-0.01787751, 0.04615949, 0.05489306, 0.10887408]],
    ['residual1.shortcut.batchnorm.running_mean', [-0.02174881, -0.04233693, -0.04295629, -0.02354812, 0.00660587, 0.0333178]],
  ];
  const near = (actual: ArrayLike<number>, expected: readonly number[], tolerance: number, what: string): void =>
    expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= tolerance, `${what}[${i}]: ${actual[i]} ≠ ${e}`));

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`on ${backend}: inference, the loss, one SGD step's gradients and batchnorm statistics`, async () => {
      engine = await TfjsEngine.create({ preference: backend });
      // One thread: data-parallel shards normalise their batchnorm over each shard, not the batch.
      const model = await engine.build(modelOf(source), { seed: 1, training: sgd, threads: 1 });
      try {
        const initial = fixtureWeights();
        model.setWeights(initial);
        const probabilities = await model.predict(images);
        for (let row = 0; row < 2; row++) {
          const exps = logits.slice(row * 3, row * 3 + 3).map(Math.exp);
          const total = exps.reduce((a, b) => a + b, 0);
          near(probabilities.subarray(row * 3, row * 3 + 3), exps.map((e) => e / total), 2e-6, `probabilities row ${row}`);
        }
        // With SGD at rate 1 and no momentum, each weight moves by exactly minus its gradient.
        const step = await model.trainStep({ images, labels: Int32Array.from([2, 0]) }, 1);
        near([step.loss], [1.06197568], 2e-6, 'loss');
        const updated = await model.getWeights();
        for (const [key, expected] of gradients) {
          const before = initial.get(key)!.values;
          const after = updated.get(key)!.values;
          near(Array.from(expected, (_, i) => before[i]! - after[i]!), expected, 2e-6, `gradient of ${key}`);
        }
        for (const [key, expected] of runningMeans) near(updated.get(key)!.values, expected, 2e-6, key);
      } finally {
        model.dispose();
      }
    });
  }
});
