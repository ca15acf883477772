/**
 * Post-training weight quantisation: a weight tensor stored as float16, or as int8 with one
 * symmetric scale per output channel (the first axis, PyTorch's `out`), and the float values
 * each stands for, so accuracy after quantisation is measured on exactly what the export holds.
 */
import type { WeightMap, WeightTensor } from '../engine/engine';

export type WeightEncoding = 'float32' | 'float16' | 'int8';

/** ONNX TensorProto data types. */
const INT8 = 3;
const FLOAT16 = 10;

/** IEEE 754 half precision bits of a float, rounded to nearest even. */
export function toFloat16Bits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa moves into the exponent, which is what rounding should do.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export interface EncodedWeight {
  readonly dataType: number;
  readonly raw: Uint8Array;
  /** int8: one scale per output channel. */
  readonly scales?: Float32Array;
  /** The float values the encoded weight stands for. */
  readonly decoded: Float32Array;
}

export function encodeWeight(tensor: WeightTensor, encoding: 'float16' | 'int8'): EncodedWeight {
  const values = tensor.values;
  if (encoding === 'float16') {
    const bits = new Uint16Array(values.length);
    const decoded = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      bits[i] = toFloat16Bits(values[i]!);
      decoded[i] = fromFloat16Bits(bits[i]!);
    }
    return { dataType: FLOAT16, raw: new Uint8Array(bits.buffer), decoded };
  }
  const channels = tensor.shape[0]!;
  const per = values.length / channels;
  const quantized = new Int8Array(values.length);
  const scales = new Float32Array(channels);
  const decoded = new Float32Array(values.length);
  for (let c = 0; c < channels; c++) {
    let max = 0;
    for (let i = c * per; i < (c + 1) * per; i++) max = Math.max(max, Math.abs(values[i]!));
    const scale = max > 0 ? max / 127 : 1;
    scales[c] = scale;
    for (let i = c * per; i < (c + 1) * per; i++) {
      const q = Math.max(-127, Math.min(127, Math.round(values[i]! / scale)));
      quantized[i] = q;
      decoded[i] = q * Math.fround(scale);
    }
  }
  return { dataType: INT8, raw: new Uint8Array(quantized.buffer), scales, decoded };
}

/** The weights as a quantised export holds them (kernels and matrices encoded; vectors kept). */
export function quantizedWeights(weights: WeightMap, encoding: WeightEncoding): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  for (const [key, tensor] of weights) {
    out.set(key, encoding === 'float32' || tensor.shape.length < 2 ? tensor : { shape: tensor.shape, values: encodeWeight(tensor, encoding).decoded });
  }
  return out;
}
