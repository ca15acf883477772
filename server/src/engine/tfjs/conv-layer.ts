/**
 * The convolution layer of a model built for training. The library's `conv2d` layer only knows
 * `same` and `valid` padding, so PyTorch's padding by a number needs a padding layer before it:
 * a copy of the activations forward and a slice of their gradient backward, at every padded
 * convolution. This layer passes the padding to the convolution itself. And the library always
 * runs the fused convolution, whose gradient computes the input's gradient with the filter's even
 * where nothing needs it; a convolution of the images themselves (a model's first layer) runs
 * unfused here, so the images get no gradient (TensorFlow.js computes an unfused op's gradients
 * per input, only for the inputs that lead back to a weight).
 *
 * Models built for prediction and export keep the library's layers, which other TensorFlow.js
 * programs load; the weights are named and shaped the same (`kernel`, `bias`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Pair = [number, number];

export interface ConvSettings {
  readonly filters: number;
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly dilation: Pair;
  /** Zeros added on each side (PyTorch's `padding=(h, w)`), or the library's padding words. */
  readonly padding: Pair | 'same' | 'valid';
  readonly useBias: boolean;
  /** The layer's input is the images, which need no gradient. */
  readonly ofImages: boolean;
}

export class TrainingConv2D extends tfl.layers.Layer {
  static readonly className = 'OcularTrainingConv2D';
  private kernel: tfl.LayerVariable | undefined;
  private bias: tfl.LayerVariable | undefined;

  constructor(
    private readonly settings: ConvSettings,
    name: string,
  ) {
    super({ name });
  }

  private get pad(): 'same' | 'valid' | tf.backend_util.ExplicitPadding {
    const padding = this.settings.padding;
    if (typeof padding === 'string') return padding;
    return [
      [0, 0],
      [padding[0], padding[0]],
      [padding[1], padding[1]],
      [0, 0],
    ];
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const channels = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape)[3] as number;
    const { kernel, filters, useBias } = this.settings;
    this.kernel = this.addWeight('kernel', [kernel[0], kernel[1], channels, filters], 'float32', tfl.initializers.zeros());
    if (useBias) this.bias = this.addWeight('bias', [filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [batch, height, width, channels] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const { kernel, filters, stride, dilation } = this.settings;
    const info = tf.backend_util.computeConv2DInfo([1, height!, width!, channels!], [kernel[0], kernel[1], channels!, filters], stride, dilation, this.pad);
    return [batch ?? null, info.outHeight, info.outWidth, filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const filter = this.kernel!.read() as tf.Tensor4D;
      const { stride, dilation, ofImages } = this.settings;
      const bias = this.bias?.read();
      if (!ofImages) return tf.fused.conv2d({ x, filter, strides: stride, pad: this.pad, dilations: dilation, ...(bias ? { bias } : {}) });
      const y = tf.conv2d(x, filter, stride, this.pad, 'NHWC', dilation);
      return bias ? tf.add(y, bias) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { filters, kernel, stride, dilation, padding, useBias, ofImages } = this.settings;
    return { ...super.getConfig(), filters, kernel, stride, dilation, padding, useBias, ofImages };
  }
}
