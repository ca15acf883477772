/**
 * What every engine needs to know about a model beyond the language's analysis: the expanded
 * layers as a tree (blocks, repeats and residuals hold their bodies), the weights each layer
 * has in PyTorch's names and layouts, and their seeded initial values.
 *
 * Initialisation follows the rule: He (Kaiming normal, fan-in) for a conv, dwconv or
 * dense layer whose output next meets a ReLU (batchnorm and dropout in between do not count;
 * a residual's last layer meets the ReLU after the addition), Glorot uniform elsewhere. Biases
 * and batchnorm shifts start at 0, batchnorm scales at 1, running statistics at mean 0 and
 * variance 1, as in PyTorch.
 */
import type { LayerInstance, ModelInfo } from '../language/semantics/model';
import type { Value } from '../language/semantics/values';
import type { WeightTensor } from './engine';
import { Random, streamSeed } from '../random';

export interface LayerNode {
  readonly layer: LayerInstance;
  /** The body of a block call, repeat or residual, in order; empty for a plain layer. */
  readonly children: readonly LayerNode[];
}

/** Kinds that hold other layers. Block calls do too: their kind is the block's name. */
const PLAIN_LAYERS = new Set(['conv', 'dwconv', 'maxpool', 'avgpool', 'globalavgpool', 'globalmaxpool', 'batchnorm', 'relu', 'leakyrelu', 'gelu', 'silu', 'sigmoid', 'tanh', 'softmax', 'dropout', 'flatten', 'dense']);

export const isPlainLayer = (layer: LayerInstance): boolean => PLAIN_LAYERS.has(layer.kind);

/**
 * The model's layers as a tree. `ModelInfo.layers` lists parents before their children, with
 * each child one level deeper, so the tree is read back from the depths.
 */
export function layerTree(model: ModelInfo): LayerNode[] {
  let index = 0;
  const read = (depth: number): LayerNode[] => {
    const nodes: LayerNode[] = [];
    while (index < model.layers.length && model.layers[index]!.depth === depth) {
      const layer = model.layers[index++]!;
      nodes.push({ layer, children: isPlainLayer(layer) ? [] : read(depth + 1) });
    }
    return nodes;
  };
  return read(0);
}

export type Initializer =
  | { readonly kind: 'he'; readonly gain: number; readonly fanIn: number }
  | { readonly kind: 'glorot'; readonly fanIn: number; readonly fanOut: number }
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' };

export interface WeightSpec {
  /** `<layer path>.<name>`, such as `basic3.residual1.conv1.weight` or `residual1.shortcut.conv.weight`. */
  readonly key: string;
  readonly shape: readonly number[];
  /** False for buffers: batchnorm's running statistics. */
  readonly trainable: boolean;
  readonly init: Initializer;
}

export const numberArg = (layer: LayerInstance, name: string): number => {
  const value = layer.args.get(name);
  return value?.kind === 'number' ? value.value : 0;
};

export const flagArg = (layer: LayerInstance, name: string): boolean => {
  const value = layer.args.get(name);
  return !(value?.kind === 'word' && value.text === 'false');
};

/** A size argument (`kernel=3` or `kernel=(3, 5)`) as `[h, w]`. */
export function pairArg(value: Value | undefined, fallback: [number, number]): [number, number] {
  if (value?.kind === 'number') return [value.value, value.value];
  if (value?.kind === 'tuple') {
    const [h, w] = value.items.map((item) => (item.kind === 'number' ? item.value : 0));
    return [h ?? fallback[0], w ?? h ?? fallback[1]];
  }
  return fallback;
}

/**
 * A `maxpool` or `avgpool` line's window, as PyTorch reads it: kernel 2×2 by default, the stride
 * the kernel's unless given (`stride=kernel` too), padding 0.
 */
export function poolWindow(layer: LayerInstance): { kernel: [number, number]; stride: [number, number]; padding: [number, number] } {
  const kernel = pairArg(layer.args.get('kernel'), [2, 2]);
  const strideArg = layer.args.get('stride');
  const stride = strideArg?.kind === 'word' ? kernel : pairArg(strideArg, kernel);
  return { kernel, stride, padding: pairArg(layer.args.get('padding'), [0, 0]) };
}

/** The gain Kaiming initialisation uses for the activation a layer feeds, or none for Glorot. */
type Activation = number | undefined;

function batchnormSpecs(prefix: string, channels: number): WeightSpec[] {
  return [
    { key: `${prefix}.weight`, shape: [channels], trainable: true, init: { kind: 'ones' } },
    { key: `${prefix}.bias`, shape: [channels], trainable: true, init: { kind: 'zeros' } },
    { key: `${prefix}.running_mean`, shape: [channels], trainable: false, init: { kind: 'zeros' } },
    { key: `${prefix}.running_var`, shape: [channels], trainable: false, init: { kind: 'ones' } },
  ];
}

/** A conv-shaped weight `[out, in/groups, kh, kw]` and its optional bias. */
function convSpecs(prefix: string, shape: readonly [number, number, number, number], bias: boolean, gain: Activation): WeightSpec[] {
  const [out, perGroup, kh, kw] = shape;
  const fanIn = perGroup * kh * kw;
  const init: Initializer = gain !== undefined ? { kind: 'he', gain, fanIn } : { kind: 'glorot', fanIn, fanOut: out * kh * kw };
  const specs: WeightSpec[] = [{ key: `${prefix}.weight`, shape, trainable: true, init }];
  if (bias) specs.push({ key: `${prefix}.bias`, shape: [out], trainable: true, init: { kind: 'zeros' } });
  return specs;
}

