/**
 * What every statement of the language means: its name, documentation and parameters, with
 * types, defaults and ranges. Validation, completion, hover and the docs all read this table,
 * so a new layer or setting is added here once.
 */
import type { SectionKind } from './syntax/ast';
import { num, tuple, word, type Value, type ValueType } from './semantics/values';

export interface ParamSpec {
  readonly name: string;
  readonly type: ValueType;
  /** Absent for a parameter that must be given, unless it is optional. */
  readonly default?: Value;
  /** Set for a parameter that may be left out although it has no default (normalize's mean and std). */
  readonly optional?: true;
  readonly doc: string;
}

/** A statement whose first positional argument picks a variant with its own parameters (`optimizer adam lr=…`). */
export interface VariantSpec {
  readonly doc: string;
  readonly params: readonly ParamSpec[];
}

export type BodyKind = 'layers' | 'augment';

export interface StatementSpec {
  readonly name: string;
  readonly doc: string;
  /** Parameter names that may be given without `name=`, in order. */
  readonly positional: readonly string[];
  readonly params: readonly ParamSpec[];
  readonly variants?: Readonly<Record<string, VariantSpec>>;
  readonly body?: BodyKind;
  /** A link to the PyTorch counterpart, for hovers. */
  readonly torch?: string;
}

const int = (min = 1): ValueType => ({ kind: 'int', min });
const size: ValueType = { kind: 'size', min: 1 };
const bool: ValueType = { kind: 'bool' };
const probability: ValueType = { kind: 'number', min: 0, max: 1 };
const TRUE = word('true');
const FALSE = word('false');

function layer(name: string, doc: string, positional: string[], params: ParamSpec[], extra: Partial<StatementSpec> = {}): StatementSpec {
  return { name, doc, positional, params, ...extra };
}

const activation = (name: string, doc: string, torch: string): StatementSpec => layer(name, doc, [], [], { torch });

const pool = (name: string, doc: string, torch: string): StatementSpec =>
  layer(
    name,
    doc,
    ['kernel'],
    [
      { name: 'kernel', type: size, doc: 'Window size: a number or (h, w).' },
      { name: 'stride', type: size, default: word('kernel'), doc: 'Step between windows; the window size by default.' },
      { name: 'padding', type: { kind: 'size', min: 0 }, default: num(0), doc: 'Padding on each side; at most half the window.' },
    ],
    { torch },
  );

