/**
 * The wasm training kernels against the CPU backend: values and gradients (input and filter) of
 * convolutions, depthwise convolutions, max and average pooling over strides, paddings and kernel
 * shapes, with batches of more than one image (where wasm's own MaxPoolGrad goes wrong).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../server/src/engine/tfjs/backends';
import { Random } from '../../server/src/random';

type Pad = 'valid' | 'same' | tf.backend_util.ExplicitPadding;

interface Case {
  readonly name: string;
  readonly x: [number, number, number, number];
  readonly filter?: [number, number, number, number];
  readonly op: (x: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor4D;
  /** False where TensorFlow.js has no gradient to compare (dilated convolutions). */
  readonly gradients?: boolean;
}

const explicit = (top: number, bottom: number, left: number, right: number): Pad => [
  [0, 0],
  [top, bottom],
  [left, right],
  [0, 0],
];

const cases: Case[] = [
  { name: 'conv 3×3, stride 1, valid', x: [2, 7, 6, 3], filter: [3, 3, 3, 4], op: (x, f) => tf.conv2d(x, f, 1, 'valid') },
  { name: 'conv 3×3, stride 2, same', x: [3, 9, 8, 2], filter: [3, 3, 2, 5], op: (x, f) => tf.conv2d(x, f, 2, 'same') },
  { name: 'conv 2×3, stride (1, 2), explicit padding', x: [2, 5, 6, 2], filter: [2, 3, 2, 4], op: (x, f) => tf.conv2d(x, f, [1, 2], explicit(1, 1, 1, 1)) },
  { name: 'conv 7×7, stride 2, padding 3 (a ResNet stem)', x: [2, 16, 16, 3], filter: [7, 7, 3, 8], op: (x, f) => tf.conv2d(x, f, 2, explicit(3, 3, 3, 3)) },
  { name: 'conv 1×1, stride 2 (a projection)', x: [4, 7, 7, 6], filter: [1, 1, 6, 3], op: (x, f) => tf.conv2d(x, f, 2, 'valid') },
  { name: 'conv 4×4, stride 3, windows leave rows unused', x: [2, 11, 10, 2], filter: [4, 4, 2, 3], op: (x, f) => tf.conv2d(x, f, 3, 'valid') },
  { name: 'depthwise 3×3, multiplier 2, stride 2, same', x: [2, 8, 7, 3], filter: [3, 3, 3, 2], op: (x, f) => tf.depthwiseConv2d(x, f, 2, 'same') },
  { name: 'depthwise 3×3, padding 1', x: [3, 6, 6, 4], filter: [3, 3, 4, 1], op: (x, f) => tf.depthwiseConv2d(x, f, 1, explicit(1, 1, 1, 1)) },
  { name: 'max pool 2, batch of 3', x: [3, 6, 6, 2], op: (x) => tf.maxPool(x, 2, 2, 'valid') },
  { name: 'max pool 3, stride 2, padding 1', x: [2, 9, 8, 3], op: (x) => tf.maxPool(x, 3, 2, explicit(1, 1, 1, 1)) },
  // Windows as large as their stride and unpadded tile the image: the gradient's fast path.
  { name: 'max pool 2 of odd sizes (a row and a column in no window)', x: [2, 7, 5, 3], op: (x) => tf.maxPool(x, 2, 2, 'valid') },
  { name: 'max pool 2, batch 1, one channel', x: [1, 4, 6, 1], op: (x) => tf.maxPool(x, 2, 2, 'valid') },
  { name: 'max pool 3 of 3×3 windows', x: [2, 9, 10, 4], op: (x) => tf.maxPool(x, 3, 3, 'valid') },
  { name: 'max pool 2×3 with stride (2, 3)', x: [3, 6, 7, 2], op: (x) => tf.maxPool(x, [2, 3], [2, 3], 'valid') },
  // Channels in multiples of 4: the SIMD kernel, for tiling, overlapping and padded windows alike.
  { name: 'max pool 2, 8 channels, odd sizes', x: [3, 7, 9, 8], op: (x) => tf.maxPool(x, 2, 2, 'valid') },
  { name: 'max pool 3, stride 2, padding 1, 4 channels (a ResNet stem)', x: [2, 9, 8, 4], op: (x) => tf.maxPool(x, 3, 2, explicit(1, 1, 1, 1)) },
  { name: 'max pool 3×2, stride (1, 2), same, batch 1, 12 channels', x: [1, 6, 7, 12], op: (x) => tf.maxPool(x, [3, 2], [1, 2], 'same') },
  // Overlapping or padded windows take the general loop.
  { name: 'max pool 3, stride 2, overlapping, valid', x: [2, 9, 9, 3], op: (x) => tf.maxPool(x, 3, 2, 'valid') },
  { name: 'max pool 2, same padding of an odd size', x: [2, 5, 7, 2], op: (x) => tf.maxPool(x, 2, 2, 'same') },
  { name: 'conv 3×3, batch 1, padding 1, odd sizes', x: [1, 7, 5, 3], filter: [3, 3, 3, 5], op: (x, f) => tf.conv2d(x, f, 1, explicit(1, 1, 1, 1)) },
  { name: 'conv 3×3, padding wider than the filter reaches (stock input gradient)', x: [2, 5, 5, 2], filter: [3, 3, 2, 2], op: (x, f) => tf.conv2d(x, f, 1, explicit(3, 3, 3, 3)) },
  // Stride 1 with at least 4,096 input positions: the input gradient as an XNNPACK convolution.
  { name: 'conv 3×3, stride 1, same, 4×32×32 (fast input gradient)', x: [4, 32, 32, 3], filter: [3, 3, 3, 4], op: (x, f) => tf.conv2d(x, f, 1, 'same') },
  { name: 'conv 5×3, stride 1, valid, 8×24×22 (fast input gradient)', x: [8, 24, 22, 2], filter: [5, 3, 2, 3], op: (x, f) => tf.conv2d(x, f, 1, 'valid') },
  { name: 'conv 4×4, stride 1, uneven padding, 2×48×44 (fast input gradient)', x: [2, 48, 44, 2], filter: [4, 4, 2, 3], op: (x, f) => tf.conv2d(x, f, 1, explicit(2, 1, 0, 3)) },
  // Output channels a multiple of 4: the filter gradient in tiles of 4×8 and 4×4 (wasm-tiles.ts), over batches that span several passes.
  { name: 'conv 3×3, same, 8 to 12 channels, 5×20×20 (filter gradient tiles over 3 passes)', x: [5, 20, 20, 8], filter: [3, 3, 8, 12], op: (x, f) => tf.conv2d(x, f, 1, 'same') },
  { name: 'conv 3×3, stride 2, same, 3 to 8 channels, odd sizes (tiles of fewer than 4 rows)', x: [3, 11, 9, 3], filter: [3, 3, 3, 8], op: (x, f) => tf.conv2d(x, f, 2, 'same') },
  { name: 'conv 2×3, stride (3, 2), valid, batch 1, 5 to 4 channels, windows leave rows unused', x: [1, 12, 9, 5], filter: [2, 3, 5, 4], op: (x, f) => tf.conv2d(x, f, [3, 2], 'valid') },
  { name: 'conv 3×2, uneven explicit padding, 2 to 16 channels', x: [2, 6, 7, 2], filter: [3, 2, 2, 16], op: (x, f) => tf.conv2d(x, f, 1, explicit(2, 0, 0, 1)) },
  // Windows that reach past a small image at every position: the kernels crop the filter to the taps that meet it.
  { name: 'fused conv 3×3, padding 1, of 1×1 images, with a bias', x: [3, 1, 1, 4], filter: [3, 3, 4, 5], op: (x, f) => tf.fused.conv2d({ x, filter: f, strides: 1, pad: explicit(1, 1, 1, 1), bias: tf.linspace(-1, 1, 5) }) },
  { name: 'fused conv 3×3, stride 2, padding 1, of 2×2 images to 1×1', x: [2, 2, 2, 3], filter: [3, 3, 3, 4], op: (x, f) => tf.fused.conv2d({ x, filter: f, strides: 2, pad: explicit(1, 1, 1, 1) }) },
  { name: 'fused conv 5×5, same, of 2×3 images, relu', x: [2, 2, 3, 2], filter: [5, 5, 2, 3], op: (x, f) => tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', activation: 'relu' }) },
  { name: 'conv 3×4, uneven padding, of 1×2 images', x: [2, 1, 2, 3], filter: [3, 4, 3, 2], op: (x, f) => tf.conv2d(x, f, 1, explicit(2, 0, 1, 3)) },
  // Depthwise gradients (wasm-depthwise.ts): multipliers 1 to 3, strides, paddings, batch 1, odd sizes.
  { name: 'depthwise 3×3, stride 1, same, batch 1, odd sizes', x: [1, 7, 5, 3], filter: [3, 3, 3, 1], op: (x, f) => tf.depthwiseConv2d(x, f, 1, 'same') },
  { name: 'depthwise 3×3, multiplier 2, stride 2, valid, odd sizes', x: [2, 9, 7, 2], filter: [3, 3, 2, 2], op: (x, f) => tf.depthwiseConv2d(x, f, 2, 'valid') },
  { name: 'depthwise 2×3, multiplier 3, stride (2, 1), uneven explicit padding', x: [2, 6, 7, 3], filter: [2, 3, 3, 3], op: (x, f) => tf.depthwiseConv2d(x, f, [2, 1], explicit(1, 0, 2, 1)) },
  { name: 'depthwise 5×5, stride 2, same, of a 3×3 image (taps past the image everywhere)', x: [2, 3, 3, 4], filter: [5, 5, 4, 1], op: (x, f) => tf.depthwiseConv2d(x, f, 2, 'same') },
  { name: 'depthwise 2×2, stride 3, valid, windows leave rows and columns unused', x: [2, 9, 10, 3], filter: [2, 2, 3, 1], op: (x, f) => tf.depthwiseConv2d(x, f, 3, 'valid') },
  // XNNPACK's own `same` padding gives zeros for filters that are not square with a stride above 1; the kernels spell it out.
  { name: 'depthwise 3×1, stride 2, same, of 3×6 images', x: [2, 3, 6, 3], filter: [3, 1, 3, 1], op: (x, f) => tf.depthwiseConv2d(x, f, 2, 'same') },
  { name: 'conv 3×1, stride 2, same, of 3×6 images', x: [2, 3, 6, 2], filter: [3, 1, 2, 3], op: (x, f) => tf.conv2d(x, f, 2, 'same') },
  { name: 'conv 1×3, stride (2, 3), same, batch 1', x: [1, 7, 8, 2], filter: [1, 3, 2, 2], op: (x, f) => tf.conv2d(x, f, [2, 3], 'same') },
  { name: 'fused conv 3×1, stride 2, same, with a bias, relu', x: [2, 5, 6, 3], filter: [3, 1, 3, 4], op: (x, f) => tf.fused.conv2d({ x, filter: f, strides: 2, pad: 'same', bias: tf.linspace(-1, 1, 4), activation: 'relu' }) },
  { name: 'fused depthwise 1×3, multiplier 2, stride 2, same, with a bias, relu', x: [2, 6, 6, 2], filter: [1, 3, 2, 2], op: (x, f) => tf.fused.depthwiseConv2d({ x, filter: f, strides: 2, pad: 'same', bias: tf.linspace(-1, 1, 4), activation: 'relu' }) },
  // Dilated depthwise convolutions: TensorFlow.js has their values but no gradients (see below for the kernels).
  { name: 'depthwise 3×3, dilation 2, same', x: [2, 9, 8, 3], filter: [3, 3, 3, 2], gradients: false, op: (x, f) => tf.depthwiseConv2d(x, f, 1, 'same', 'NHWC', 2) },
  // Average pooling: wasm's own AvgPoolGrad, checked rather than replaced.
  { name: 'avg pool 2, stride 2, batch of 3', x: [3, 6, 8, 2], op: (x) => tf.avgPool(x, 2, 2, 'valid') },
  { name: 'avg pool 2 of odd sizes, batch 1', x: [1, 7, 5, 3], op: (x) => tf.avgPool(x, 2, 2, 'valid') },
  { name: 'avg pool 3, stride 2, same, odd sizes', x: [2, 9, 7, 3], op: (x) => tf.avgPool(x, 3, 2, 'same') },
  { name: 'avg pool 3, stride 1, valid', x: [2, 7, 6, 4], op: (x) => tf.avgPool(x, 3, 1, 'valid') },
  { name: 'avg pool 3, stride 2, same, batch 1, one channel', x: [1, 8, 9, 1], op: (x) => tf.avgPool(x, 3, 2, 'same') },
  ...randomConvolutions(12, 2026),
  ...randomDepthwiseConvolutions(12, 2027),
];

/**
 * Seeded random convolutions: sizes, channels, kernel, stride, padding and dilation drawn anew
 * for each case. TensorFlow.js has no gradients for dilated convolutions, so those check values.
 */
function randomConvolutions(count: number, seed: number): Case[] {
  const random = new Random(seed);
  const pick = <T>(options: readonly T[]): T => options[random.int(options.length)]!;
  return Array.from({ length: count }, () => {
    const [kh, kw] = [1 + random.int(4), 1 + random.int(4)];
    const dilation = random.next() < 0.25 ? 2 : 1;
    const stride: [number, number] = dilation > 1 ? [1, 1] : [1 + random.int(3), 1 + random.int(3)];
    const padding = pick(['valid', 'same', 'explicit'] as const);
    const pad: Pad = padding === 'explicit' ? explicit(random.int(kh), random.int(kh), random.int(kw), random.int(kw)) : padding;
    const x: [number, number, number, number] = [1 + random.int(3), kh * dilation + random.int(8), kw * dilation + random.int(8), 1 + random.int(5)];
    const filter: [number, number, number, number] = [kh, kw, x[3], 1 + random.int(6)];
    return {
      name: `random conv ${kh}×${kw} of ${x.join('×')} to ${filter[3]} channels, stride ${stride.join('×')}, dilation ${dilation}, padding ${padding === 'explicit' ? JSON.stringify(pad) : padding}`,
      x,
      filter,
      gradients: dilation === 1,
      op: (xx: tf.Tensor4D, ff: tf.Tensor4D) => tf.conv2d(xx, ff, stride, pad, 'NHWC', dilation),
    };
  });
}

/**
 * Seeded random depthwise convolutions: sizes, channels, multiplier, kernel, stride and padding
 * drawn anew for each case. TensorFlow.js has no gradients for dilated ones; the kernels' own
 * dilation is checked on its own below.
 */
function randomDepthwiseConvolutions(count: number, seed: number): Case[] {
  const random = new Random(seed);
  const pick = <T>(options: readonly T[]): T => options[random.int(options.length)]!;
  return Array.from({ length: count }, () => {
    const [kh, kw] = [1 + random.int(4), 1 + random.int(4)];
    // Same padding with a stride above 1 needs equal strides in TensorFlow.js's depthwise convolution.
    const stride = 1 + random.int(2);
    const padding = pick(['valid', 'same', 'explicit'] as const);
    const pad: Pad = padding === 'explicit' ? explicit(random.int(kh), random.int(kh), random.int(kw), random.int(kw)) : padding;
    const x: [number, number, number, number] = [1 + random.int(3), kh + random.int(8), kw + random.int(8), 1 + random.int(6)];
    const filter: [number, number, number, number] = [kh, kw, x[3], 1 + random.int(2)];
    return {
      name: `random depthwise ${kh}×${kw} of ${x.join('×')}, multiplier ${filter[3]}, stride ${stride}, padding ${padding === 'explicit' ? JSON.stringify(pad) : padding}`,
      x,
      filter,
      op: (xx: tf.Tensor4D, ff: tf.Tensor4D) => tf.depthwiseConv2d(xx, ff, stride, pad),
    };
  });
}

/** Deterministic values without ties, so the maximum of a window is unique. */
const values = (count: number, seed: number): Float32Array => Float32Array.from({ length: count }, (_, i) => Math.sin(seed + 1.37 * i) + 0.001 * i);

async function run(backend: 'cpu' | 'wasm', c: Case): Promise<{ y: Float32Array; dx?: Float32Array; dw?: Float32Array }> {
  await selectBackend({ preference: backend });
  return tf.tidy(() => {
    const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 1), c.x);
    const filter = tf.tensor4d(values(c.filter ? c.filter.reduce((a, b) => a * b) : 1, 2), c.filter ?? [1, 1, 1, 1]);
    const y = c.op(x, filter);
    if (c.gradients === false) return { y: y.dataSync() as Float32Array };
    // A weighted sum, so every output position sends a different gradient back.
    const weights = tf.tensor(values(y.size, 3), y.shape);
    const loss = (xx: tf.Tensor4D, ff: tf.Tensor4D): tf.Scalar => tf.sum(tf.mul(c.op(xx, ff), weights));
    if (!c.filter) return { y: y.dataSync() as Float32Array, dx: tf.grad((xx: tf.Tensor) => loss(xx as tf.Tensor4D, filter))(x).dataSync() as Float32Array };
    const [dx, dw] = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => loss(xx as tf.Tensor4D, ff as tf.Tensor4D))([x, filter]);
    return { y: y.dataSync() as Float32Array, dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
}

const close = (actual: Float32Array, expected: Float32Array, what: string): void => {
  assert.equal(actual.length, expected.length, what);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= 1e-5 * scale, `${what}[${i}]: wasm ${actual[i]} ≠ cpu ${e}`));
};

