/**
 * The gradients of a depthwise convolution on the WebAssembly backend, which has none
 * (tensorflow/tfjs issue 8474): `DepthwiseConv2dNativeBackpropInput` and
 * `DepthwiseConv2dNativeBackpropFilter`, NHWC, any channel multiplier, strides, dilations and
 * padding. They replace running the CPU backend's kernels on copies of the data, whose filter
 * gradient reads across channels for every value: 30 to 50 s of a 33 s MobileNetSmall training
 * step at batch 32 (96×96 images).
 *
 * - The input gradient with multiplier 1 is XNNPACK's depthwise convolution of the output
 *   gradient spread out by the stride, with the filter reversed (`inputGradientByConvolution`);
 *   other cases are a direct loop over the wasm heap with the channels as the inner loop, so the
 *   heap is read in order.
 * - The filter gradient lays the input and the output gradient out channel by channel, then takes
 *   one dot product of two planes per filter entry (`depthwiseBackpropFilter`).
 * - The forward kernels stay XNNPACK's, with `same` padding spelled out (`wasm-padding.ts`).
 *
 * A filter `kh×kw×C×m` maps input channel c to output channels c·m … c·m + m − 1, so output
 * channel d meets input channel ⌊d / m⌋ and filter entry (tap, d): the output gradient and the
 * filter line up value for value, and only the input's index divides by m.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { samePaddingSpelledOut } from './wasm-padding';

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
  const byConvolution = inputGradientByConvolution(wasm, dy, filter, info);
  if (byConvolution) return byConvolution;
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
 * The input gradient of a depthwise convolution with multiplier 1 and no dilation, as XNNPACK's
 * depthwise convolution, several times faster than the loops: dx is the output gradient spread
 * out by the stride (zeros between its rows and columns), padded by kh − 1 − top before, and
 * convolved at stride 1 with the filter reversed in height and width. Undefined where the
 * forward padding reaches past the filter (the spread gradient would need negative padding)
 * or for the cases the loops keep.
 */
function inputGradientByConvolution(wasm: BackendWasm, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | undefined {
  const { batchSize, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
  if (outChannels !== inChannels || dilationHeight !== 1 || dilationWidth !== 1) return undefined;
  const [spreadHeight, spreadWidth] = [(outHeight - 1) * strideHeight + 1, (outWidth - 1) * strideWidth + 1];
  const [top, left] = [filterHeight - 1 - info.padInfo.top, filterWidth - 1 - info.padInfo.left];
  const [bottom, right] = [inHeight + filterHeight - 1 - spreadHeight - top, inWidth + filterWidth - 1 - spreadWidth - left];
  if (Math.min(top, left, bottom, right) < 0) return undefined;
  const temporary: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => (temporary.push(t), t);
  try {
    const spread = strideHeight === 1 && strideWidth === 1 ? dy : keep(spreadOut(wasm, dy, spreadHeight, spreadWidth, strideHeight, strideWidth));
    const reversed = keep(tf.getKernel('Reverse', 'wasm').kernelFunc({ inputs: { x: filter }, attrs: { dims: [0, 1] }, backend: wasm }) as tf.TensorInfo);
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    const dx = tf.getKernel('DepthwiseConv2dNative', 'wasm').kernelFunc({ inputs: { x: spread, filter: reversed }, attrs: { strides: 1, pad, dilations: 1, dataFormat: 'NHWC' }, backend: wasm }) as tf.TensorInfo;
    if (dx.shape[0] !== batchSize || dx.shape[1] !== inHeight || dx.shape[2] !== inWidth) throw new Error(`The depthwise input gradient came out ${dx.shape.join('×')}, not ${[batchSize, inHeight, inWidth, inChannels].join('×')}.`);
    return dx;
  } finally {
    for (const t of temporary) wasm.disposeData(t.dataId);
  }
}

/** `N×Ho×Wo×C` values placed every `strideHeight` rows and `strideWidth` columns of a zeroed `N×height×width×C`. */
function spreadOut(wasm: BackendWasm, x: tf.TensorInfo, height: number, width: number, strideHeight: number, strideWidth: number): tf.TensorInfo {
  const [batch, rows, columns, channels] = x.shape as [number, number, number, number];
  // Allocate first: a heap that grows would detach views taken before.
  const out = wasm.makeOutput([batch, height, width, channels], 'float32');
  const target = wasm.typedArrayFromHeap(out) as Float32Array;
  const source = wasm.typedArrayFromHeap(x) as Float32Array;
  target.fill(0);
  for (let n = 0; n < batch; n++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const from = ((n * rows + r) * columns + c) * channels;
        const to = ((n * height + r * strideHeight) * width + c * strideWidth) * channels;
        for (let k = 0; k < channels; k++) target[to + k] = source[from + k]!;
      }
    }
  }
  return out;
}

