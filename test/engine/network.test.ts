/**
 * The engine-neutral view of a model: weights in PyTorch's names and layouts, their count against
 * the language's parameter count, the initialiser each one gets, and seeded initial values.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialWeights, weightSpecs } from '../../server/src/engine/network';
import { examples, modelOf, modelSource } from './helpers';

const trainableCount = (source: string): [number, number] => {
  const model = modelOf(source);
  const counted = weightSpecs(model)
    .filter((spec) => spec.trainable)
    .reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);
  return [counted, model.totalParams];
};

describe('weight specs', () => {
  for (const [file, source] of examples()) {
    it(`${file}: trainable weights add up to the language's parameter count`, () => {
      const [counted, total] = trainableCount(source);
      assert.equal(counted, total);
    });
  }

  it('ResNet18 for 10 classes has 11,181,642 trainable weights', () => {
    const source = examples().find(([file]) => file.endsWith('resnet18.ocular'))![1];
    assert.deepEqual(trainableCount(source), [11_181_642, 11_181_642]);
  });

  const layouts: { name: string; source: string; expected: [string, number[], string][] }[] = [
    {
      name: 'conv with groups, dwconv with a multiplier, batchnorm, dense',
      source: modelSource('4x8x8', 'conv 6 kernel=(3, 1) groups=2 bias=false', 'relu', 'dwconv multiplier=2', 'batchnorm', 'flatten', 'dense 3'),
      expected: [
        ['conv1.weight', [6, 2, 3, 1], 'he'],
        ['dwconv1.weight', [12, 1, 3, 3], 'glorot'],
        ['dwconv1.bias', [12], 'zeros'],
        ['batchnorm1.weight', [12], 'ones'],
        ['batchnorm1.bias', [12], 'zeros'],
        ['batchnorm1.running_mean', [12], 'zeros'],
        ['batchnorm1.running_var', [12], 'ones'],
        ['dense1.weight', [3, 12 * 4 * 6], 'glorot'],
        ['dense1.bias', [3], 'zeros'],
      ],
    },
    {
      name: 'a projected residual: its last conv and the projection feed the ReLU after the addition',
      source: modelSource('2x8x8', 'residual {', '  conv 4 stride=2 padding=1', '  batchnorm', '  relu', '  conv 4 padding=1 bias=false', '  batchnorm', '}', 'relu', 'flatten', 'dropout', 'dense 2 bias=false', 'leakyrelu 0.2'),
      expected: [
        ['residual1.conv1.weight', [4, 2, 3, 3], 'he'],
        ['residual1.conv1.bias', [4], 'zeros'],
        ['residual1.batchnorm1.weight', [4], 'ones'],
        ['residual1.batchnorm1.bias', [4], 'zeros'],
        ['residual1.batchnorm1.running_mean', [4], 'zeros'],
        ['residual1.batchnorm1.running_var', [4], 'ones'],
        ['residual1.conv2.weight', [4, 4, 3, 3], 'he'],
        ['residual1.batchnorm2.weight', [4], 'ones'],
        ['residual1.batchnorm2.bias', [4], 'zeros'],
        ['residual1.batchnorm2.running_mean', [4], 'zeros'],
        ['residual1.batchnorm2.running_var', [4], 'ones'],
        ['residual1.shortcut.conv.weight', [4, 2, 1, 1], 'he'],
        ['residual1.shortcut.batchnorm.weight', [4], 'ones'],
        ['residual1.shortcut.batchnorm.bias', [4], 'zeros'],
        ['residual1.shortcut.batchnorm.running_mean', [4], 'zeros'],
        ['residual1.shortcut.batchnorm.running_var', [4], 'ones'],
        ['dense1.weight', [2, 64], 'he'],
      ],
    },
    {
      name: 'blocks and repeats name weights by their expanded path',
      source: `block unit(c) {\n  conv c kernel=1\n  sigmoid\n}\n${modelSource('3x4x4', 'repeat 2 { unit 5 }', 'globalmaxpool')}`,
      expected: [
        ['repeat1.0.unit1.conv1.weight', [5, 3, 1, 1], 'glorot'],
        ['repeat1.0.unit1.conv1.bias', [5], 'zeros'],
        ['repeat1.1.unit1.conv1.weight', [5, 5, 1, 1], 'glorot'],
        ['repeat1.1.unit1.conv1.bias', [5], 'zeros'],
      ],
    },
  ];
  for (const c of layouts) {
    it(c.name, () => {
      const specs = weightSpecs(modelOf(c.source));
      assert.deepEqual(
        specs.map((spec) => [spec.key, spec.shape, spec.init.kind]),
        c.expected,
      );
    });
  }

  it('Kaiming uses the leaky ReLU slope in its gain and the fan-in of a group', () => {
    const specs = weightSpecs(modelOf(modelSource('4x5x5', 'conv 8 groups=4', 'leakyrelu 0.5', 'flatten', 'dense 2')));
    assert.deepEqual(specs[0]!.init, { kind: 'he', gain: Math.sqrt(2 / 1.25), fanIn: 9 });
    assert.deepEqual(specs[2]!.init, { kind: 'glorot', fanIn: 72, fanOut: 2 });
  });
});

describe('seeded initial weights', () => {
  const source = modelSource('3x8x8', 'conv 16', 'relu', 'conv 8', 'flatten', 'dense 10');
  const model = modelOf(source);

  it('the same seed gives identical weights; another seed gives different ones', () => {
    const a = initialWeights(model, 42);
    const b = initialWeights(model, 42);
    const c = initialWeights(model, 43);
    for (const [key, tensor] of a) {
      assert.deepEqual(tensor.values, b.get(key)!.values, key);
      if (key.endsWith('.weight')) assert.notDeepEqual(tensor.values, c.get(key)!.values, key);
    }
  });

  it('values follow their distributions: He normal and Glorot uniform', () => {
    const weights = initialWeights(modelOf(modelSource('64x16x16', 'conv 64', 'relu', 'conv 64', 'flatten', 'dense 10')), 7);
    const he = weights.get('conv1.weight')!.values;
    const std = Math.sqrt(he.reduce((s, v) => s + v * v, 0) / he.length);
    assert.ok(Math.abs(std - Math.sqrt(2 / (64 * 9))) < 0.002, `He std ${std}`);
    const glorot = weights.get('conv2.weight')!.values;
    const limit = Math.sqrt(6 / (64 * 9 + 64 * 9));
    assert.ok(glorot.every((v) => Math.abs(v) <= limit));
    assert.ok(Math.max(...glorot) > 0.99 * limit && Math.min(...glorot) < -0.99 * limit);
  });
});