describe('wasm training kernels agree with the CPU backend', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const cpu = await run('cpu', c);
      const wasm = await run('wasm', c);
      close(wasm.y, cpu.y, 'output');
      if (cpu.dx) close(wasm.dx!, cpu.dx, 'input gradient');
      if (cpu.dw) close(wasm.dw!, cpu.dw, 'filter gradient');
    });
  }
});

/**
 * A dilated filter is the filter spread out with zeros between its taps, undilated: so the wasm
 * depthwise gradient kernels with dilation 2 must give the CPU backend's input gradient with the
 * spread filter, and its filter gradient at the taps the spread filter keeps. (TensorFlow.js has
 * no gradient of a dilated depthwise convolution to run them through, and the CPU kernels
 * ignore dilation.)
 */
describe('wasm depthwise gradient kernels with dilation 2 agree with the CPU backend', () => {
  const dilated: { x: [number, number, number, number]; filter: [number, number, number, number]; pad: Pad }[] = [
    { x: [2, 9, 8, 3], filter: [3, 3, 3, 1], pad: 'valid' },
    { x: [1, 7, 9, 2], filter: [3, 2, 2, 2], pad: 'same' },
    { x: [2, 8, 7, 4], filter: [2, 3, 4, 1], pad: explicit(1, 2, 0, 1) },
  ];
  for (const d of dilated) {
    it(`${d.filter[0]}×${d.filter[1]}, multiplier ${d.filter[3]}, of ${d.x.join('×')}, padding ${typeof d.pad === 'string' ? d.pad : JSON.stringify(d.pad)}`, async () => {
      const [kh, kw, channels, multiplier] = d.filter;
      const spreadShape: [number, number, number, number] = [2 * kh - 1, 2 * kw - 1, channels, multiplier];
      const filterValues = values(kh * kw * channels * multiplier, 2);
      const spreadValues = new Float32Array(spreadShape.reduce((a, b) => a * b));
      const run = channels * multiplier;
      for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) spreadValues.set(filterValues.subarray((a * kw + b) * run, (a * kw + b + 1) * run), (2 * a * spreadShape[1] + 2 * b) * run);
      const gradients = async (backend: 'cpu' | 'wasm', dilation: number): Promise<{ dx: Float32Array; dw: Float32Array }> => {
        await selectBackend({ preference: backend });
        const filterShape = dilation === 1 ? spreadShape : d.filter;
        return tf.tidy(() => {
          const x = tf.tensor4d(values(d.x.reduce((a, b) => a * b), 1), d.x);
          const filter = tf.tensor4d(dilation === 1 ? spreadValues : filterValues, filterShape);
          const y = tf.depthwiseConv2d(x, filter, 1, d.pad, 'NHWC', dilation);
          const dy = tf.tensor(values(y.size, 3), y.shape);
          const attrs = { strides: 1, pad: d.pad, dilations: dilation };
          const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: d.x } as unknown as tf.NamedAttrMap) as tf.Tensor;
          const dw = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
          return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
        });
      };
      const [wasm, cpu] = [await gradients('wasm', 2), await gradients('cpu', 1)];
      close(wasm.dx, cpu.dx, 'input gradient');
      const kept = new Float32Array(filterValues.length);
      for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) kept.set(cpu.dw.subarray((2 * a * spreadShape[1] + 2 * b) * run, (2 * a * spreadShape[1] + 2 * b + 1) * run), (a * kw + b) * run);
      close(wasm.dw, kept, 'filter gradient');
    });
  }
});

