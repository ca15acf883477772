import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { decodeImage, type DecodeOutcome } from '../../server/src/data/decode';
import { decodeFiles } from '../../server/src/data/pool';
import { greyPng } from '../support/png';
import { encode, raw, removeDir, tempDir, write, type Format } from './fixtures';

let dir: string;
before(() => (dir = tempDir('decode')));
after(() => removeDir(dir));

/** 4×2 image: left half red, right half blue. */
const halves = raw(4, 2, 3, (x) => (x < 2 ? [255, 0, 0] : [0, 0, 255]));

function decoded(outcome: DecodeOutcome): Uint8Array {
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.finding.message);
  return outcome.pixels;
}

describe('formats', () => {
  const formats: { format: Format; name: string; lossy?: boolean }[] = [
    { format: 'png', name: 'a.png' },
    { format: 'png', name: 'UPPER.PNG' },
    { format: 'jpeg', name: 'a.jpg', lossy: true },
    { format: 'jpeg', name: 'b.JPEG', lossy: true },
    { format: 'webp', name: 'a.webp' },
    { format: 'gif', name: 'a.gif' },
    { format: 'tiff', name: 'a.tif' },
    { format: 'avif', name: 'a.avif', lossy: true },
  ];
  for (const { format, name, lossy } of formats) {
    test(`${name} decodes to known pixels`, async () => {
      const bytes = await encode(halves, 4, 2, 3, format);
      const pixels = decoded(await decodeImage(bytes, path.join(dir, name), { shape: [3, 2, 4], resize: 'stretch' }));
      const tolerance = lossy ? 40 : 0;
      // Planar: red plane left half 255, blue plane right half 255.
      for (const [index, want] of [[0, 255], [3, 0], [16, 0], [19, 255]] as const) {
        assert.ok(Math.abs(pixels[index]! - want) <= tolerance, `${name}: pixel ${index} is ${pixels[index]}, want ${want}`);
      }
    });
  }

  test('an animated GIF decodes its first frame', async () => {
    const frame = (rgb: { r: number; g: number; b: number }): Promise<Buffer> => sharp({ create: { width: 2, height: 2, channels: 3, background: rgb } }).png().toBuffer();
    const gif = await sharp([await frame({ r: 0, g: 255, b: 0 }), await frame({ r: 255, g: 0, b: 0 })], { join: { animated: true } }).gif().toBuffer();
    assert.equal((await sharp(gif).metadata()).pages, 2);
    const pixels = decoded(await decodeImage(gif, 'anim.gif', { shape: [3, 2, 2], resize: 'stretch' }));
    assert.deepEqual([pixels[0], pixels[4]], [0, 255], 'the first frame is green');
  });
});

