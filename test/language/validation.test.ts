/**
 * Every diagnostic the language reports, one case each: the input, and the complete list of
 * diagnostics it must give, each as `[line:col, severity, code, range, message]` where the range is
 * the exact source text the diagnostic covers and the message only has to occur in the real one.
 * Listing all of them, not just the one a case is about, shows that no mistake drags others along.
 * A case may also give the source after applying the first diagnostic's first quick fix, and the
 * source text of its related locations.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../server/src/language/analysis';
import { applyEdits, examples, lineCol, model, renderDiagnostic } from './helpers';

type Expected = readonly [at: string, severity: string, code: string, range: string, message: string];

interface Case {
  readonly name: string;
  readonly input: string;
  readonly diagnostics: readonly Expected[];
  /** The input after the first diagnostic's first quick fix. */
  readonly fixed?: string;
  /** The source text of each related location of the first diagnostic. */
  readonly related?: readonly string[];
}

/** Model M from its layers, ending in relu, flatten and dense 10 so that it is a valid classifier. */
const net = (layers: readonly string[], input?: string): string => model([...layers, 'relu', 'flatten', 'dense 10'], input);

const DATASET = ['train "data/train"', 'val "data/val"', 'image 3x32x32', 'classes 10'];
const TRAIN = ['model M', 'data cifar'];

/**
 * A model M, a dataset cifar and a train section pairing them, valid with the defaults. Lines 1-5
 * are the model, the dataset starts on line 6 and the train section right after it.
 */
function file(parts: { layers?: readonly string[]; input?: string; dataset?: readonly string[]; train?: readonly string[] }): string {
  const section = (header: string, lines: readonly string[]): string => [`${header} {`, ...lines.map((l) => `  ${l}`), '}', ''].join('\n');
  return model(parts.layers ?? ['flatten', 'dense classes'], parts.input) + section('dataset cifar', parts.dataset ?? DATASET) + section('train', parts.train ?? TRAIN);
}

/** A block `unit(c, s=1)` holding a 3×3 conv, used by model M. */
const unit = (calls: readonly string[], input: string): string => `block unit(c, s=1) {\n  conv c kernel=3 stride=s\n}\n${net(calls, input)}`;

