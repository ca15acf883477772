/**
 * Builds a TensorFlow.js model from a model's expanded layers, with the functional API so that
 * residual blocks are graphs (body and shortcut joined by an addition).
 *
 * The graph is channels-last inside (`N×H×W×C`), because TensorFlow.js's CPU and WebAssembly
 * kernels only implement convolution and pooling channels-last, and its channels-first layers
 * transpose around every such op. Images arrive channels-first and are transposed once on the
 * way in. Everything the outside sees stays in PyTorch's terms: shapes are compared with the
 * analysis channels-first, `flatten` permutes to C·H·W order before flattening (so a dense
 * layer's weights match PyTorch's), and weights are exchanged in PyTorch's layouts.
 *
 * A model built for training has its own convolution layer (`TrainingConv2D`: padding inside the
 * convolution, no gradient for the images) and batchnorm layer (`TrainingBatchNorm`: one
 * closed-form gradient); one built for prediction or export keeps the library's.
 *
 * Layers are created with zero weights; the seeded initial weights (`initialWeights`) are then
 * written in, so that initialisation is the same for every engine.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerInstance, ModelInfo } from '../../language/semantics/model';
import type { Shape } from '../../language/semantics/layers';
import { EngineError, type WeightTensor } from '../engine';
import { flagArg, isPlainLayer, layerTree, numberArg, pairArg, poolWindow, weightSpecs, type LayerNode, type WeightSpec } from '../network';
import { streamSeed } from '../../random';
import { TrainingBatchNorm } from './batchnorm-layer';
import { TrainingConv2D } from './conv-layer';
import { PaddedMaxPool, SeededDropout } from './layers';

/**
 * How a PyTorch-layout weight maps onto the TensorFlow.js variable: viewed as `view`, then
 * transposed by `perm`. Absent for weights that are laid out the same (biases, batchnorm).
 */
interface Layout {
  readonly view: readonly number[];
  readonly perm: readonly number[];
}

export interface WeightBinding {
  readonly spec: WeightSpec;
  readonly variable: tfl.LayerVariable;
  readonly layout?: Layout;
}

export interface BuiltNetwork {
  readonly model: tfl.LayersModel;
  /** Every weight of the model, in `weightSpecs` order. */
  readonly bindings: readonly WeightBinding[];
  /** The output shape of each plain layer by path, channels-first as the analysis writes it. */
  readonly shapes: ReadonlyMap<string, Shape>;
}

type Pair = [number, number];

/** Conv weights: PyTorch `out×in×kh×kw` to TensorFlow.js `kh×kw×in×out`. */
const convLayout = (shape: readonly number[]): Layout => ({ view: shape, perm: [2, 3, 1, 0] });
/** Depthwise weights: PyTorch `C·m×1×kh×kw` (output c·m+j) to TensorFlow.js `kh×kw×C×m`. */
const depthwiseLayout = (shape: readonly number[], channels: number): Layout => ({ view: [channels, shape[0]! / channels, shape[2]!, shape[3]!], perm: [2, 3, 0, 1] });
/** Dense weights: PyTorch `out×in` to TensorFlow.js `in×out`. */
const denseLayout: Layout = { view: [], perm: [1, 0] };

const unsupported = (layer: LayerInstance, message: string): EngineError => new EngineError(`${layer.kind} (${layer.path}): ${message}`, layer.statement);

class Builder {
  private readonly specs: ReadonlyMap<string, WeightSpec>;
  readonly bindings: WeightBinding[] = [];
  readonly shapes = new Map<string, Shape>();
  private count = 0;

  constructor(
    model: ModelInfo,
    private readonly seed: number,
    private readonly training: boolean,
    /** The model's input: the images, which need no gradient. */
    private readonly images: tfl.SymbolicTensor,
  ) {
    this.specs = new Map(weightSpecs(model).map((spec) => [spec.key, spec]));
  }

