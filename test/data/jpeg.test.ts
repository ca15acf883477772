import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { decodeImage, decodeWithSharp, DEFAULT_LIMITS } from '../../server/src/data/decode';
import { greyJpegSize } from '../../server/src/data/jpeg';
import type { ImageShape } from '../../server/src/data/types';
import { raw } from './fixtures';

/** Strokes and noise, so the DCT has high frequencies to round. */
const picture = (width: number, height: number, channels: 1 | 3, seed: number): Buffer =>
  raw(width, height, channels, (x, y) => Array.from({ length: channels }, (_, c) => (x * (7 + c) + y * (3 + seed) + ((x * y * 31 + seed * 17 + c * 5) % 23) * 5) % 256));

/** An image to encode; a grey one is written as a one-component JPEG, as PIL's mode L and cv2 write them. */
const source = (width: number, height: number, grey: boolean): sharp.Sharp => {
  const image = sharp(picture(width, height, grey ? 1 : 3, width + height), { raw: { width, height, channels: grey ? 1 : 3 } });
  return grey ? image.toColourspace('b-w') : image;
};

interface Case {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly make: (image: sharp.Sharp) => sharp.Sharp;
  readonly grey: boolean;
  /** Whether the jpeg-js fast path takes the file; otherwise sharp decodes it. */
  readonly fast: boolean;
}

const cases: Case[] = [
  ...[[8, 8], [17, 23], [28, 28], [32, 32], [64, 64], [64, 1]].flatMap(([width, height]) =>
    [90, 50].map((quality): Case => ({ name: `grey ${width}×${height} q${quality}`, width: width!, height: height!, grey: true, make: (i) => i.jpeg({ quality }), fast: true })),
  ),
  { name: 'colour 4:2:0', width: 28, height: 28, grey: false, make: (i) => i.jpeg({ quality: 90, chromaSubsampling: '4:2:0' }), fast: false },
  { name: 'colour 4:4:4', width: 28, height: 28, grey: false, make: (i) => i.jpeg({ quality: 90, chromaSubsampling: '4:4:4' }), fast: false },
  { name: 'grey progressive', width: 28, height: 28, grey: true, make: (i) => i.jpeg({ quality: 90, progressive: true }), fast: false },
  { name: 'grey with EXIF orientation', width: 28, height: 20, grey: true, make: (i) => i.jpeg({ quality: 90 }).withMetadata({ orientation: 6 }), fast: false },
  { name: 'grey 65×64 (over the size)', width: 65, height: 64, grey: true, make: (i) => i.jpeg({ quality: 90 }), fast: false },
];

describe('small greyscale JPEGs decode in JavaScript as sharp decodes them', () => {
  for (const c of cases) {
    test(`${c.name}: ${c.fast ? 'jpeg-js, within 2 of sharp' : 'sharp, exactly'}`, async () => {
      const bytes = await c.make(source(c.width, c.height, c.grey)).toBuffer();
      assert.equal(greyJpegSize(bytes) !== undefined, c.fast);
      // The file's own size, so that the comparison is of decoding, not of resampling; and a resize,
      // held to what the PNG fast path makes of sharp's decoded pixels (the same resampler).
      const decodedBySharp = await sharp(bytes).toColourspace(c.grey ? 'b-w' : 'srgb').png().toBuffer();
      const shapes: ImageShape[] = [[1, c.height, c.width], [3, c.height, c.width], [1, 16, 16], [3, 16, 16]];
      for (const shape of shapes) {
        const target = { shape, resize: 'stretch' as const };
        const ours = await decodeImage(bytes, 'a.jpg', target);
        const sameSize = shape[1] === c.height && shape[2] === c.width;
        const reference = c.fast && !sameSize ? { ...(await decodeImage(decodedBySharp, 'a.png', target)), format: 'jpeg' } : await decodeWithSharp(bytes, 'a.jpg', target, DEFAULT_LIMITS);
        assert.ok(ours.ok && reference.ok);
        assert.deepEqual([ours.width, ours.height, ours.format], [reference.width, reference.height, reference.format]);
        if (!c.fast) {
          assert.deepEqual(ours.pixels, reference.pixels);
          continue;
        }
        let worst = 0;
        for (let i = 0; i < ours.pixels.length; i++) worst = Math.max(worst, Math.abs(ours.pixels[i]! - reference.pixels[i]!));
        assert.ok(worst <= 2, `${shape.join('×')}: worst difference ${worst}`);
      }
    });
  }

  test('a cut-short or damaged greyscale JPEG goes to sharp, which names the fault', async () => {
    const bytes = await source(28, 28, true).jpeg({ quality: 90 }).toBuffer();
    assert.ok(greyJpegSize(bytes));
    assert.equal(greyJpegSize(bytes.subarray(0, bytes.length - 40)), undefined, 'no end marker');
    const cut = await decodeImage(bytes.subarray(0, 200), 'cut.jpg', { shape: [1, 28, 28], resize: 'stretch' });
    assert.ok(!cut.ok && cut.finding.code === 'corrupt-image', cut.ok ? 'decoded' : cut.finding.message);
    // The frame header claims 28×28 but the scan is garbage: jpeg-js refuses it, and so does sharp.
    const scan = bytes.indexOf(Buffer.from([0xff, 0xda]));
    const garbled = Buffer.concat([bytes.subarray(0, scan), Buffer.from([0xff, 0xda, 0x00, 0x02]), Buffer.alloc(4), Buffer.from([0xff, 0xd9])]);
    const outcome = await decodeImage(garbled, 'garbled.jpg', { shape: [1, 28, 28], resize: 'stretch' });
    assert.ok(!outcome.ok, 'a garbled scan is not an image');
  });
});