const STRUCTURE: readonly Case[] = [
  {
    name: 'unknown layer with a suggestion and its quick fix',
    input: net(['rleu']),
    diagnostics: [['3:3', 'error', 'unknown-layer', 'rleu', "Unknown layer 'rleu': did you mean 'relu'?"]],
    fixed: net(['relu']),
  },
  { name: 'unknown layer without a suggestion lists the layers', input: net(['frobnicate']), diagnostics: [['3:3', 'error', 'unknown-layer', 'frobnicate', "Unknown layer 'frobnicate'. Expected one of: input, conv, dwconv"]] },
  {
    name: "unknown layer suggests a block's name",
    input: `block basic(c) {\n  conv c\n}\n${net(['basci 8'])}`,
    diagnostics: [['6:3', 'error', 'unknown-layer', 'basci', "did you mean 'basic'?"]],
    fixed: `block basic(c) {\n  conv c\n}\n${net(['basic 8'])}`,
  },
  {
    name: 'unknown parameter with a suggestion and its quick fix',
    input: net(['conv 8 kernal=3']),
    diagnostics: [['3:10', 'error', 'unknown-parameter', 'kernal', "'conv' has no parameter 'kernal': did you mean 'kernel'?"]],
    fixed: net(['conv 8 kernel=3']),
  },
  { name: 'unknown parameter without a suggestion lists the parameters', input: net(['conv 8 foo=3']), diagnostics: [['3:10', 'error', 'unknown-parameter', 'foo', "'conv' has no parameter 'foo'. It takes: out, kernel, stride, padding, dilation, groups, bias."]] },
  {
    name: 'unknown dataset setting with a suggestion',
    input: file({ dataset: [...DATASET, 'imgae 3x32x32'] }),
    diagnostics: [['11:3', 'error', 'unknown-dataset-setting', 'imgae', "Unknown dataset setting 'imgae': did you mean 'image'?"]],
    fixed: file({ dataset: [...DATASET, 'image 3x32x32'] }),
  },
  { name: 'a layer in a dataset', input: file({ dataset: [...DATASET, 'conv 3'] }), diagnostics: [['11:3', 'error', 'unknown-dataset-setting', 'conv', "Unknown dataset setting 'conv'. 'conv' is a layer: layers go in a model or block."]] },
  {
    name: 'unknown augmentation with a suggestion',
    input: file({ dataset: [...DATASET, 'augment {', '  hlip', '}'] }),
    diagnostics: [['12:5', 'error', 'unknown-augmentation', 'hlip', "Unknown augmentation 'hlip': did you mean 'hflip'?"]],
  },
  {
    name: 'unknown training setting with a suggestion',
    input: file({ train: [...TRAIN, 'epoch 5'] }),
    diagnostics: [['15:3', 'error', 'unknown-training-setting', 'epoch', "Unknown training setting 'epoch': did you mean 'epochs'?"]],
    fixed: file({ train: [...TRAIN, 'epochs 5'] }),
  },
  {
    name: 'a training setting given twice',
    input: file({ train: [...TRAIN, 'epochs 5', 'epochs 6'] }),
    diagnostics: [['16:3', 'error', 'duplicate-setting', 'epochs', "'epochs' is already set above; keep one."]],
    related: ['epochs 5'],
  },
  {
    name: 'a dataset setting given twice',
    input: file({ dataset: [...DATASET, 'image 3x32x32'] }),
    diagnostics: [['11:3', 'error', 'duplicate-setting', 'image', "'image' is already set above; keep one."]],
    related: ['image 3x32x32'],
  },
  {
    name: 'two augment bodies',
    input: file({ dataset: [...DATASET, 'augment {', '  hflip', '}', 'augment {', '  vflip', '}'] }),
    diagnostics: [['14:3', 'error', 'duplicate-setting', 'augment', 'put all augmentations in one augment { } body']],
  },
  { name: 'a parameter given twice by name', input: net(['conv 8 kernel=3 kernel=5']), diagnostics: [['3:19', 'error', 'duplicate-parameter', 'kernel=5', "'kernel' is given twice."]] },
  { name: 'a parameter given by position and by name', input: net(['conv 8 out=9']), diagnostics: [['3:10', 'error', 'duplicate-parameter', 'out=9', "'out' is given twice."]] },
  { name: 'too many positional values', input: net(['conv 8 9']), diagnostics: [['3:10', 'error', 'extra-argument', '9', "'conv' takes 1 value without a name (out); write the others as name=value."]] },
  { name: 'a positional value for a layer that takes none', input: net(['relu 3']), diagnostics: [['3:8', 'error', 'extra-argument', '3', "'relu' takes no values without a name."]] },
  { name: 'a missing required argument', input: net(['conv']), diagnostics: [['3:3', 'error', 'missing-argument', 'conv', "'conv' needs out"]] },
  { name: "dense without units", input: model(['flatten', 'dense']), diagnostics: [['4:3', 'error', 'missing-argument', 'dense', "'dense' needs units"]] },
  { name: 'maxpool without a window', input: net(['maxpool']), diagnostics: [['3:3', 'error', 'missing-argument', 'maxpool', "'maxpool' needs kernel"]] },
  { name: 'repeat without a body', input: net(['repeat 2']), diagnostics: [['3:3', 'error', 'missing-body', 'repeat', "'repeat' needs a body in braces"]] },
  { name: 'a body on a layer that takes none', input: net(['relu { conv 3 }']), diagnostics: [['3:8', 'error', 'unexpected-body', '{', "'relu' takes no body in braces."]] },
  {
    name: 'two models with one name',
    input: `${model(['flatten', 'dense 10'])}${model(['flatten', 'dense 10'])}`,
    diagnostics: [['6:7', 'error', 'duplicate-name', 'M', "There is already a model named 'M'"]],
    related: ['M'],
  },
  { name: 'a block named like a layer', input: 'block conv(x) {\n  relu\n}\n', diagnostics: [['1:7', 'error', 'duplicate-name', 'conv', "'conv' is a built-in layer; give the block another name."]] },
];

