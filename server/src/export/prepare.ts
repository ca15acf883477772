/**
 * The preprocessing every export expects of its caller, done here for the parity checks: 0–255
 * C×H×W pixels scaled to [0, 1] and normalised per channel, as float32 N×C×H×W.
 */
import type { Preprocessing } from '../serve/servable';

export function preparedImages(images: Uint8Array, preprocessing: Preprocessing): Float32Array {
  const [c, h, w] = preprocessing.inputShape;
  const plane = h * w;
  const { mean, std } = preprocessing.normalize ?? { mean: [0], std: [1] };
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const channel = Math.floor(i / plane) % c;
    out[i] = (images[i]! / 255 - (mean[channel] ?? mean[0]!)) / (std[channel] ?? std[0]!);
  }
  return out;
}
