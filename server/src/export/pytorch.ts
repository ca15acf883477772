/**
 * PyTorch export: `model.py`, an nn.Module equivalent to the model file whose parameter names are
 * the engine's (so `load_state_dict` takes the weights as they are), with a loader for
 * `weights.safetensors` (the safetensors layout: a little-endian u64 header length, a JSON header
 * of dtype, shape and byte offsets, then the raw float32 data) that needs nothing but torch, and
 * `python model.py [IMAGE]`, which loads the weights, prints the parameter count and, given an
 * image, its top classes (Pillow) through the training preprocessing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WeightMap } from '../engine/engine';
import { flagArg, isPlainLayer, layerTree, numberArg, pairArg, poolWindow, type LayerNode } from '../engine/network';
import type { LayerInstance } from '../language/semantics/model';
import type { Servable } from '../serve/servable';

export const PYTORCH_MODEL_FILE = 'model.py';
export const PYTORCH_WEIGHTS_FILE = 'weights.safetensors';

/** The safetensors bytes of a weight map (float32, names as they are). */
export function safetensors(weights: WeightMap): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [key, tensor] of weights) {
    header[key] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + tensor.values.byteLength] };
    offset += tensor.values.byteLength;
  }
  // The header is padded with spaces to a multiple of 8 so the data stays aligned.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const tensor of weights.values()) {
    Buffer.from(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength).copy(out, at);
    at += tensor.values.byteLength;
  }
  return out;
}

const py = (value: unknown): string => (typeof value === 'boolean' ? (value ? 'True' : 'False') : typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? `(${value.map(py).join(', ')})` : String(value));

/** The torch module of a plain layer, or undefined when it has no module (flatten of a vector). */
function moduleOf(layer: LayerInstance): string {
  const channels = layer.input[0]!;
  const padding = (): string => {
    const value = layer.args.get('padding');
    return value?.kind === 'word' ? py(value.text) : py(pairArg(value, [0, 0]));
  };
  const number = (name: string, fallback: number): number => (layer.args.get(name)?.kind === 'number' ? numberArg(layer, name) : fallback);
  switch (layer.kind) {
    case 'conv':
      return `nn.Conv2d(${channels}, ${layer.output[0]}, kernel_size=${py(pairArg(layer.args.get('kernel'), [3, 3]))}, stride=${py(pairArg(layer.args.get('stride'), [1, 1]))}, padding=${padding()}, dilation=${py(pairArg(layer.args.get('dilation'), [1, 1]))}, groups=${numberArg(layer, 'groups') || 1}, bias=${py(flagArg(layer, 'bias'))})`;
    case 'dwconv':
      return `nn.Conv2d(${channels}, ${layer.output[0]}, kernel_size=${py(pairArg(layer.args.get('kernel'), [3, 3]))}, stride=${py(pairArg(layer.args.get('stride'), [1, 1]))}, padding=${padding()}, dilation=${py(pairArg(layer.args.get('dilation'), [1, 1]))}, groups=${channels}, bias=${py(flagArg(layer, 'bias'))})`;
    case 'maxpool':
    case 'avgpool': {
      const { kernel, stride, padding } = poolWindow(layer);
      const common = `kernel_size=${py(kernel)}, stride=${py(stride)}, padding=${py(padding)}`;
      return layer.kind === 'maxpool' ? `nn.MaxPool2d(${common})` : `nn.AvgPool2d(${common}, count_include_pad=True)`;
    }
    case 'globalavgpool':
      return 'nn.AdaptiveAvgPool2d(1)';
    case 'globalmaxpool':
      return 'nn.AdaptiveMaxPool2d(1)';
    case 'batchnorm':
      return `nn.BatchNorm${layer.input.length === 3 ? '2d' : '1d'}(${channels}, eps=${number('eps', 1e-5)}, momentum=${number('momentum', 0.1)})`;
    case 'relu':
      return 'nn.ReLU()';
    case 'gelu':
      return 'nn.GELU()';
    case 'silu':
      return 'nn.SiLU()';
    case 'sigmoid':
      return 'nn.Sigmoid()';
    case 'tanh':
      return 'nn.Tanh()';
    case 'leakyrelu':
      return `nn.LeakyReLU(${number('slope', 0.01)})`;
    case 'softmax':
      return 'nn.Softmax(dim=1)';
    case 'dropout':
      return `nn.Dropout(${number('p', 0.5)})`;
    case 'flatten':
      return 'nn.Flatten()';
    case 'dense':
      return `nn.Linear(${channels}, ${layer.output[0]}, bias=${py(flagArg(layer, 'bias'))})`;
    default:
      throw new Error(`${layer.kind} (${layer.path}) has no PyTorch form yet.`);
  }
}

class SourceWriter {
  readonly modules: string[] = [];
  readonly forward: string[] = [];
  private count = 0;

  sequence(nodes: readonly LayerNode[], x: string): string {
    for (const node of nodes) x = this.node(node, x);
    return x;
  }

