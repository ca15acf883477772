/**
 * Shapes, parameters and MACs, layer by layer, against values worked out by hand from PyTorch's
 * formulas. Each expectation is written as the formula, so a reader can check it:
 *
 *   conv     H' = floor((H + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1
 *            params = out · (C / groups) · kh · kw (+ out for the bias)
 *            MACs   = out · H' · W' · (C / groups) · kh · kw
 *   pool     same H', params 0, MACs = C · H' · W' · kh · kw
 *   batchnorm  params 2·C (running statistics are buffers), MACs 2 · C · H · W
 *   dense    params in · units (+ units), MACs in · units
 *
 * A residual's projection shortcut (1×1 conv with the body's stride, no bias, then batchnorm) is
 * counted as the residual's own parameters, the fifth column where a case gives it.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../server/src/language/analysis';
import { examples, model, renderDiagnostic } from './helpers';

/** `[path, output shape, params, MACs]`, plus own parameters for composites (block calls, residuals, repeats). */
type Layer = readonly [path: string, shape: string, params: number, macs: number, own?: number];

interface Case {
  readonly name: string;
  readonly input: string;
  /** The model's layers, parents before their children, exactly as analyze() lists them. */
  readonly layers: readonly Layer[];
  /** The model's class count and where it comes from, when the case is about that. */
  readonly classes?: { readonly value: number; readonly source: string };
}

