/**
 * Results figures against the targets of issue 7, printed, never asserted:
 * - the metrics dashboard redrawing a run with 100,000 points per series in headless Chromium,
 *   as it does on every live update (target: under 16 ms, one frame);
 * - evaluating 10,000 images of 3×32×32 on the wasm backend with the CIFAR example's SimpleCNN32:
 *   predictions in batches, then every metric and per-image record (target: under 10 s).
 *
 *   npm run bench:results
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BatchPoint, DashboardRun, EpochPoint } from '../protocol/protocol';
import { launchChromium, loadPage } from '../test/webviews/harness';
import { analyze } from '../server/src/language/analysis';
import { TfjsEngine } from '../server/src/engine/tfjs/tfjs-engine';
import { predictSplit } from '../server/src/evaluation/evaluation';
import { classificationMetrics } from '../server/src/evaluation/metrics';
import { imageRecords } from '../server/src/evaluation/records';
import { Random } from '../server/src/random';
import { quantile } from '../server/src/evaluation/speed';

const POINTS = 100_000;
const IMAGES = 10_000;
const root = path.resolve(__dirname, '..', '..');

const line = (figure: string, value: string, target: string, met: boolean): void => console.log(`${figure.padEnd(52)} ${value.padStart(12)}   target ${target.padEnd(10)} ${met ? 'met' : 'NOT met'}`);

/** A run with POINTS batch points and POINTS/100 epochs: four 100,000-point series once aligned. */
function bigRun(): DashboardRun {
  const perEpoch = 100;
  const batches: BatchPoint[] = Array.from({ length: POINTS }, (_, i) => ({ x: (i + 1) / perEpoch, loss: 2 / (1 + i / 5000) + 0.1 * Math.sin(i), acc: 1 - 1 / (1 + i / 5000), imagesPerSecond: 1000 + 50 * Math.sin(i / 7) }));
  const epochs: EpochPoint[] = Array.from({ length: POINTS / perEpoch }, (_, i) => ({ epoch: i + 1, trainLoss: 2 / (1 + i / 50), trainAcc: 1 - 1 / (2 + i / 50), valLoss: 2.2 / (1 + i / 50), valAcc: 1 - 1 / (1.8 + i / 50), lr: 0.1 * 0.999 ** i, imagesPerSecond: 1000 }));
  return { id: 'Bench-20261128-000000', dir: '/bench', model: 'Bench', status: 'running', epochs, batches };
}

async function chartBench(): Promise<void> {
  const browser = await launchChromium();
  try {
    const ui = await loadPage(browser, 'dashboard', { width: 1400, height: 900 });
    await ui.waitForPosted('ready');
    // Time every animation-frame callback the page runs (its redraw) up to the end of the
    // microtasks it queues (uPlot commits its drawing in one).
    await ui.page.evaluate(() => {
      const w = globalThis as unknown as { requestAnimationFrame(cb: (t: number) => void): number; __draws: number[]; setTimeout(cb: () => void, ms: number): void };
      const original = w.requestAnimationFrame.bind(w);
      w.__draws = [];
      w.requestAnimationFrame = (cb) =>
        original((t) => {
          const start = performance.now();
          cb(t);
          w.setTimeout(() => w.__draws.push(performance.now() - start), 0);
        });
    });
    const run = bigRun();
    await ui.send({ type: 'runs', runs: [run] });
    await ui.page.waitForFunction(() => (globalThis as unknown as { __draws: number[] }).__draws.length >= 1);
    const first = await ui.page.evaluate(() => (globalThis as unknown as { __draws: number[] }).__draws[0]!);
    // Live updates: ten batch points a time (a second of training), each redrawing 100,000+ points.
    const updates = 30;
    for (let u = 0; u < updates; u++) {
      const batches = Array.from({ length: 10 }, (_, i) => ({ x: (POINTS + u * 10 + i + 1) / 100, loss: 0.3, acc: 0.9, imagesPerSecond: 1000 }));
      await ui.send({ type: 'append', id: run.id, status: 'running', epochs: [], batches });
      await ui.page.waitForFunction((n) => (globalThis as unknown as { __draws: number[] }).__draws.length >= n, u + 2);
    }
    const draws = (await ui.page.evaluate(() => (globalThis as unknown as { __draws: number[] }).__draws)).slice(1).sort((a, b) => a - b);
    const p50 = quantile(draws, 0.5);
    console.log(`Dashboard: one run, 4 charts, ${POINTS.toLocaleString('en-US')} points per per-batch series, Chromium ${browser.version()}`);
    line('first draw (makes the charts)', `${first.toFixed(1)} ms`, '-', true);
    line(`live update redraw, median of ${draws.length}`, `${p50.toFixed(1)} ms`, '< 16 ms', p50 < 16);
    line('live update redraw, p95', `${quantile(draws, 0.95).toFixed(1)} ms`, '< 16 ms', quantile(draws, 0.95) < 16);
    const problems = ui.problems();
    if (problems.length > 0) console.log(`page problems: ${problems.join('; ')}`);
    await ui.close();
  } finally {
    await browser.close();
  }
}

async function evaluationBench(): Promise<void> {
  const source = fs.readFileSync(path.join(root, 'examples', 'simple_cnn_cifar.ocular'), 'utf8');
  const model = analyze(source).models.find((m) => m.name === 'SimpleCNN32');
  if (!model) throw new Error('examples/simple_cnn_cifar.ocular has no SimpleCNN32 model');
  const engine = await TfjsEngine.create({ preference: 'wasm' });
  const built = await engine.build(model, { seed: 1, normalize: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] } });
  const shape = [3, 32, 32] as const;
  const size = 3 * 32 * 32;
  const random = new Random(3);
  const pixels = Uint8Array.from({ length: IMAGES * size }, () => random.int(256));
  const labels = Int32Array.from({ length: IMAGES }, () => random.int(10));
  const split = { shape, count: IMAGES, block: { pixels }, index: Int32Array.from({ length: IMAGES }, (_, i) => i), labels };
  const files = Array.from({ length: IMAGES }, (_, i) => `/data/test/${i % 10}/${i}.png`);
  await predictSplit(built, { ...split, count: 256 }, { batchSize: 256 });
  const start = performance.now();
  const probabilities = await predictSplit(built, split, { batchSize: 256 });
  const predicted = performance.now();
  const metrics = classificationMetrics(labels, probabilities, 10);
  imageRecords(labels, probabilities, 10, files);
  const end = performance.now();
  console.log(`Evaluation: ${IMAGES.toLocaleString('en-US')} images 3×32×32, SimpleCNN32, ${engine.device.backend} (${engine.device.description}), batch 256`);
  line('predict', `${((predicted - start) / 1000).toFixed(2)} s`, '-', true);
  line('metrics and per-image records', `${(end - predicted).toFixed(0)} ms`, '-', true);
  line('evaluate 10,000 images (total)', `${((end - start) / 1000).toFixed(2)} s`, '< 10 s', end - start < 10_000);
  if (metrics.count !== IMAGES) throw new Error(`evaluated ${metrics.count} images instead of ${IMAGES}`);
  built.dispose();
}

async function main(): Promise<void> {
  await chartBench();
  await evaluationBench();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
