/**
 * The loss and the optimizers against PyTorch: expected values from torch 1.13 in float64
 * (F.cross_entropy with weight and label_smoothing; torch.optim.SGD, Adam and AdamW stepping
 * a parameter [1, −2, 0.5] with the gradients below; the optimizers on cpu and on wasm), and a case
 * worked by hand.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerSettings } from '../../server/src/engine/engine';
import { lossTargets } from '../../server/src/engine/loss';
import { balancedClassWeights, optimizerSettings, trainingSetup } from '../../server/src/engine/training';
import { selectBackend } from '../../server/src/engine/tfjs/backends';
import { Optimizer } from '../../server/src/engine/tfjs/optimizers';
import { crossEntropy } from '../../server/src/engine/tfjs/tfjs-engine';
import { trainOf } from './helpers';

const near = (actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void => {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tolerance, `${what}[${i}]: ${v} ≠ ${expected[i]}`));
};

before(async () => {
  await selectBackend({ preference: 'cpu' });
});

describe('cross-entropy loss', () => {
  const logits = [
    [2.0, 1.0, 0.1],
    [0.5, 2.5, -1.0],
    [0.0, 0.0, 3.0],
    [1.0, -1.0, 0.0],
  ];
  const labels = Int32Array.from([0, 1, 1, 2]);
  const cases: { name: string; smoothing: number; weights?: number[]; expected: number }[] = [
    { name: 'plain', smoothing: 0, expected: 1.268184286066366 },
    { name: 'class weights: divided by the weight of the targets', smoothing: 0, weights: [1, 2, 0.5], expected: 1.384915513743004 },
    { name: 'label smoothing 0.1', smoothing: 0.1, expected: 1.313184286066366 },
    { name: 'label smoothing and class weights', smoothing: 0.1, weights: [1, 2, 0.5], expected: 1.3916032351258498 },
  ];
  for (const c of cases) {
    it(`${c.name} matches PyTorch`, () => {
      const loss = tf.tidy(() => crossEntropy(tf.tensor2d(logits), tf.tensor2d(lossTargets(labels, 3, c.smoothing, c.weights), [4, 3])).dataSync()[0]!);
      near([loss], [c.expected], 1e-6, 'loss');
    });
  }

  it('by hand: equal logits over 2 classes cost log 2; smoothing moves weight to the other class', () => {
    // Weights (3, 1), labels (0, 1): T = w_c((1−ε)[c=y] + ε/2) / (3 + 1).
    const targets = lossTargets(Int32Array.from([0, 1]), 2, 0.2, [3, 1]);
    near([...targets], [(3 * 0.9) / 4, (1 * 0.1) / 4, (3 * 0.1) / 4, (1 * 0.9) / 4], 1e-7, 'targets');
    const loss = tf.tidy(() => crossEntropy(tf.zeros([2, 2]), tf.tensor2d(targets, [2, 2])).dataSync()[0]!);
    near([loss], [Math.LN2 * (2.7 + 0.1 + 0.3 + 0.9) / 4], 1e-6, 'loss');
  });

  it('a label outside the classes is an error that names it', () => {
    assert.throws(() => lossTargets(Int32Array.from([0, 3]), 3, 0), /Label 3 is outside the model's 3 classes/);
  });

  it('balanced class weights are images / (classes × images of the class)', () => {
    near(balancedClassWeights([10, 30, 20, 0]), [60 / 40, 60 / 120, 60 / 80, 0], 1e-12, 'weights');
  });

  it('the training setup takes smoothing, accumulation and class weights from the train section', () => {
    assert.deepEqual(trainingSetup(trainOf('label_smoothing 0.1', 'accumulate 4', 'class_weights balanced'), [1, 3]), {
      optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
      labelSmoothing: 0.1,
      classWeights: [2, 2 / 3],
      accumulate: 4,
    });
    assert.deepEqual(trainingSetup(trainOf('class_weights (1, 5)')).classWeights, [1, 5]);
    assert.equal(trainingSetup(trainOf()).classWeights, undefined);
    assert.throws(() => trainingSetup(trainOf('class_weights balanced')), /needs the number of training images per class/);
  });
});

describe('optimizers', () => {
  const gradients = [
    [0.5, -1.0, 2.0],
    [0.1, 0.3, -0.2],
    [-0.4, 0.2, 1.0],
  ];
  const rates = [0.1, 0.1, 0.05];
  const cases: { line: string; expected: number[][] }[] = [
    { line: 'optimizer sgd lr=0.1', expected: [[0.95, -1.9, 0.3], [0.94, -1.93, 0.32], [0.96, -1.94, 0.27]] },
    { line: 'optimizer sgd lr=0.1 weight_decay=0.01', expected: [[0.949, -1.898, 0.2995], [0.938051, -1.926102, 0.3192005], [0.9575819745, -1.935138949, 0.2690408998]] },
    { line: 'optimizer momentum lr=0.1', expected: [[0.95, -1.9, 0.3], [0.895, -1.84, 0.14], [0.89025, -1.823, 0.018]] },
    { line: 'optimizer sgd lr=0.1 momentum=0.9 nesterov=true weight_decay=0.1', expected: [[0.886, -1.772, 0.1105], [0.801566, -1.698132, -0.0196495], [0.802442823, -1.662233146, -0.1815328548]] },
    { line: 'optimizer adam lr=0.1', expected: [[0.900000002, -1.900000001, 0.4000000005], [0.8196959064, -1.8572151424, 0.3407351495], [0.8150109364, -1.8469896166, 0.3059923174]] },
    { line: 'optimizer adam lr=0.1 betas=(0.8, 0.99) weight_decay=0.1', expected: [[0.9000000017, -1.9000000008, 0.4000000005], [0.816187463, -1.8444429969, 0.3433092452], [0.805207779, -1.8247761091, 0.309000546]] },
    { line: 'optimizer adamw lr=0.1 weight_decay=0.5', expected: [[0.850000002, -1.800000001, 0.3750000005], [0.7271959063, -1.6672151424, 0.2969851495], [0.7043310386, -1.615309238, 0.2548176886]] },
  ];
  // On wasm Adam runs as one pass over the heap (wasm-adam.ts), on cpu as TensorFlow.js operations.
  for (const c of cases) for (const backend of ['cpu', 'wasm'] as const) {
    it(`${c.line} steps as torch.optim does, on ${backend}`, async () => {
      await selectBackend({ preference: backend });
      const settings: OptimizerSettings = optimizerSettings(trainOf(c.line).optimizer);
      const p = tf.variable(tf.tensor1d([1, -2, 0.5]));
      const optimizer = new Optimizer(settings, [p]);
      c.expected.forEach((expected, step) => {
        const g = tf.tensor1d(gradients[step]!);
        optimizer.apply([g], rates[step]!);
        g.dispose();
        near([...p.dataSync()], expected, 2e-6, `step ${step + 1}`);
      });
      optimizer.dispose();
      p.dispose();
      await selectBackend({ preference: 'cpu' });
    });
  }

  it('resolves the language defaults: momentum is SGD with 0.9, adamw decays 0.01', () => {
    assert.deepEqual(optimizerSettings(trainOf('optimizer momentum').optimizer), { name: 'momentum', momentum: 0.9, nesterov: false, weightDecay: 0 });
    assert.deepEqual(optimizerSettings(trainOf('optimizer adamw').optimizer), { name: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    assert.deepEqual(optimizerSettings(trainOf().optimizer), { name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  });
});