const VALUES: readonly Case[] = [
  { name: 'dropout p=1.5', input: net(['dropout p=1.5']), diagnostics: [['3:13', 'error', 'invalid-value', '1.5', "'dropout' p must be less than 1, not 1.5."]] },
  { name: 'leakyrelu with a slope of 1', input: net(['leakyrelu 1']), diagnostics: [['3:13', 'error', 'invalid-value', '1', "'leakyrelu' slope must be less than 1, not 1."]] },
  { name: 'kernel 0', input: net(['conv 8 kernel=0']), diagnostics: [['3:17', 'error', 'invalid-value', '0', "'conv' kernel must be at least 1, not 0."]] },
  { name: 'a negative padding', input: net(['conv 8 padding=-1']), diagnostics: [['3:18', 'error', 'invalid-value', '-1', "'conv' padding expects a whole number, an (h, w) pair, same or valid"]] },
  { name: 'lr=0', input: file({ train: [...TRAIN, 'optimizer adam lr=0'] }), diagnostics: [['15:21', 'error', 'invalid-value', '0', "'optimizer' lr must be more than 0, not 0."]] },
  { name: 'epochs 0', input: file({ train: [...TRAIN, 'epochs 0'] }), diagnostics: [['15:10', 'error', 'invalid-value', '0', "'epochs' count must be at least 1, not 0."]] },
  { name: 'a split that leaves no training images', input: file({ dataset: ['train "data/train"', 'split val=0.6 test=0.5', 'image 3x32x32', 'classes 10'] }), diagnostics: [['8:3', 'error', 'invalid-value', 'split val=0.6 test=0.5', 'split leaves no training images: val + test is 1.1']] },
  { name: 'one class', input: file({ dataset: ['train "data/train"', 'val "data/val"', 'image 3x32x32', 'classes 1'] }), diagnostics: [['10:11', 'error', 'invalid-value', '1', "'classes' classes must be at least 2, not 1."]] },
  { name: 'a class listed twice', input: file({ dataset: ['train "data/train"', 'val "data/val"', 'image 3x32x32', 'classes (cat, dog, cat)'] }), diagnostics: [['10:11', 'error', 'invalid-value', '(cat, dog, cat)', "Class 'cat' is listed twice."]] },
  { name: 'an image with 5 channels', input: file({ input: '5x32x32', dataset: ['train "data/train"', 'val "data/val"', 'image 5x32x32', 'classes 10'] }), diagnostics: [['9:9', 'error', 'invalid-value', '5x32x32', 'Images have 1 (grayscale) or 3 (RGB) channels, not 5.']] },
  { name: 'channels= next to a C×H×W image size', input: file({ dataset: ['train "data/train"', 'val "data/val"', 'image 3x32x32 channels=1', 'classes 10'] }), diagnostics: [['9:17', 'error', 'conflicting-setting', 'channels=1', 'The image size already says 3 channels']] },
  { name: 'an empty path', input: file({ dataset: ['train ""', 'val "data/val"', 'image 3x32x32', 'classes 10'] }), diagnostics: [['7:9', 'error', 'invalid-value', '""', 'The train path is empty']] },
  { name: 'a dataset without training images', input: file({ dataset: ['val "data/val"', 'image 3x32x32', 'classes 10'] }), diagnostics: [['6:9', 'error', 'missing-setting', 'cifar', "Dataset 'cifar' has no training images"]] },

  // Wrong types.
  { name: 'a string for a number', input: net(['conv "8"']), diagnostics: [['3:8', 'error', 'invalid-value', '"8"', "'conv' out expects a whole number, not the string \"8\"."]] },
  { name: 'a decimal for a size', input: net(['conv 8 kernel=1.5']), diagnostics: [['3:17', 'error', 'invalid-value', '1.5', "'conv' kernel expects a whole number or an (h, w) pair, not the number 1.5."]] },
  { name: 'three sizes for a kernel', input: net(['conv 8 kernel=(3, 3, 3)']), diagnostics: [['3:17', 'error', 'invalid-value', '(3, 3, 3)', "'conv' kernel expects a whole number or an (h, w) pair, not a list of 3."]] },
  { name: 'a word for a flag', input: net(['conv 8 bias=yes']), diagnostics: [['3:15', 'error', 'invalid-value', 'yes', "'conv' bias expects true or false, not 'yes'."]] },
  { name: 'an unknown padding word', input: net(['conv 8 padding=sme']), diagnostics: [['3:18', 'error', 'invalid-value', 'sme', "'conv' padding expects a whole number, an (h, w) pair, same or valid, not 'sme'."]] },
  { name: 'a decimal batch size', input: file({ train: [...TRAIN, 'batch 2.5'] }), diagnostics: [['15:9', 'error', 'invalid-value', '2.5', "'batch' size expects a whole number, not the number 2.5."]] },
  { name: 'a path without quotes', input: file({ dataset: ['train data', 'val "data/val"', 'image 3x32x32', 'classes 10'] }), diagnostics: [['7:9', 'error', 'invalid-value', 'data', 'expects a path in double quotes']] },
  { name: 'a misspelt optimizer', input: file({ train: [...TRAIN, 'optimizer adma'] }), diagnostics: [['15:13', 'error', 'invalid-value', 'adma', "'adma' is not one of sgd, momentum, adam, adamw; did you mean 'adam'?"]] },
  { name: "a parameter of another optimizer", input: file({ train: [...TRAIN, 'optimizer sgd betas=(0.9, 0.99)'] }), diagnostics: [['15:17', 'error', 'unknown-parameter', 'betas', "'optimizer' has no parameter 'betas'. It takes: name, lr, momentum, nesterov, weight_decay."]] },
  { name: 'a negative class weight', input: file({ train: [...TRAIN, 'class_weights (1, -2)'] }), diagnostics: [['15:17', 'error', 'invalid-value', '(1, -2)', 'expects balanced or a list of positive weights']] },
  {
    name: 'a misspelt word among allowed values, with its quick fix',
    input: file({ train: [...TRAIN, 'optimizer adma'] }),
    diagnostics: [['15:13', 'error', 'invalid-value', 'adma', "'optimizer' name: 'adma' is not one of sgd, momentum, adam, adamw; did you mean 'adam'?"]],
    fixed: file({ train: [...TRAIN, 'optimizer adam'] }),
  },
];

