/**
 * The gradients of a depthwise convolution on the WebAssembly backend, which has none
 * (tensorflow/tfjs issue 8474): `DepthwiseConv2dNativeBackpropInput` and
 * `DepthwiseConv2dNativeBackpropFilter`, NHWC, any channel multiplier, strides, dilations and
 * padding. Both are direct loops over the wasm heap that visit each output position once and
 * each of its filter taps, with the channels as the inner loop, so the input, the output gradient
 * and the filter are all read in order (a depthwise layer does a few multiplications per value,
 * so reading memory in order is what counts). They replace running the CPU backend's kernels on
 * copies of the data, whose filter gradient reads across channels for every value: 30 to 50 s of
 * a 33 s MobileNetSmall training step at batch 32.
 *
 * The forward kernels stay XNNPACK's, with `same` padding spelled out (`samePaddingSpelledOut`).
 *
 * A filter `kh×kw×C×m` maps input channel c to output channels c·m … c·m + m − 1, so output
 * channel d meets input channel ⌊d / m⌋ and filter entry (tap, d): the output gradient and the
 * filter line up value for value, and only the input's index divides by m.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** What tfjs hands every kernel function. */
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/** The attributes tfjs passes both depthwise gradient kernels. */
interface DepthwiseGradientAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * The input rows (or columns) that the taps of one output row meet: `first` is the input row of
 * tap 0, and taps `from` up to `to` (exclusive) fall inside the image.
 */
function taps(output: number, stride: number, before: number, dilation: number, count: number, size: number): { first: number; from: number; to: number } {
  const first = output * stride - before;
  let from = 0;
  while (from < count && first + from * dilation < 0) from++;
  let to = count;
  while (to > from && first + (to - 1) * dilation >= size) to--;
  return { first, from, to };
}

/**
 * dx[n, h, w, c] = Σ over taps (a, b) and q < m of dy[n, ho, wo, c·m + q] · f[a, b, c, q], where
 * h = ho·sh − top + a·dh: each output position adds its gradient times each tap's weights to the
 * input position that tap met, in float32 (at most kh·kw·m terms per value).
 */
function depthwiseBackpropInput({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseGradientAttrs & { inputShape: [number, number, number, number] };
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
  const { batchSize, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
  const multiplier = outChannels / inChannels;
  // Allocate first: a heap that grows would detach views taken before.
  const out = wasm.makeOutput(inputShape, 'float32');
  const dx = wasm.typedArrayFromHeap(out) as Float32Array;
  const gradient = wasm.typedArrayFromHeap(dy) as Float32Array;
  const weights = wasm.typedArrayFromHeap(filter) as Float32Array;
  dx.fill(0);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rows = taps(oh, strideHeight, info.padInfo.top, dilationHeight, filterHeight, inHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const columns = taps(ow, strideWidth, info.padInfo.left, dilationWidth, filterWidth, inWidth);
        const source = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        for (let a = rows.from; a < rows.to; a++) {
          const h = rows.first + a * dilationHeight;
          for (let b = columns.from; b < columns.to; b++) {
            const target = ((n * inHeight + h) * inWidth + columns.first + b * dilationWidth) * inChannels;
            const tap = (a * filterWidth + b) * outChannels;
            if (multiplier === 1) {
              for (let c = 0; c < inChannels; c++) dx[target + c] = dx[target + c]! + gradient[source + c]! * weights[tap + c]!;
              continue;
            }
            for (let c = 0; c < inChannels; c++) {
              let sum = 0;
              for (let d = c * multiplier; d < (c + 1) * multiplier; d++) sum += gradient[source + d]! * weights[tap + d]!;
              dx[target + c] = dx[target + c]! + sum;
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * dW[a, b, c, q] = Σ over n, ho, wo of x[n, h, w, c] · dy[n, ho, wo, c·m + q], with h and w as
 * for the input gradient: each output position adds, for each tap that meets the image, the
 * input there times its gradient to that tap's sums. The sums are doubles, as the CPU backend
 * keeps them: one term per output position.
 */
function depthwiseBackpropFilter({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseGradientAttrs & { filterShape: [number, number, number, number] };
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const { batchSize, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
  const multiplier = outChannels / inChannels;
  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  // Allocate first: a heap that grows would detach views taken before.
  const out = wasm.makeOutput(filterShape, 'float32');
  const input = wasm.typedArrayFromHeap(x) as Float32Array;
  const gradient = wasm.typedArrayFromHeap(dy) as Float32Array;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rows = taps(oh, strideHeight, info.padInfo.top, dilationHeight, filterHeight, inHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const columns = taps(ow, strideWidth, info.padInfo.left, dilationWidth, filterWidth, inWidth);
        const source = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        for (let a = rows.from; a < rows.to; a++) {
          const h = rows.first + a * dilationHeight;
          for (let b = columns.from; b < columns.to; b++) {
            const at = ((n * inHeight + h) * inWidth + columns.first + b * dilationWidth) * inChannels;
            const tap = (a * filterWidth + b) * outChannels;
            if (multiplier === 1) {
              for (let c = 0; c < inChannels; c++) sums[tap + c] = sums[tap + c]! + input[at + c]! * gradient[source + c]!;
              continue;
            }
            for (let c = 0; c < inChannels; c++) {
              const value = input[at + c]!;
              for (let d = c * multiplier; d < (c + 1) * multiplier; d++) sums[tap + d] = sums[tap + d]! + value * gradient[source + d]!;
            }
          }
        }
      }
    }
  }
  (wasm.typedArrayFromHeap(out) as Float32Array).set(sums);
  return out;
}

/**
 * A depthwise convolution forward (`DepthwiseConv2dNative`, `FusedDepthwiseConv2D`) with `same`
 * padding runs with that padding spelled out. Given `same`, wasm 4.22 lets XNNPACK work the padding
 * out itself, and with a filter that is not square and a stride above 1 (3×1, stride 2, of a 3×6
 * image) every output comes out 0; the padding TensorFlow.js computes gives the CPU backend's
 * values. The stock kernel does the rest.
 */
function samePaddingSpelledOut(stock: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { strides, dilations, pad, dimRoundingMode } = attrs as unknown as DepthwiseGradientAttrs;
    if (pad !== 'same') return stock({ inputs, attrs, backend });
    const x = inputs['x']!;
    const filter = inputs['filter']!;
    const { top, bottom, left, right } = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, true).padInfo;
    const explicit: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    return stock({ inputs, attrs: { ...attrs, pad: explicit, dimRoundingMode: undefined } as unknown as tf.NamedAttrMap, backend });
  };
}

/**
 * The depthwise kernels for the wasm backend: the two gradients, and the forward kernels with
 * `same` padding spelled out (their stock setup functions kept: they bind the wasm exports).
 */
export function depthwiseKernels(): tf.KernelConfig[] {
  const forward = ['DepthwiseConv2dNative', 'FusedDepthwiseConv2D'].map((name): tf.KernelConfig => {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) throw new Error(`The wasm backend has no ${name} kernel.`);
    return { kernelName: name, backendName: 'wasm', kernelFunc: samePaddingSpelledOut(stock.kernelFunc), ...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {}) };
  });
  return [
    ...forward,
    { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm', kernelFunc: depthwiseBackpropInput as tf.KernelFunc },
    { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm', kernelFunc: depthwiseBackpropFilter as tf.KernelFunc },
  ];
}
