/**
 * Predictions served per second for the CIFAR example's SimpleCNN32 (untrained, seeded: speed
 * does not depend on the weights) at 3×32×32, with micro-batching (up to 32 images per predict)
 * and without (one image per predict), by 32 concurrent loopback clients for
 * OCULAR_SERVE_LOAD_SECONDS (20 s by default) each; p50 and p99 latency. Prints; asserts nothing.
 *
 *   npm run bench:serve
 *   OCULAR_SERVE_LOAD_SECONDS=5 node out/bench/serve.js --backend wasm
 */
import * as path from 'node:path';
import sharp from 'sharp';
import type { BackendPreference } from '../server/src/engine/engine';
import { loadServable } from '../server/src/serve/servable';
import { startServer } from '../server/src/serve/server';
import { loadTest, quantile } from './serve-load';

const root = path.resolve(__dirname, '..', '..');

async function main(): Promise<void> {
  const backendIndex = process.argv.indexOf('--backend');
  const backend = (backendIndex > 0 ? process.argv[backendIndex + 1] : 'auto') as BackendPreference;
  const seconds = Number(process.env.OCULAR_SERVE_LOAD_SECONDS ?? 20);
  const servable = await loadServable(path.join(root, 'examples/simple_cnn_cifar.ocular'), { backend });
  const pixels = Buffer.from(Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 37) % 256));
  const png = await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer();
  process.stdout.write(`SimpleCNN32 3x32x32 on ${servable.backend}, 32 clients, ${seconds} s each\n`);
  for (const [label, maxBatch] of [['micro-batching (≤32)', 32], ['no batching', 1]] as const) {
    const server = await startServer(
      { name: servable.model.name, preprocessing: servable.preprocessing, backend: servable.backend, weightsSource: servable.weightsSource, predict: (images) => servable.engineModel.predict(images) },
      { port: 0, maxBatch },
    );
    const result = await loadTest(server.url, { clients: 32, seconds, body: png, headers: { 'content-type': 'image/png' } });
    await server.close();
    process.stdout.write(
      `${label.padEnd(22)} ${(result.answered / result.seconds).toFixed(0).padStart(6)} predictions/s  p50 ${quantile(result.latenciesMs, 0.5).toFixed(1)} ms  p99 ${quantile(result.latenciesMs, 0.99).toFixed(1)} ms  errors ${result.failures.length}\n`,
    );
  }
  servable.engineModel.dispose();
}

void main();
