/**
 * PyTorch's optimizers on TensorFlow.js variables, step for step as `torch.optim` computes them,
 * so a run's numbers can be compared with PyTorch's:
 * - `sgd` / `momentum`: buf = μ·buf + g (buf starts at g); with Nesterov the step is g + μ·buf.
 * - `adam`: bias-corrected moments; `weight_decay` adds λ·p to the gradient (L2), as in Adam.
 * - `adamw`: the same moments, and the weights decay by lr·λ separately (decoupled).
 * For sgd too, weight decay is L2: λ·p added to the gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerSettings } from '../engine';
import { adamOnHeap } from './wasm-adam';

type Sgd = Extract<OptimizerSettings, { name: 'sgd' | 'momentum' }>;
type Adam = Extract<OptimizerSettings, { name: 'adam' | 'adamw' }>;
const isSgd = (s: OptimizerSettings): s is Sgd => s.name === 'sgd' || s.name === 'momentum';

export class Optimizer {
  private step = 0;
  /** Momentum buffers for sgd; first moments for the Adams. */
  private readonly first: tf.Variable[];
  /** Second moments for the Adams. */
  private readonly second: tf.Variable[];

  constructor(
    private readonly settings: OptimizerSettings,
    private readonly variables: readonly tf.Variable[],
  ) {
    // Inside tidy, so the zeros a variable is made from are freed; the variable itself is kept.
    const zeros = (): tf.Variable[] => variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    this.first = !isSgd(settings) || settings.momentum > 0 ? zeros() : [];
    this.second = isSgd(settings) ? [] : zeros();
  }

  /** Updates every variable from its gradient (same order as the variables). */
  apply(gradients: readonly tf.Tensor[], learningRate: number): void {
    this.step++;
    const s = this.settings;
    // One tidy per variable, so each update's temporaries are freed before the next: with one
    // around them all, a ResNet18 step's Adam temporaries (~580 MB) outgrew its forward and backward.
    this.variables.forEach((p, i) =>
      tf.tidy(() => {
        if (isSgd(s)) this.sgd(s, i, p, gradients[i]!, learningRate);
        else this.adam(s, i, p, gradients[i]!, learningRate);
      }),
    );
  }

  private sgd(s: Sgd, i: number, p: tf.Variable, gradient: tf.Tensor, learningRate: number): void {
    let g = s.weightDecay > 0 ? tf.add(gradient, tf.mul(p, s.weightDecay)) : gradient;
    if (s.momentum > 0) {
      const buf = this.first[i]!;
      // PyTorch starts the buffer at the first gradient; from zeros, μ·0 + g is the same.
      buf.assign(tf.add(tf.mul(buf, s.momentum), g));
      g = s.nesterov ? tf.add(g, tf.mul(buf, s.momentum)) : buf;
    }
    p.assign(tf.sub(p, tf.mul(g, learningRate)));
  }

  private adam(s: Adam, i: number, p: tf.Variable, gradient: tf.Tensor, learningRate: number): void {
    const m = this.first[i]!;
    const v = this.second[i]!;
    const step = {
      beta1: s.beta1,
      beta2: s.beta2,
      eps: s.eps,
      l2: s.name === 'adam' ? s.weightDecay : 0,
      decay: s.name === 'adamw' ? 1 - learningRate * s.weightDecay : 1,
      stepSize: learningRate / (1 - s.beta1 ** this.step),
      rootCorrection2: Math.sqrt(1 - s.beta2 ** this.step),
    };
    if (adamOnHeap(p, gradient, m, v, step)) return;
    const g = s.name === 'adam' && s.weightDecay > 0 ? tf.add(gradient, tf.mul(p, s.weightDecay)) : gradient;
    m.assign(tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1)));
    v.assign(tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2)));
    const correction1 = 1 - s.beta1 ** this.step;
    const correction2 = 1 - s.beta2 ** this.step;
    const decayed = s.name === 'adamw' && s.weightDecay > 0 ? tf.mul(p, 1 - learningRate * s.weightDecay) : p;
    const denominator = tf.add(tf.div(tf.sqrt(v), Math.sqrt(correction2)), s.eps);
    p.assign(tf.sub(decayed, tf.mul(tf.div(m, denominator), learningRate / correction1)));
  }

  /** Updates applied so far (Adam's bias correction depends on it), for checkpoints. */
  get updates(): number {
    return this.step;
  }

  set updates(count: number) {
    this.step = count;
  }

  /** The buffers by name (`first.<i>`, `second.<i>`, in the variables' order), for checkpoints. */
  buffers(): Map<string, tf.Variable> {
    return new Map([...this.first.map((v, i) => [`first.${i}`, v] as const), ...this.second.map((v, i) => [`second.${i}`, v] as const)]);
  }

  dispose(): void {
    for (const v of [...this.first, ...this.second]) v.dispose();
  }
}
