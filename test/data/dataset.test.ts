import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { DatasetConfig } from '../../server/src/language/semantics/settings';
import { batches, checkDataset, findDuplicates, imageAt, loadDataset, scanDataset, stratifiedSplit, type DatasetSpec } from '../../server/src/data/index';
import { encode, patternPng, raw, removeDir, solidPng, tempDir, write } from './fixtures';

let dir: string;
before(() => (dir = tempDir('dataset')));
after(() => removeDir(dir));

const spec = (sources: DatasetSpec['sources'], more: Partial<DatasetSpec> = {}): DatasetSpec => ({ sources, resize: 'stretch', augment: [], ...more });

// The language core's resolved dataset is accepted as it is.
const fromLanguage = (config: DatasetConfig): DatasetSpec => config;
void fromLanguage;

describe('ImageFolder datasets', () => {
  test('labels follow the sorted class folders and pixels are the images', async () => {
    const root = path.join(dir, 'colours');
    await solidPng(path.join(root, 'train/red/1.png'), 5, 5, [255, 0, 0]);
    await solidPng(path.join(root, 'train/blue/1.png'), 5, 5, [0, 0, 255]);
    await solidPng(path.join(root, 'train/blue/2.png'), 7, 3, [0, 0, 255]);
    await solidPng(path.join(root, 'val/red/1.png'), 5, 5, [255, 0, 0]);
    await solidPng(path.join(root, 'val/blue/1.png'), 5, 5, [0, 0, 250]);
    const loaded = await loadDataset(spec([{ split: 'train', path: 'train' }, { split: 'val', path: 'val' }], { image: [3, 4, 4] }), { baseDir: root, workers: 0 });
    assert.deepEqual(loaded.classes, ['blue', 'red']);
    const train = loaded.splits.train!;
    assert.deepEqual([...train.labels], [0, 0, 1]);
    assert.deepEqual([imageAt(train, 0)[0], imageAt(train, 0)[32], imageAt(train, 2)[0], imageAt(train, 2)[32]], [0, 255, 255, 0]);
    assert.equal(loaded.splits.val!.count, 2);
  });

  test('a seeded stratified split keeps class shares, repeats exactly and moves few images when one is added', async () => {
    const root = path.join(dir, 'split');
    for (let i = 0; i < 30; i++) await patternPng(path.join(root, 'a', `${i}.png`), i, 8);
    for (let i = 0; i < 10; i++) await patternPng(path.join(root, 'b', `${i}.png`), 100 + i, 8);
    const s = spec([{ split: 'train', path: '.' }], { split: { val: 0.2, test: 0.1, seed: 7 } });
    const first = await scanDataset(s, { baseDir: root });
    const count = (split: 'train' | 'val' | 'test', label: number): number => [...first.splits[split]!.labels].filter((l) => l === label).length;
    assert.deepEqual([count('train', 0), count('val', 0), count('test', 0)], [21, 6, 3]);
    assert.deepEqual([count('train', 1), count('val', 1), count('test', 1)], [7, 2, 1]);
    assert.equal(first.splits.val!.carvedFrom, 'train');
    const again = await scanDataset(s, { baseDir: root });
    assert.deepEqual(again.splits.val!.ids, first.splits.val!.ids);
    const other = await scanDataset({ ...s, split: { val: 0.2, test: 0.1, seed: 8 } }, { baseDir: root });
    assert.notDeepEqual(other.splits.val!.ids, first.splits.val!.ids);
    await patternPng(path.join(root, 'a', 'new.png'), 999, 8);
    const grown = await scanDataset(s, { baseDir: root });
    const before = new Set(first.splits.val!.ids);
    const kept = grown.splits.val!.ids.filter((id) => before.has(id)).length;
    assert.ok(kept >= before.size - 1, `kept ${kept} of ${before.size} validation images`);
  });

  test('stratifiedSplit leaves at least one image of each class in train', () => {
    const parts = stratifiedSplit([0, 1, 1], ['a', 'b', 'c'], { val: 0.5, test: 0.4, seed: 1 });
    assert.deepEqual([...parts.train].map((i) => [0, 1, 1][i]).sort(), [0, 1]);
  });
});

