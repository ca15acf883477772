/**
 * The batchnorm layer of a model built for training. The library's `batchNormalization` layer
 * normalises a training batch with many small ops (the moments, then the normalisation), and the
 * autodiff tape keeps every intermediate of them for the backward pass, whose gradient is then a
 * chain of small kernels (Sum, Multiply, Add, Mean, Tile) per layer. Here the whole training-mode
 * normalisation is one custom gradient: the forward keeps only its input (which the convolution
 * before it keeps anyway), the batch mean and variance, and γ; the backward is the closed form
 *
 *   dx = (γ·invstd/N)·(N·dy − Σdy − x̂·Σ(dy·x̂)),  dγ = Σ(dy·x̂),  dβ = Σdy,
 *
 * with x̂ = (x − mean)·invstd, invstd = 1/√(variance + ε), sums over the N values of a channel.
 *
 * The numbers are the library layer's: the same moments (biased variance for normalising, as
 * PyTorch), the same normalisation kernel, and the running statistics updated the same way
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
    const normalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, gamma, beta, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
      const { mean, variance } = tf.moments(x, axes);
      this.updateRunning(mean as tf.Tensor1D, variance as tf.Tensor1D);
      save([x, mean, variance, gamma]);
      return {
        value: tf.batchNorm(x, mean, variance, beta, gamma, epsilon),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [x, mean, variance, gamma] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
            const normalised = tf.batchNorm(x, mean, variance, undefined, undefined, epsilon);
            const sumDy = tf.sum(dy, axes);
            const sumDyNormalised = tf.sum(tf.mul(dy, normalised), axes);
            normalised.dispose();
            // dx = a·dy + (b·x̂ + c), with a = γ·invstd, b = −a·Σ(dy·x̂)/N and c = −a·Σdy/N; b·x̂ + c is one normalisation kernel of x.
            const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
            const perValue = tf.div(scale, -count);
            const correction = tf.batchNorm(x, mean, variance, tf.mul(perValue, sumDy), tf.mul(perValue, sumDyNormalised), epsilon);
            return [tf.add(tf.mul(dy, scale), correction), sumDyNormalised, sumDy];
          }),
      };
    });
    return normalise(input, gammaInput, betaInput);
  }

  /** running ← running − (running − batch)·momentum, as the library layer writes it. */
  private updateRunning(mean: tf.Tensor1D, variance: tf.Tensor1D): void {
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