describe('wasm depthwise gradient kernels', () => {
  it('leave no data behind on the wasm heap (their spread gradients and reversed filters are freed)', async () => {
    await selectBackend({ preference: 'wasm' });
    const x = tf.tensor4d(values(2 * 9 * 9 * 4, 1), [2, 9, 9, 4]);
    const filters = [tf.tensor4d(values(36, 2), [3, 3, 4, 1]), tf.tensor4d(values(72, 2), [3, 3, 4, 2])];
    const step = (): void =>
      tf.tidy(() => {
        for (const filter of filters) {
          for (const stride of [1, 2]) {
            const [dx, dw] = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.depthwiseConv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, stride, 'same')))([x, filter]);
            dx!.dataSync();
            dw!.dataSync();
          }
        }
      });
    step();
    const before = tf.backend().numDataIds();
    step();
    step();
    assert.equal(tf.backend().numDataIds(), before);
    for (const t of [x, ...filters]) t.dispose();
  });
});

describe('wasm max pooling gradient', () => {
  // One channel takes the JavaScript loop, four the SIMD kernel (wasm-max-pool.ts).
  const each = (values: number[], channels: number): number[] => values.flatMap((v) => Array<number>(channels).fill(v));
  for (const channels of [1, 4]) {
    it(`passes a tied window’s gradient to its first maximum, as PyTorch does (${channels} channel${channels > 1 ? 's' : ''})`, async () => {
      await selectBackend({ preference: 'wasm' });
      const dx = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')))(tf.zeros([2, 4, 4, channels])).dataSync());
      const image = each([1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0], channels);
      assert.deepEqual([...dx], [...image, ...image]);
    });

    it(`passes a tied 3×3 window’s gradient to its first maximum (${channels} channel${channels > 1 ? 's' : ''})`, async () => {
      await selectBackend({ preference: 'wasm' });
      const x = tf.tensor4d(each([0, 2, 2, 1, 2, 0, 2, 0, 1], channels), [1, 3, 3, channels]);
      const dx = tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.maxPool(xx as tf.Tensor4D, 3, 3, 'valid')))(x).dataSync());
      x.dispose();
      assert.deepEqual([...dx], each([0, 1, 0, 0, 0, 0, 0, 0, 0], channels));
    });
  }
});