  /** A unique TensorFlow.js layer name; the PyTorch names live in the bindings. */
  private name(kind: string): string {
    return `l${++this.count}_${kind}`;
  }

  /** Applies a layer and binds its weights, in creation order, to the specs under `prefix`. */
  private apply(layer: tfl.layers.Layer, x: tfl.SymbolicTensor, prefix?: string, layouts: (Layout | undefined)[] = []): tfl.SymbolicTensor {
    const y = layer.apply(x) as tfl.SymbolicTensor;
    if (prefix === undefined) return y;
    const names = layer.weights.map((w) => w.originalName.split('/').pop()!);
    layer.weights.forEach((variable, i) => {
      const key = `${prefix}.${TORCH_NAMES[names[i]!] ?? names[i]}`;
      const spec = this.specs.get(key);
      if (!spec) throw new Error(`The TensorFlow.js layer for ${prefix} has a weight ${names[i]} that the model does not declare.`);
      const layout = i === 0 ? layouts[0] : undefined;
      const expected = layout ? tfjsShape(spec.shape, layout) : spec.shape;
      if (variable.shape.join('×') !== expected.join('×')) throw new Error(`${key}: the TensorFlow.js weight is ${variable.shape.join('×')}, expected ${expected.join('×')}.`);
      this.bindings.push({ spec, variable, ...(layout ? { layout } : {}) });
    });
    return y;
  }

  sequence(nodes: readonly LayerNode[], x: tfl.SymbolicTensor): tfl.SymbolicTensor {
    for (const node of nodes) x = this.node(node, x);
    return x;
  }

  private node(node: LayerNode, x: tfl.SymbolicTensor): tfl.SymbolicTensor {
    const layer = node.layer;
    if (isPlainLayer(layer)) {
      const y = this.plain(layer, x);
      const shape = y.shape.slice(1) as number[];
      const channelsFirst = shape.length === 3 ? [shape[2]!, shape[0]!, shape[1]!] : shape;
      if (channelsFirst.join('×') !== layer.output.join('×')) throw new Error(`${layer.path}: the TensorFlow.js graph gives ${channelsFirst.join('×')} where the analysis says ${layer.output.join('×')}.`);
      this.shapes.set(layer.path, channelsFirst);
      return y;
    }
    const body = this.sequence(node.children, x);
    if (layer.kind !== 'residual') return body;
    let shortcut = x;
    if (layer.projected) {
      const [ci, hi, wi] = layer.input as [number, number, number];
      const [co, ho, wo] = layer.output as [number, number, number];
      const stride: Pair = [Math.ceil(hi / ho), Math.ceil(wi / wo)];
      const conv = tfl.layers.conv2d({ name: this.name('shortcut_conv'), filters: co, kernelSize: 1, strides: stride, padding: 'valid', useBias: false, kernelInitializer: 'zeros' });
      shortcut = this.apply(conv, x, `${layer.path}.shortcut.conv`, [convLayout([co, ci, 1, 1])]);
      shortcut = this.apply(this.batchnorm(1e-5, 0.1), shortcut, `${layer.path}.shortcut.batchnorm`);
    }
    return tfl.layers.add({ name: this.name('add') }).apply([body, shortcut]) as tfl.SymbolicTensor;
  }

  /**
   * PyTorch's batchnorm momentum weighs the new batch; Keras's weighs the running value. One
   * difference remains: the library updates the running variance with the batch's biased variance
   * where PyTorch uses the unbiased one, a factor n/(n−1) with n values per channel in a batch
   * (32×16×16 for a CIFAR stage, so it matters only for batchnorm on small vectors). A model built
   * for training has its own layer (`TrainingBatchNorm`: the same numbers, one closed-form gradient).
   */
  private batchnorm(eps: number, momentum: number): tfl.layers.Layer {
    if (this.training) return new TrainingBatchNorm(eps, momentum, this.name('batchnorm'));
    return tfl.layers.batchNormalization({ name: this.name('batchnorm'), axis: -1, epsilon: eps, momentum: 1 - momentum });
  }