export const LAYERS: readonly StatementSpec[] = [
  layer('input', 'The shape of one input image, channels first (C×H×W). The first statement of every model.', ['shape'], [{ name: 'shape', type: { kind: 'shape' }, doc: 'Channels, height and width, as 3x224x224.' }]),
  layer(
    'conv',
    '2-D convolution: `out` filters of size `kernel` slide over the input.',
    ['out'],
    [
      { name: 'out', type: int(), doc: 'Output channels (number of filters).' },
      { name: 'kernel', type: size, default: num(3), doc: 'Filter size: a number or (h, w).' },
      { name: 'stride', type: size, default: num(1), doc: 'Step between filter positions.' },
      { name: 'padding', type: { kind: 'padding' }, default: num(0), doc: 'Zeros added to each side: a number, (h, w), `same` (keep the size at stride 1) or `valid` (none).' },
      { name: 'dilation', type: size, default: num(1), doc: 'Spacing between filter taps.' },
      { name: 'groups', type: int(), default: num(1), doc: 'Splits input and output channels into groups convolved separately; both must divide by it.' },
      { name: 'bias', type: bool, default: TRUE, doc: 'Adds a learnt bias per output channel. Set false before batchnorm, which has its own.' },
    ],
    { torch: 'torch.nn.Conv2d' },
  ),
  layer(
    'dwconv',
    'Depthwise 2-D convolution: one filter per input channel (groups = channels), as in MobileNet.',
    [],
    [
      { name: 'kernel', type: size, default: num(3), doc: 'Filter size: a number or (h, w).' },
      { name: 'stride', type: size, default: num(1), doc: 'Step between filter positions.' },
      { name: 'padding', type: { kind: 'padding' }, default: num(0), doc: 'Zeros added to each side: a number, (h, w), `same` or `valid`.' },
      { name: 'dilation', type: size, default: num(1), doc: 'Spacing between filter taps.' },
      { name: 'multiplier', type: int(), default: num(1), doc: 'Output channels per input channel.' },
      { name: 'bias', type: bool, default: TRUE, doc: 'Adds a learnt bias per output channel.' },
    ],
    { torch: 'torch.nn.Conv2d(groups=in_channels)' },
  ),
  pool('maxpool', 'Max pooling: keeps the largest value in each window.', 'torch.nn.MaxPool2d'),
  pool('avgpool', 'Average pooling: the mean of each window.', 'torch.nn.AvgPool2d'),
  layer('globalavgpool', 'Global average pooling: the mean of each channel, giving C×1×1.', [], [], { torch: 'torch.nn.AdaptiveAvgPool2d(1)' }),
  layer('globalmaxpool', 'Global max pooling: the largest value of each channel, giving C×1×1.', [], [], { torch: 'torch.nn.AdaptiveMaxPool2d(1)' }),
  layer(
    'batchnorm',
    'Batch normalisation: normalises each channel over the batch, then scales and shifts it (2 learnt parameters per channel).',
    [],
    [
      { name: 'eps', type: { kind: 'number', above: 0 }, default: num(1e-5), doc: 'Added to the variance for numerical stability.' },
      { name: 'momentum', type: { kind: 'number', min: 0, max: 1 }, default: num(0.1), doc: 'How fast the running statistics follow the batches.' },
    ],
    { torch: 'torch.nn.BatchNorm2d' },
  ),
  activation('relu', 'Rectified linear unit: max(0, x).', 'torch.nn.ReLU'),
  layer('leakyrelu', 'Leaky ReLU: x for x > 0, slope·x otherwise.', ['slope'], [{ name: 'slope', type: { kind: 'number', min: 0, below: 1 }, default: num(0.01), doc: 'Slope for negative inputs.' }], { torch: 'torch.nn.LeakyReLU' }),
  activation('gelu', 'Gaussian error linear unit, as in transformers.', 'torch.nn.GELU'),
  activation('silu', 'SiLU (swish): x·sigmoid(x).', 'torch.nn.SiLU'),
  activation('sigmoid', 'Logistic sigmoid: squashes to (0, 1).', 'torch.nn.Sigmoid'),
  activation('tanh', 'Hyperbolic tangent: squashes to (−1, 1).', 'torch.nn.Tanh'),
  activation('softmax', 'Softmax: turns scores into probabilities that sum to 1. Not needed before a cross-entropy loss, which applies it itself.', 'torch.nn.Softmax'),
  layer('dropout', 'Dropout: during training, zeroes each value with probability p and scales the rest by 1/(1−p).', ['p'], [{ name: 'p', type: { kind: 'number', min: 0, below: 1 }, default: num(0.5), doc: 'Probability of zeroing a value.' }], { torch: 'torch.nn.Dropout' }),
  layer('flatten', 'Flattens C×H×W into one vector of C·H·W values, for dense layers.', [], [], { torch: 'torch.nn.Flatten' }),
  layer(
    'dense',
    'Fully connected layer: every input connects to every one of `units` outputs. Needs a flat input.',
    ['units'],
    [
      { name: 'units', type: int(), doc: 'Output size; `classes` for the last layer.' },
      { name: 'bias', type: bool, default: TRUE, doc: 'Adds a learnt bias per output.' },
    ],
    { torch: 'torch.nn.Linear' },
  ),
  layer(
    'residual',
    'A residual block: the input is added to the output of the layers inside. When their shapes differ, a projection (1×1 conv with the body\'s stride, then batchnorm) makes them agree.',
    ['shortcut'],
    [{ name: 'shortcut', type: { kind: 'enum', values: ['auto', 'identity', 'projection'] }, default: word('auto'), doc: '`auto`: identity when shapes agree, projection otherwise; `identity`: never project; `projection`: always project.' }],
    { body: 'layers' },
  ),
  layer('repeat', 'Applies the layers inside `times` times in a row.', ['times'], [{ name: 'times', type: { kind: 'int', min: 1, max: 10000 }, doc: 'How many times (at most 10,000).' }], { body: 'layers' }),
];

const path = (name: string, doc: string): StatementSpec => ({ name, doc, positional: ['path'], params: [{ name: 'path', type: { kind: 'path' }, doc: 'A folder of class subfolders (ImageFolder), a CIFAR-10 .bin batch or an MNIST IDX file, relative to this file.' }] });

export const NORMALIZE_PRESETS: Readonly<Record<string, { mean: number[]; std: number[] } | undefined>> = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  mnist: { mean: [0.1307], std: [0.3081] },
  none: undefined,
};

