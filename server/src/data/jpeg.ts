/**
 * The fast path for small greyscale JPEGs (MNIST-like sets saved as JPEG): decoded in JavaScript
 * by jpeg-js, about 4 to 20 times the rate of a sharp round trip at 28×28 to 64×64, and within 1
 * of what sharp decodes. Colour JPEGs stay with sharp: jpeg-js upsamples 4:2:0 chroma by
 * repetition where libjpeg-turbo interpolates (up to 76 apart) and rounds its colour IDCT
 * differently (3 to 4 apart even at 4:4:4). Anything unusual also goes to sharp: progressive or
 * 12-bit files, EXIF data (which may rotate the image), a missing end marker (a cut-short file,
 * which sharp names), sizes over 64×64 (sharp shrinks large JPEGs while decoding).
 */
import { decode } from 'jpeg-js';
import type { RawImage } from './png';

/** The largest side the fast path takes; measured up to here. */
export const JPEG_FAST_SIDE = 64;

/** Start-of-frame markers of baseline and extended sequential Huffman JPEGs, the ones jpeg-js decodes as libjpeg does. */
const SEQUENTIAL = new Set([0xc0, 0xc1]);

/**
 * The size of a JPEG that the fast path decodes (baseline or extended sequential, 8-bit, one
 * component, no EXIF, at most JPEG_FAST_SIDE on each side, one scan header of that component,
 * ending in its end marker); undefined
 * for any other file, which sharp decodes. Reads the marker segments only, never the scan.
 */
export function greyJpegSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[n - 2] !== 0xff || bytes[n - 1] !== 0xd9) return undefined;
  let frame: { width: number; height: number } | undefined;
  let at = 2;
  while (at + 4 <= n) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    // Fill bytes may pad before a marker.
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (length < 2 || at + 2 + length > n) return undefined;
    const body = at + 4;
    // APP1 holding EXIF: its orientation may turn the image, which sharp applies.
    if (marker === 0xe1 && length >= 8 && String.fromCharCode(...bytes.subarray(body, body + 4)) === 'Exif') return undefined;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (!SEQUENTIAL.has(marker) || length < 8) return undefined;
      const precision = bytes[body]!;
      const height = (bytes[body + 1]! << 8) | bytes[body + 2]!;
      const width = (bytes[body + 3]! << 8) | bytes[body + 4]!;
      const components = bytes[body + 5]!;
      if (frame || precision !== 8 || components !== 1 || width === 0 || height === 0 || width > JPEG_FAST_SIDE || height > JPEG_FAST_SIDE) return undefined;
      frame = { width, height };
    }
    // The scan: after the frame header, of its one component (jpeg-js would accept an empty scan
    // that libjpeg refuses as a corrupt header).
    if (marker === 0xda) return frame && length === 8 && bytes[body] === 1 ? frame : undefined;
    at += 2 + length;
  }
  return undefined;
}

/**
 * Decodes a JPEG that greyJpegSize accepts to one grey channel; undefined when jpeg-js refuses it
 * (strict decoding: a damaged scan is an error, not a partial image), so that sharp decodes it
 * and explains the fault.
 */
export function decodeGreyJpeg(bytes: Uint8Array): RawImage | undefined {
  const size = greyJpegSize(bytes);
  if (!size) return undefined;
  try {
    // jpeg-js repeats the grey value into R, G and B; every third byte is the image.
    const rgb = decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: 1, maxMemoryUsageInMB: 16 });
    if (rgb.width !== size.width || rgb.height !== size.height || rgb.data.length !== size.width * size.height * 3) return undefined;
    const data = new Uint8Array(size.width * size.height);
    for (let p = 0; p < data.length; p++) data[p] = rgb.data[p * 3]!;
    return { width: size.width, height: size.height, channels: 1, data };
  } catch {
    return undefined;
  }
}