/**
 * dW[a, b, c, q] = Σ over n, ho, wo of x[n, h, w, c] · dy[n, ho, wo, c·m + q], with h and w as
 * for the input gradient. The input (zero-padded) and the output gradient are first laid out
 * channel by channel (`planes`); then each filter entry is one dot product of two planes, the
 * gradient's read in order and the input's every stride-th value, summed in doubles held in
 * registers, as the CPU backend sums in doubles. Summing straight from the channels-last heap
 * instead loads and stores a sum for every product: 105 to 155 ms against 66 to 94 for
 * MobileNetSmall's 32×48×48×32 3×3 layer (a busy 2-core machine).
 */
function depthwiseBackpropFilter({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseGradientAttrs & { filterShape: [number, number, number, number] };
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const { batchSize, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
  const multiplier = outChannels / inChannels;
  const { top, left } = info.padInfo;
  // Rows and columns of the padded input: enough for every tap of every window.
  const height = Math.max(top + inHeight, (outHeight - 1) * strideHeight + (filterHeight - 1) * dilationHeight + 1);
  const width = Math.max(left + inWidth, (outWidth - 1) * strideWidth + (filterWidth - 1) * dilationWidth + 1);
  const input = planes(wasm.typedArrayFromHeap(x) as Float32Array, [batchSize, inHeight, inWidth, inChannels], height, width, top, left);
  const gradient = planes(wasm.typedArrayFromHeap(dy) as Float32Array, [batchSize, outHeight, outWidth, outChannels], outHeight, outWidth, 0, 0);
  const out = wasm.makeOutput(filterShape, 'float32');
  const dw = wasm.typedArrayFromHeap(out) as Float32Array;
  const [inputPlane, gradientPlane] = [batchSize * height * width, batchSize * outHeight * outWidth];
  for (let d = 0; d < outChannels; d++) {
    const inputStart = Math.floor(d / multiplier) * inputPlane;
    for (let a = 0; a < filterHeight; a++) {
      for (let b = 0; b < filterWidth; b++) {
        let sum = 0;
        for (let n = 0; n < batchSize; n++) {
          for (let oh = 0; oh < outHeight; oh++) {
            const row = inputStart + (n * height + oh * strideHeight + a * dilationHeight) * width + b * dilationWidth;
            const gradientRow = d * gradientPlane + (n * outHeight + oh) * outWidth;
            // Four sums, so each addition need not wait for the one before (twice as fast).
            let s0 = 0, s1 = 0, s2 = 0, s3 = 0, ow = 0;
            for (; ow + 4 <= outWidth; ow += 4) {
              const at = row + ow * strideWidth;
              s0 += input[at]! * gradient[gradientRow + ow]!;
              s1 += input[at + strideWidth]! * gradient[gradientRow + ow + 1]!;
              s2 += input[at + 2 * strideWidth]! * gradient[gradientRow + ow + 2]!;
              s3 += input[at + 3 * strideWidth]! * gradient[gradientRow + ow + 3]!;
            }
            for (; ow < outWidth; ow++) s0 += input[row + ow * strideWidth]! * gradient[gradientRow + ow]!;
            sum += s0 + s1 + s2 + s3;
          }
        }
        dw[(a * filterWidth + b) * outChannels + d] = sum;
      }
    }
  }
  return out;
}

/**
 * An `N×H×W×C` tensor's values as C planes of `N×height×width`, each image placed `top` rows
 * down and `left` columns in, zeros around it. Read in order; each channel's writes go in order
 * within its plane. (Sixteen channels at a time, reading one cache line per position and pass,
 * measured no faster.)
 */
function planes(values: Float32Array, shape: [number, number, number, number], height: number, width: number, top: number, left: number): Float32Array {
  const [batch, rows, columns, channels] = shape;
  const plane = batch * height * width;
  const result = new Float32Array(channels * plane);
  for (let n = 0; n < batch; n++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const from = ((n * rows + r) * columns + c) * channels;
        const to = (n * height + r + top) * width + c + left;
        for (let k = 0; k < channels; k++) result[k * plane + to] = values[from + k]!;
      }
    }
  }
  return result;
}

/**
 * The depthwise kernels for the wasm backend: the two gradients, and the forward kernels with
 * `same` padding spelled out (their stock setup functions kept: they bind the wasm exports).
 */
export function depthwiseKernels(): tf.KernelConfig[] {
  const forward = ['DepthwiseConv2dNative', 'FusedDepthwiseConv2D'].map((name): tf.KernelConfig => {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) throw new Error(`The wasm backend has no ${name} kernel.`);
    return { kernelName: name, backendName: 'wasm', kernelFunc: samePaddingSpelledOut(stock.kernelFunc, true), ...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {}) };
  });
  return [
    ...forward,
    { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm', kernelFunc: depthwiseBackpropInput as tf.KernelFunc },
    { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm', kernelFunc: depthwiseBackpropFilter as tf.KernelFunc },
  ];
}
