import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { batches, createAugmenter, cropBox, epochOrder, normalizeBatch, Random, type AugmentationSpec, type BatchSource } from '../../server/src/data/index';

/** n copies of an H×W one-channel image whose pixel value is its column index / (W − 1). */
function ramps(n: number, h: number, w: number): Float32Array {
  const x = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let c = 0; c < w; c++) x[(i * h + y) * w + c] = c / (w - 1);
  return x;
}

describe('augmentation', () => {
  test('hflip with p=0.5 flips about half the images, and p=1 mirrors exactly', () => {
    const n = 2000;
    const x = ramps(n, 2, 4);
    createAugmenter([{ name: 'hflip', args: { p: 0.5 } }], [1, 2, 4])(x, n, new Random(3));
    let flipped = 0;
    for (let i = 0; i < n; i++) if (x[i * 8]! === 1) flipped++;
    assert.ok(Math.abs(flipped / n - 0.5) < 0.04, `flipped ${flipped} of ${n}`);
    const one = ramps(1, 2, 4);
    createAugmenter([{ name: 'hflip', args: { p: 1 } }], [1, 2, 4])(one, 1, new Random(1));
    assert.deepEqual([...one.subarray(0, 4)].map((v) => Math.round(v * 3)), [3, 2, 1, 0]);
    const v = Float32Array.from([1, 2, 3, 4, 5, 6]);
    createAugmenter([{ name: 'vflip', args: { p: 1 } }], [1, 3, 2])(v, 1, new Random(1));
    assert.deepEqual([...v], [5, 6, 3, 4, 1, 2]);
  });

  test('rotations stay within ±degrees', () => {
    // One bright pixel right of centre; after rotation its angle about the centre is the rotation.
    const size = 41;
    const n = 300;
    const x = new Float32Array(n * size * size);
    for (let i = 0; i < n; i++) x[i * size * size + 20 * size + 35] = 1;
    createAugmenter([{ name: 'rotate', args: { degrees: 30 } }], [1, size, size])(x, n, new Random(5));
    const angles: number[] = [];
    for (let i = 0; i < n; i++) {
      let sx = 0;
      let sy = 0;
      let total = 0;
      for (let p = 0; p < size * size; p++) {
        const v = x[i * size * size + p]!;
        sx += v * ((p % size) - 20);
        sy += v * (Math.floor(p / size) - 20);
        total += v;
      }
      angles.push((Math.atan2(sy / total, sx / total) * 180) / Math.PI);
    }
    assert.ok(angles.every((a) => Math.abs(a) <= 31), `largest ${Math.max(...angles.map(Math.abs))}`);
    assert.ok(Math.max(...angles) > 20 && Math.min(...angles) < -20, 'the range is used');
  });

  test('random resized crops stay inside the image with area and aspect in range', () => {
    const rng = new Random(9);
    for (let i = 0; i < 500; i++) {
      const box = cropBox(32, 48, [0.2, 1], [0.75, 4 / 3], rng);
      assert.ok(box.top >= 0 && box.left >= 0 && box.top + box.height <= 32 && box.left + box.width <= 48, JSON.stringify(box));
      const area = (box.width * box.height) / (32 * 48);
      assert.ok(area > 0.15 && area <= 1.0001, `area ${area}`);
    }
    const x = ramps(4, 8, 8);
    createAugmenter([{ name: 'randomresizedcrop', args: { scale: [0.3, 0.6], ratio: [1, 1] } }], [1, 8, 8])(x, 4, new Random(2));
    assert.ok(x.every((v) => v >= 0 && v <= 1));
  });

  test('colour jitter keeps values in [0, 1] and brightness moves the mean within its range', () => {
    const n = 200;
    const x = new Float32Array(n * 3 * 16).fill(0.5);
    createAugmenter([{ name: 'colorjitter', args: { brightness: 0.4, contrast: 0.3, saturation: 0.3, hue: 0.1 } }], [3, 4, 4])(x, n, new Random(4));
    assert.ok(x.every((v) => v >= 0 && v <= 1));
    const b = new Float32Array(n * 16).fill(0.5);
    createAugmenter([{ name: 'colorjitter', args: { brightness: 0.4 } }], [1, 4, 4])(b, n, new Random(4));
    const means = Array.from({ length: n }, (_, i) => b[i * 16]!);
    assert.ok(means.every((m) => m >= 0.3 - 1e-6 && m <= 0.7 + 1e-6));
    assert.ok(Math.max(...means) > 0.65 && Math.min(...means) < 0.35);
  });

  test('normalize uses one mean and std per channel', () => {
    const x = Float32Array.from([0.5, 0.5, 1, 1]);
    normalizeBatch(x, 1, [2, 1, 2], { mean: [0.5, 0], std: [0.5, 2] });
    assert.deepEqual([...x], [0, 0, 0.5, 0.5]);
  });

  test('the same seed gives the same augmented batches; another seed does not', () => {
    const pixels = Uint8Array.from({ length: 10 * 3 * 8 * 8 }, (_, i) => (i * 37) % 256);
    const source: BatchSource = { shape: [3, 8, 8], count: 10, block: { pixels }, index: Int32Array.from({ length: 10 }, (_, i) => i), labels: Int32Array.from({ length: 10 }, (_, i) => i % 3) };
    const augment: AugmentationSpec[] = [{ name: 'hflip', args: { p: 0.5 } }, { name: 'rotate', args: { degrees: 20 } }, { name: 'randomresizedcrop', args: {} }, { name: 'colorjitter', args: { brightness: 0.3, hue: 0.1 } }];
    const run = (seed: number): Float32Array[] => [...batches(source, { batchSize: 4, seed, epoch: 2, augment })].map((b) => b.x);
    assert.deepEqual(run(1), run(1));
    assert.notDeepEqual(run(1), run(2));
  });
});