describe('checks', () => {
  let report: ReturnType<typeof checkDataset>;
  let root: string;
  before(async () => {
    root = path.join(dir, 'checks');
    // train: many 'big', one 'rare', empty 'ghost', 'broken' whose only image is corrupt.
    for (let i = 0; i < 12; i++) await patternPng(path.join(root, 'train/big', `${i}.png`), i, 16);
    await patternPng(path.join(root, 'train/rare/0.png'), 50, 16);
    fs.mkdirSync(path.join(root, 'train/ghost'), { recursive: true });
    write(path.join(root, 'train/broken/0.png'), Buffer.from('not really a png'));
    write(path.join(root, 'train/big/zero.jpg'), Buffer.alloc(0));
    // A small image, an exact copy inside a class, a near copy (JPEG of the same picture) across classes.
    await solidPng(path.join(root, 'train/big/tiny.png'), 4, 4, [9, 9, 9]);
    fs.copyFileSync(path.join(root, 'train/big/3.png'), path.join(root, 'train/big/3-copy.png'));
    const picture = await sharp(path.join(root, 'train/big/5.png')).jpeg({ quality: 95 }).toBuffer();
    write(path.join(root, 'train/rare/5-again.jpg'), picture);
    // val: leaks train/big/7.png exactly, misses class 'rare', and has a class train does not.
    fs.mkdirSync(path.join(root, 'val/big'), { recursive: true });
    fs.copyFileSync(path.join(root, 'train/big/7.png'), path.join(root, 'val/big/7.png'));
    await patternPng(path.join(root, 'val/big/v.png'), 77, 16);
    await patternPng(path.join(root, 'val/extra/e.png'), 78, 16);
    const s = spec([{ split: 'train', path: 'train' }, { split: 'val', path: 'val' }], { image: [3, 16, 16], classes: 3 });
    const loaded = await loadDataset(s, { baseDir: root, workers: 0 });
    report = checkDataset(loaded, s, { imbalanceRatio: 5 });
  });
  const expected: { code: string; about: string }[] = [
    { code: 'empty-file', about: 'train/big/zero.jpg' },
    { code: 'not-an-image', about: 'train/broken/0.png' },
    { code: 'empty-class', about: 'train/ghost' },
    { code: 'empty-class', about: 'train/broken' },
    { code: 'missing-class', about: 'val/rare' },
    { code: 'unknown-class', about: 'val/extra' },
    { code: 'class-imbalance', about: 'rare' },
    { code: 'class-count', about: 'train' },
    { code: 'small-images', about: 'train/big/tiny.png' },
    { code: 'duplicate-across-splits', about: 'val/big/7.png' },
    { code: 'duplicate-in-class', about: 'train/big/3' },
    { code: 'duplicate-across-classes', about: '5' },
  ];
  for (const { code, about } of expected) {
    test(`${code}: ${about}`, () => {
      const hits = report.findings.filter((f) => f.code === code && `${f.file ?? ''} ${f.class ?? ''} ${(f.related ?? []).join(' ')}`.includes(about));
      assert.equal(hits.length, 1, `${code} about ${about}; findings: ${report.findings.map((f) => `${f.code} ${f.file ?? ''} ${f.class ?? ''}`).join('; ')}`);
      assert.ok(hits[0]!.message.length > 30);
    });
  }
  test('nothing else is reported', () => {
    assert.equal(report.findings.length, expected.length, report.findings.map((f) => `${f.code}: ${f.message}`).join('\n'));
    assert.equal(report.duplicates.length, 3);
  });
});

