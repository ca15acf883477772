/**
 * Data-layer figures: listing (the whole tree, and one class as the dataset views list it), small
 * greyscale JPEG decoding (jpeg-js against sharp), first decode, duplicate detection, warm-cache
 * loading and batch rates, and cache memory, on a 60,000-image ImageFolder tree of 28×28 PNGs (made once in the
 * temporary folder and reused), side by side with torchvision's ImageFolder + PIL DataLoader with
 * 2 workers on the same tree when /usr/bin/python3 has torchvision. Prints figures; asserts nothing.
 *
 *   npm run bench:data              (OCULAR_BENCH_IMAGES=10000 for a shorter run)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { greyPng } from '../test/support/png';
import { decodeWithSharp } from '../server/src/data/decode';
import { batches, decodeImage, DEFAULT_LIMITS, findDuplicates, listImageFolder, loadDataset, Random, scanDataset, type DatasetSpec } from '../server/src/data/index';

const COUNT = Number(process.env['OCULAR_BENCH_IMAGES'] ?? 60_000);
const CLASSES = 10;
const SIDE = 28;
const TARGET = 32;

/** MNIST-like images: a few bright random strokes on black, different for every image. */
function makeTree(root: string): void {
  const marker = path.join(root, `.complete-${COUNT}`);
  if (fs.existsSync(marker)) return;
  fs.rmSync(root, { recursive: true, force: true });
  const rng = new Random(1);
  const grey = new Uint8Array(SIDE * SIDE);
  for (let c = 0; c < CLASSES; c++) fs.mkdirSync(path.join(root, `class_${c}`), { recursive: true });
  for (let i = 0; i < COUNT; i++) {
    grey.fill(0);
    for (let stroke = 0; stroke < 3; stroke++) {
      let x = 4 + rng.next() * 20;
      let y = 4 + rng.next() * 20;
      const angle = rng.next() * Math.PI * 2;
      for (let step = 0; step < 14; step++) {
        x = Math.min(26, Math.max(1, x + Math.cos(angle + step * 0.3 * (stroke - 1))));
        y = Math.min(26, Math.max(1, y + Math.sin(angle + step * 0.3 * (stroke - 1))));
        for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) grey[(Math.floor(y) + dy) * SIDE + Math.floor(x) + dx] = 200 + rng.int(56);
      }
    }
    fs.writeFileSync(path.join(root, `class_${i % CLASSES}`, `${String(i).padStart(5, '0')}.png`), greyPng(SIDE, SIDE, grey));
  }
  fs.writeFileSync(marker, '');
}

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
const f = (n: number, digits = 2): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rate = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const root = path.join(os.tmpdir(), `ocular-bench-png-${COUNT}`);
  let start = process.hrtime.bigint();
  makeTree(root);
  console.log(`tree: ${rate(COUNT)} ${SIDE}×${SIDE} PNGs in ${root} (${f(seconds(start))} s to make or find)`);
  console.log(`cores: ${os.availableParallelism()}, node ${process.version}`);

  // Warm the page cache so both sides read the files from memory.
  await listImageFolder(root);
  start = process.hrtime.bigint();
  const names = await listImageFolder(root, { stat: false });
  const listNames = seconds(start);
  start = process.hrtime.bigint();
  await listImageFolder(root);
  const listStat = seconds(start);
  console.log(`listing:            ${f(listNames, 3)} s (names only), ${f(listStat, 3)} s (with size and mtime, for the cache); ${rate(names.files.length)} images`);

  // Small greyscale JPEGs: the jpeg-js fast path against sharp, on one thread, 2,000 28×28 files.
  const jpegs: Buffer[] = [];
  for (let i = 0; i < 2000; i++) {
    const grey = Buffer.from(Array.from({ length: SIDE * SIDE }, (_, p) => ((p * 7 + i * 13) % 251) & 0xff));
    jpegs.push(await sharp(grey, { raw: { width: SIDE, height: SIDE, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer());
  }
  const jpegTarget = { shape: [1, TARGET, TARGET] as const, resize: 'stretch' as const };
  const jpegRate = async (decode: (bytes: Buffer) => Promise<unknown>): Promise<number> => {
    const begin = process.hrtime.bigint();
    for (const bytes of jpegs) await decode(bytes);
    return jpegs.length / seconds(begin);
  };
  const viaSharp = await jpegRate((bytes) => decodeWithSharp(bytes, 'a.jpg', jpegTarget, DEFAULT_LIMITS));
  const fastJpeg = await jpegRate((bytes) => decodeImage(bytes, 'a.jpg', jpegTarget));
  console.log(`grey ${SIDE}×${SIDE} JPEG decode, one thread: ${rate(fastJpeg)} images/s through jpeg-js, ${rate(viaSharp)} through sharp (${f(fastJpeg / viaSharp, 1)}×)`);

  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-bench-cache-'));
  const spec: DatasetSpec = { sources: [{ split: 'train', path: root }], resize: 'stretch', augment: [], image: [3, TARGET, TARGET] };

  // What a gallery click or a preview redraw lists: the class's own folder, against the whole
  // dataset as both did before. The median of 5 of each, as the figures are small.
  const median = async (run: () => Promise<unknown>): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const begin = process.hrtime.bigint();
      await run();
      times.push(seconds(begin));
    }
    return times.sort((a, b) => a - b)[2]!;
  };
  const wholeScan = await median(() => scanDataset(spec, { baseDir: root }));
  const oneClass = await median(() => scanDataset(spec, { baseDir: root, onlyClasses: ['class_0'] }));
  console.log(`dataset views:      a class's images (gallery, preview of its first image) ${f(oneClass * 1000, 1)} ms listing its folder, ${f(wholeScan * 1000, 1)} ms listing the dataset (${f(wholeScan / oneClass, 1)}× less with ${CLASSES} classes)`);
  start = process.hrtime.bigint();
  const cold = await loadDataset(spec, { baseDir: root, cacheDir });
  const coldSeconds = seconds(start);
  const coldRate = COUNT / coldSeconds;
  console.log(`first decode+resize to 3×${TARGET}×${TARGET}: ${f(coldSeconds)} s, ${rate(coldRate)} images/s (${cold.decoded} decoded, ${os.availableParallelism()} worker threads, cache written)`);

  start = process.hrtime.bigint();
  const groups = findDuplicates(cold);
  console.log(`duplicates:         ${f(seconds(start))} s over ${rate(cold.splits.train!.count)} images (${groups.filter((g) => g.kind === 'exact').length} exact and ${groups.filter((g) => g.kind === 'near').length} near groups)`);

  const rss = process.memoryUsage().rss;
  start = process.hrtime.bigint();
  const warm = await loadDataset(spec, { baseDir: root, cacheDir });
  const warmSeconds = seconds(start);
  const split = warm.splits.train!;
  const payload = COUNT * 3 * TARGET * TARGET;
  const cacheFile = fs.readdirSync(cacheDir).find((name) => name.endsWith('.bin'))!;
  const fileBytes = fs.statSync(path.join(cacheDir, cacheFile)).size;
  const blockBytes = split.block.pixels instanceof Uint8Array ? split.block.pixels.buffer.byteLength : 0;
  console.log(`warm load:          ${f(warmSeconds)} s (listing + stat + cache read; ${warm.decoded} images decoded)`);
  console.log(`cache memory:       ${f(blockBytes / 2 ** 20, 1)} MiB held for ${f(payload / 2 ** 20, 1)} MiB of pixels (N×C×H×W): +${f(((blockBytes - payload) / payload) * 100, 1)}%; file ${f(fileBytes / 2 ** 20, 1)} MiB; process RSS grew ${f((process.memoryUsage().rss - rss) / 2 ** 20, 1)} MiB`);

  for (const [label, augment] of [
    ['no augmentation', []],
    ['hflip + rotate 15 + colorjitter', [{ name: 'hflip', args: { p: 0.5 } }, { name: 'rotate', args: { degrees: 15 } }, { name: 'colorjitter', args: { brightness: 0.2, contrast: 0.2 } }]],
  ] as const) {
    start = process.hrtime.bigint();
    let n = 0;
    for (const batch of batches(split, { batchSize: 128, seed: 1, epoch: 0, augment, normalize: { mean: [0.5], std: [0.5] } })) n += batch.size;
    const s = seconds(start);
    console.log(`batches (${label}): ${rate(n / s)} images/s, ${f((s / Math.ceil(n / 128)) * 1000, 2)} ms per batch of 128`);
  }

  // The same cache read with its pixels left in the file, as for a set larger than memory.
  start = process.hrtime.bigint();
  const streamed = (await loadDataset(spec, { baseDir: root, cacheDir, inMemoryBytes: 0 })).splits.train!;
  const streamedLoad = seconds(start);
  // Flags, sizes and hashes share one buffer; the pixels are not in memory at all.
  const held = (streamed.block.ok.buffer.byteLength + (streamed.block.pixels instanceof Uint8Array ? streamed.block.pixels.byteLength : 0)) / 2 ** 20;
  start = process.hrtime.bigint();
  let streamedImages = 0;
  for (const batch of batches(streamed, { batchSize: 128, seed: 1, epoch: 0 })) streamedImages += batch.size;
  const streamedSeconds = seconds(start);
  console.log(`cache read from the file (pixels not held): load ${f(streamedLoad)} s, ${f(held, 2)} MiB held (flags, sizes and hashes) for ${f(payload / 2 ** 20, 1)} MiB of pixels; batches ${rate(streamedImages / streamedSeconds)} images/s, ${f((streamedSeconds / Math.ceil(streamedImages / 128)) * 1000, 2)} ms per batch of 128`);

  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torchvision'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log('torchvision: not available (/usr/bin/python3 -c "import torchvision" failed); install python3-torchvision for the comparison');
  } else {
    const run = spawnSync('/usr/bin/python3', [path.join(__dirname, '..', '..', 'bench', 'torchvision_loader.py'), root, String(TARGET)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    try {
      const tv = JSON.parse(line) as { list_s: number; decode_per_s: number; images: number };
      console.log(`torchvision (ImageFolder + PIL, DataLoader 2 workers): listing ${f(tv.list_s, 3)} s, decode+resize ${rate(tv.decode_per_s)} images/s over ${rate(tv.images)}`);
      // torchvision lists names only; the cache also needs each file's size and mtime (one stat each).
      console.log(`ratios (Ocular ÷ torchvision): listing time ${f(listNames / tv.list_s)}× names only, as ImageFolder lists (${f(listStat / tv.list_s)}× with the stat the cache needs), first decode rate ${f(coldRate / tv.decode_per_s)}×`);
    } catch {
      console.log(`torchvision: the reference did not run: ${run.stderr.trim().split('\n').pop() ?? 'no output'}`);
    }
  }
  fs.rmSync(cacheDir, { recursive: true, force: true });
}

void main();