function layerSpecs(layer: LayerInstance, gain: Activation): WeightSpec[] {
  const [inChannels] = layer.input;
  const [outChannels] = layer.output;
  switch (layer.kind) {
    case 'conv': {
      const [kh, kw] = pairArg(layer.args.get('kernel'), [3, 3]);
      const groups = numberArg(layer, 'groups') || 1;
      return convSpecs(layer.path, [outChannels!, inChannels! / groups, kh, kw], flagArg(layer, 'bias'), gain);
    }
    case 'dwconv': {
      const [kh, kw] = pairArg(layer.args.get('kernel'), [3, 3]);
      return convSpecs(layer.path, [outChannels!, 1, kh, kw], flagArg(layer, 'bias'), gain);
    }
    case 'batchnorm':
      return batchnormSpecs(layer.path, inChannels!);
    case 'dense': {
      const weight: Initializer = gain !== undefined ? { kind: 'he', gain, fanIn: inChannels! } : { kind: 'glorot', fanIn: inChannels!, fanOut: outChannels! };
      const specs: WeightSpec[] = [{ key: `${layer.path}.weight`, shape: [outChannels!, inChannels!], trainable: true, init: weight }];
      if (flagArg(layer, 'bias')) specs.push({ key: `${layer.path}.bias`, shape: [outChannels!], trainable: true, init: { kind: 'zeros' } });
      return specs;
    }
    default:
      return [];
  }
}

/** Kaiming's gain for the activation that follows, if it is a ReLU. */
function gainOf(next: LayerInstance | undefined): Activation {
  if (next?.kind === 'relu') return Math.SQRT2;
  if (next?.kind === 'leakyrelu') {
    const slope = next.args.get('slope')?.kind === 'number' ? numberArg(next, 'slope') : 0.01;
    return Math.sqrt(2 / (1 + slope * slope));
  }
  return undefined;
}

/** Every weight of the model, layer by layer in the order they run, with a projection after its residual's body. */
export function weightSpecs(model: ModelInfo): WeightSpec[] {
  const layers = model.layers;
  const index = new Map(layers.map((layer, i) => [layer, i]));
  /** The first plain layer from `start` on that is not a batchnorm or dropout. */
  const nextActivation = (start: number): LayerInstance | undefined => {
    for (let i = start; i < layers.length; i++) {
      const layer = layers[i]!;
      if (isPlainLayer(layer) && layer.kind !== 'batchnorm' && layer.kind !== 'dropout') return layer;
    }
    return undefined;
  };
  /** The index in `layers` just past a node and everything inside it. */
  const end = (node: LayerNode): number => (node.children.length > 0 ? end(node.children[node.children.length - 1]!) : index.get(node.layer)! + 1);
  const specs: WeightSpec[] = [];
  const visit = (nodes: readonly LayerNode[]): void => {
    for (const node of nodes) {
      if (isPlainLayer(node.layer)) {
        specs.push(...layerSpecs(node.layer, gainOf(nextActivation(index.get(node.layer)! + 1))));
        continue;
      }
      visit(node.children);
      if (node.layer.kind === 'residual' && node.layer.projected) {
        const [inChannels] = node.layer.input;
        const [outChannels] = node.layer.output;
        const gain = gainOf(nextActivation(end(node)));
        specs.push(...convSpecs(`${node.layer.path}.shortcut.conv`, [outChannels!, inChannels!, 1, 1], false, gain), ...batchnormSpecs(`${node.layer.path}.shortcut.batchnorm`, outChannels!));
      }
    }
  };
  visit(layerTree(model));
  return specs;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function initialValues(spec: WeightSpec, seed: number): Float32Array {
  const values = new Float32Array(size(spec.shape));
  const init = spec.init;
  switch (init.kind) {
    case 'zeros':
      return values;
    case 'ones':
      return values.fill(1);
    case 'he': {
      const random = new Random(streamSeed(seed, spec.key));
      const std = init.gain / Math.sqrt(init.fanIn);
      for (let i = 0; i < values.length; i++) values[i] = std * random.normal();
      return values;
    }
    case 'glorot': {
      const limit = Math.sqrt(6 / (init.fanIn + init.fanOut));
      new Random(streamSeed(seed, spec.key)).fillUniform(values, -limit, limit);
      return values;
    }
  }
}

/** The model's seeded initial weights, keyed as `WeightSpec.key`. */
export function initialWeights(model: ModelInfo, seed: number): Map<string, WeightTensor> {
  return new Map(eachInitialWeight(model, seed));
}

/**
 * `initialWeights` one weight at a time, each drawn when it is asked for: a consumer that writes
 * each into its model before the next holds one weight's values, not the whole model's (ResNet18:
 * 45 MB per thread, which the C allocator kept after it was freed).
 */
export function* eachInitialWeight(model: ModelInfo, seed: number): Generator<[string, WeightTensor]> {
  for (const spec of weightSpecs(model)) yield [spec.key, { shape: spec.shape, values: initialValues(spec, seed) }];
}