export const DATASET_STATEMENTS: readonly StatementSpec[] = [
  path('train', 'Where the training images are.'),
  path('val', 'Where the validation images are.'),
  path('test', 'Where the test images are.'),
  {
    name: 'split',
    doc: 'Holds out a stratified share of the training images for validation (and test) when there is no separate folder.',
    positional: [],
    params: [
      { name: 'val', type: { kind: 'number', min: 0, below: 1 }, default: num(0.2), doc: 'Share of images for validation.' },
      { name: 'test', type: { kind: 'number', min: 0, below: 1 }, default: num(0), doc: 'Share of images for testing.' },
      { name: 'seed', type: int(0), default: num(42), doc: 'Seed for the random split, so it is the same every run.' },
    ],
  },
  {
    name: 'image',
    doc: 'The size images are resized to: C×H×W, or H×W with `channels`.',
    positional: ['size'],
    params: [
      { name: 'size', type: { kind: 'shape' }, doc: 'As 3x224x224 or 224x224.' },
      { name: 'channels', type: { kind: 'int', min: 1, max: 4 }, default: num(3), doc: '1 for grayscale, 3 for RGB.' },
    ],
  },
  { name: 'resize', doc: 'How images reach the image size.', positional: ['mode'], params: [{ name: 'mode', type: { kind: 'enum', values: ['stretch', 'crop', 'letterbox'] }, default: word('stretch'), doc: '`stretch` to the size, `crop` the centre after scaling the short side, or `letterbox` with padding.' }] },
  { name: 'classes', doc: 'The classes: their number, or their names in label order. By default the class folders decide.', positional: ['classes'], params: [{ name: 'classes', type: { kind: 'classes' }, doc: 'A number such as 10, or names such as (cat, dog).' }] },
  { name: 'augment', doc: 'Random changes applied to training images each epoch, in order.', positional: [], params: [], body: 'augment' },
  {
    name: 'normalize',
    doc: 'Subtracts a per-channel mean and divides by a standard deviation, after scaling pixels to [0, 1].',
    positional: ['preset'],
    params: [
      { name: 'preset', type: { kind: 'enum', values: Object.keys(NORMALIZE_PRESETS) }, default: word('none'), doc: '`imagenet`, `cifar10`, `mnist` or `none`.' },
      { name: 'mean', type: { kind: 'numbers', min: 0, max: 1 }, optional: true, doc: 'Per-channel means, as (0.485, 0.456, 0.406).' },
      { name: 'std', type: { kind: 'numbers', min: 1e-6 }, optional: true, doc: 'Per-channel standard deviations, as (0.229, 0.224, 0.225).' },
    ],
  },
];

export const AUGMENTATIONS: readonly StatementSpec[] = [
  { name: 'hflip', doc: 'Flips images left to right.', positional: ['p'], params: [{ name: 'p', type: probability, default: num(0.5), doc: 'Probability of flipping.' }] },
  { name: 'vflip', doc: 'Flips images upside down.', positional: ['p'], params: [{ name: 'p', type: probability, default: num(0.5), doc: 'Probability of flipping.' }] },
  { name: 'rotate', doc: 'Rotates by a random angle in [−degrees, degrees].', positional: ['degrees'], params: [{ name: 'degrees', type: { kind: 'number', min: 0, max: 180 }, default: num(15), doc: 'Largest angle, in degrees.' }] },
  {
    name: 'randomresizedcrop',
    doc: 'Crops a random area and aspect ratio, then resizes it to the image size (as torchvision\'s RandomResizedCrop).',
    positional: [],
    params: [
      { name: 'scale', type: { kind: 'numbers', length: 2, min: 0.0001, max: 1, increasing: true }, default: tuple(num(0.08), num(1)), doc: 'Range of the cropped area as a share of the image.' },
      { name: 'ratio', type: { kind: 'numbers', length: 2, min: 0.01, increasing: true }, default: tuple(num(0.75), num(1.333)), doc: 'Range of the crop\'s aspect ratio.' },
    ],
  },
  {
    name: 'colorjitter',
    doc: 'Randomly changes brightness, contrast, saturation and hue.',
    positional: [],
    params: [
      { name: 'brightness', type: { kind: 'number', min: 0, max: 1 }, default: num(0), doc: 'Up to this share brighter or darker.' },
      { name: 'contrast', type: { kind: 'number', min: 0, max: 1 }, default: num(0), doc: 'Up to this share more or less contrast.' },
      { name: 'saturation', type: { kind: 'number', min: 0, max: 1 }, default: num(0), doc: 'Up to this share more or less saturation.' },
      { name: 'hue', type: { kind: 'number', min: 0, max: 0.5 }, default: num(0), doc: 'Hue shift, as a share of the colour wheel (at most 0.5).' },
    ],
  },
];

