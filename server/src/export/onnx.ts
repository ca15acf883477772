/**
 * ONNX export (opset 13), written from the model's layers without Python: channels-first like
 * PyTorch, so weights go in as they are, under their PyTorch names. Input `images` is
 * `N×C×H×W` float, scaled to [0, 1] and normalised; output `probabilities` is `N×classes`
 * (a softmax after the logits). The preprocessing (input shape, resize mode, normalisation,
 * class names) is in the model's metadata_props. Weights of convolutions and dense layers can be
 * stored as float16 (a Cast back to float) or int8 with a scale per output channel
 * (DequantizeLinear), which makes the file about a half or a quarter of the size.
 */
import * as fs from 'node:fs';
import type { WeightMap } from '../engine/engine';
import { flagArg, isPlainLayer, layerTree, numberArg, pairArg, poolWindow, type LayerNode } from '../engine/network';
import type { LayerInstance } from '../language/semantics/model';
import type { Servable } from '../serve/servable';
import { ProtoWriter } from './protobuf';
import { encodeWeight, type WeightEncoding } from './quantize';

export const ONNX_OPSET = 13;
export const ONNX_MODEL_FILE = 'model.onnx';

const FLOAT = 1;

type Attribute = { name: string; f?: number; i?: number; ints?: readonly number[] };
interface Node {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly Attribute[];
}
interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  readonly raw: Uint8Array;
}

