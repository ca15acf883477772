/**
 * Training kernels the WebAssembly backend lacks (tensorflow/tfjs issue 8474): without them a
 * convolution cannot train on wasm at all. They are registered once, before the first step.
 *
 * Where a kernel of our own beat XNNPACK, it is WebAssembly SIMD assembled at run time from source
 * in this package (wasm-assembler.ts) and run on the backend's heap; elsewhere XNNPACK stays:
 *
 * - `Conv2DBackpropFilter` runs our own tiles (wasm-tiles.ts) over the padded input and the output
 *   gradient, a few images at a time so both stay in the cache: for each filter row, the kw·ci
 *   values of a window row are contiguous in NHWC, so dW[a] (kw·ci × co) is a sum of outer
 *   products read straight from the tensors, with no im2col copy. XNNPACK, which it replaced,
 *   keeps an output tile in registers along the whole shared dimension (every output position of
 *   the batch) and packs one operand anew per call: SimpleCNN32's two filter gradients took 202 ms
 *   of kernel time a step as XNNPACK convolutions, 50 ms as tiles (ResNet18's twenty 591 → 362 ms,
 *   then 272 with the tile loop inside the kernel and 64 KiB passes). Output channels that are not
 *   a multiple of 4 still take the XNNPACK form: a convolution of the input seen as a batch of its
 *   channels with the output gradient as the filter and the forward stride as the dilation. (An
 *   im2col product, columnsᵀ·dy, measured no faster than that convolution.)
 * - A dense layer's forward product (`_FusedMatMul`) runs as tiles too: XNNPACK repacks weights it
 *   has not seen, which in training is every step (SimpleCNN32's 31.8 → 19.1 ms).
 * - `Conv2DBackpropInput` and `BatchMatMul` with transposed operands replace stock kernels that
 *   are correct but built for inference (direct loops, strided reads): a stride-1 input gradient
 *   of a large map runs as an XNNPACK convolution, other input gradients as an XNNPACK matrix
 *   product and a scatter; products transpose their operands first, or compute (b·aᵀ)ᵀ where b is
 *   the big one, so XNNPACK packs the small operand. Here XNNPACK beat our tiles, which read their
 *   right operand in place, rows apart, where XNNPACK packs it into contiguous panels: the input
 *   gradient as tiles scattering into a padded gradient (SimpleCNN32's 40 → 50 ms, ResNet18's 2×2
 *   maps 27 → 32, 1×1 5 → 10), the columns product of small maps as tiles (4×4×128 25 → 29 ms),
 *   and a dense layer's weight gradient aᵀ·dy (20 → 26-32 ms).
 * - `Tile` of a whole block (batchnorm's gradient) is a few memory copies, and `Sum` and `Mean`
 *   over all axes but the channels one pass, a SIMD kernel of ours for even channel counts
 *   (wasm-column-sums.ts). Each wrapped stock kernel stays the fallback for what its fast path
 *   does not cover.
 * - Convolutions whose windows reach past a small image at every position (3×3 filters with
 *   padding over 1×1 maps) run forward (`FusedConv2D`) and backward with the filter cropped to the
 *   taps that meet the image.
 * - `Identity` shares its input's data instead of copying it: tfjs clones every tensor it keeps
 *   for the backward pass through it.
 * - The depthwise gradients are direct loops over the wasm heap (wasm-depthwise.ts).
 * - Every forward convolution (plain, fused, depthwise) gets `same` padding spelled out, which
 *   XNNPACK works out wrong for filters that are not square with a stride above 1: every output
 *   came out 0 (wasm-padding.ts).
 * - wasm's own `MaxPoolGrad` is replaced: in 4.22 it loses gradients for images after the first
 *   of a batch (a window's gradient comes out 0 where the CPU backend, and PyTorch, pass it to the
 *   maximum), which the kernel test shows. For channels in multiples of 4 the replacement is a
 *   WebAssembly SIMD kernel of ours (wasm-max-pool.ts: SimpleCNN32's 2×2 poolings 30 → 8.6 and
 *   11.2 → 2.7 ms, ResNet18's 3×3 stride 2 28 → 3.6 ms); otherwise a direct loop over the wasm
 *   heap, with a fast path for windows that tile the image (`maxpool 2`).
 *
 * The loops still written here in JavaScript (transposes, col2im, the fallbacks) run at 1 to 4 ns
 * per value; the SIMD kernels of ours above run several times faster on the same heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { depthwiseKernels } from './wasm-depthwise';
import { samePaddingSpelledOut } from './wasm-padding';
import { backendMemory, heapAddress } from './wasm-assembler';
import { addColumnSums } from './wasm-column-sums';
import { maxPoolGradBySimd } from './wasm-max-pool';
import { TILE_COLUMNS, TILE_ROWS, accumulateProduct, tileKernel } from './wasm-tiles';

const WASM = 'wasm';

type Attrs = tf.NamedAttrMap;

/** What tfjs hands every kernel function. */
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: Attrs; backend: unknown };