describe('wasm matrix products with transposed operands agree with the CPU backend', () => {
  const products: { a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }[] = [
    { a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
    { a: [4, 9], b: [6, 9], transposeA: false, transposeB: true },
    { a: [5, 4], b: [3, 5], transposeA: true, transposeB: true },
    { a: [2, 6, 3], b: [2, 6, 4], transposeA: true, transposeB: false },
    { a: [3, 1, 5], b: [3, 2, 5], transposeA: false, transposeB: true },
    { a: [1, 1], b: [3, 1], transposeA: false, transposeB: true },
    // A right operand larger than the left one and the product: computed as (b·aᵀ)ᵀ.
    { a: [3, 5], b: [40, 5], transposeA: false, transposeB: true },
    { a: [1, 2, 7], b: [1, 33, 7], transposeA: false, transposeB: true },
    { a: [1, 6], b: [1, 20, 6], transposeA: false, transposeB: true },
    { a: [2, 3, 5], b: [2, 40, 5], transposeA: false, transposeB: true },
    { a: [19, 17], b: [19, 21], transposeA: true, transposeB: false },
  ];
  for (const p of products) {
    it(`${p.a.join('×')}${p.transposeA ? 'ᵀ' : ''} · ${p.b.join('×')}${p.transposeB ? 'ᵀ' : ''}`, async () => {
      const product = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
        await selectBackend({ preference: backend });
        return tf.tidy(() => {
          const a = tf.tensor(values(p.a.reduce((x, y) => x * y), 4), p.a);
          const b = tf.tensor(values(p.b.reduce((x, y) => x * y), 5), p.b);
          return tf.matMul(a, b, p.transposeA, p.transposeB).dataSync() as Float32Array;
        });
      };
      close(await product('wasm'), await product('cpu'), 'product');
    });
  }
});

