/**
 * \`same\` padding spelled out for wasm's forward convolutions. Given \`same\`, wasm 4.22 lets
 * XNNPACK work the padding out itself, and with a filter that is not square and a stride above 1
 * (3×1, stride 2, of a 3×6 image) every output comes out 0; the padding TensorFlow.js computes
 * gives the CPU backend's values. The stock kernel does the rest.
 */
import * as tf from '@tensorflow/tfjs-core';

interface ForwardConvAttrs {
  strides: [number, number] | number;
  dilations?: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
}

/** Wraps a forward convolution kernel (`depthwise` for the depthwise ones, whose filter is `kh×kw×C×m`). */
export function samePaddingSpelledOut(stock: tf.KernelFunc, depthwise: boolean): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { strides, dilations, pad, dimRoundingMode, dataFormat } = attrs as unknown as ForwardConvAttrs;
    if (pad !== 'same' || dataFormat === 'NCHW') return stock({ inputs, attrs: attrs ?? {}, backend });
    const x = inputs['x']!;
    const filter = inputs['filter']!;
    const { top, bottom, left, right } = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, depthwise).padInfo;
    const explicit: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    return stock({ inputs, attrs: { ...attrs, pad: explicit, dimRoundingMode: undefined } as unknown as tf.NamedAttrMap, backend });
  };
}