/** The attributes that place a convolution's or a pooling's windows, as tfjs passes them. */
interface WindowAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** A convolution gradient's attributes: the windows and the data layout. */
interface ConvGradientAttrs extends WindowAttrs {
  dataFormat: 'NHWC' | 'NCHW';
}

function call(name: string, inputs: tf.NamedTensorInfoMap, attrs: Attrs, backend: tf.KernelBackend): tf.TensorInfo {
  return tf.getKernel(name, WASM).kernelFunc({ inputs, attrs, backend }) as tf.TensorInfo;
}

/**
 * The part of a convolution's filter that meets the image. A window over a small image with
 * padding can reach past it with some rows or columns of taps at every position (ResNet18's 3×3
 * convolutions of its 1×1 maps at 32×32 input: 8 of 9 taps only ever multiply padding); such a
 * convolution equals the convolution with the filter cropped to the taps that meet the image,
 * padded so each window still starts where it did. Undefined where every tap meets the image, or
 * for dilated filters (not trained here).
 */
interface FilterCrop {
  /** The first filter row and column kept. */
  readonly row: number;
  readonly column: number;
  readonly height: number;
  readonly width: number;
  /** The padding that keeps every output where it was. */
  readonly pad: tf.backend_util.ExplicitPadding;
}

function filterCrop(info: tf.backend_util.Conv2DInfo): FilterCrop | undefined {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  /** The first and last taps along one axis that meet the image at some output position. */
  const reach = (size: number, outputs: number, stride: number, before: number, taps: number): [number, number] => {
    let [first, last] = [taps, -1];
    for (let tap = 0; tap < taps; tap++) {
      for (let o = 0; o < outputs; o++) {
        const at = o * stride - before + tap;
        if (at >= 0 && at < size) {
          [first, last] = [Math.min(first, tap), Math.max(last, tap)];
          break;
        }
      }
    }
    return [first, last];
  };
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const [row, lastRow] = reach(inHeight, outHeight, strideHeight, top, filterHeight);
  const [column, lastColumn] = reach(inWidth, outWidth, strideWidth, left, filterWidth);
  const [height, width] = [lastRow - row + 1, lastColumn - column + 1];
  if (height <= 0 || width <= 0 || (height === filterHeight && width === filterWidth)) return undefined;
  const [newTop, newLeft] = [top - row, left - column];
  const newBottom = (outHeight - 1) * strideHeight + height - inHeight - newTop;
  const newRight = (outWidth - 1) * strideWidth + width - inWidth - newLeft;
  if (Math.min(newTop, newLeft, newBottom, newRight) < 0) return undefined;
  return {
    row,
    column,
    height,
    width,
    pad: [
      [0, 0],
      [newTop, newBottom],
      [newLeft, newRight],
      [0, 0],
    ],
  };
}

/** The filter's taps that `crop` keeps, as a new tensor. */
function croppedFilter(wasm: BackendWasm, filter: tf.TensorInfo, crop: FilterCrop): tf.TensorInfo {
  const [, , ci, co] = filter.shape as [number, number, number, number];
  return call('Slice', { x: filter }, { begin: [crop.row, crop.column, 0, 0], size: [crop.height, crop.width, ci, co] }, wasm);
}

/**
 * A convolution whose filter reaches past the image at every position runs with the filter
 * cropped to what meets it (`filterCrop`); the stock kernel does the rest.
 */
