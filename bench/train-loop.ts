/**
 * The training loop's overhead over the backend's raw step time (issue 5: under 5%), on the
 * digits example (examples/digits.ocular, 1,442 training images of 1x8x8, batch 64) — a small
 * model, so the loop's own work weighs most here. Prints figures; asserts nothing.
 *
 *   npm run bench:train-loop
 *   node out/bench/train-loop.js --backend cpu --rounds 10
 *
 * Rounds alternate, so both meet the same load on a shared machine: raw, `EngineModel.trainStep`
 * on every batch of an epoch, the batches made beforehand; then the loop, a one-epoch
 * `trainModel` run on the same model, batch size, backend and data (batches made as it goes,
 * events, metrics lines, yielding to the event loop between batches), its train phase taken from
 * its epoch line. The first round warms up and is left out; the fastest round of each is
 * compared, since other work only ever slows a round down. The loop's whole epoch (validation,
 * checkpoints, metrics) is printed beside it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendPreference, Batch } from '../server/src/engine/engine';
import { trainingSetup } from '../server/src/engine/training';
import { TfjsEngine } from '../server/src/engine/tfjs/tfjs-engine';
import { batchCount, epochOrder, loadDataset, makeBatch } from '../server/src/data/index';
import { specOf } from '../server/src/host/datasets';
import { analyze } from '../server/src/language/analysis';
import { trainModel } from '../server/src/training/run';
import type { EpochLine } from '../server/src/training/runs';

const root = path.resolve(__dirname, '..', '..');

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

// The fastest epoch of each: on a shared machine, other work only ever slows an epoch down.
const fastest = (values: readonly number[]): number => Math.min(...values);

async function main(): Promise<void> {
  const backend = option('backend', 'wasm') as BackendPreference;
  const rounds = Number(option('rounds', '8'));
  // A copy of the example whose data paths point back at the repository, so its runs folder is a temporary one.
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-bench-loop-'));
  const source = fs.readFileSync(path.join(root, 'examples', 'digits.ocular'), 'utf8').replace(/"data\//g, `"${path.join(root, 'examples', 'data')}/`).replace(/\s*early_stop[^\n]*/, '');
  const file = path.join(folder, 'digits.ocular');
  fs.writeFileSync(file, source);
  const cacheDir = path.join(folder, 'cache');

  const analysis = analyze(source);
  const train = analysis.trains[0]!;
  const model = analysis.models.find((m) => m.name === train.model)!;
  const dataset = analysis.datasets.find((d) => d.name === train.data)!;
  const loaded = await loadDataset(specOf(dataset), { baseDir: folder, image: [1, 8, 8], cacheDir });
  const split = loaded.splits.train!;
  const engine = await TfjsEngine.create({ preference: backend });
  const built = await engine.build(model, { seed: train.seed, training: trainingSetup(train) });
  const options = { batchSize: train.batch, seed: train.seed, epoch: 0, ...(dataset.normalize ? { normalize: dataset.normalize } : {}) };
  const order = epochOrder(split.count, train.seed, 0);
  const batches: Batch[] = [];
  for (let b = 0; b < batchCount(split, options); b++) {
    const batch = makeBatch(split, options, order, b);
    batches.push({ images: batch.x, labels: batch.y });
  }
  // Rounds alternate a raw epoch and a one-epoch run of the loop, so both meet the same load.
  const rawPerImage: number[] = [];
  const loopPerImage: number[] = [];
  const epochSeconds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (const batch of batches) await built.trainStep(batch, 0.001);
    const raw = (performance.now() - start) / 1000 / split.count;
    const lines: EpochLine[] = [];
    await trainModel({ modelFile: file, backend, epochs: 1, cacheDir }, (event) => event.type === 'epoch' && lines.push(event.metrics));
    if (round === 0) continue;
    rawPerImage.push(raw);
    loopPerImage.push(1 / lines[0]!.images_per_s);
    epochSeconds.push(lines[0]!.seconds);
  }
  built.dispose();
  const raw = fastest(rawPerImage);
  const loop = fastest(loopPerImage);
  const ms = (s: number): string => `${(s * 1000).toFixed(3)} ms`;
  process.stdout.write(`backend ${engine.device.backend} (${engine.device.description}), ${model.name}, ${split.count} training images, batch ${train.batch}, fastest of ${rounds - 1} rounds\n`);
  process.stdout.write(`raw trainStep:     ${ms(raw)} per image (${Math.round(1 / raw)} images/s)\n`);
  process.stdout.write(`loop train phase:  ${ms(loop)} per image (${Math.round(1 / loop)} images/s)\n`);
  process.stdout.write(`loop overhead:     ${(((loop - raw) / raw) * 100).toFixed(1)}% over the raw steps (target: under 5%)\n`);
  process.stdout.write(`whole epoch:       ${fastest(epochSeconds).toFixed(3)} s (train ${(loop * split.count).toFixed(3)} s; the rest is validation on ${loaded.splits.val!.count} images, checkpoints and metrics)\n`);
  fs.rmSync(folder, { recursive: true, force: true });
}

void main();
