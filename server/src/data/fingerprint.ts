/**
 * Fingerprints for duplicate detection, computed once when an image is decoded and kept in the
 * cache: a 64-bit hash of the file's bytes (exact copies) and a 64-bit difference hash of the
 * decoded image (copies that were re-encoded, resized or slightly edited).
 */
import { createHash } from 'node:crypto';
import type { ImageShape } from './types';

/** The first 64 bits of the SHA-1 of `bytes`, as two unsigned 32-bit halves. */
export function bytesHash(bytes: Uint8Array): [number, number] {
  const digest = createHash('sha1').update(bytes).digest();
  return [digest.readUInt32BE(0), digest.readUInt32BE(4)];
}

/**
 * A small grey thumbnail of a C×H×W tensor, each pixel the mean of a box of the image, for
 * hashing and for comparing images that hash alike. Boxes rather than a filter: it runs once per
 * image at decode time, so it must cost next to nothing.
 */
export function greyThumbnail(pixels: Uint8Array, shape: ImageShape, width: number, height: number): Uint8Array {
  const [channels, h, w] = shape;
  const plane = h * w;
  const out = new Uint8Array(width * height);
  for (let ty = 0; ty < height; ty++) {
    const y0 = Math.floor((ty * h) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * h) / height));
    for (let tx = 0; tx < width; tx++) {
      const x0 = Math.floor((tx * w) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * w) / width));
      let sum = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const p = y * w + x;
          sum += channels >= 3 ? pixels[p]! * 0.299 + pixels[plane + p]! * 0.587 + pixels[2 * plane + p]! * 0.114 : pixels[p]!;
        }
      }
      out[ty * width + tx] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
    }
  }
  return out;
}

/**
 * The difference hash (dHash) of a C×H×W tensor: a 9×8 grey thumbnail, one bit per pair of
 * horizontal neighbours saying whether brightness rises. Re-encoding, resizing and small edits
 * change few bits, so near copies lie within a small Hamming distance.
 */
export function dHash(pixels: Uint8Array, shape: ImageShape): [number, number] {
  const thumb = greyThumbnail(pixels, shape, 9, 8);
  let hi = 0;
  let lo = 0;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const bit = thumb[y * 9 + x]! < thumb[y * 9 + x + 1]! ? 1 : 0;
      const index = y * 8 + x;
      if (index < 32) hi = (hi << 1) | bit;
      else lo = (lo << 1) | bit;
    }
  }
  return [hi >>> 0, lo >>> 0];
}

function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export function hamming(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return popcount((aHi ^ bHi) >>> 0) + popcount((aLo ^ bLo) >>> 0);
}