describe('batches', () => {
  const pixels = Uint8Array.from({ length: 5 * 2 * 1 * 2 }, (_, i) => i * 10);
  const source: BatchSource = { shape: [2, 1, 2], count: 5, block: { pixels }, index: Int32Array.from([4, 3, 2, 1, 0]), labels: Int32Array.from([0, 1, 2, 3, 4]) };

  test('an unshuffled epoch reads the split in order, scaled to [0, 1], NCHW or NHWC', () => {
    const [first, second] = [...batches(source, { batchSize: 3, seed: 1, epoch: 0, shuffle: false })];
    assert.deepEqual([...first!.y], [0, 1, 2]);
    assert.equal(second!.size, 2);
    // Split image 0 is slot 4: pixels 160, 170, 180, 190.
    assert.deepEqual([...first!.x.subarray(0, 4)].map((v) => Math.round(v * 255)), [160, 170, 180, 190]);
    const nhwc = [...batches(source, { batchSize: 3, seed: 1, epoch: 0, shuffle: false, layout: 'nhwc' })][0]!;
    assert.deepEqual([...nhwc.x.subarray(0, 4)].map((v) => Math.round(v * 255)), [160, 180, 170, 190]);
    assert.equal([...batches(source, { batchSize: 3, seed: 1, epoch: 0, dropLast: true })].length, 1);
  });

  test('each epoch has its own order, repeatable from the seed', () => {
    const a = epochOrder(100, 5, 0);
    assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(a, epochOrder(100, 5, 0));
    assert.notDeepEqual(a, epochOrder(100, 5, 1));
  });

  test('Random is uniform enough and repeatable', () => {
    const r = new Random(42);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[r.int(10)]!++;
    assert.ok(buckets.every((b) => Math.abs(b - 10_000) < 500), buckets.join(','));
    assert.equal(new Random(42).nextUint32(), new Random(42).nextUint32());
  });
});