const SHAPES: readonly Case[] = [
  {
    name: 'the spatial size shrinks to nothing',
    input: net(['maxpool 2', 'maxpool 2', 'maxpool 2', 'conv 8 kernel=3'], '3x8x8'),
    diagnostics: [['6:3', 'error', 'shape', 'conv', 'conv height: the kernel (3), larger than its padded input 1']],
  },
  { name: 'a kernel larger than the padded input', input: net(['conv 8 kernel=5 padding=0'], '3x4x4'), diagnostics: [['3:3', 'error', 'shape', 'conv', 'conv height: the kernel (5), larger than its padded input 4']] },
  { name: 'a dilated kernel larger than the input', input: net(['conv 8 kernel=3 dilation=3'], '3x6x6'), diagnostics: [['3:3', 'error', 'shape', 'conv', 'the dilated kernel spans 7, larger than its padded input 6']] },
  { name: 'pooling padding over half the window', input: net(['maxpool 2 padding=2']), diagnostics: [['3:3', 'error', 'shape', 'maxpool', 'maxpool padding must be at most half the window (1), as in PyTorch.']] },
  {
    name: 'dense on an unflattened tensor, with the quick fix inserting flatten',
    input: model(['conv 8', 'relu', 'dense 10']),
    diagnostics: [['5:3', 'error', 'shape', 'dense', 'dense needs a flat input, but it gets 8×30×30']],
    fixed: model(['conv 8', 'relu', 'flatten', 'dense 10']),
  },
  { name: 'conv after flatten', input: net(['flatten', 'conv 8']), diagnostics: [['4:3', 'error', 'shape', 'conv', 'conv needs a C×H×W input, but it gets a flat vector of 3072 values']] },
  { name: 'globalavgpool after flatten', input: net(['flatten', 'globalavgpool']), diagnostics: [['4:3', 'error', 'shape', 'globalavgpool', 'globalavgpool needs a C×H×W input']] },
  { name: 'groups that do not divide the channels', input: net(['conv 8 groups=2']), diagnostics: [['3:3', 'error', 'shape', 'conv', 'conv groups=2 must divide both the input channels (3) and the output channels (8).']] },
  {
    name: 'a residual whose body changes the size without a stride',
    input: net(['residual {', '  conv 8 kernel=3', '}']),
    diagnostics: [['3:3', 'error', 'shape', 'residual', "the residual's input 3×32×32 cannot be projected onto its body's output 8×30×30"]],
  },
  {
    name: 'a residual whose body flattens',
    input: model(['residual {', '  flatten', '}', 'dense 10']),
    diagnostics: [['3:3', 'error', 'shape', 'residual', "the residual's input 3×32×32 and its body's output 3072 cannot be added"]],
  },
  {
    name: 'shortcut=identity with a body that changes the shape',
    input: net(['residual shortcut=identity {', '  conv 8 kernel=3 padding=1', '}']),
    diagnostics: [['3:3', 'error', 'shape', 'residual', 'shortcut=identity needs the body to keep the shape, but it turns 3×32×32 into 8×32×32']],
  },
];