describe('wasm dense products with a bias and an activation agree with the CPU backend', () => {
  const products: { rows: number; depth: number; columns: number; bias: boolean; activation: 'linear' | 'relu' | 'elu' }[] = [
    // Columns in multiples of 4: the tiles (4×8 and 4×4, rows left over, more than one block of the shared dimension).
    { rows: 7, depth: 130, columns: 12, bias: true, activation: 'relu' },
    { rows: 1, depth: 5, columns: 8, bias: false, activation: 'linear' },
    { rows: 130, depth: 70, columns: 4, bias: true, activation: 'linear' },
    { rows: 9, depth: 64, columns: 20, bias: false, activation: 'relu' },
    // The stock kernel: columns not a multiple of 4, or another activation.
    { rows: 6, depth: 9, columns: 10, bias: true, activation: 'relu' },
    { rows: 5, depth: 11, columns: 8, bias: true, activation: 'elu' },
  ];
  for (const p of products) {
    it(`${p.rows}×${p.depth} · ${p.depth}×${p.columns}${p.bias ? ' + bias' : ''}, ${p.activation}`, async () => {
      const product = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
        await selectBackend({ preference: backend });
        return tf.tidy(() => {
          const a = tf.tensor2d(values(p.rows * p.depth, 4), [p.rows, p.depth]);
          // Every other column negated, so the relu has outputs of both signs to tell apart.
          const b = tf.tensor2d(values(p.depth * p.columns, 5).map((v, i) => ((i % p.columns) % 2 === 0 ? v : -v)), [p.depth, p.columns]);
          const bias = p.bias ? tf.tensor1d(values(p.columns, 6)) : undefined;
          return tf.fused.matMul({ a, b, ...(bias ? { bias } : {}), activation: p.activation }).dataSync() as Float32Array;
        });
      };
      close(await product('wasm'), await product('cpu'), 'product');
    });
  }
});