  private node(node: LayerNode, x: string): string {
    const layer = node.layer;
    if (isPlainLayer(layer)) {
      this.modules.push(`        _place(self, ${py(layer.path)}, ${moduleOf(layer)})`);
      this.forward.push(`        x = m(${py(layer.path)})(x)`);
      return x;
    }
    if (layer.kind !== 'residual') return this.sequence(node.children, x);
    const saved = `shortcut${++this.count}`;
    this.forward.push(`        ${saved} = x  # ${layer.path}: a residual connection`);
    this.sequence(node.children, x);
    if (layer.projected) {
      const [ci, hi, wi] = layer.input as [number, number, number];
      const [co, ho, wo] = layer.output as [number, number, number];
      this.modules.push(`        _place(self, ${py(`${layer.path}.shortcut.conv`)}, nn.Conv2d(${ci}, ${co}, kernel_size=1, stride=${py([Math.ceil(hi / ho), Math.ceil(wi / wo)])}, bias=False))`);
      this.modules.push(`        _place(self, ${py(`${layer.path}.shortcut.batchnorm`)}, nn.BatchNorm2d(${co}))`);
      this.forward.push(`        ${saved} = m(${py(`${layer.path}.shortcut.batchnorm`)})(m(${py(`${layer.path}.shortcut.conv`)})(${saved}))`);
    }
    this.forward.push(`        x = x + ${saved}`);
    return x;
  }
}

/** The Python source of model.py. */
export function pytorchSource(servable: Servable): string {
  const writer = new SourceWriter();
  writer.sequence(layerTree(servable.model), 'x');
  const { inputShape, resize, normalize, classes } = servable.preprocessing;
  const className = /^[A-Za-z_]\w*$/.test(servable.model.name) ? servable.model.name : 'OcularModel';
  return `"""${servable.model.name}, exported by Ocular from ${path.basename(servable.modelFile)}.

An nn.Module with the model file's layers under the names Ocular gives their weights, a loader for
${PYTORCH_WEIGHTS_FILE} that needs only torch, and the preprocessing the model was trained with.

    python model.py                 # load the weights and print the parameter count
    python model.py photo.jpg       # also print the image's top classes (needs Pillow)

In your own code:

    from model import load_model, preprocess
    model = load_model()            # ${className} with the exported weights, in eval mode
"""

import json
import os
import struct
import sys

import torch
from torch import nn

CLASSES = ${JSON.stringify(classes)}
INPUT_SHAPE = ${py(inputShape)}  # channels, height, width
RESIZE = ${py(resize)}  # how images were fitted to the input size: stretch, crop or letterbox
MEAN = ${py(normalize?.mean ?? [0])}
STD = ${py(normalize?.std ?? [1])}
HERE = os.path.dirname(os.path.abspath(__file__))


def _place(root, path, module):
    """Registers module at a dotted path, making plain containers for the parts before it."""
    *parents, name = path.split(".")
    for part in parents:
        if part not in root._modules:
            root.add_module(part, nn.Module())
        root = root._modules[part]
    root.add_module(name, module)


class ${className}(nn.Module):
    def __init__(self):
        super().__init__()
${writer.modules.join('\n')}

    def forward(self, x):
        m = self.get_submodule
${writer.forward.join('\n')}
        return x


def load_safetensors(file):
    """The tensors of a safetensors file (float32), read with torch alone."""
    with open(file, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header.pop("__metadata__", None)
    start = 8 + length
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        values = torch.frombuffer(bytearray(data[start + begin : start + end]), dtype=torch.float32)
        tensors[name] = values.reshape(info["shape"])
    return tensors


def load_model(weights=os.path.join(HERE, "${PYTORCH_WEIGHTS_FILE}")):
    model = ${className}()
    tensors = load_safetensors(weights)
    model.load_state_dict(tensors, strict=False)
    missing = [k for k in model.state_dict() if k not in tensors and not k.endswith("num_batches_tracked")]
    if missing:
        raise ValueError(f"{weights} lacks {', '.join(missing)}")
    return model.eval()


def preprocess(image):
    """A PIL image as the model's input batch of one: stretched to the input size, scaled to [0, 1], normalised.

    A model trained with RESIZE crop or letterbox saw images fitted that way: fit them so before calling this.
    """
    channels, height, width = INPUT_SHAPE
    image = image.convert("L" if channels == 1 else "RGB").resize((width, height))
    x = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).float().div(255)
    x = x.reshape(height, width, channels).permute(2, 0, 1)
    mean = torch.tensor(MEAN * (channels if len(MEAN) == 1 else 1)).reshape(-1, 1, 1)
    std = torch.tensor(STD * (channels if len(STD) == 1 else 1)).reshape(-1, 1, 1)
    return ((x - mean) / std).unsqueeze(0)


if __name__ == "__main__":
    model = load_model()
    print(f"${className}: {sum(p.numel() for p in model.parameters()):,} parameters")
    if len(sys.argv) > 1:
        from PIL import Image

        with torch.no_grad():
            probabilities = model(preprocess(Image.open(sys.argv[1]))).softmax(1)[0]
        for p, i in zip(*probabilities.topk(min(5, len(CLASSES)))):
            print(f"{CLASSES[i]}: {p:.4f}")
`;
}

export function exportPytorch(servable: Servable, outDir: string): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const source = path.join(outDir, PYTORCH_MODEL_FILE);
  const weights = path.join(outDir, PYTORCH_WEIGHTS_FILE);
  fs.writeFileSync(source, pytorchSource(servable));
  fs.writeFileSync(weights, safetensors(servable.weights));
  return [source, weights];
}