const MODELS: readonly Case[] = [
  { name: 'a model without input', input: 'model M {\n  flatten\n  dense 10\n}\n', diagnostics: [['1:7', 'error', 'missing-input', 'M', "Model 'M' has no input: make its first line 'input CxHxW'"]] },
  { name: 'input not first', input: 'model M {\n  relu\n  input 3x32x32\n  flatten\n  dense 10\n}\n', diagnostics: [['3:3', 'error', 'misplaced-input', 'input', "'input' must be the model's first line."]] },
  { name: 'a second input', input: net(['input 3x32x32']), diagnostics: [['3:3', 'error', 'misplaced-input', 'input', 'A model has one input statement; remove this one.']] },
  { name: 'input in a block', input: 'block B(c) {\n  input 3x8x8\n}\n', diagnostics: [['2:3', 'error', 'misplaced-input', 'input', "'input' belongs at the top of a model, not inside a block or a residual."]] },
  { name: 'an input without channels', input: net([], '32x32'), diagnostics: [['2:9', 'error', 'invalid-value', '32x32', 'Write the input as C×H×W, with its channels first: 1x32x32 for grayscale or 3x32x32 for colour.']] },
  {
    name: 'blocks that call each other',
    input: `block a(c) {\n  b c\n}\nblock b(c) {\n  a c\n}\n${net(['a 4'])}`,
    diagnostics: [
      ['2:3', 'error', 'recursive-block', 'b', "Block 'b' uses itself (b → a → b); a network must be finite."],
      ['5:3', 'error', 'recursive-block', 'a', "Block 'a' uses itself (a → b → a); a network must be finite."],
    ],
  },
  {
    name: 'blocks that call each other, used by no model',
    input: `block a(c) {\n  b c\n}\nblock b(c) {\n  a c\n}\n`,
    diagnostics: [
      ['2:3', 'error', 'recursive-block', 'b', "Block 'b' uses itself (b → a → b); a network must be finite."],
      ['5:3', 'error', 'recursive-block', 'a', "Block 'a' uses itself (a → b → a); a network must be finite."],
    ],
  },
  {
    name: 'a misspelt parameter inside a block is shown once, where it is written',
    input: `block unit(c) {\n  conv cc kernel=3\n}\n${net(['unit 8', 'unit 16'])}`,
    diagnostics: [['2:8', 'error', 'invalid-value', 'cc', "Unknown name 'cc': did you mean 'c'?"]],
  },
  {
    name: 'a block called with a negative value after a space',
    input: `block shift(a, b) {\n  conv a+b kernel=1\n}\n${net(['shift 8 -1'])}`,
    diagnostics: [],
  },
  {
    name: 'a block that calls itself',
    input: `block a(c) {\n  conv c kernel=1\n  a c\n}\n${net(['a 4'])}`,
    diagnostics: [['3:3', 'error', 'recursive-block', 'a', "Block 'a' uses itself (a → a); a network must be finite."]],
  },
  {
    name: 'a bad argument to a block is shown at the call',
    input: unit(['unit 8 s=0'], '3x8x8'),
    diagnostics: [['6:3', 'error', 'invalid-value', 'unit 8 s=0', "In 'unit 8 s=0': 'conv' stride must be at least 1, not 0."]],
    related: ['s'],
  },
  {
    name: 'a shape error inside a block is shown at the call',
    input: unit(['unit 8'], '3x2x2'),
    diagnostics: [['6:3', 'error', 'shape', 'unit 8', "In 'unit 8': conv height: the kernel (3), larger than its padded input 2"]],
    related: ['conv'],
  },
  { name: 'a block call without its required argument', input: unit(['unit s=2'], '3x8x8'), diagnostics: [['6:3', 'error', 'missing-argument', 'unit', "block 'unit' needs c"]] },
  { name: 'a block call with too many values', input: unit(['unit 8 1 2'], '3x8x8'), diagnostics: [['6:12', 'error', 'extra-argument', '2', "block 'unit' takes 2 values without a name (c, s)"]] },
  {
    name: 'a block call with a misspelt parameter',
    input: unit(['unit 8 stride=2'], '3x8x8'),
    diagnostics: [['6:10', 'error', 'unknown-parameter', 'stride', "block 'unit' has no parameter 'stride'. It takes: c, s."]],
  },
  {
    name: 'a model parameter without a default is one error',
    input: 'model M(c) {\n  input 3x8x8\n  flatten\n  dense c\n}\n',
    diagnostics: [['1:9', 'error', 'missing-argument', 'c', "Model parameter 'c' needs a default, as c=10: nothing passes models arguments."]],
  },
  {
    name: "a model's classes parameter that differs from its dataset's classes",
    input: file({}).replace('model M {', 'model M(classes=100) {'),
    diagnostics: [['14:3', 'warning', 'output-shape', 'data cifar', 'Model M declares classes=100, but dataset cifar has 10 classes']],
  },
];