const CASES: readonly Case[] = [
  // Convolutions.
  { name: 'conv with the default kernel 3 and no padding', input: model(['conv 16']), layers: [['conv1', '16x30x30', 16 * 3 * 3 * 3 + 16, 16 * 30 * 30 * (3 * 3 * 3)]] },
  { name: 'conv with stride 2 and padding 1', input: model(['conv 16 kernel=3 stride=2 padding=1']), layers: [['conv1', '16x16x16', 16 * 3 * 3 * 3 + 16, 16 * 16 * 16 * (3 * 3 * 3)]] },
  { name: 'conv with an odd size at stride 2 rounds down', input: model(['conv 4 kernel=3 stride=2'], '3x33x33'), layers: [['conv1', '4x16x16', 4 * 27 + 4, 4 * 16 * 16 * 27]] },
  { name: 'conv with dilation 2 spans 5 pixels', input: model(['conv 8 kernel=3 dilation=2']), layers: [['conv1', '8x28x28', 8 * 3 * 3 * 3 + 8, 8 * 28 * 28 * 27]] },
  { name: 'conv with 4 groups', input: model(['conv 16 kernel=3 padding=1 groups=4'], '8x16x16'), layers: [['conv1', '16x16x16', 16 * (8 / 4) * 3 * 3 + 16, 16 * 16 * 16 * ((8 / 4) * 3 * 3)]] },
  { name: 'conv without bias', input: model(['conv 16 kernel=1 bias=false']), layers: [['conv1', '16x32x32', 16 * 3, 16 * 32 * 32 * 3]] },
  { name: 'conv with an (h, w) kernel and padding', input: model(['conv 4 kernel=(3, 5) padding=(1, 2)']), layers: [['conv1', '4x32x32', 4 * 3 * 3 * 5 + 4, 4 * 32 * 32 * (3 * 3 * 5)]] },
  { name: 'conv with an (h, w) stride', input: model(['conv 4 kernel=(1, 3) stride=(1, 2)']), layers: [['conv1', '4x32x15', 4 * 3 * 1 * 3 + 4, 4 * 32 * 15 * (3 * 3)]] },
  { name: 'conv with padding=same at stride 1 keeps the size', input: model(['conv 8 kernel=5 padding=same']), layers: [['conv1', '8x32x32', 8 * 3 * 25 + 8, 8 * 32 * 32 * (3 * 25)]] },
  { name: 'conv with padding=same and dilation keeps the size', input: model(['conv 8 kernel=3 dilation=2 padding=same']), layers: [['conv1', '8x32x32', 8 * 27 + 8, 8 * 32 * 32 * 27]] },
  { name: 'conv with padding=same at stride 2 gives ceil(H / 2)', input: model(['conv 8 kernel=3 stride=2 padding=same'], '3x31x31'), layers: [['conv1', '8x16x16', 8 * 27 + 8, 8 * 16 * 16 * 27]] },
  { name: 'conv with padding=valid pads nothing', input: model(['conv 8 kernel=5 padding=valid']), layers: [['conv1', '8x28x28', 8 * 3 * 25 + 8, 8 * 28 * 28 * (3 * 25)]] },
  { name: 'conv on a non-square input', input: model(['conv 2 kernel=3'], '1x10x20'), layers: [['conv1', '2x8x18', 2 * 9 + 2, 2 * 8 * 18 * 9]] },

  // Depthwise convolutions: groups = C, so each output sees one input channel.
  { name: 'dwconv with its defaults', input: model(['dwconv'], '8x16x16'), layers: [['dwconv1', '8x14x14', 8 * 1 * 3 * 3 + 8, 8 * 14 * 14 * 9]] },
  { name: 'dwconv with multiplier 2, padding 1 and no bias', input: model(['dwconv multiplier=2 padding=1 bias=false'], '8x16x16'), layers: [['dwconv1', '16x16x16', 16 * 1 * 3 * 3, 16 * 16 * 16 * 9]] },
  { name: 'dwconv with stride 2 and a 5x5 kernel', input: model(['dwconv kernel=5 stride=2 padding=2'], '8x16x16'), layers: [['dwconv1', '8x8x8', 8 * 25 + 8, 8 * 8 * 8 * 25]] },

  // Pooling: the stride is the window unless given.
  { name: 'maxpool 2', input: model(['maxpool 2'], '8x32x32'), layers: [['maxpool1', '8x16x16', 0, 8 * 16 * 16 * 4]] },
  { name: 'maxpool 3 with the default stride rounds down', input: model(['maxpool 3'], '8x32x32'), layers: [['maxpool1', '8x10x10', 0, 8 * 10 * 10 * 9]] },
  { name: 'maxpool 3 with stride 2 and padding 1', input: model(['maxpool 3 stride=2 padding=1'], '4x32x32'), layers: [['maxpool1', '4x16x16', 0, 4 * 16 * 16 * 9]] },
  { name: 'avgpool 2 with stride 1', input: model(['avgpool 2 stride=1'], '4x32x32'), layers: [['avgpool1', '4x31x31', 0, 4 * 31 * 31 * 4]] },
  { name: 'avgpool with a (h, w) window', input: model(['avgpool (2, 4)'], '4x32x32'), layers: [['avgpool1', '4x16x8', 0, 4 * 16 * 8 * 8]] },
  { name: 'avgpool 3 with padding 1', input: model(['avgpool 3 padding=1'], '4x32x32'), layers: [['avgpool1', '4x11x11', 0, 4 * 11 * 11 * 9]] },
  { name: 'globalavgpool', input: model(['globalavgpool'], '8x7x5'), layers: [['globalavgpool1', '8x1x1', 0, 8 * 7 * 5]] },
  { name: 'globalmaxpool', input: model(['globalmaxpool'], '8x7x5'), layers: [['globalmaxpool1', '8x1x1', 0, 8 * 7 * 5]] },

  // Normalisation, shape-keeping layers, flatten and dense.
  { name: 'batchnorm learns a scale and a shift per channel', input: model(['batchnorm'], '16x8x8'), layers: [['batchnorm1', '16x8x8', 2 * 16, 2 * 16 * 8 * 8]] },
  {
    name: 'activations, dropout and softmax keep the shape and learn nothing',
    input: model(['relu', 'leakyrelu 0.2', 'gelu', 'silu', 'sigmoid', 'tanh', 'dropout 0.1', 'softmax'], '2x3x4'),
    layers: ['relu1', 'leakyrelu1', 'gelu1', 'silu1', 'sigmoid1', 'tanh1', 'dropout1', 'softmax1'].map((path): Layer => [path, '2x3x4', 0, 0]),
  },
  { name: 'flatten', input: model(['flatten'], '16x8x8'), layers: [['flatten1', '1024', 0, 0]] },
  { name: 'dense', input: model(['flatten', 'dense 10'], '16x8x8'), layers: [['flatten1', '1024', 0, 0], ['dense1', '10', 1024 * 10 + 10, 1024 * 10]] },
  { name: 'dense without bias', input: model(['flatten', 'dense 10 bias=false'], '16x8x8'), layers: [['flatten1', '1024', 0, 0], ['dense1', '10', 1024 * 10, 1024 * 10]] },
  { name: 'layers of one kind are numbered in order', input: model(['conv 4 kernel=1', 'relu', 'conv 2 kernel=1', 'relu'], '1x2x2'), layers: [['conv1', '4x2x2', 4 + 4, 4 * 2 * 2], ['relu1', '4x2x2', 0, 0], ['conv2', '2x2x2', 2 * 4 + 2, 2 * 2 * 2 * 4], ['relu2', '2x2x2', 0, 0]] },

  // Residuals: identity when the body keeps the shape, otherwise a 1×1 projection plus batchnorm.
  {
    name: 'residual with an identity shortcut',
    input: model(['residual {', '  conv 8 kernel=3 padding=1', '}'], '8x16x16'),
    layers: [
      ['residual1', '8x16x16', 8 * 8 * 9 + 8, 8 * 16 * 16 * (8 * 9), 0],
      ['residual1.conv1', '8x16x16', 8 * 8 * 9 + 8, 8 * 16 * 16 * (8 * 9)],
    ],
  },
  {
    name: 'residual with a projection shortcut when the body halves the size and doubles the channels',
    input: model(['residual {', '  conv 16 kernel=3 stride=2 padding=1 bias=false', '  batchnorm', '}'], '8x16x16'),
    layers: [
      // The projection: a 1×1 conv 8 → 16 at stride 2 without bias, then batchnorm over 16 channels.
      ['residual1', '16x8x8', 16 * 8 * 9 + 2 * 16 + (8 * 16 + 2 * 16), 16 * 8 * 8 * (8 * 9) + 2 * 16 * 8 * 8 + (16 * 8 * 8 * 8 + 2 * 16 * 8 * 8), 8 * 16 + 2 * 16],
      ['residual1.conv1', '16x8x8', 16 * 8 * 9, 16 * 8 * 8 * (8 * 9)],
      ['residual1.batchnorm1', '16x8x8', 2 * 16, 2 * 16 * 8 * 8],
    ],
  },
  {
    name: 'residual with shortcut=projection projects even when the shapes agree',
    input: model(['residual shortcut=projection {', '  relu', '}'], '8x4x4'),
    layers: [
      ['residual1', '8x4x4', 8 * 8 + 2 * 8, 8 * 4 * 4 * 8 + 2 * 8 * 4 * 4, 8 * 8 + 2 * 8],
      ['residual1.relu1', '8x4x4', 0, 0],
    ],
  },
  {
    name: 'repeat unrolls its body',
    input: model(['repeat 3 {', '  conv 8 kernel=3 padding=1', '  relu', '}'], '8x4x4'),
    layers: [
      ['repeat1', '8x4x4', 3 * (8 * 8 * 9 + 8), 3 * (8 * 4 * 4 * 72), 0],
      ...[0, 1, 2].flatMap((i): Layer[] => [
        [`repeat1.${i}.conv1`, '8x4x4', 8 * 8 * 9 + 8, 8 * 4 * 4 * 72],
        [`repeat1.${i}.relu1`, '8x4x4', 0, 0],
      ]),
    ],
  },

  // Blocks: defaults, positional and named arguments, and expressions in both.
  {
    name: 'block calls with defaults, named arguments and expressions',
    input: [
      'block unit(channels, stride=1, width=channels*2) {',
      '  conv width kernel=3 stride=stride padding=1',
      '  relu',
      '}',
      model(['unit 4', 'unit channels=8 stride=2', 'unit 2*3 width=5']),
    ].join('\n'),
    layers: [
      // unit 4: width = 4·2 = 8 filters over 3 channels.
      ['unit1', '8x32x32', 8 * 27 + 8, 8 * 32 * 32 * 27, 0],
      ['unit1.conv1', '8x32x32', 8 * 27 + 8, 8 * 32 * 32 * 27],
      ['unit1.relu1', '8x32x32', 0, 0],
      // unit channels=8 stride=2: width = 16 filters over 8 channels, halving the size.
      ['unit2', '16x16x16', 16 * 72 + 16, 16 * 16 * 16 * 72, 0],
      ['unit2.conv1', '16x16x16', 16 * 72 + 16, 16 * 16 * 16 * 72],
      ['unit2.relu1', '16x16x16', 0, 0],
      // unit 2*3 width=5: the named width wins over the default channels·2.
      ['unit3', '5x16x16', 5 * 144 + 5, 5 * 16 * 16 * 144, 0],
      ['unit3.conv1', '5x16x16', 5 * 144 + 5, 5 * 16 * 16 * 144],
      ['unit3.relu1', '5x16x16', 0, 0],
    ],
  },
  {
    name: 'a block calling a block, with an argument computed from a model parameter',
    input: [
      'block inner(c) {',
      '  conv c kernel=1',
      '}',
      'block outer(c) {',
      '  inner c/2',
      '  inner c',
      '}',
      'model M(base=4) {',
      '  input 2x3x3',
      '  outer base*2',
      '}',
    ].join('\n'),
    layers: [
      ['outer1', '8x3x3', 4 * 2 + 4 + (8 * 4 + 8), 4 * 9 * 2 + 8 * 9 * 4, 0],
      ['outer1.inner1', '4x3x3', 4 * 2 + 4, 4 * 9 * 2, 0],
      ['outer1.inner1.conv1', '4x3x3', 4 * 2 + 4, 4 * 9 * 2],
      ['outer1.inner2', '8x3x3', 8 * 4 + 8, 8 * 9 * 4, 0],
      ['outer1.inner2.conv1', '8x3x3', 8 * 4 + 8, 8 * 9 * 4],
    ],
  },

  // Where `classes` comes from.
  {
    name: 'classes is 10 when nothing says otherwise',
    input: model(['flatten', 'dense classes'], '2x2x2'),
    layers: [['flatten1', '8', 0, 0], ['dense1', '10', 8 * 10 + 10, 8 * 10]],
    classes: { value: 10, source: 'default' },
  },
  {
    name: 'classes from a model parameter',
    input: 'model M(classes=100) {\n  input 2x2x2\n  flatten\n  dense classes\n}\n',
    layers: [['flatten1', '8', 0, 0], ['dense1', '100', 8 * 100 + 100, 8 * 100]],
    classes: { value: 100, source: 'model parameter' },
  },
  {
    name: 'classes from the dataset a train section pairs the model with',
    input: `${model(['flatten', 'dense classes'], '3x2x2')}dataset d {\n  train "x"\n  image 3x2x2\n  classes 7\n}\ntrain {\n  model M\n  data d\n}\n`,
    layers: [['flatten1', '12', 0, 0], ['dense1', '7', 12 * 7 + 7, 12 * 7]],
    classes: { value: 7, source: 'dataset d' },
  },
  {
    name: 'classes counted from the class names of a paired dataset',
    input: `${model(['flatten', 'dense classes'], '3x2x2')}dataset d {\n  train "x"\n  image 3x2x2\n  classes (cat, dog, bird)\n}\ntrain {\n  model M\n  data d\n}\n`,
    layers: [['flatten1', '12', 0, 0], ['dense1', '3', 12 * 3 + 3, 12 * 3]],
    classes: { value: 3, source: 'dataset d' },
  },
  {
    name: 'classes passes into blocks',
    input: `block head() {\n  flatten\n  dense classes\n}\n${model(['head'], '1x2x2')}`,
    layers: [['head1', '10', 4 * 10 + 10, 4 * 10, 0], ['head1.flatten1', '4', 0, 0], ['head1.dense1', '10', 4 * 10 + 10, 4 * 10]],
  },
];