/** Explicit begin/end padding for a `padding=` of a convolution, as ONNX's pads (h begin, w begin, h end, w end). */
function padsFor(layer: LayerInstance, kernel: [number, number], stride: [number, number], dilation: [number, number]): number[] {
  const padding = layer.args.get('padding');
  if (padding?.kind === 'word') {
    if (padding.text !== 'same') return [0, 0, 0, 0];
    const total = (axis: 0 | 1): number => {
      const size = layer.input[axis + 1]!;
      const out = Math.ceil(size / stride[axis]);
      return Math.max(0, (out - 1) * stride[axis] + (kernel[axis] - 1) * dilation[axis] + 1 - size);
    };
    const [th, tw] = [total(0), total(1)];
    return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  }
  const [ph, pw] = pairArg(padding, [0, 0]);
  return [ph, pw, ph, pw];
}

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  private count = 0;

  constructor(
    private readonly weights: WeightMap,
    private readonly encoding: WeightEncoding,
  ) {}

  private fresh(kind: string): string {
    return `${kind}_${++this.count}`;
  }

  add(op: string, inputs: readonly string[], attributes: readonly Attribute[] = [], output = this.fresh(op.toLowerCase())): string {
    this.nodes.push({ op, inputs, outputs: [output], attributes });
    return output;
  }

  constant(name: string, dims: readonly number[], values: Float32Array): string {
    this.initializers.push({ name, dims, dataType: FLOAT, raw: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) });
    return name;
  }

  /** A weight by its PyTorch name, stored in the export's encoding when it is a matrix or kernel. */
  weight(key: string): string {
    const tensor = this.weights.get(key);
    if (!tensor) throw new Error(`The weights have no ${key}.`);
    if (tensor.shape.length < 2 || this.encoding === 'float32') return this.constant(key, tensor.shape, tensor.values);
    const encoded = encodeWeight(tensor, this.encoding);
    this.initializers.push({ name: `${key}.${this.encoding}`, dims: tensor.shape, dataType: encoded.dataType, raw: encoded.raw });
    if (this.encoding === 'float16') return this.add('Cast', [`${key}.${this.encoding}`], [{ name: 'to', i: FLOAT }], key);
    const scale = this.constant(`${key}.scale`, [tensor.shape[0]!], encoded.scales!);
    this.initializers.push({ name: `${key}.zero_point`, dims: [tensor.shape[0]!], dataType: 3, raw: new Uint8Array(tensor.shape[0]!) });
    return this.add('DequantizeLinear', [`${key}.${this.encoding}`, scale, `${key}.zero_point`], [{ name: 'axis', i: 0 }], key);
  }

  sequence(nodes: readonly LayerNode[], x: string): string {
    for (const node of nodes) x = this.node(node, x);
    return x;
  }

  private node(node: LayerNode, x: string): string {
    const layer = node.layer;
    if (isPlainLayer(layer)) return this.plain(layer, x);
    const body = this.sequence(node.children, x);
    if (layer.kind !== 'residual') return body;
    let shortcut = x;
    if (layer.projected) {
      const [, hi, wi] = layer.input as [number, number, number];
      const [, ho, wo] = layer.output as [number, number, number];
      const prefix = `${layer.path}.shortcut`;
      shortcut = this.add('Conv', [x, this.weight(`${prefix}.conv.weight`)], [{ name: 'kernel_shape', ints: [1, 1] }, { name: 'strides', ints: [Math.ceil(hi / ho), Math.ceil(wi / wo)] }]);
      shortcut = this.batchnorm(`${prefix}.batchnorm`, shortcut, 1e-5);
    }
    return this.add('Add', [body, shortcut]);
  }

  private batchnorm(prefix: string, x: string, eps: number): string {
    const inputs = ['weight', 'bias', 'running_mean', 'running_var'].map((name) => this.weight(`${prefix}.${name}`));
    return this.add('BatchNormalization', [x, ...inputs], [{ name: 'epsilon', f: eps }]);
  }

  private plain(layer: LayerInstance, x: string): string {
    const channels = layer.input[0]!;
    const optionalBias = (): string[] => (flagArg(layer, 'bias') ? [this.weight(`${layer.path}.bias`)] : []);
    switch (layer.kind) {
      case 'conv':
      case 'dwconv': {
        const kernel = pairArg(layer.args.get('kernel'), [3, 3]);
        const stride = pairArg(layer.args.get('stride'), [1, 1]);
        const dilation = pairArg(layer.args.get('dilation'), [1, 1]);
        const groups = layer.kind === 'dwconv' ? channels : numberArg(layer, 'groups') || 1;
        return this.add('Conv', [x, this.weight(`${layer.path}.weight`), ...optionalBias()], [
          { name: 'kernel_shape', ints: kernel },
          { name: 'strides', ints: stride },
          { name: 'dilations', ints: dilation },
          { name: 'pads', ints: padsFor(layer, kernel, stride, dilation) },
          { name: 'group', i: groups },
        ]);
      }
      case 'maxpool':
      case 'avgpool': {
        const { kernel, stride, padding: [ph, pw] } = poolWindow(layer);
        const attributes: Attribute[] = [{ name: 'kernel_shape', ints: kernel }, { name: 'strides', ints: stride }, { name: 'pads', ints: [ph, pw, ph, pw] }];
        // PyTorch's average pooling counts padded zeros in the mean.
        if (layer.kind === 'avgpool') attributes.push({ name: 'count_include_pad', i: 1 });
        return this.add(layer.kind === 'maxpool' ? 'MaxPool' : 'AveragePool', [x], attributes);
      }
      case 'globalavgpool':
        return this.add('GlobalAveragePool', [x]);
      case 'globalmaxpool':
        return this.add('GlobalMaxPool', [x]);
      case 'batchnorm':
        return this.batchnorm(layer.path, x, layer.args.get('eps')?.kind === 'number' ? numberArg(layer, 'eps') : 1e-5);
      case 'relu':
        return this.add('Relu', [x]);
      case 'sigmoid':
        return this.add('Sigmoid', [x]);
      case 'tanh':
        return this.add('Tanh', [x]);
      case 'leakyrelu':
        return this.add('LeakyRelu', [x], [{ name: 'alpha', f: layer.args.get('slope')?.kind === 'number' ? numberArg(layer, 'slope') : 0.01 }]);
      case 'silu':
        return this.add('Mul', [x, this.add('Sigmoid', [x])]);
      case 'gelu': {
        // Opset 13 has no Gelu: 0.5·x·(1 + erf(x/√2)), PyTorch's exact form.
        const erf = this.add('Erf', [this.add('Div', [x, this.constant(this.fresh('sqrt2'), [], Float32Array.of(Math.SQRT2))])]);
        const onePlus = this.add('Add', [erf, this.constant(this.fresh('one'), [], Float32Array.of(1))]);
        return this.add('Mul', [this.add('Mul', [x, onePlus]), this.constant(this.fresh('half'), [], Float32Array.of(0.5))]);
      }
      case 'softmax':
        return this.add('Softmax', [x], [{ name: 'axis', i: 1 }]);
      case 'dropout':
        // Inference: dropout passes its input through.
        return x;
      case 'flatten':
        return layer.input.length === 1 ? x : this.add('Flatten', [x], [{ name: 'axis', i: 1 }]);
      case 'dense':
        return this.add('Gemm', [x, this.weight(`${layer.path}.weight`), ...optionalBias()], [{ name: 'transB', i: 1 }]);
      default:
        throw new Error(`${layer.kind} (${layer.path}) has no ONNX form yet.`);
    }
  }
}