function fusedConv2d(stock: tf.KernelFunc) {
  return ({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo => {
    const wasm = backend as BackendWasm;
    const x = inputs['x']!;
    const filter = inputs['filter']!;
    const { strides, pad, dataFormat, dimRoundingMode, dilations } = attrs as unknown as ConvGradientAttrs & { dilations: [number, number] | number };
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode);
    const crop = dataFormat === 'NHWC' ? filterCrop(info) : undefined;
    if (!crop) return stock({ inputs, attrs: attrs ?? {}, backend: wasm }) as tf.TensorInfo;
    const cropped = croppedFilter(wasm, filter, crop);
    try {
      return stock({ inputs: { ...inputs, filter: cropped }, attrs: { ...attrs, pad: crop.pad, dimRoundingMode: undefined } as unknown as Attrs, backend: wasm }) as tf.TensorInfo;
    } finally {
      wasm.disposeData(cropped.dataId);
    }
  };
}

/**
 * dW[a, b, ci, co] = Σ over n, ho, wo of x[n, ho·s + a − top, wo·s + b − left, ci] · dy[n, ho, wo, co]:
 * a convolution of x transposed to `Ci×H×W×N` with dy transposed to `Ho×Wo×N×Co` as its filter,
 * stride 1, dilation s, padded as the forward pass was. Its output is `Ci×H'×W'×Co` with H' ≥ kh;
 * the first kh×kw positions are the gradient.
 */
function conv2dBackpropFilter({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as ConvGradientAttrs & { filterShape: [number, number, number, number] };
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC data only, not ${dataFormat}.`);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [kh, kw, ci, co] = filterShape;
  const crop = filterCrop(info);
  if (crop) {
    // The taps that never meet the image get no gradient.
    const part = conv2dBackpropFilter({ inputs, attrs: { ...attrs, pad: crop.pad, dimRoundingMode: undefined, filterShape: [crop.height, crop.width, ci, co] } as unknown as Attrs, backend });
    try {
      const out = wasm.makeOutput(filterShape, 'float32');
      const target = wasm.typedArrayFromHeap(out) as Float32Array;
      const source = wasm.typedArrayFromHeap(part) as Float32Array;
      target.fill(0);
      const run = crop.width * ci * co;
      for (let a = 0; a < crop.height; a++) target.set(source.subarray(a * run, (a + 1) * run), (((crop.row + a) * kw + crop.column) * ci) * co);
      return out;
    } finally {
      wasm.disposeData(part.dataId);
    }
  }
  if (co % 4 === 0) return filterGradientByTiles(wasm, x, dy, info);
  const { top, bottom, left, right } = info.padInfo;
  const temporary: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => (temporary.push(t), t);
  try {
    const xT = keep(call('Transpose', { x }, { perm: [3, 1, 2, 0] }, wasm));
    const dyT = keep(call('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, wasm));
    const explicit: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    let grad = keep(call('Conv2D', { x: xT, filter: dyT }, { strides: 1, pad: explicit, dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth] }, wasm));
    if (grad.shape[1] !== kh || grad.shape[2] !== kw) grad = keep(call('Slice', { x: grad }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] }, wasm));
    return call('Transpose', { x: grad }, { perm: [1, 2, 0, 3] }, wasm);
  } finally {
    for (const t of temporary) wasm.disposeData(t.dataId);
  }
}

/**
 * How many bytes of input and output gradient one pass of the tile kernels works through: every
 * tile of the filter gradient reads all of them, so they should stay in the cache. On ResNet18's
 * shapes 64 KiB beat 128 KiB (8×8×64 16.1 against 18.3 ms a call, 4×4×128 18.0 against 20.0,
 * 2×2×256 24.6 against 23.5), and 256 KiB to 1 MiB were slower still; SimpleCNN32's alike.
 */
const FILTER_GRADIENT_CHUNK_BYTES = 64 * 1024;

/**
 * dW[a] (kw·ci × co) = Σ over n, ho, wo of x_p[n, ho·s + a, wo·s .. wo·s + kw − 1, 0..ci) ⊗ dy[n, ho, wo, 0..co),
 * where x_p is the input with its padding written out: in NHWC the kw·ci values of a window row
 * are contiguous, so the tile kernels read both operands in place. One pass per few images
 * (`FILTER_GRADIENT_CHUNK_BYTES`) and filter row, each over every tile of dW[a].
 */
function filterGradientByTiles(wasm: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels: ci, outChannels: co, outHeight, outWidth, strideHeight, strideWidth, filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const padded = top + bottom + left + right > 0;
  const input = padded
    ? call(
        'PadV2',
        { x },
        {
          paddings: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          constantValue: 0,
        } as unknown as Attrs,
        wasm,
      )
    : x;
  try {
    const out = wasm.makeOutput([kh, kw, ci, co], 'float32');
    const dw = wasm.typedArrayFromHeap(out) as Float32Array;
    dw.fill(0);
    const [height, width] = [inHeight + top + bottom, inWidth + left + right];
    const [xAddress, dyAddress] = [heapAddress(wasm, input), heapAddress(wasm, dy)];
    const memory = backendMemory(wasm);
    const depth = kw * ci;
    const [xImage, xRow, xColumn, yStep] = [height * width * ci * 4, strideHeight * width * ci * 4, strideWidth * ci * 4, co * 4];
    const dyImage = outHeight * outWidth * co * 4;
    const perChunk = Math.max(1, Math.floor(FILTER_GRADIENT_CHUNK_BYTES / (xImage + dyImage)));
    for (let n0 = 0; n0 < batchSize; n0 += perChunk) {
      const images = Math.min(perChunk, batchSize - n0);
      for (let a = 0; a < kh; a++) {
        const xa = xAddress + n0 * xImage + a * width * ci * 4;
        const ca = dw.byteOffset + a * depth * co * 4;
        for (let j = 0; j < co; j += TILE_COLUMNS) {
          const columns = Math.min(TILE_COLUMNS, co - j);
          const y = dyAddress + n0 * dyImage + j * 4;
          const whole = Math.floor(depth / TILE_ROWS);
          if (whole > 0) tileKernel(memory, TILE_ROWS, columns)(ca + j * 4, xa, y, whole, images, outHeight, outWidth, xImage, xRow, xColumn, yStep, yStep);
          const [i, rows] = [whole * TILE_ROWS, depth % TILE_ROWS];
          if (rows > 0) tileKernel(memory, rows, columns)(ca + (i * co + j) * 4, xa + i * 4, y, 1, images, outHeight, outWidth, xImage, xRow, xColumn, yStep, yStep);
        }
      }
    }
    return out;
  } finally {
    if (padded) wasm.disposeData(input.dataId);
  }
}

/**
 * The input gradient of a stride-1 convolution is itself a convolution: of the output gradient
 * with the filter reversed in height and width and its in/out channels swapped, padded by
 * kh − 1 − top before and kh − 1 − bottom after. XNNPACK runs it several times faster than the
 * stock kernel's direct loops once there are enough output positions to pay for preparing the
 * new filter (measured on ResNet18's shapes: 8×8×64 80 ms against the stock kernel's 526).
 * Strided and small convolutions take `inputGradientByColumns` (ResNet18's 7×7 stride-2 stem:
 * 247 ms against 657); spreading the gradient out with zeros made them slower than both. At batch
 * 128 the product and scatter also beat the convolution up to 4×4 maps (ResNet18 at 32×32, CPU
 * time of 3 calls: 2×2×256 86 ms against 137, 4×4×128 90 against 107) and lose from 8×8 on (8×8×64
 * 155 against 114), hence the threshold between 2,048 and 8,192 positions.
 */
const FAST_INPUT_GRADIENT_POSITIONS = 4096;

function conv2dBackpropInput(stock: tf.KernelFunc) {
  const inputGradient = ({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo => {
    const wasm = backend as BackendWasm;
    const dy = inputs['dy']!;
    const filter = inputs['filter']!;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as ConvGradientAttrs & { inputShape: [number, number, number, number] };
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const crop = dataFormat === 'NHWC' ? filterCrop(info) : undefined;
    if (crop) {
      // Only the taps that meet the image pass a gradient back to it.
      const cropped = croppedFilter(wasm, filter, crop);
      try {
        return inputGradient({ inputs: { dy, filter: cropped }, attrs: { ...attrs, pad: crop.pad, dimRoundingMode: undefined } as unknown as Attrs, backend });
      } finally {
        wasm.disposeData(cropped.dataId);
      }
    }
    const { top, bottom, left, right } = info.padInfo;
    const [kh, kw] = [info.filterHeight, info.filterWidth];
    const [batch, height, width] = inputShape;
    const fast =
      dataFormat === 'NHWC' && info.strideHeight === 1 && info.strideWidth === 1 && Math.max(top, bottom) < kh && Math.max(left, right) < kw && batch * height * width >= FAST_INPUT_GRADIENT_POSITIONS;
    if (dataFormat !== 'NHWC') return stock({ inputs, attrs: attrs ?? {}, backend: wasm }) as tf.TensorInfo;
    if (!fast) return inputGradientByColumns(wasm, dy, filter, info);
    const temporary: tf.TensorInfo[] = [];
    const keep = (t: tf.TensorInfo): tf.TensorInfo => (temporary.push(t), t);
    try {
      const explicit: tf.backend_util.ExplicitPadding = [
        [0, 0],
        [kh - 1 - top, kh - 1 - bottom],
        [kw - 1 - left, kw - 1 - right],
        [0, 0],
      ];
      const swapped = keep(reversedSwappedFilter(wasm, filter));
      return call('Conv2D', { x: dy, filter: swapped }, { strides: 1, pad: explicit, dataFormat: 'NHWC', dilations: 1 }, wasm);
    } finally {
      for (const t of temporary) wasm.disposeData(t.dataId);
    }
  };
  return inputGradient;
}

/**
 * The filter reversed in height and width with its in and out channels swapped, in one pass (the
 * stock Reverse and Transpose kernels took 2 ms for a 3×3×64×64 filter).
 */
function reversedSwappedFilter(wasm: BackendWasm, filter: tf.TensorInfo): tf.TensorInfo {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  // Allocate first: a heap that grows would detach views taken before.
  const out = wasm.makeOutput([kh, kw, co, ci], 'float32');
  const target = wasm.typedArrayFromHeap(out) as Float32Array;
  const source = wasm.typedArrayFromHeap(filter) as Float32Array;
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const from = ((kh - 1 - a) * kw + (kw - 1 - b)) * ci * co;
      const to = (a * kw + b) * co * ci;
      for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) target[to + o * ci + c] = source[from + c * co + o]!;
    }
  }
  return out;
}

/**
 * The input gradient of any convolution as one matrix product and a scatter: each output
 * position's gradient times the filter gives the kh×kw×ci patch it came from (`columns`, an
 * XNNPACK product), and the patches are added back where they were taken (col2im). It serves the
 * strided and the small layers, where the stock kernel's direct loops were slowest.
 */
function inputGradientByColumns(wasm: BackendWasm, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const positions = batchSize * outHeight * outWidth;
  const patch = kh * kw * ci;
  // Views of the same data as matrices; they own nothing, so they are not disposed.
  const gradients: tf.TensorInfo = { dataId: dy.dataId, shape: [1, positions, co], dtype: 'float32' };
  const weights: tf.TensorInfo = { dataId: filter.dataId, shape: [1, patch, co], dtype: 'float32' };
  const columns = call('BatchMatMul', { a: gradients, b: weights }, { transposeA: false, transposeB: true }, wasm);
  try {
    // Allocate first: a heap that grows would detach views taken before.
    const out = wasm.makeOutput([batchSize, inHeight, inWidth, ci], 'float32');
    const dx = wasm.typedArrayFromHeap(out) as Float32Array;
    const source = wasm.typedArrayFromHeap(columns) as Float32Array;
    dx.fill(0);
    for (let n = 0; n < batchSize; n++) {
      for (let oh = 0; oh < outHeight; oh++) {
        for (let ow = 0; ow < outWidth; ow++) {
          const row = ((n * outHeight + oh) * outWidth + ow) * patch;
          for (let a = 0; a < kh; a++) {
            const h = oh * strideHeight - top + a;
            if (h < 0 || h >= inHeight) continue;
            for (let b = 0; b < kw; b++) {
              const w = ow * strideWidth - left + b;
              if (w < 0 || w >= inWidth) continue;
              const from = row + (a * kw + b) * ci;
              const to = ((n * inHeight + h) * inWidth + w) * ci;
              for (let c = 0; c < ci; c++) dx[to + c] = dx[to + c]! + source[from + c]!;
            }
          }
        }
      }
    }
    return out;
  } finally {
    wasm.disposeData(columns.dataId);
  }
}

/**
 * Stock wasm BatchMatMul reads a transposed operand with a stride across rows, 5 to 45 times slower
 * than transposing it first (platform-facts.md); backpropagation asks for exactly those products.
 * XNNPACK also packs the right operand anew for every product (a few ns per value), so where the
 * right operand of a·bᵀ outweighs the left one and the product (a dense layer's input gradient:
 * 128×512 · (4096×512)ᵀ), it runs as (b·aᵀ)ᵀ, which transposes and packs the small ones instead.
 */
function batchMatMul(stock: tf.KernelFunc) {
  return ({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo => {
    const wasm = backend as BackendWasm;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return stock({ inputs, attrs: attrs ?? {}, backend: wasm }) as tf.TensorInfo;
    const a = inputs['a']!;
    const b = inputs['b']!;
    const upright = { ...attrs, transposeA: false, transposeB: false };
    const temporary: tf.TensorInfo[] = [];
    const keep = (t: tf.TensorInfo): tf.TensorInfo => (temporary.push(t), t);
    try {
      const [m, k] = a.shape.slice(-2) as [number, number];
      const n = b.shape.at(-2)!;
      const single = (t: tf.TensorInfo): boolean => t.shape.slice(0, -2).every((size) => size === 1);
      if (!transposeA && single(a) && single(b) && m * (k + n) < n * k) {
        const product = keep(stock({ inputs: { a: b, b: keep(transposeMatrices(wasm, a)) }, attrs: upright, backend: wasm }) as tf.TensorInfo);
        return transposeMatrices(wasm, product);
      }
      const operand = (t: tf.TensorInfo, transposed: boolean): tf.TensorInfo => (transposed ? keep(transposeMatrices(wasm, t)) : t);
      return stock({ inputs: { a: operand(a, transposeA), b: operand(b, transposeB) }, attrs: upright, backend: wasm }) as tf.TensorInfo;
    } finally {
      for (const t of temporary) wasm.disposeData(t.dataId);
    }
  };
}

/**
 * A dense layer's forward product (`_FusedMatMul`, with its bias and a linear or relu activation)
 * as tiles over aᵀ and b (wasm-tiles.ts `accumulateProduct`). XNNPACK packs b, the weights, into
 * its own layout the first time it meets them, and training hands it new weights every step:
 * SimpleCNN32's 128×4096 · 4096×512 took 28.6-29.6 ms with fresh weights (18-19 with weights it
 * had packed before), the tiles 19.3 either way. Other products, transposed operands, and other
 * activations go to the stock kernel.
 */
function fusedMatMul(stock: tf.KernelFunc) {
  return ({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo => {
    const wasm = backend as BackendWasm;
    const { a, b, bias, preluActivationWeights } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
    const { transposeA, transposeB, activation } = attrs as unknown as { transposeA: boolean; transposeB: boolean; activation?: string };
    const single = (t: tf.TensorInfo): boolean => t.shape.length === 3 && t.shape[0] === 1;
    const [rows, depth] = a.shape.slice(-2) as [number, number];
    const columns = b.shape.at(-1)!;
    const simple = !transposeA && !transposeB && single(a) && single(b) && !preluActivationWeights && (activation === undefined || activation === 'linear' || activation === 'relu') && (!bias || (bias.shape.length === 1 && bias.shape[0] === columns));
    if (!simple || columns % 4 !== 0) return stock({ inputs, attrs: attrs ?? {}, backend: wasm }) as tf.TensorInfo;
    const out = wasm.makeOutput([1, rows, columns], 'float32');
    const aT = transposeMatrices(wasm, a);
    try {
      const c = wasm.typedArrayFromHeap(out) as Float32Array;
      if (bias) {
        const values = wasm.typedArrayFromHeap(bias) as Float32Array;
        for (let r = 0; r < rows; r++) c.set(values, r * columns);
      } else c.fill(0);
      accumulateProduct(backendMemory(wasm), c.byteOffset, heapAddress(wasm, aT), heapAddress(wasm, b), rows, columns, depth);
      if (activation === 'relu') for (let i = 0; i < c.length; i++) if (c[i]! < 0) c[i] = 0;
      return out;
    } finally {
      wasm.disposeData(aT.dataId);
    }
  };
}

/**
 * Each matrix of a `…×R×C` float tensor transposed, to `…×C×R`, in 16×16 blocks that stay in
 * cache (twice as fast as the stock Transpose kernel on 4096×512).
 */
function transposeMatrices(wasm: BackendWasm, x: tf.TensorInfo): tf.TensorInfo {
  const [rows, columns] = x.shape.slice(-2) as [number, number];
  const batch = tf.util.sizeFromShape(x.shape.slice(0, -2));
  // Allocate first: a heap that grows would detach views taken before.
  const out = wasm.makeOutput([...x.shape.slice(0, -2), columns, rows], 'float32');
  const target = wasm.typedArrayFromHeap(out) as Float32Array;
  const source = wasm.typedArrayFromHeap(x) as Float32Array;
  const block = 16;
  for (let offset = 0; offset < batch * rows * columns; offset += rows * columns) {
    for (let r0 = 0; r0 < rows; r0 += block) {
      const r1 = Math.min(r0 + block, rows);
      for (let c0 = 0; c0 < columns; c0 += block) {
        const c1 = Math.min(c0 + block, columns);
        for (let c = c0; c < c1; c++) {
          const to = offset + c * rows;
          for (let r = r0; r < r1; r++) target[to + r] = source[offset + r * columns + c]!;
        }
      }
    }
  }
  return out;
}

/**
 * A copy that shares the data: tensors are immutable, so the output can point at the input's
 * memory, counted once more (as the CPU backend does). The stock kernel copies every value, and
 * TensorFlow.js clones each tensor it keeps for the backward pass through this kernel: 42 copies
 * of activations per SimpleCNN32 training step.
 */
function identity({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs['x']!;
  (backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Tiling that only repeats a whole block (every repeated axis has size 1 before the last repeated
 * one, as batchnorm's gradient tiles a per-channel vector over N×H×W) is the input copied end to
 * end; the stock kernel computes an index per element, slowly. Other tilings go to it.
 */
function tile(stock: tf.KernelFunc) {
  return ({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo => {
    const wasm = backend as BackendWasm;
    const x = inputs['x']!;
    const { reps } = attrs as unknown as { reps: number[] };
    const lastRepeated = reps.reduce((last, r, i) => (r > 1 ? i : last), -1);
    const whole = x.dtype === 'float32' && x.shape.slice(0, lastRepeated + 1).every((size) => size === 1);
    if (!whole) return stock({ inputs, attrs: attrs ?? {}, backend: wasm }) as tf.TensorInfo;
    const out = wasm.makeOutput(x.shape.map((size, i) => size * reps[i]!), 'float32');
    const target = wasm.typedArrayFromHeap(out) as Float32Array;
    const source = wasm.typedArrayFromHeap(x) as Float32Array;
    target.set(source);
    // Doubling copies: log2(repeats) memmoves rather than one per repeat.
    for (let filled = source.length; filled < target.length; filled *= 2) target.copyWithin(filled, 0, Math.min(filled, target.length - filled));
    return out;
  };
}

/**
 * A sum or mean over every axis but the last (a bias's gradient, batchnorm's statistics and
 * gradient over N×H×W) as one pass adding rows; the stock kernels first transpose the whole tensor
 * so the channels come first. Sums are kept in doubles, as the CPU backend keeps them. Even channel
 * counts take our SIMD kernel (wasm-column-sums.ts: ResNet18's Sum 19.6 → 3.9 ms and Mean 21.2 →
 * 10.5 ms of a step), the same sums to the bit as `columnSums`, which odd counts take.
 */
function leadingAxesReduction(mean: boolean) {
  return (stock: tf.KernelFunc) => ({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo => {
    const wasm = backend as BackendWasm;
    const x = inputs['x']!;
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return stock({ inputs, attrs: attrs ?? {}, backend: wasm }) as tf.TensorInfo;
    const channels = x.shape[rank - 1]!;
    const out = wasm.makeOutput(keepDims ? [...Array(rank - 1).fill(1), channels] : [channels], 'float32');
    // The doubles of the SIMD sums, on the heap where the kernel can reach them (allocated before any view is taken).
    const scratch = channels % 2 === 0 ? wasm.makeOutput([channels * 2], 'float32') : undefined;
    const target = wasm.typedArrayFromHeap(out) as Float32Array;
    const source = wasm.typedArrayFromHeap(x) as Float32Array;
    let totals: Float64Array;
    if (scratch) {
      const address = heapAddress(wasm, scratch);
      const sums = new Float64Array(source.buffer, address, channels);
      sums.fill(0);
      addColumnSums(backendMemory(wasm), source.byteOffset, address, source.length / channels, channels);
      totals = sums.slice();
      wasm.disposeData(scratch.dataId);
    } else totals = columnSums(source, channels);
    if (mean) {
      const rows = source.length / channels;
      for (let c = 0; c < channels; c++) totals[c] = totals[c]! / rows;
    }
    target.set(totals);
    return out;
  };
}

/**
 * The sums of the columns of a row-major matrix `channels` wide, in doubles. Eight rows are added
 * together before each update of a sum (2.7 times faster than a row at a time on 128×32×32×32).
 */
function columnSums(source: Float32Array, channels: number): Float64Array {
  const totals = new Float64Array(channels);
  const rows = source.length / channels;
  const k = channels;
  let row = 0;
  for (; row + 8 <= rows; row += 8) {
    const base = row * k;
    for (let c = 0; c < k; c++) {
      const i = base + c;
      totals[c] = totals[c]! + source[i]! + source[i + k]! + source[i + 2 * k]! + source[i + 3 * k]! + source[i + 4 * k]! + source[i + 5 * k]! + source[i + 6 * k]! + source[i + 7 * k]!;
    }
  }
  for (; row < rows; row++) for (let c = 0; c < k; c++) totals[c] = totals[c]! + source[row * k + c]!;
  return totals;
}

/**
 * The gradient of max pooling: each window passes its output gradient to its first maximum in
 * row-major order, as PyTorch does; padded positions never win. Channels are the inner loop so
 * the heap is read in order.
 */
function maxPoolGrad({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const input = inputs['input']!;
  const dy = inputs['dy']!;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as WindowAttrs & { filterSize: [number, number] | number };
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  // Allocate first: a heap that grows would detach views taken before.
  const out = wasm.makeOutput(input.shape, 'float32');
  if (channels % 4 === 0) {
    maxPoolGradBySimd(wasm, input, dy, out, info);
    return out;
  }
  const dx = wasm.typedArrayFromHeap(out) as Float32Array;
  const x = wasm.typedArrayFromHeap(input) as Float32Array;
  const gradient = wasm.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const { top, left } = info.padInfo;
  const tiled = filterHeight === strideHeight && filterWidth === strideWidth && top === 0 && left === 0 && outHeight * filterHeight <= inHeight && outWidth * filterWidth <= inWidth;
  if (tiled) {
    tiledMaxPoolGrad(x, gradient, dx, info);
    return out;
  }
  const best = new Float32Array(channels);
  const at = new Int32Array(channels);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        at.fill(-1);
        for (let kh = 0; kh < filterHeight; kh++) {
          const h = oh * strideHeight - info.padInfo.top + kh;
          if (h < 0 || h >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const w = ow * strideWidth - info.padInfo.left + kw;
            if (w < 0 || w >= inWidth) continue;
            const base = ((n * inHeight + h) * inWidth + w) * channels;
            for (let c = 0; c < channels; c++) {
              const value = x[base + c]!;
              if (at[c]! < 0 || value > best[c]!) {
                best[c] = value;
                at[c] = base + c;
              }
            }
          }
        }
        const source = ((n * outHeight + oh) * outWidth + ow) * channels;
        for (let c = 0; c < channels; c++) {
          const index = at[c]!;
          if (index >= 0) dx[index] = dx[index]! + gradient[source + c]!;
        }
      }
    }
  }
  return out;
}

/**
 * The max pooling gradient where the windows tile the image without overlapping and without
 * reaching past its edges (a window as large as its stride and no padding, as in `maxpool 2`): every input position lies in at most one
 * window, so each window writes its gradient once, to its first maximum, into a zeroed `dx`. For
 * each window the channels are the outer loop and the window's positions the inner one, which
 * keeps the best value and its place in registers; 2×2 windows, the common case, are unrolled
 * (a third faster than the loops over the window).
 */
function tiledMaxPoolGrad(x: Float32Array, gradient: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, filterHeight, filterWidth } = info;
  const rowStride = inWidth * channels;
  const square = filterHeight === 2 && filterWidth === 2;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const corner = ((n * inHeight + oh * filterHeight) * inWidth + ow * filterWidth) * channels;
        const source = ((n * outHeight + oh) * outWidth + ow) * channels;
        if (square) {
          const [right, below, diagonal] = [corner + channels, corner + rowStride, corner + rowStride + channels];
          for (let c = 0; c < channels; c++) {
            let at = corner + c;
            let best = x[at]!;
            if (x[right + c]! > best) best = x[(at = right + c)]!;
            if (x[below + c]! > best) best = x[(at = below + c)]!;
            if (x[diagonal + c]! > best) at = diagonal + c;
            dx[at] = gradient[source + c]!;
          }
          continue;
        }
        for (let c = 0; c < channels; c++) {
          let at = corner + c;
          let best = x[at]!;
          for (let a = 0; a < filterHeight; a++) {
            for (let b = 0; b < filterWidth; b++) {
              const index = corner + a * rowStride + b * channels + c;
              const value = x[index]!;
              if (value > best) {
                best = value;
                at = index;
              }
            }
          }
          dx[at] = gradient[source + c]!;
        }
      }
    }
  }
}

let registered = false;

/** Registers the missing and corrected training kernels on the wasm backend, once. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  /**
   * A stock kernel wrapped by a faster path: the wrapper falls back to it, and keeps its setup
   * function, which binds the wasm export it calls when the backend starts.
   */
  const wrap = (name: string, wrapper: (stock: tf.KernelFunc) => unknown): tf.KernelConfig => {
    const stock = tf.getKernel(name, WASM);
    if (!stock) throw new Error(`The wasm backend has no ${name} kernel.`);
    return { kernelName: name, backendName: WASM, kernelFunc: wrapper(stock.kernelFunc) as tf.KernelFunc, ...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {}) };
  };
  const kernels: tf.KernelConfig[] = [
    { kernelName: 'Conv2DBackpropFilter', backendName: WASM, kernelFunc: conv2dBackpropFilter as tf.KernelFunc },
    wrap('Conv2DBackpropInput', conv2dBackpropInput),
    wrap('FusedConv2D', (stock) => fusedConv2d(samePaddingSpelledOut(stock, false))),
    wrap('Conv2D', (stock) => samePaddingSpelledOut(stock, false)),
    wrap('BatchMatMul', batchMatMul),
    wrap('_FusedMatMul', fusedMatMul),
    wrap('Tile', tile),
    wrap('Sum', leadingAxesReduction(false)),
    wrap('Mean', leadingAxesReduction(true)),
    ...depthwiseKernels(),
    { kernelName: 'MaxPoolGrad', backendName: WASM, kernelFunc: maxPoolGrad as tf.KernelFunc },
    { kernelName: 'Identity', backendName: WASM, kernelFunc: identity as tf.KernelFunc },
  ];
  for (const kernel of kernels) {
    if (tf.getKernel(kernel.kernelName, WASM)) tf.unregisterKernel(kernel.kernelName, WASM);
    tf.registerKernel(kernel);
  }
}
