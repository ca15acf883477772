/**
 * Saliency overlays for the evaluation gallery: each image decoded as the model sees it (the
 * dataset's shape, resize and normalisation), its gradient saliency for a chosen class
 * (`EngineModel.saliency`), drawn as a translucent heat map PNG the page lays over the thumbnail.
 * Runs in a worker thread, like evaluation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { BackendPreference, WeightMap } from '../engine/engine';
import { TfjsEngine } from '../engine/tfjs/tfjs-engine';
import { decodeImage, normalizeBatch } from '../data/index';
import type { SaliencyOverlay } from '../../../protocol/protocol';
import { modelAndDataset } from './evaluate-model';

export interface SaliencyRequest {
  readonly modelFile: string;
  readonly modelName: string;
  readonly datasetName: string;
  readonly weights: WeightMap;
  /** Image files, and for each the class whose score is explained. */
  readonly files: readonly string[];
  readonly classes: readonly number[];
  readonly backend?: BackendPreference;
}


/**
 * A saliency map as RGBA pixels: a warm colour whose opacity grows with the gradient, scaled by
 * the map's own largest value so every image shows its strongest pixels; an all-zero map is clear.
 */
export function overlayPixels(map: Float32Array, offset: number, pixels: number): Uint8Array {
  let max = 0;
  for (let i = 0; i < pixels; i++) max = Math.max(max, map[offset + i]!);
  const rgba = new Uint8Array(pixels * 4);
  for (let i = 0; i < pixels; i++) {
    const share = max > 0 ? map[offset + i]! / max : 0;
    rgba[i * 4] = 255;
    rgba[i * 4 + 1] = Math.round(200 * (1 - share));
    rgba[i * 4 + 2] = 0;
    rgba[i * 4 + 3] = Math.round(230 * share);
  }
  return rgba;
}

export async function saliencyOverlays(request: SaliencyRequest): Promise<SaliencyOverlay[]> {
  const { model, dataset, image } = modelAndDataset(request.modelFile, request.modelName, request.datasetName);
  const [c, h, w] = image;
  const size = c * h * w;
  const overlays: SaliencyOverlay[] = [];
  const inputs: number[] = [];
  const pixels: Uint8Array[] = [];
  for (const file of request.files) {
    if (/#\d+$/.test(file)) {
      overlays.push({ problem: `${path.basename(file)} is inside an archive: no file to explain.` });
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(file);
    } catch (error) {
      overlays.push({ problem: `Cannot read ${file}: ${(error as Error).message}` });
      continue;
    }
    const decoded = await decodeImage(bytes, file, { shape: image, resize: dataset.resize });
    if (!decoded.ok) {
      overlays.push({ problem: decoded.finding.message });
      continue;
    }
    inputs.push(overlays.length);
    overlays.push({ problem: '' });
    pixels.push(decoded.pixels);
  }
  if (pixels.length === 0) return overlays;
  const batch = new Float32Array(pixels.length * size);
  pixels.forEach((p, i) => {
    for (let k = 0; k < size; k++) batch[i * size + k] = p[k]! / 255;
  });
  if (dataset.normalize) normalizeBatch(batch, pixels.length, image, dataset.normalize);
  const engine = await TfjsEngine.create({ preference: request.backend ?? 'auto' });
  const built = await engine.build(model, { seed: 0 });
  try {
    built.setWeights(request.weights);
    const classes = Int32Array.from(inputs, (at) => request.classes[at] ?? 0);
    const maps = await built.saliency(batch, classes);
    for (let i = 0; i < inputs.length; i++) {
      const png = await sharp(overlayPixels(maps, i * h * w, h * w), { raw: { width: w, height: h, channels: 4 } }).png().toBuffer();
      overlays[inputs[i]!] = { image: `data:image/png;base64,${png.toString('base64')}` };
    }
  } finally {
    built.dispose();
  }
  return overlays;
}