function writeValueInfo(writer: ProtoWriter, name: string, dims: readonly (number | string)[]): void {
  writer.string(1, name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.varint(1, FLOAT).message(2, (shape) => {
        for (const dim of dims) shape.message(1, (d) => (typeof dim === 'number' ? d.varint(1, dim) : d.string(2, dim)));
      }),
    ),
  );
}

/** The ONNX ModelProto bytes of a model with its weights. */
export function onnxModel(servable: Servable, encoding: WeightEncoding = 'float32'): Uint8Array {
  const graph = new GraphBuilder(servable.weights, encoding);
  const logits = graph.sequence(layerTree(servable.model), 'images');
  graph.add('Softmax', [logits], [{ name: 'axis', i: 1 }], 'probabilities');
  const { inputShape, resize, normalize, classes } = servable.preprocessing;
  const metadata: Record<string, string> = {
    'ocular.model': servable.model.name,
    'ocular.classes': JSON.stringify(classes),
    'ocular.input_shape': JSON.stringify(inputShape),
    'ocular.input': 'NCHW float32: pixels scaled to [0, 1], then (x - mean) / std per channel',
    'ocular.resize': resize,
    'ocular.normalize': JSON.stringify(normalize ?? { mean: [0], std: [1] }),
    'ocular.weights': encoding,
  };
  const writer = new ProtoWriter();
  writer.varint(1, 7).string(2, 'Ocular').string(3, '0.1.0');
  writer.message(7, (g) => {
    for (const node of graph.nodes) {
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, output0(node)).string(4, node.op);
        for (const attribute of node.attributes) {
          n.message(5, (a) => {
            a.string(1, attribute.name);
            if (attribute.f !== undefined) a.float(2, attribute.f).varint(20, 1);
            else if (attribute.i !== undefined) a.varint(3, attribute.i).varint(20, 2);
            else for (const value of attribute.ints ?? []) a.varint(8, value);
            if (attribute.ints !== undefined) a.varint(20, 7);
          });
        }
      });
    }
    g.string(2, servable.model.name);
    for (const init of graph.initializers) {
      g.message(5, (t) => {
        for (const dim of init.dims) t.varint(1, dim);
        t.varint(2, init.dataType).string(8, init.name).bytes(9, init.raw);
      });
    }
    g.message(11, (v) => writeValueInfo(v, 'images', ['N', ...inputShape]));
    g.message(12, (v) => writeValueInfo(v, 'probabilities', ['N', classes.length]));
  });
  writer.message(8, (o) => o.string(1, '').varint(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(metadata)) writer.message(14, (p) => p.string(1, key).string(2, value));
  return writer.finish();
}

const output0 = (node: Node): string => `${node.op}:${node.outputs[0]}`;

export function exportOnnx(servable: Servable, file: string, encoding: WeightEncoding = 'float32'): string {
  fs.writeFileSync(file, onnxModel(servable, encoding));
  return file;
}