describe('cache', () => {
  test('a warm cache reads no image; a changed or added image is the only one decoded', async () => {
    const root = path.join(dir, 'cache-data');
    const cacheDir = path.join(dir, 'cache');
    for (let i = 0; i < 6; i++) await patternPng(path.join(root, i % 2 ? 'a' : 'b', `${i}.png`), i, 12);
    write(path.join(root, 'a/bad.png'), 'bad');
    // A whole-second time, so that setting it back later restores it exactly.
    const when = new Date(1_700_000_000_000);
    fs.utimesSync(path.join(root, 'a/1.png'), when, when);
    const s = spec([{ split: 'train', path: '.' }], { image: [3, 8, 8] });
    const load = (): ReturnType<typeof loadDataset> => loadDataset(s, { baseDir: root, cacheDir, workers: 0 });
    const cold = await load();
    assert.deepEqual([cold.decoded, cold.reused], [7, 0]);
    const warm = await load();
    assert.deepEqual([warm.decoded, warm.reused], [0, 7]);
    assert.deepEqual(warm.splits.train!.block.pixels, cold.splits.train!.block.pixels);
    assert.ok(warm.findings.some((f) => f.code === 'not-an-image' && f.file?.endsWith('bad.png')), 'findings come back from the cache');
    // Reading through the cache must not open image files: make them unreadable garbage.
    const keep = fs.readFileSync(path.join(root, 'a/1.png'));
    fs.writeFileSync(path.join(root, 'a/1.png'), Buffer.alloc(keep.length, 7));
    fs.utimesSync(path.join(root, 'a/1.png'), when, when);
    const blind = await load();
    assert.equal(blind.decoded, 0);
    assert.ok(!blind.findings.some((f) => f.file?.endsWith('1.png')));
    fs.writeFileSync(path.join(root, 'a/1.png'), keep);
    fs.utimesSync(path.join(root, 'a/1.png'), when, when);
    // Change one image, add one, remove one.
    await solidPng(path.join(root, 'a/3.png'), 12, 12, [1, 2, 3]);
    fs.utimesSync(path.join(root, 'a/3.png'), new Date(), new Date(Date.now() + 5000));
    await patternPng(path.join(root, 'b/new.png'), 40, 12);
    fs.rmSync(path.join(root, 'b/0.png'));
    const updated = await load();
    assert.deepEqual([updated.decoded, updated.reused], [2, 5]);
    const i = updated.splits.train!.ids.findIndex((id) => id.endsWith('a/3.png'));
    assert.deepEqual([...imageAt(updated.splits.train!, i).subarray(0, 1)], [1]);
    // Other settings make another cache.
    const other = await loadDataset({ ...s, resize: 'crop' }, { baseDir: root, cacheDir, workers: 0 });
    assert.equal(other.decoded, 7);
    assert.equal(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.bin')).length, 2);
    assert.equal(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.tmp')).length, 0);
  });

  test('cache memory is about N×C×H×W bytes', async () => {
    const root = path.join(dir, 'cache-size');
    for (let i = 0; i < 20; i++) await patternPng(path.join(root, 'a', `${i}.png`), i, 10);
    const cacheDir = path.join(dir, 'cache2');
    await loadDataset(spec([{ split: 'train', path: '.' }], { image: [3, 32, 32] }), { baseDir: root, cacheDir, workers: 0 });
    const file = fs.readdirSync(cacheDir).find((f) => f.endsWith('.bin'))!;
    const size = fs.statSync(path.join(cacheDir, file)).size;
    const payload = 20 * 3 * 32 * 32;
    assert.ok(size > payload && size < payload * 1.1, `${size} bytes for ${payload} bytes of pixels`);
  });

  test('a cache larger than the in-memory limit is read image by image: the same images, batches and duplicates', async () => {
    const root = path.join(dir, 'cache-file-backed');
    for (let i = 0; i < 9; i++) await patternPng(path.join(root, i % 3 ? 'a' : 'b', `${i}.png`), i * 7, 12);
    await patternPng(path.join(root, 'b/copy.png'), 7, 12);
    const cacheDir = path.join(dir, 'cache4');
    const s = spec([{ split: 'train', path: '.' }], { image: [3, 8, 8] });
    const inMemory = await loadDataset(s, { baseDir: root, cacheDir, workers: 0 });
    // 10 images of 192 bytes: a 1,000-byte limit keeps the pixels in the file.
    const fromFile = await loadDataset(s, { baseDir: root, cacheDir, workers: 0, inMemoryBytes: 1000 });
    const [memory, file] = [inMemory.splits.train!, fromFile.splits.train!];
    assert.equal(fromFile.decoded, 0);
    assert.ok(memory.block.pixels instanceof Uint8Array);
    assert.ok(!(file.block.pixels instanceof Uint8Array) && file.block.pixels.kind === 'file', 'the pixels stay in the cache file');
    for (let i = 0; i < memory.count; i++) assert.deepEqual(imageAt(file, i), imageAt(memory, i), `image ${i}`);
    const options = { batchSize: 4, seed: 3, epoch: 1, augment: [{ name: 'hflip', args: { p: 0.5 } }] };
    assert.deepEqual([...batches(file, options)], [...batches(memory, options)]);
    const pairs = (loaded: typeof inMemory): string[][] => findDuplicates(loaded).map((g) => g.members.map((m) => path.basename(m.id)).sort());
    assert.deepEqual(pairs(fromFile), pairs(inMemory));
    assert.deepEqual(pairs(fromFile), [['1.png', 'copy.png']]);
  });

  test('a cache file rewritten before a file-backed split reads it is refused, not misread', async () => {
    const root = path.join(dir, 'cache-rewritten');
    for (let i = 0; i < 3; i++) await patternPng(path.join(root, 'a', `${i}.png`), i * 5, 12);
    const cacheDir = path.join(dir, 'cache5');
    const s = spec([{ split: 'train', path: '.' }], { image: [3, 8, 8] });
    await loadDataset(s, { baseDir: root, cacheDir, workers: 0 });
    const stale = await loadDataset(s, { baseDir: root, cacheDir, workers: 0, inMemoryBytes: 0 });
    await patternPng(path.join(root, 'a/1.png'), 99, 12);
    fs.utimesSync(path.join(root, 'a/1.png'), new Date(), new Date(Date.now() + 5000));
    assert.equal((await loadDataset(s, { baseDir: root, cacheDir, workers: 0 })).decoded, 1);
    assert.throws(() => imageAt(stale.splits.train!, 0), /was rewritten while its images were in use; load the dataset again/);
  });

  test('a damaged cache file is rebuilt', async () => {
    const root = path.join(dir, 'cache-damaged');
    await patternPng(path.join(root, 'a/0.png'), 1, 10);
    const cacheDir = path.join(dir, 'cache3');
    const s = spec([{ split: 'train', path: '.' }], { image: [3, 8, 8] });
    await loadDataset(s, { baseDir: root, cacheDir, workers: 0 });
    const file = path.join(cacheDir, fs.readdirSync(cacheDir)[0]!);
    fs.truncateSync(file, 100);
    const again = await loadDataset(s, { baseDir: root, cacheDir, workers: 0 });
    assert.equal(again.decoded, 1);
    assert.equal(again.splits.train!.count, 1);
  });
});

describe('formats through loadDataset', () => {
  test('every format sharp decodes, in one tree', async () => {
    const root = path.join(dir, 'formats');
    const data = raw(6, 6, 3, () => [200, 100, 50]);
    for (const format of ['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif'] as const) write(path.join(root, 'x', `img.${format.toUpperCase()}`), await encode(data, 6, 6, 3, format));
    const loaded = await loadDataset(spec([{ split: 'train', path: '.' }], { image: [3, 6, 6] }), { baseDir: root, workers: 2 });
    assert.equal(loaded.splits.train!.count, 6, JSON.stringify(loaded.findings));
    for (let i = 0; i < 6; i++) assert.ok(Math.abs(imageAt(loaded.splits.train!, i)[0]! - 200) < 20, loaded.splits.train!.ids[i]);
  });
});
