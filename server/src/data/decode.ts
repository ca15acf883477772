/**
 * Decodes one image file into the model's C×H×W uint8 layout. Small 8-bit PNGs take the
 * TypeScript fast path (png.ts), small baseline greyscale JPEGs the jpeg-js one (jpeg.ts);
 * everything else goes through sharp, with EXIF orientation
 * applied, the first frame of an animation, alpha dropped, CMYK, grey and 16-bit images converted
 * to the channels the model asks for, and decompression bombs refused from their header before a
 * single pixel is decoded. A file that cannot be decoded gives a finding naming it, never a throw.
 */
import sharp from 'sharp';
import type { Finding } from './findings';
import { bytesHash, dHash } from './fingerprint';
import { decodeGreyJpeg } from './jpeg';
import { decodePng, pngSize } from './png';
import { interleavedToPlanar, toTensor } from './resize';
import { shown } from './text';
import type { ImageShape, ResizeMode } from './types';

export interface DecodeTarget {
  readonly shape: ImageShape;
  readonly resize: ResizeMode;
}

export interface DecodeLimits {
  /** Images with more pixels than this are refused without decoding (PIL refuses above 178,956,970). */
  readonly maxPixels: number;
  /** Images with more pixels than this decode, with a warning that they are slow (PIL warns above 89,478,485). */
  readonly largePixels: number;
}

export const DEFAULT_LIMITS: DecodeLimits = { maxPixels: 178_956_970, largePixels: 89_478_485 };

export interface Decoded {
  readonly ok: true;
  /** The image's size as stored, after EXIF orientation. */
  readonly width: number;
  readonly height: number;
  readonly format: string;
  /** C×H×W, in the target shape. */
  readonly pixels: Uint8Array;
  readonly bytesHash: readonly [number, number];
  readonly dHash: readonly [number, number];
  /** A warning to keep although the image decoded, such as a very large image. */
  readonly finding?: Finding;
}

export interface Failed {
  readonly ok: false;
  readonly finding: Finding;
}

export type DecodeOutcome = Decoded | Failed;

/** What the first bytes of a file say it is, for naming formats and explaining failures. */
export function sniff(bytes: Uint8Array): string {
  const ascii = (start: number, end: number): string => String.fromCharCode(...bytes.subarray(start, end));
  if (bytes[0] === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  if (ascii(4, 8) === 'ftyp') return /^(avif|avis)$/.test(ascii(8, 12)) ? 'avif' : 'heic';
  if (ascii(0, 2) === 'BM') return 'bmp';
  if (/^P[1-6]\s/.test(ascii(0, 3))) return 'ppm';
  if (ascii(0, 4) === '%PDF') return 'pdf';
  if (ascii(0, 2) === 'PK') return 'zip';
  if (/^\s*(<!doctype html|<html)/i.test(ascii(0, 64))) return 'html';
  if (/^\s*<(\?xml|svg)/i.test(ascii(0, 64))) return 'svg';
  const head = bytes.subarray(0, 512);
  if (head.length > 0 && head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128)) return 'text';
  return 'unknown';
}

const DECODABLE = new Set(['png', 'jpeg', 'gif', 'webp', 'tiff', 'avif']);

function fail(code: Finding['code'], file: string, message: string): Failed {
  return { ok: false, finding: { code, severity: code === 'decompression-bomb' ? 'error' : 'warning', file, message } };
}

function refuseBomb(file: string, width: number, height: number, limits: DecodeLimits): Failed | undefined {
  if (width * height <= limits.maxPixels) return undefined;
  return fail(
    'decompression-bomb',
    file,
    `'${shown(file)}' claims to be ${width}×${height} pixels (${Math.round((width * height) / 1e6)} megapixels), over the limit of ${Math.round(limits.maxPixels / 1e6)}; it was not decoded, as such files can exhaust memory. Remove it, or shrink it with an image editor if it is real.`,
  );
}

function largeWarning(file: string, width: number, height: number, limits: DecodeLimits): Finding | undefined {
  if (width * height <= limits.largePixels) return undefined;
  return {
    code: 'large-image',
    severity: 'warning',
    file,
    message: `'${shown(file)}' is ${width}×${height} pixels (${Math.round((width * height) / 1e6)} megapixels): it decodes slowly and needs ${Math.round((width * height * 4) / 2 ** 20)} MiB while it does. Shrink it on disk to speed up the first epoch.`,
  };
}