const lr = (value: number): ParamSpec => ({ name: 'lr', type: { kind: 'number', above: 0, max: 10 }, default: num(value), doc: 'Learning rate.' });
const weightDecay = (value: number): ParamSpec => ({ name: 'weight_decay', type: { kind: 'number', min: 0, max: 1 }, default: num(value), doc: 'L2 penalty on the weights (decoupled for adamw).' });
const betas: ParamSpec = { name: 'betas', type: { kind: 'numbers', length: 2, min: 0, max: 0.99999 }, default: tuple(num(0.9), num(0.999)), doc: 'Decay rates of the running averages of the gradient and its square.' };
const warmup: ParamSpec = { name: 'warmup', type: int(0), default: num(0), doc: 'Epochs of linear warm-up from a tenth of the learning rate, before the schedule starts.' };

export const TRAIN_STATEMENTS: readonly StatementSpec[] = [
  { name: 'model', doc: 'The model to train.', positional: ['name'], params: [{ name: 'name', type: { kind: 'ref', target: 'model' }, doc: 'A model declared in this file.' }] },
  { name: 'data', doc: 'The dataset to train on.', positional: ['name'], params: [{ name: 'name', type: { kind: 'ref', target: 'dataset' }, doc: 'A dataset declared in this file.' }] },
  { name: 'epochs', doc: 'Passes over the training set.', positional: ['count'], params: [{ name: 'count', type: { kind: 'int', min: 1, max: 100000 }, default: num(25), doc: 'Number of epochs.' }] },
  { name: 'batch', doc: 'Images per training step.', positional: ['size'], params: [{ name: 'size', type: { kind: 'int', min: 1, max: 65536 }, default: num(128), doc: 'Batch size.' }] },
  {
    name: 'optimizer',
    doc: 'How the weights follow the gradients.',
    positional: ['name'],
    params: [{ name: 'name', type: { kind: 'enum', values: ['sgd', 'momentum', 'adam', 'adamw'] }, default: word('adam'), doc: 'sgd, momentum, adam or adamw.' }],
    variants: {
      sgd: {
        doc: 'Stochastic gradient descent.',
        params: [lr(0.01), { name: 'momentum', type: { kind: 'number', min: 0, below: 1 }, default: num(0), doc: 'Momentum factor.' }, { name: 'nesterov', type: bool, default: FALSE, doc: 'Nesterov momentum.' }, weightDecay(0)],
      },
      momentum: {
        doc: 'SGD with momentum 0.9.',
        params: [lr(0.01), { name: 'momentum', type: { kind: 'number', min: 0, below: 1 }, default: num(0.9), doc: 'Momentum factor.' }, { name: 'nesterov', type: bool, default: FALSE, doc: 'Nesterov momentum.' }, weightDecay(0)],
      },
      adam: { doc: 'Adam (Kingma & Ba, 2014).', params: [lr(0.001), betas, { name: 'eps', type: { kind: 'number', above: 0 }, default: num(1e-8), doc: 'Added to the denominator for stability.' }, weightDecay(0)] },
      adamw: { doc: 'Adam with decoupled weight decay (Loshchilov & Hutter, 2017).', params: [lr(0.001), betas, { name: 'eps', type: { kind: 'number', above: 0 }, default: num(1e-8), doc: 'Added to the denominator for stability.' }, weightDecay(0.01)] },
    },
  },
  {
    name: 'schedule',
    doc: 'How the learning rate changes over the epochs.',
    positional: ['name'],
    params: [{ name: 'name', type: { kind: 'enum', values: ['constant', 'step', 'multistep', 'cosine', 'plateau'] }, default: word('constant'), doc: 'constant, step, multistep, cosine or plateau.' }],
    variants: {
      constant: { doc: 'Keeps the learning rate.', params: [warmup] },
      step: { doc: 'Multiplies the learning rate by gamma every few epochs (StepLR).', params: [{ name: 'every', type: int(1), default: num(7), doc: 'Epochs between decays.' }, { name: 'gamma', type: { kind: 'number', above: 0, max: 1 }, default: num(0.1), doc: 'Decay factor.' }, warmup] },
      multistep: { doc: 'Multiplies the learning rate by gamma at given epochs (MultiStepLR).', params: [{ name: 'milestones', type: { kind: 'numbers', min: 1, increasing: true }, default: tuple(num(10), num(20)), doc: 'Epochs at which to decay, increasing.' }, { name: 'gamma', type: { kind: 'number', above: 0, max: 1 }, default: num(0.1), doc: 'Decay factor.' }, warmup] },
      cosine: { doc: 'Follows half a cosine from the learning rate down to min_lr over the epochs (CosineAnnealingLR).', params: [{ name: 'min_lr', type: { kind: 'number', min: 0 }, default: num(0), doc: 'The learning rate at the end.' }, warmup] },
      plateau: {
        doc: 'Multiplies the learning rate by factor when the validation loss stops improving (ReduceLROnPlateau).',
        params: [{ name: 'factor', type: { kind: 'number', above: 0, below: 1 }, default: num(0.1), doc: 'Decay factor.' }, { name: 'patience', type: int(0), default: num(3), doc: 'Epochs without improvement before decaying.' }, { name: 'monitor', type: { kind: 'enum', values: ['val_loss', 'val_acc'] }, default: word('val_loss'), doc: 'The metric to watch.' }, warmup],
      },
    },
  },
  {
    name: 'early_stop',
    doc: 'Stops when the monitored metric has not improved for `patience` epochs, and restores the best weights.',
    positional: [],
    params: [
      { name: 'monitor', type: { kind: 'enum', values: ['val_loss', 'val_acc'] }, default: word('val_loss'), doc: 'The metric to watch.' },
      { name: 'patience', type: int(0), default: num(3), doc: 'Epochs without improvement before stopping.' },
      { name: 'min_delta', type: { kind: 'number', min: 0 }, default: num(0), doc: 'The smallest change that counts as an improvement.' },
    ],
  },
  { name: 'accumulate', doc: 'Gradient accumulation: each update applies the mean gradient of this many batches, for an effective batch of batch × steps. An epoch whose batch count it does not divide ends with an update from its last batches (their mean), so no gradients carry into the next epoch.', positional: ['steps'], params: [{ name: 'steps', type: { kind: 'int', min: 1, max: 1024 }, default: num(1), doc: 'Steps per update.' }] },
  { name: 'label_smoothing', doc: 'Spreads this share of each target over all classes, which discourages over-confident predictions.', positional: ['amount'], params: [{ name: 'amount', type: { kind: 'number', min: 0, below: 1 }, default: num(0), doc: 'Typically 0.1.' }] },
  { name: 'class_weights', doc: 'Weights the loss per class: `balanced` (inverse class frequency) or one weight per class.', positional: ['weights'], params: [{ name: 'weights', type: { kind: 'weights' }, doc: '`balanced` or (w1, w2, …).' }] },
  { name: 'seed', doc: 'Seed for initialisation, shuffling and augmentation, so a run can be repeated.', positional: ['value'], params: [{ name: 'value', type: int(0), default: num(42), doc: 'Any whole number.' }] },
];