const TRAIN_REFERENCES: readonly Case[] = [
  {
    name: 'misspelt model and dataset in a train section',
    input: file({ train: ['model N', 'data cifra'] }),
    diagnostics: [
      ['13:9', 'error', 'unknown-reference', 'N', "No model named 'N': did you mean 'M'?"],
      ['14:8', 'error', 'unknown-reference', 'cifra', "No dataset named 'cifra': did you mean 'cifar'?"],
    ],
    fixed: file({ train: ['model M', 'data cifra'] }),
  },
  {
    name: 'unknown model and dataset without a suggestion',
    input: file({ train: ['model Other', 'data imagenet'] }),
    diagnostics: [
      ['13:9', 'error', 'unknown-reference', 'Other', "No model named 'Other'. This file has: M."],
      ['14:8', 'error', 'unknown-reference', 'imagenet', "No dataset named 'imagenet'. This file has: cifar."],
    ],
  },
  {
    name: 'a train section without model and data',
    input: file({ train: ['epochs 5'] }),
    diagnostics: [
      ['12:1', 'error', 'missing-setting', 'train', "This train section needs 'model NAME'"],
      ['12:1', 'error', 'missing-setting', 'train', "This train section needs 'data NAME'"],
    ],
  },
];

const SIMPLE_CNN_224 = examples().find((e) => e.file === 'examples/simple_cnn_224.ocular')!.source;

