/** Fixtures the data tests make for themselves: temporary folders and images written with sharp. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ocular-${prefix}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A solid-colour image, or one whose pixels `pixel(x, y)` gives, as interleaved raw bytes. */
export function raw(width: number, height: number, channels: number, pixel: (x: number, y: number) => readonly number[]): Buffer {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixel(x, y).forEach((v, c) => (data[(y * width + x) * channels + c] = v));
  return data;
}

export type Format = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'avif';

/** Encodes raw pixels in `format` (lossless where the format allows, so pixels can be checked). */
export async function encode(data: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4, format: Format): Promise<Buffer> {
  const image = sharp(data, { raw: { width, height, channels } });
  switch (format) {
    case 'png':
      return image.png().toBuffer();
    case 'jpeg':
      return image.jpeg({ quality: 100 }).toBuffer();
    case 'webp':
      return image.webp({ lossless: true }).toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    case 'tiff':
      return image.tiff({ compression: 'lzw' }).toBuffer();
    case 'avif':
      return image.avif({ lossless: true }).toBuffer();
  }
}

export function write(file: string, bytes: Buffer | string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return file;
}

/** A PNG of one colour, written to `file`. */
export async function solidPng(file: string, width: number, height: number, rgb: readonly number[]): Promise<string> {
  return write(file, await encode(raw(width, height, 3, () => rgb), width, height, 3, 'png'));
}

/** A PNG with a pattern that differs by `seed`, so images are not near duplicates of each other. */
export async function patternPng(file: string, seed: number, size = 32): Promise<string> {
  const data = raw(size, size, 3, (x, y) => {
    const v = Math.sin((x + 1) * (seed % 7 + 1) * 0.37 + y * ((seed * 13) % 11 + 1) * 0.21 + seed) * 0.5 + 0.5;
    const u = ((x * 31 + y * 17 + seed * 101) % 97) / 97;
    return [Math.round(v * 255), Math.round(u * 255), (x * y + seed * 7) % 256];
  });
  return write(file, await encode(data, size, size, 3, 'png'));
}