function check(c: Case): void {
  const analysis = analyze(c.input);
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error').map((d) => renderDiagnostic(c.input, d));
  assert.deepEqual(errors, []);
  const found = analysis.models.find((m) => m.name === 'M');
  assert.ok(found, 'the input declares model M');
  const actual = found.layers.map((layer, i): Layer => {
    const shape = layer.output.join('x');
    // Leaves own all their parameters; the own column is only written for composites.
    const own = c.layers[i]?.[4];
    return own === undefined && layer.ownParams === layer.params ? [layer.path, shape, layer.params, layer.macs] : [layer.path, shape, layer.params, layer.macs, layer.ownParams];
  });
  assert.deepEqual(actual, c.layers);
  // The totals add up the top-level layers, which already hold everything inside them.
  const top = found.layers.filter((layer) => layer.depth === 0);
  assert.equal(found.totalParams, top.reduce((sum, layer) => sum + layer.params, 0));
  assert.equal(found.totalMacs, top.reduce((sum, layer) => sum + layer.macs, 0));
  if (c.classes) assert.deepEqual(found.classes, c.classes);
}

describe('layers', () => {
  for (const c of CASES) test(c.name, () => check(c));
});

interface ExampleTotal {
  readonly file: string;
  readonly model: string;
  readonly params: number;
  readonly output: string;
}

