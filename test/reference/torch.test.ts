/**
 * Checks Ocular's numbers against PyTorch itself: test/reference/torch_models.py builds every
 * example network in torch.nn, runs an image through it and reports each leaf layer's output shape
 * and parameters. For each model in examples/*.ocular the leaf layers analyze() finds must be the
 * same layers, in the same order, with the same shapes and parameters, and the totals must agree.
 *
 * Needs Debian's PyTorch (`apt-get install python3-torch`, run by /usr/bin/python3); without it
 * the tests are skipped and say why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { analyze } from '../../server/src/language/analysis';
import { LAYER_SPECS } from '../../server/src/language/catalog';
import type { ModelInfo } from '../../server/src/language/semantics/model';
import { examples, repoRoot } from '../language/helpers';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(repoRoot, 'test/reference/torch_models.py');

interface TorchLeaf {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly number[];
  readonly params: number;
  /** Part of a residual's projection shortcut (torchvision's `downsample`). */
  readonly shortcut: boolean;
}

interface Reference {
  readonly torch: string;
  readonly torchvision: string | null;
  readonly models: Readonly<Record<string, { readonly input: readonly number[]; readonly total_params: number; readonly leaves: readonly TorchLeaf[] }>>;
}

/** The torch.nn module each Ocular layer becomes. */
const TORCH_TYPES: Readonly<Record<string, string>> = {
  conv: 'Conv2d',
  dwconv: 'Conv2d',
  maxpool: 'MaxPool2d',
  avgpool: 'AvgPool2d',
  globalavgpool: 'AdaptiveAvgPool2d',
  globalmaxpool: 'AdaptiveMaxPool2d',
  batchnorm: 'BatchNorm2d',
  relu: 'ReLU',
  leakyrelu: 'LeakyReLU',
  gelu: 'GELU',
  silu: 'SiLU',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
  dropout: 'Dropout',
  flatten: 'Flatten',
  dense: 'Linear',
};

/** Why PyTorch cannot be used here, or undefined when it can. */
function torchMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot run (${probe.error.message}); install python3-torch to compare with PyTorch`;
  if (probe.status !== 0) return `${PYTHON} has no torch module; install python3-torch to compare with PyTorch`;
  return undefined;
}

let reference: Reference | undefined;

/** Runs the script once for all the tests that need it. */
function load(): Reference {
  if (!reference) {
    const run = spawnSync(PYTHON, [SCRIPT], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
    assert.equal(run.status, 0, `torch_models.py failed:\n${run.stderr}`);
    reference = JSON.parse(run.stdout) as Reference;
  }
  return reference;
}

/** A layer as both sides can describe it: its module type, output shape and parameters. */
const describeLeaf = (type: string, shape: readonly number[], params: number): string => `${type} ${shape.join('x')} ${params}`;

/**
 * Ocular's leaf layers: the built-in layers that run, without the composites (block calls,
 * residuals and repeats) that only group them.
 */
function ocularLeaves(model: ModelInfo): string[] {
  return model.layers.filter((l) => LAYER_SPECS.has(l.kind) && l.kind !== 'residual' && l.kind !== 'repeat').map((l) => describeLeaf(TORCH_TYPES[l.kind] ?? l.kind, l.output, l.params));
}

/** The parameters of each projection shortcut in order: PyTorch's downsample modules, grouped by the block that owns them. */
function torchShortcuts(leaves: readonly TorchLeaf[]): number[] {
  const byBlock = new Map<string, number>();
  for (const leaf of leaves.filter((l) => l.shortcut)) {
    const block = leaf.name.slice(0, leaf.name.indexOf('.downsample.'));
    byBlock.set(block, (byBlock.get(block) ?? 0) + leaf.params);
  }
  return [...byBlock.values()];
}

const unavailable = torchMissing();
const models = examples().flatMap((example) => analyze(example.source).models.map((model) => ({ file: example.file, model })));

test('torch_models.py builds every example model and nothing else', (t) => {
  if (unavailable) return t.skip(unavailable);
  const built = load();
  t.diagnostic(`torch ${built.torch}; ResNet18 ${built.torchvision ? `checked against torchvision ${built.torchvision}` : 'not checked against torchvision, which is not installed'}`);
  assert.deepEqual(Object.keys(built.models).sort(), models.map(({ model }) => model.name).sort());
});

for (const { file, model } of models) {
  test(`${model.name} (${file}) matches PyTorch layer for layer`, (t) => {
    if (unavailable) return t.skip(unavailable);
    const torch = load().models[model.name];
    assert.ok(torch, `torch_models.py does not build ${model.name}`);
    t.diagnostic(`PyTorch: ${torch.total_params.toLocaleString('en-US')} parameters, ${torch.leaves.length} leaf layer calls`);
    assert.deepEqual(model.input, torch.input);
    assert.deepEqual(
      ocularLeaves(model),
      torch.leaves.filter((l) => !l.shortcut).map((l) => describeLeaf(l.type, l.shape, l.params)),
    );
    assert.deepEqual(
      model.layers.filter((l) => l.projected).map((l) => l.ownParams),
      torchShortcuts(torch.leaves),
    );
    assert.equal(model.totalParams, torch.total_params);
  });
}