  /** `padding=` of a conv or dwconv as TensorFlow.js padding, with explicit zeros added first where PyTorch pads by a number. */
  private padded(layer: LayerInstance, x: tfl.SymbolicTensor): [tfl.SymbolicTensor, 'same' | 'valid'] {
    const padding = layer.args.get('padding');
    if (padding?.kind === 'word') return [x, padding.text === 'same' ? 'same' : 'valid'];
    const [ph, pw] = pairArg(padding, [0, 0]);
    if (ph === 0 && pw === 0) return [x, 'valid'];
    return [tfl.layers.zeroPadding2d({ name: this.name('pad'), padding: [[ph, ph], [pw, pw]] }).apply(x) as tfl.SymbolicTensor, 'valid'];
  }

  /** Checks the stride and dilation of a convolution against what TensorFlow.js can do. */
  private window(layer: LayerInstance, depthwise: boolean): { kernel: Pair; stride: Pair; dilation: Pair } {
    const kernel = pairArg(layer.args.get('kernel'), [3, 3]);
    const stride = pairArg(layer.args.get('stride'), [1, 1]);
    const dilation = pairArg(layer.args.get('dilation'), [1, 1]);
    const dilated = dilation[0] > 1 || dilation[1] > 1;
    // The library's depthwise layer leaves dilation out of its output shape, so later layers would be built for the wrong size.
    if (dilated && depthwise) throw unsupported(layer, 'dilation above 1 in a depthwise convolution is not supported by the TensorFlow.js engine yet; use dilation=1.');
    if (dilated && (stride[0] > 1 || stride[1] > 1)) throw unsupported(layer, 'stride and dilation both above 1 are not supported by the TensorFlow.js engine; use one or the other.');
    if (dilated && this.training) throw unsupported(layer, 'dilation above 1 cannot be trained by the TensorFlow.js engine yet (its gradients are missing); it can predict. Use dilation=1 to train.');
    return { kernel, stride, dilation };
  }