const WARNINGS: readonly Case[] = [
  {
    name: 'a dense layer holding most parameters (SimpleCNN 224)',
    input: SIMPLE_CNN_224,
    diagnostics: [['13:3', 'warning', 'dense-dominates', 'dense', "This dense layer holds 102,760,960 of the model's 102,785,482 parameters (99.98%)"]],
  },
  {
    name: 'no activation between two dense layers, with the quick fix inserting relu',
    input: model(['flatten', 'dense 64', 'dense 10']),
    diagnostics: [['5:3', 'warning', 'no-activation', 'dense', 'No activation between this dense layer and the dense on line 4']],
    fixed: model(['flatten', 'dense 64', 'relu', 'dense 10']),
  },
  {
    name: 'no activation between conv and dense, across flatten and dropout',
    input: model(['conv 8', 'flatten', 'dropout', 'dense 10']),
    diagnostics: [['6:3', 'warning', 'no-activation', 'dense', 'No activation between this dense layer and the conv on line 3']],
  },
  {
    name: 'dropout at the output, with the quick fix removing it',
    input: model(['flatten', 'dense 10', 'dropout 0.5']),
    diagnostics: [['5:3', 'warning', 'dropout-at-output', 'dropout', "Dropout after the last layer zeroes the model's class scores"]],
    fixed: model(['flatten', 'dense 10']),
  },
  {
    name: 'softmax before the cross-entropy loss, with the quick fix removing it',
    input: model(['flatten', 'dense 10', 'softmax']),
    diagnostics: [['5:3', 'warning', 'softmax-before-loss', 'softmax', 'Training uses cross-entropy, which applies softmax itself']],
    fixed: model(['flatten', 'dense 10']),
  },
  { name: 'a model that does not end flat', input: model(['conv 8', 'relu']), diagnostics: [['1:7', 'warning', 'output-shape', 'M', 'The model ends in 8×30×30; a classifier should end in one score per class.']] },
  {
    name: "a model output that does not match the dataset's classes",
    input: file({ layers: ['flatten', 'dense 5'] }),
    diagnostics: [['4:3', 'warning', 'output-shape', 'dense', "The model ends in 5 scores but dataset cifar has 10 classes: write 'dense classes' for the last layer."]],
  },
  {
    name: 'a model that ends in a single value',
    input: file({ layers: ['flatten', 'dense 1'], dataset: ['train "data/train"', 'val "data/val"', 'image 3x32x32'] }),
    diagnostics: [['13:3', 'warning', 'output-shape', 'data cifar', 'Model M ends in a single value; a classifier needs one score per class.']],
  },
  {
    name: "the model's input and the dataset's image differ",
    input: file({ dataset: ['train "data/train"', 'val "data/val"', 'image 3x64x64', 'classes 10'] }),
    diagnostics: [['14:3', 'warning', 'input-mismatch', 'data cifar', "Model M takes 3×32×32 images, but dataset cifar gives 3×64×64: change 'image' in the dataset or 'input' in the model."]],
  },
  {
    name: 'early_stop without validation data',
    input: file({ dataset: ['train "data/train"', 'image 3x32x32', 'classes 10'], train: [...TRAIN, 'early_stop'] }),
    diagnostics: [['14:3', 'warning', 'no-validation', 'early_stop', "'early_stop' watches the validation metrics, but dataset cifar has no validation images"]],
  },
  {
    name: 'a plateau schedule without validation data',
    input: file({ dataset: ['train "data/train"', 'image 3x32x32', 'classes 10'], train: [...TRAIN, 'schedule plateau'] }),
    diagnostics: [['14:3', 'warning', 'no-validation', 'schedule', "'schedule' watches the validation metrics"]],
  },
  {
    name: "class_weights that do not match the dataset's classes",
    input: file({ train: [...TRAIN, 'class_weights (1, 2, 3)'] }),
    diagnostics: [['15:3', 'error', 'invalid-value', 'class_weights (1, 2, 3)', 'class_weights gives 3 weights but dataset cifar has 10 classes']],
  },
  {
    name: 'normalize with fewer channels than the images',
    input: file({ dataset: [...DATASET, 'normalize mean=(0.5, 0.5) std=(0.5, 0.5)'] }),
    diagnostics: [['11:3', 'error', 'invalid-value', 'normalize mean=(0.5, 0.5) std=(0.5, 0.5)', 'normalize gives 2 channels but the images have 3']],
  },
  {
    name: 'normalize with a preset and a mean',
    input: file({ dataset: [...DATASET, 'normalize imagenet mean=(0.5)'] }),
    diagnostics: [['11:3', 'error', 'conflicting-setting', 'normalize', 'Give either a preset or mean= and std=, not both.']],
  },
  {
    name: 'normalize with a mean but no std',
    input: file({ dataset: [...DATASET, 'normalize mean=(0.5, 0.5, 0.5)'] }),
    diagnostics: [['11:3', 'error', 'missing-argument', 'normalize', 'normalize needs both mean= and std=']],
  },
  {
    name: 'a split next to a val folder',
    input: file({ dataset: [...DATASET, 'split val=0.2'] }),
    diagnostics: [['11:3', 'warning', 'conflicting-setting', 'split', "This dataset has a val folder, so 'split val=…' is not used"]],
  },
  {
    name: 'warmup as long as the training',
    input: file({ train: [...TRAIN, 'epochs 5', 'schedule cosine warmup=5'] }),
    diagnostics: [['16:19', 'warning', 'suspicious-setting', 'warmup=5', 'warmup=5 is not shorter than the 5 epochs: the schedule never starts.']],
  },
  {
    name: 'a step schedule that never steps',
    input: file({ train: [...TRAIN, 'epochs 10', 'schedule step every=10'] }),
    diagnostics: [['16:17', 'warning', 'suspicious-setting', 'every=10', 'every=10 is not shorter than the 10 epochs']],
  },
  {
    name: 'milestones past the last epoch',
    input: file({ train: [...TRAIN, 'epochs 10', 'schedule multistep milestones=(5, 20)'] }),
    diagnostics: [['16:22', 'warning', 'suspicious-setting', 'milestones=(5, 20)', 'Some milestones are at or past the last epoch (10)']],
  },
];

