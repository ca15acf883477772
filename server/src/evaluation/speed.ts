/**
 * Inference speed of a built model on the engine's current backend, measured through
 * `EngineModel.predict` so every engine is timed the same way: latency of one image (median and
 * 95th percentile over many calls) and throughput at a batch size (images per second over whole
 * batches). Inputs are seeded uniform noise of the model's input shape: speed does not depend on
 * what the pixels show.
 */
import type { EngineModel } from '../engine/engine';
import type { SpeedReport } from './document';
import { Random } from '../random';

export interface SpeedOptions {
  /** Images per batch for the throughput figure. */
  readonly batchSize: number;
  /** Timed single-image calls for the latency percentiles. */
  readonly latencyRuns: number;
  /** Timed batches for the throughput figure. */
  readonly throughputBatches: number;
  /** Untimed calls first, so backend compilation and allocation are not counted. */
  readonly warmup: number;
}

export const DEFAULT_SPEED: SpeedOptions = { batchSize: 32, latencyRuns: 50, throughputBatches: 10, warmup: 3 };

/** The q-quantile (0–1) of sorted values, by linear interpolation (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

export async function measureSpeed(model: EngineModel, inputShape: readonly number[], options: SpeedOptions = DEFAULT_SPEED): Promise<SpeedReport> {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const random = new Random(1);
  const one = new Float32Array(size);
  random.fillUniform(one, 0, 1);
  const batch = new Float32Array(size * options.batchSize);
  random.fillUniform(batch, 0, 1);

  for (let i = 0; i < options.warmup; i++) await model.predict(one);
  const times: number[] = [];
  for (let i = 0; i < options.latencyRuns; i++) {
    const start = performance.now();
    await model.predict(one);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);

  await model.predict(batch);
  const start = performance.now();
  for (let i = 0; i < options.throughputBatches; i++) await model.predict(batch);
  const seconds = (performance.now() - start) / 1000;
  return {
    latencyMs: { p50: quantile(times, 0.5), p95: quantile(times, 0.95), runs: times.length },
    throughput: { batchSize: options.batchSize, imagesPerSecond: seconds > 0 ? (options.throughputBatches * options.batchSize) / seconds : 0 },
  };
}
