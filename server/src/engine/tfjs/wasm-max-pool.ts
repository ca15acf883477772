/**
 * The max pooling gradient as a WebAssembly SIMD kernel of our own (wasm-assembler.ts), for
 * channel counts that are a multiple of 4: four channels a vector, each window's maximum and its
 * tap found with compares and bit selects, then its output gradient added to that tap's input
 * position. The loop written in JavaScript before took 15 ms per call on SimpleCNN32's first
 * pooling (128×32×32×32); channels in other counts still take it (wasm-kernels.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { FunctionBody, I32, V128, backendMemory, heapAddress, kernelsOnMemory } from './wasm-assembler';

const PARAMETERS = ['x', 'dx', 'gradient', 'windows', 'windowStep', 'vectors', 'rows', 'columns', 'rowStride', 'columnStride'] as const;

/**
 * `window_gradient`: for `windows` windows `windowStep` bytes apart along a row, each of `rows` ×
 * `columns` taps (the first at `x` and `dx`, taps `columnStride` and rows `rowStride` bytes apart)
 * and `vectors` × 4 channels, adds each channel's output gradient (at `gradient`, one window's
 * after another's) to the tap holding its first maximum in row-major order, as PyTorch does; NaN
 * never wins (a comparison with it is false), as in the JavaScript loop.
 */
function windowGradient(): FunctionBody {
  const f = new FunctionBody(PARAMETERS.length);
  const [x, dx, gradient, windows, windowStep, vectors, rows, columns, rowStride, columnStride] = PARAMETERS.map((_, i) => i) as number[] as [number, number, number, number, number, number, number, number, number, number];
  const [best, bestTap, value, mask, g] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const [window, vector, tap, rowAt, at, rowLeft, columnLeft, xAt, dxAt] = Array.from({ length: 9 }, () => f.local(I32)) as [number, number, number, number, number, number, number, number, number];
  /** Visits the window's taps, `at` holding each one's address from `start` and `tap` its number. */
  const eachTap = (start: number, body: () => void): void => {
    f.i32(0).set(tap);
    f.get(start).set(rowAt);
    f.repeat(rows, rowLeft, () => {
      f.get(rowAt).set(at);
      f.repeat(columns, columnLeft, () => {
        body();
        f.step(tap, 1).advance(at, columnStride);
      });
      f.advance(rowAt, rowStride);
    });
  };
  f.repeat(windows, window, () => {
    f.get(x).set(xAt);
    f.get(dx).set(dxAt);
    f.repeat(vectors, vector, () => {
      f.get(xAt).load().set(best);
      f.constantI32x4(0).set(bestTap);
      eachTap(xAt, () => {
        f.get(at).load().set(value);
        f.get(value).get(best).greaterF32x4().set(mask);
        f.get(value).get(best).get(mask).bitselect().set(best);
        f.get(tap).splatI32x4().get(bestTap).get(mask).bitselect().set(bestTap);
      });
      f.get(gradient).load().set(g);
      eachTap(dxAt, () => {
        f.get(at);
        f.get(at).load().get(g).get(bestTap).get(tap).splatI32x4().equalI32x4().and().addF32x4();
        f.store();
      });
      f.step(xAt, 16).step(dxAt, 16).step(gradient, 16);
    });
    f.advance(x, windowStep).advance(dx, windowStep);
  });
  return f;
}

type WindowGradient = (x: number, dx: number, gradient: number, windows: number, windowStep: number, vectors: number, rows: number, columns: number, rowStride: number, columnStride: number) => void;

const kernels = kernelsOnMemory<{ window_gradient: WindowGradient }>(() => [{ name: 'window_gradient', body: windowGradient() }]);

/**
 * The gradient of max pooling into `out` (input-shaped, already allocated): per row of output
 * positions, one kernel call for the windows wholly inside the image in width and one per window
 * cut by its left or right edge. Channels must be a multiple of 4.
 */
export function maxPoolGradBySimd(wasm: BackendWasm, input: tf.TensorInfo, dy: tf.TensorInfo, out: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const dx = wasm.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const [xAddress, dxAddress, dyAddress] = [heapAddress(wasm, input), dx.byteOffset, heapAddress(wasm, dy)];
  const { window_gradient } = kernels(backendMemory(wasm));
  const [vectors, rowStride, columnStride] = [channels / 4, inWidth * channels * 4, channels * 4];
  // The windows of a row that lie wholly inside the image in width, [inside, outside); one call for them all.
  const inside = Math.min(outWidth, Math.ceil(left / strideWidth));
  const outside = Math.max(inside, Math.min(outWidth, Math.floor((inWidth + left - filterWidth) / strideWidth) + 1));
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = Math.max(0, oh * strideHeight - top);
      const h1 = Math.min(inHeight, oh * strideHeight - top + filterHeight);
      if (h1 <= h0) continue;
      const run = (first: number, windows: number): void => {
        const w0 = Math.max(0, first * strideWidth - left);
        const w1 = Math.min(inWidth, first * strideWidth - left + filterWidth);
        if (w1 <= w0) return;
        const corner = ((n * inHeight + h0) * inWidth + w0) * channels * 4;
        const source = dyAddress + ((n * outHeight + oh) * outWidth + first) * channels * 4;
        window_gradient(xAddress + corner, dxAddress + corner, source, windows, strideWidth * columnStride, vectors, h1 - h0, w1 - w0, rowStride, columnStride);
      };
      for (let ow = 0; ow < inside; ow++) run(ow, 1);
      if (outside > inside) run(inside, outside - inside);
      for (let ow = outside; ow < outWidth; ow++) run(ow, 1);
    }
  }
}