function check(c: Case): void {
  const analysis = analyze(c.input);
  const actual = analysis.diagnostics.map((d, i): Expected => {
    const wanted = c.diagnostics[i]?.[4];
    return [lineCol(c.input, d.span.start), d.severity, d.code, c.input.slice(d.span.start, d.span.end), wanted !== undefined && d.message.includes(wanted) ? wanted : d.message];
  });
  assert.deepEqual(actual, c.diagnostics);
  const first = analysis.diagnostics[0]!;
  if (c.fixed !== undefined) {
    const fix = first.fixes?.[0];
    assert.ok(fix, `${renderDiagnostic(c.input, first)} offers no quick fix`);
    assert.equal(applyEdits(c.input, fix.edits), c.fixed);
  }
  if (c.related !== undefined) assert.deepEqual((first.related ?? []).map((r) => c.input.slice(r.span.start, r.span.end)), c.related);
}

const GROUPS: Readonly<Record<string, readonly Case[]>> = {
  structure: STRUCTURE,
  values: VALUES,
  shapes: SHAPES,
  models: MODELS,
  'train references': TRAIN_REFERENCES,
  warnings: WARNINGS,
};

for (const [group, cases] of Object.entries(GROUPS)) {
  describe(group, () => {
    for (const c of cases) test(c.name, () => check(c));
  });
}

describe('examples', () => {
  for (const example of examples()) {
    test(`${example.file} has no errors`, () => {
      const errors = analyze(example.source).diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(errors.map((d) => renderDiagnostic(example.source, d)), []);
    });
  }
});