function explainFailure(file: string, bytes: Uint8Array, error: unknown): Failed {
  const kind = sniff(bytes);
  const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  if (kind === 'bmp' || kind === 'heic' || kind === 'ppm' || kind === 'svg') {
    return fail('unsupported-format', file, `'${shown(file)}' is a ${kind.toUpperCase()} image, which Ocular does not decode; it is skipped. Convert it to PNG or JPEG.`);
  }
  if (!DECODABLE.has(kind)) {
    const what = kind === 'unknown' ? 'not an image' : `a ${kind === 'text' ? 'text' : kind.toUpperCase()} file, not an image`;
    return fail('not-an-image', file, `'${shown(file)}' has an image extension but is ${what}; it is skipped. Remove it from the dataset folder.`);
  }
  if (/pixel limit/i.test(reason)) return fail('decompression-bomb', file, `'${shown(file)}' is larger than the pixel limit and was not decoded. Remove it, or shrink it with an image editor.`);
  return fail('corrupt-image', file, `'${shown(file)}' is a damaged or cut-short ${kind.toUpperCase()} file (${reason}); it is skipped. Replace it with a good copy or remove it.`);
}

const FIT: Record<ResizeMode, 'fill' | 'cover' | 'contain'> = { stretch: 'fill', crop: 'cover', letterbox: 'contain' };

/** The general path, exported so that the tests hold the fast paths to it. */
export async function decodeWithSharp(bytes: Uint8Array, file: string, target: DecodeTarget, limits: DecodeLimits): Promise<DecodeOutcome> {
  const [channels, height, width] = target.shape;
  try {
    const options = { limitInputPixels: limits.maxPixels, pages: 1, failOn: 'error' as const };
    const meta = await sharp(bytes, options).metadata();
    const stored = meta.autoOrient ?? { width: meta.width, height: meta.height };
    const bomb = refuseBomb(file, meta.width ?? 0, meta.height ?? 0, limits);
    if (bomb) return bomb;
    const { data, info } = await sharp(bytes, options)
      .rotate()
      .resize(width, height, { fit: FIT[target.resize], position: 'centre', kernel: 'linear', background: { r: 0, g: 0, b: 0, alpha: 1 } })
      .removeAlpha()
      .toColourspace(channels === 1 ? 'b-w' : 'srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== channels || info.width !== width || info.height !== height) {
      return fail('corrupt-image', file, `'${shown(file)}' decoded to ${info.channels}×${info.height}×${info.width} instead of ${channels}×${height}×${width}; it is skipped. Re-save it as an ordinary PNG or JPEG.`);
    }
    const pixels = interleavedToPlanar(data, channels, height, width);
    const warning = largeWarning(file, stored.width, stored.height, limits);
    return { ok: true, width: stored.width, height: stored.height, format: meta.format ?? sniff(bytes), pixels, bytesHash: bytesHash(bytes), dHash: dHash(pixels, target.shape), ...(warning ? { finding: warning } : {}) };
  } catch (error) {
    return explainFailure(file, bytes, error);
  }
}

/** Decodes the bytes of `file` into `target`. Never throws: a bad file gives a finding naming it. */
export async function decodeImage(bytes: Uint8Array, file: string, target: DecodeTarget, limits: DecodeLimits = DEFAULT_LIMITS): Promise<DecodeOutcome> {
  if (bytes.length === 0) return fail('empty-file', file, `'${shown(file)}' is empty (0 bytes); it is skipped. Remove it or copy the image again.`);
  const size = pngSize(bytes);
  if (size) {
    const bomb = refuseBomb(file, size.width, size.height, limits);
    if (bomb) return bomb;
    const raw = decodePng(bytes);
    if (raw) {
      const pixels = toTensor(raw, target.shape, target.resize);
      const warning = largeWarning(file, raw.width, raw.height, limits);
      return { ok: true, width: raw.width, height: raw.height, format: 'png', pixels, bytesHash: bytesHash(bytes), dHash: dHash(pixels, target.shape), ...(warning ? { finding: warning } : {}) };
    }
  }
  // At most 64×64, so never a bomb nor a large image.
  const grey = decodeGreyJpeg(bytes);
  if (grey) {
    const pixels = toTensor(grey, target.shape, target.resize);
    return { ok: true, width: grey.width, height: grey.height, format: 'jpeg', pixels, bytesHash: bytesHash(bytes), dHash: dHash(pixels, target.shape) };
  }
  return decodeWithSharp(bytes, file, target, limits);
}