const byName = (specs: readonly StatementSpec[]): ReadonlyMap<string, StatementSpec> => new Map(specs.map((spec) => [spec.name, spec]));

export const LAYER_SPECS = byName(LAYERS);
export const DATASET_SPECS = byName(DATASET_STATEMENTS);
export const AUGMENT_SPECS = byName(AUGMENTATIONS);
export const TRAIN_SPECS = byName(TRAIN_STATEMENTS);

/** The statements allowed in a body, by the kind of section or statement that holds it. */
export function statementsFor(container: SectionKind | BodyKind): ReadonlyMap<string, StatementSpec> {
  switch (container) {
    case 'model':
    case 'block':
    case 'layers':
      return LAYER_SPECS;
    case 'dataset':
      return DATASET_SPECS;
    case 'augment':
      return AUGMENT_SPECS;
    case 'train':
      return TRAIN_SPECS;
  }
}

/** All parameters a statement accepts, given the variant its first argument picked. */
export function paramsOf(spec: StatementSpec, variant: string | undefined): readonly ParamSpec[] {
  const chosen = variant !== undefined ? spec.variants?.[variant] : undefined;
  return chosen ? [...spec.params, ...chosen.params] : spec.params;
}

/** The names `classes` and the block parameters aside, identifiers that read as plain words. */
export const BUILTIN_CLASSES = 'classes';
export const DEFAULT_CLASSES = 10;