/**
 * The examples' totals, as PyTorch counts them: these numbers are what test/reference/torch_models.py
 * prints for the same networks built in torch.nn (torch 1.13; its ResNet18 also matches
 * torchvision's resnet18(num_classes=10)), copied here so that they are checked without torch.
 */
const EXAMPLE_TOTALS: readonly ExampleTotal[] = [
  { file: 'examples/digits.ocular', model: 'DigitsCNN', params: 38282, output: '10' },
  { file: 'examples/mobilenet_small.ocular', model: 'MobileNetSmall', params: 1348938, output: '10' },
  { file: 'examples/resnet18.ocular', model: 'ResNet18', params: 11181642, output: '10' },
  { file: 'examples/simple_cnn_224.ocular', model: 'SimpleCNN', params: 102785482, output: '10' },
  { file: 'examples/simple_cnn_cifar.ocular', model: 'SimpleCNN32', params: 2122186, output: '10' },
];

describe('example totals', () => {
  test('the table covers every example', () => {
    assert.deepEqual(EXAMPLE_TOTALS.map((t) => t.file), examples().map((e) => e.file));
  });
  for (const expected of EXAMPLE_TOTALS) {
    test(`${expected.model} has ${expected.params.toLocaleString('en-US')} parameters`, () => {
      const example = examples().find((e) => e.file === expected.file)!;
      const models = analyze(example.source).models;
      assert.deepEqual(models.map((m) => m.name), [expected.model]);
      assert.deepEqual({ params: models[0]!.totalParams, output: models[0]!.output?.join('x') }, { params: expected.params, output: expected.output });
    });
  }
});