  private plain(layer: LayerInstance, x: tfl.SymbolicTensor): tfl.SymbolicTensor {
    const channels = layer.input[0]!;
    switch (layer.kind) {
      case 'conv': {
        const groups = numberArg(layer, 'groups') || 1;
        const out = layer.output[0]!;
        if (groups !== 1 && groups !== channels) throw unsupported(layer, `groups=${groups} is not supported by the TensorFlow.js engine yet: it has groups=1 and depthwise convolutions (groups equal to the input channels, ${channels} here, or dwconv).`);
        const { kernel, stride, dilation } = this.window(layer, groups !== 1);
        const useBias = flagArg(layer, 'bias');
        const weight = this.specs.get(`${layer.path}.weight`)!.shape;
        if (groups === 1 && this.training) {
          const padding = layer.args.get('padding');
          const pad = padding?.kind === 'word' ? (padding.text === 'same' ? 'same' : 'valid') : pairArg(padding, [0, 0]);
          const conv = new TrainingConv2D({ filters: out, kernel, stride, dilation, padding: pad, useBias, ofImages: x === this.images }, this.name('conv'));
          return this.apply(conv, x, layer.path, [convLayout(weight)]);
        }
        const [input, padding] = this.padded(layer, x);
        if (groups === 1) {
          const conv = tfl.layers.conv2d({ name: this.name('conv'), filters: out, kernelSize: kernel, strides: stride, dilationRate: dilation, padding, useBias, kernelInitializer: 'zeros' });
          return this.apply(conv, input, layer.path, [convLayout(weight)]);
        }
        // One group per input channel is a depthwise convolution, which TensorFlow.js has.
        const conv = tfl.layers.depthwiseConv2d({ name: this.name('conv'), kernelSize: kernel, depthMultiplier: out / channels, strides: stride, padding, useBias, depthwiseInitializer: 'zeros' });
        return this.apply(conv, input, layer.path, [depthwiseLayout(weight, channels)]);
      }
      case 'dwconv': {
        const { kernel, stride } = this.window(layer, true);
        const [input, padding] = this.padded(layer, x);
        const conv = tfl.layers.depthwiseConv2d({ name: this.name('dwconv'), kernelSize: kernel, depthMultiplier: numberArg(layer, 'multiplier') || 1, strides: stride, padding, useBias: flagArg(layer, 'bias'), depthwiseInitializer: 'zeros' });
        return this.apply(conv, input, layer.path, [depthwiseLayout(this.specs.get(`${layer.path}.weight`)!.shape, channels)]);
      }
      case 'maxpool':
      case 'avgpool': {
        const { kernel, stride, padding: [ph, pw] } = poolWindow(layer);
        const pool = { poolSize: kernel, strides: stride, padding: 'valid' as const };
        if (ph === 0 && pw === 0) return (layer.kind === 'maxpool' ? tfl.layers.maxPooling2d({ name: this.name('maxpool'), ...pool }) : tfl.layers.averagePooling2d({ name: this.name('avgpool'), ...pool })).apply(x) as tfl.SymbolicTensor;
        if (layer.kind === 'maxpool') return new PaddedMaxPool(kernel, stride, [ph, pw], this.name('maxpool')).apply(x) as tfl.SymbolicTensor;
        // PyTorch's average pooling counts padded zeros in the mean (count_include_pad), so pad with zeros first.
        const padded = tfl.layers.zeroPadding2d({ name: this.name('pad'), padding: [[ph, ph], [pw, pw]] }).apply(x) as tfl.SymbolicTensor;
        return tfl.layers.averagePooling2d({ name: this.name('avgpool'), ...pool }).apply(padded) as tfl.SymbolicTensor;
      }
      case 'globalavgpool':
      case 'globalmaxpool': {
        const pooled = (layer.kind === 'globalavgpool' ? tfl.layers.globalAveragePooling2d({ name: this.name('gap') }) : tfl.layers.globalMaxPooling2d({ name: this.name('gmp') })).apply(x) as tfl.SymbolicTensor;
        // The language keeps C×1×1 (PyTorch's adaptive pooling), so a conv may follow; flatten makes it flat.
        return tfl.layers.reshape({ name: this.name('keep'), targetShape: [1, 1, channels] }).apply(pooled) as tfl.SymbolicTensor;
      }
      case 'batchnorm': {
        const eps = layer.args.get('eps')?.kind === 'number' ? numberArg(layer, 'eps') : 1e-5;
        const momentum = layer.args.get('momentum')?.kind === 'number' ? numberArg(layer, 'momentum') : 0.1;
        return this.apply(this.batchnorm(eps, momentum), x, layer.path);
      }
      case 'relu':
      case 'gelu':
      case 'sigmoid':
      case 'tanh':
        return tfl.layers.activation({ name: this.name(layer.kind), activation: layer.kind as 'relu' | 'gelu' | 'sigmoid' | 'tanh' }).apply(x) as tfl.SymbolicTensor;
      case 'silu':
        return tfl.layers.activation({ name: this.name('silu'), activation: 'swish' }).apply(x) as tfl.SymbolicTensor;
      case 'leakyrelu': {
        const slope = layer.args.get('slope')?.kind === 'number' ? numberArg(layer, 'slope') : 0.01;
        return tfl.layers.leakyReLU({ name: this.name('leakyrelu'), alpha: slope }).apply(x) as tfl.SymbolicTensor;
      }
      case 'softmax':
        // PyTorch's Softmax() on an image takes dim 1, the channels: the last axis here.
        return tfl.layers.softmax({ name: this.name('softmax'), axis: -1 }).apply(x) as tfl.SymbolicTensor;
      case 'dropout': {
        const rate = layer.args.get('p')?.kind === 'number' ? numberArg(layer, 'p') : 0.5;
        return new SeededDropout(rate, streamSeed(this.seed, layer.path), this.name('dropout')).apply(x) as tfl.SymbolicTensor;
      }
      case 'flatten': {
        if (layer.input.length !== 3) return x;
        // To C×H×W before flattening, so the values come in PyTorch's order.
        const chw = tfl.layers.permute({ name: this.name('chw'), dims: [3, 1, 2] }).apply(x) as tfl.SymbolicTensor;
        return tfl.layers.flatten({ name: this.name('flatten') }).apply(chw) as tfl.SymbolicTensor;
      }
      case 'dense': {
        const dense = tfl.layers.dense({ name: this.name('dense'), units: layer.output[0]!, useBias: flagArg(layer, 'bias'), kernelInitializer: 'zeros' });
        return this.apply(dense, x, layer.path, [denseLayout]);
      }
      default:
        throw unsupported(layer, 'this layer is not supported by the TensorFlow.js engine yet.');
    }
  }
}