describe('wasm tiling agrees with the CPU backend', () => {
  const tilings: { shape: number[]; reps: number[] }[] = [
    { shape: [1, 1, 1, 5], reps: [3, 4, 2, 1] },
    { shape: [1, 1, 1, 7], reps: [1, 1, 3, 1] },
    { shape: [1, 2, 3], reps: [5, 1, 1] },
    { shape: [1, 4], reps: [1, 1] },
    { shape: [2, 3], reps: [2, 2] },
    { shape: [1, 3, 1, 2], reps: [2, 1, 3, 1] },
    { shape: [3, 1, 2], reps: [1, 4, 1] },
  ];
  for (const t of tilings) {
    it(`${t.shape.join('×')} repeated ${t.reps.join('×')}`, async () => {
      const tiled = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
        await selectBackend({ preference: backend });
        return tf.tidy(() => tf.tile(tf.tensor(values(t.shape.reduce((x, y) => x * y), 6), t.shape), t.reps).dataSync() as Float32Array);
      };
      close(await tiled('wasm'), await tiled('cpu'), 'tiled');
    });
  }
});

describe('wasm sums and means agree with the CPU backend', () => {
  const sums: { shape: number[]; axis: number[]; keepDims: boolean }[] = [
    { shape: [4, 5, 3, 6], axis: [0, 1, 2], keepDims: false },
    { shape: [4, 5, 3, 6], axis: [2, 0, 1], keepDims: true },
    { shape: [128, 7], axis: [0], keepDims: false },
    { shape: [1, 1, 1, 9], axis: [0, 1, 2], keepDims: false },
    { shape: [4, 5, 6], axis: [1, 2], keepDims: false },
    { shape: [4, 5, 6], axis: [0], keepDims: true },
    { shape: [7], axis: [0], keepDims: false },
    // Row counts that leave 1 and 7 rows after the groups of eight the fast path adds together.
    { shape: [3, 3, 1, 5], axis: [0, 1, 2], keepDims: false },
    { shape: [5, 3, 15], axis: [0, 1], keepDims: true },
    { shape: [8, 1], axis: [0], keepDims: false },
    // Even channel counts: the SIMD sums (wasm-column-sums.ts), with 0, 1 and 5 rows after the passes of eight.
    { shape: [5, 8, 64], axis: [0, 1], keepDims: false },
    { shape: [9, 1, 1, 2], axis: [0, 1, 2], keepDims: true },
    { shape: [3, 7, 4], axis: [0, 1], keepDims: false },
    { shape: [1, 10], axis: [0], keepDims: false },
  ];
  for (const t of sums) {
    it(`${t.shape.join('×')} over axes ${t.axis.join(', ')}${t.keepDims ? ', dimensions kept' : ''}`, async () => {
      const summed = async (backend: 'cpu' | 'wasm'): Promise<{ values: Float32Array; shape: number[]; means: Float32Array; meanShape: number[] }> => {
        await selectBackend({ preference: backend });
        return tf.tidy(() => {
          const x = tf.tensor(values(t.shape.reduce((a, b) => a * b), 7), t.shape);
          const [total, mean] = [tf.sum(x, t.axis, t.keepDims), tf.mean(x, t.axis, t.keepDims)];
          return { values: total.dataSync() as Float32Array, shape: total.shape, means: mean.dataSync() as Float32Array, meanShape: mean.shape };
        });
      };
      const [wasm, cpu] = [await summed('wasm'), await summed('cpu')];
      assert.deepEqual(wasm.shape, cpu.shape);
      close(wasm.values, cpu.values, 'sum');
      assert.deepEqual(wasm.meanShape, cpu.meanShape);
      close(wasm.means, cpu.means, 'mean');
    });
  }
});

describe('wasm identity shares the data it copies', () => {
  it('keeps a clone’s values after the original is disposed, and the original’s after the clone is', async () => {
    await selectBackend({ preference: 'wasm' });
    const original = tf.tensor([1.5, -2, 3], [3]);
    const first = tf.clone(original);
    const second = tf.clone(original);
    original.dispose();
    assert.deepEqual([...first.dataSync()], [1.5, -2, 3]);
    first.dispose();
    assert.deepEqual([...second.dataSync()], [1.5, -2, 3]);
    second.dispose();
  });
});
