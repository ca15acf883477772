/**
 * The batchnorm layer of a model built for training. The library's `batchNormalization` layer
 * normalises a training batch with many small ops (the moments, then the normalisation), and the
 * autodiff tape keeps every intermediate of them for the backward pass, whose gradient is then a
 * chain of small kernels (Sum, Multiply, Add, Mean, Tile) per layer. Here the whole training-mode
 * normalisation is one custom gradient: the forward keeps only its input (which the convolution
 * before it keeps anyway), the batch mean and 1/√(variance + ε), and γ; the backward is the closed form
 *
 *   dx = (γ·invstd/N)·(N·dy − Σdy − x̂·Σ(dy·x̂)),  dγ = Σ(dy·x̂),  dβ = Σdy,
 *
 * with x̂ = (x − mean)·invstd, invstd = 1/√(variance + ε), sums over the N values of a channel.
 *
 * The numbers are the library layer's: the same moments (biased variance for normalising, as
 * PyTorch), the same normalisation up to rounding, and the running statistics updated the same way
 * (PyTorch's momentum, weighing the new batch; the batch's biased variance, see
 * `Builder.batchnorm()`). The weights are named, ordered and shaped as the library's (`gamma`,
 * `beta`, `moving_mean`, `moving_variance`), so the PyTorch-named bindings hold either. Models
 * built for prediction and export keep the library's layer, which other TensorFlow.js programs load.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export class TrainingBatchNorm extends tfl.layers.Layer {
  static readonly className = 'OcularTrainingBatchNorm';
  private gamma: tfl.LayerVariable | undefined;
  private beta: tfl.LayerVariable | undefined;
  private movingMean: tfl.LayerVariable | undefined;
  private movingVariance: tfl.LayerVariable | undefined;

  constructor(
    private readonly epsilon: number,
    /** PyTorch's momentum: the weight of the new batch in the running statistics. */
    private readonly momentum: number,
    name: string,
  ) {
    super({ name });
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = [shape[shape.length - 1] as number];
    this.gamma = this.addWeight('gamma', channels, 'float32', tfl.initializers.ones(), undefined, true);
    this.beta = this.addWeight('beta', channels, 'float32', tfl.initializers.zeros(), undefined, true);
    this.movingMean = this.addWeight('moving_mean', channels, 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', channels, 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => {
      const gamma = this.gamma!.read();
      const beta = this.beta!.read();
      if (kwargs['training'] !== true) return tf.batchNorm(x, this.movingMean!.read(), this.movingVariance!.read(), beta, gamma, this.epsilon);
      return this.normaliseBatch(x, gamma, beta);
    });
  }

  /** Normalises over the batch (every axis but the channels, the last) and updates the running statistics. */
  private normaliseBatch(input: tf.Tensor, gammaInput: tf.Tensor, betaInput: tf.Tensor): tf.Tensor {
    const epsilon = this.epsilon;
    const axes = input.shape.slice(0, -1).map((_, axis) => axis);
    const count = input.size / input.shape[input.shape.length - 1]!;
    // Every step is a broadcast binary op or a leading-axes reduction (wasm runs both as single
    // SIMD passes; its normalisation kernel takes about three times as long), and each full-size
    // temporary is freed as soon as the next is made, so a layer holds at most three at a time.
    const normalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, gamma, beta, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
      // tf.moments' ops in its order, so the statistics are the library layer's to the bit.
      const mean = tf.mean(x, axes);
      const centred = tf.sub(x, mean);
      const squares = tf.square(centred);
      const variance = tf.mean(squares, axes);
      squares.dispose();
      this.updateRunning(mean, variance);
      const invstd = tf.rsqrt(tf.add(variance, epsilon));
      save([x, mean, invstd, gamma]);
      const scaled = tf.mul(centred, tf.mul(gamma, invstd));
      centred.dispose();
      return {
        value: tf.add(scaled, beta),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [x, mean, invstd, gamma] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
            const centred = tf.sub(x, mean);
            const normalised = tf.mul(centred, invstd);
            centred.dispose();
            const product = tf.mul(dy, normalised);
            const sumDyNormalised = tf.sum(product, axes);
            product.dispose();
            const sumDy = tf.sum(dy, axes);
            // dx = a·dy + b·x̂ + c, with a = γ·invstd, b = −a·Σ(dy·x̂)/N and c = −a·Σdy/N.
            const scale = tf.mul(gamma, invstd);
            const perValue = tf.div(scale, -count);
            const fromNormalised = tf.mul(normalised, tf.mul(perValue, sumDyNormalised));
            normalised.dispose();
            const fromDy = tf.mul(dy, scale);
            const sum = tf.add(fromDy, fromNormalised);
            fromDy.dispose();
            fromNormalised.dispose();
            return [tf.add(sum, tf.mul(perValue, sumDy)), sumDyNormalised, sumDy];
          }),
      };
    });
    return normalise(input, gammaInput, betaInput);
  }

  /** running ← running − (running − batch)·momentum, as the library layer writes it. */
  private updateRunning(mean: tf.Tensor, variance: tf.Tensor): void {
    for (const [variable, value] of [
      [this.movingMean!, mean],
      [this.movingVariance!, variance],
    ] as const) {
      tf.tidy(() => {
        const running = variable.read();
        variable.write(tf.sub(running, tf.mul(tf.sub(running, value), this.momentum)));
      });
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, momentum: this.momentum };
  }
}