/** TensorFlow.js's weight names, as PyTorch names them. */
const TORCH_NAMES: Readonly<Record<string, string>> = {
  kernel: 'weight',
  depthwise_kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

function tfjsShape(shape: readonly number[], layout: Layout): number[] {
  const view = layout.view.length > 0 ? layout.view : shape;
  return layout.perm.map((axis) => view[axis]!);
}

/**
 * Builds the model. `training` asks for a model that can train, which some options (dilation)
 * cannot yet. Throws `EngineError` for what the engine does not support, naming the line.
 */
export function buildNetwork(model: ModelInfo, seed: number, training: boolean): BuiltNetwork {
  if (!model.input || !model.output) throw new EngineError(`Model ${model.name} has errors; fix them before training.`);
  const [c, h, w] = model.input as [number, number, number];
  const input = tfl.input({ shape: [h, w, c], name: 'images' });
  const builder = new Builder(model, seed, training, input);
  const output = builder.sequence(layerTree(model), input);
  return { model: tfl.model({ inputs: input, outputs: output, name: model.name || 'model' }), bindings: builder.bindings, shapes: builder.shapes };
}

/** Writes PyTorch-layout weights into the network. Every key must exist with its shape. */
export function writeWeights(network: BuiltNetwork, weights: Iterable<readonly [string, WeightTensor]>): void {
  const byKey = new Map(network.bindings.map((binding) => [binding.spec.key, binding]));
  for (const [key, tensor] of weights) {
    const binding = byKey.get(key);
    if (!binding) throw new Error(`The model has no weight ${key}.`);
    if (tensor.shape.join('×') !== binding.spec.shape.join('×')) throw new Error(`${key} is ${tensor.shape.join('×')}; the model's is ${binding.spec.shape.join('×')}.`);
    const value = tf.tidy(() => {
      const layout = binding.layout;
      if (!layout) return tf.tensor(tensor.values, [...tensor.shape]);
      return tf.transpose(tf.tensor(tensor.values, layout.view.length > 0 ? [...layout.view] : [...tensor.shape]), [...layout.perm]);
    });
    binding.variable.write(value);
    value.dispose();
  }
}

/** Reads every weight back in PyTorch's layout. */
export async function readWeights(network: BuiltNetwork): Promise<Map<string, WeightTensor>> {
  const result = new Map<string, WeightTensor>();
  for (const binding of network.bindings) {
    const layout = binding.layout;
    const tensor = tf.tidy(() => {
      const value = binding.variable.read();
      if (!layout) return tf.clone(value);
      const inverse = layout.perm.map((_, i) => layout.perm.indexOf(i));
      return tf.transpose(value, inverse);
    });
    const values = (await tensor.data()) as Float32Array;
    tensor.dispose();
    result.set(binding.spec.key, { shape: binding.spec.shape, values });
  }
  return result;
}