describe('conversions', () => {
  test('grayscale becomes three equal channels, and colour becomes luma', async () => {
    const grey = await encode(raw(2, 2, 1, () => [100]), 2, 2, 1, 'png');
    assert.deepEqual([...decoded(await decodeImage(grey, 'g.png', { shape: [3, 2, 2], resize: 'stretch' }))], new Array(12).fill(100));
    const red = await encode(raw(2, 2, 3, () => [255, 0, 0]), 2, 2, 3, 'png');
    assert.deepEqual([...decoded(await decodeImage(red, 'r.png', { shape: [1, 2, 2], resize: 'stretch' }))], new Array(4).fill(76));
  });

  test('alpha is dropped from PNG, WebP and TIFF', async () => {
    for (const format of ['png', 'webp', 'tiff'] as const) {
      const rgba = await encode(raw(2, 2, 4, () => [10, 20, 30, 128]), 2, 2, 4, format);
      assert.deepEqual([...decoded(await decodeImage(rgba, `x.${format}`, { shape: [3, 2, 2], resize: 'stretch' }))], [10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30], format);
    }
  });

  test('a CMYK JPEG becomes RGB', async () => {
    const cmyk = await sharp(raw(8, 8, 3, () => [200, 40, 40]), { raw: { width: 8, height: 8, channels: 3 } }).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const pixels = decoded(await decodeImage(cmyk, 'c.jpg', { shape: [3, 8, 8], resize: 'stretch' }));
    assert.equal(pixels.length, 192);
    assert.ok(pixels[0]! > 150 && pixels[64]! < 100 && pixels[128]! < 100, `reddish, got ${pixels[0]},${pixels[64]},${pixels[128]}`);
  });

  test('a 16-bit PNG becomes 8-bit', async () => {
    const sixteen = await sharp(raw(4, 4, 3, () => [255, 128, 0]), { raw: { width: 4, height: 4, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(sixteen).metadata()).depth, 'ushort');
    const pixels = decoded(await decodeImage(sixteen, 's.png', { shape: [3, 4, 4], resize: 'stretch' }));
    assert.ok(Math.abs(pixels[0]! - 255) <= 1 && Math.abs(pixels[16]! - 128) <= 1 && pixels[32]! <= 1, `${pixels[0]},${pixels[16]},${pixels[32]}`);
  });

  test('EXIF orientation is applied', async () => {
    // Stored 4×2 with red on the left; orientation 6 means "rotate 90° clockwise to view".
    const jpeg = await sharp(halves, { raw: { width: 4, height: 2, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const outcome = await decodeImage(jpeg, 'o.jpg', { shape: [3, 4, 2], resize: 'stretch' });
    assert.ok(outcome.ok);
    assert.deepEqual([outcome.width, outcome.height], [2, 4], 'the size is the upright size');
    const pixels = outcome.pixels;
    // Upright: 2 wide, 4 tall, red on top (rows 0–1), blue below.
    assert.ok(pixels[0]! > 200 && pixels[7]! < 60, `top red ${pixels[0]}, bottom red ${pixels[7]}`);
  });
});

describe('resize modes', () => {
  // 8×4: left half white, right half black.
  const wide = raw(8, 4, 1, (x) => [x < 4 ? 255 : 0]);
  const cases: { mode: 'stretch' | 'crop' | 'letterbox'; want: number[] }[] = [
    // Stretch to 4×4 keeps both halves.
    { mode: 'stretch', want: [255, 255, 0, 0] },
    // Crop takes the centre 4×4: the two middle columns of each half.
    { mode: 'crop', want: [255, 255, 0, 0] },
    // Letterbox scales to 4×2 and pads top and bottom with black.
    { mode: 'letterbox', want: [0, 0, 0, 0] },
  ];
  for (const { mode, want } of cases) {
    for (const format of ['png', 'tiff'] as const) {
      test(`${mode} (${format === 'png' ? 'fast path' : 'sharp'})`, async () => {
        const bytes = await encode(wide, 8, 4, 1, format);
        const pixels = decoded(await decodeImage(bytes, `w.${format}`, { shape: [1, 4, 4], resize: mode }));
        // Edges blend neighbours (a widened bilinear filter), so compare each pixel's side of grey.
        assert.deepEqual([...pixels.subarray(0, 4)].map((v) => (v > 127 ? 255 : 0)), want);
        if (mode === 'letterbox') assert.deepEqual([...pixels.subarray(4, 8)].map((v) => (v > 127 ? 255 : 0)), [255, 255, 0, 0]);
      });
    }
  }

  test('the PNG fast path and sharp agree within a few levels', async () => {
    const data = raw(37, 23, 3, (x, y) => [(x * 7) % 256, (y * 11) % 256, (x * y) % 256]);
    const png = await encode(data, 37, 23, 3, 'png');
    const tiff = await encode(data, 37, 23, 3, 'tiff');
    for (const mode of ['stretch', 'crop', 'letterbox'] as const) {
      const a = decoded(await decodeImage(png, 'a.png', { shape: [3, 16, 16], resize: mode }));
      const b = decoded(await decodeImage(tiff, 'a.tif', { shape: [3, 16, 16], resize: mode }));
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!);
      assert.ok(diff / a.length < 12, `${mode}: mean difference ${diff / a.length}`);
    }
  });
});

describe('bad files', () => {
  const cases: { name: string; bytes: () => Promise<Buffer>; code: string; limits?: { maxPixels: number; largePixels: number } }[] = [
    { name: 'zero.png', bytes: async () => Buffer.alloc(0), code: 'empty-file' },
    { name: 'notes.jpg', bytes: async () => Buffer.from('These are my notes, not a picture.\n'), code: 'not-an-image' },
    { name: 'page.png', bytes: async () => Buffer.from('<!DOCTYPE html><html><body>404</body></html>'), code: 'not-an-image' },
    { name: 'random.webp', bytes: async () => Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256)), code: 'not-an-image' },
    { name: 'cut.jpg', bytes: async () => (await encode(raw(64, 64, 3, (x, y) => [x * 4, y * 4, 0]), 64, 64, 3, 'jpeg')).subarray(0, 300), code: 'corrupt-image' },
    { name: 'cut.png', bytes: async () => (await encode(raw(64, 64, 3, (x, y) => [x * 4, y * 4, 0]), 64, 64, 3, 'png')).subarray(0, 200), code: 'corrupt-image' },
    { name: 'garbled.gif', bytes: async () => { const b = await encode(raw(16, 16, 3, (x) => [x * 16, 0, 0]), 16, 16, 3, 'gif'); return Buffer.concat([b.subarray(0, 20), Buffer.alloc(40, 0xff)]); }, code: 'corrupt-image' },
    { name: 'old.bmp', bytes: async () => Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]), code: 'unsupported-format' },
    { name: 'bomb.png', bytes: async () => greyPng(30000, 30000, new Uint8Array(30000)), code: 'decompression-bomb' },
    { name: 'big.tif', bytes: () => encode(raw(300, 300, 1, () => [0]), 300, 300, 1, 'tiff'), code: 'decompression-bomb', limits: { maxPixels: 50_000, largePixels: 10_000 } },
    { name: 'large.png', bytes: () => encode(raw(300, 300, 1, () => [0]), 300, 300, 1, 'png'), code: 'large-image', limits: { maxPixels: 1_000_000, largePixels: 50_000 } },
  ];
  for (const c of cases) {
    test(`${c.name} gives ${c.code}, naming the file`, async () => {
      const file = path.join(dir, 'bad', c.name);
      const outcome = await decodeImage(await c.bytes(), file, { shape: [3, 8, 8], resize: 'stretch' }, c.limits);
      const finding = outcome.ok ? outcome.finding : outcome.finding;
      assert.ok(finding, 'a finding');
      assert.equal(finding.code, c.code, finding.message);
      assert.equal(finding.file, file);
      assert.ok(finding.message.includes(c.name), finding.message);
    });
  }

  test('decodeFiles goes on past bad and unreadable files, in workers and inline', async () => {
    const good = write(path.join(dir, 'batch', 'good.png'), await encode(raw(4, 4, 3, () => [1, 2, 3]), 4, 4, 3, 'png'));
    const bad = write(path.join(dir, 'batch', 'bad.png'), 'nope');
    const gone = path.join(dir, 'batch', 'gone.png');
    for (const workers of [0, 2]) {
      const { block, findings } = await decodeFiles([good, bad, gone, good], { shape: [3, 4, 4], resize: 'stretch' }, { workers });
      assert.deepEqual([...block.ok], [1, 0, 0, 1]);
      assert.deepEqual(findings.map((f) => [f.index, f.finding.code]), [[1, 'not-an-image'], [2, 'unreadable-file']]);
      assert.equal(block.pixels[0], 1);
      assert.equal(block.pixels[3 * 48 + 16], 2);
    }
    assert.ok(fs.existsSync(good));
  });
});
