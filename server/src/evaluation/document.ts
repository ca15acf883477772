/**
 * The evaluation document: what a run folder's `evaluation.json` holds (ARCHITECTURE.md,
 * "Evaluation"), what `ocular eval` prints and, less its per-image records, what the evaluation
 * page shows. Declared once, here, with types only: the protocol derives the page's view from it
 * with `import type`, so this module and what it imports (the pure metrics and records modules,
 * the data layer's plain types) must stay free of Node and of the engine.
 */
import type { Split } from '../data/types';
import type { ClassificationMetrics } from './metrics';
import type { ImageRecord } from './records';

export interface SpeedReport {
  /** Milliseconds per single-image `predict`, median and 95th percentile. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly runs: number };
  readonly throughput: { readonly batchSize: number; readonly imagesPerSecond: number };
}

export interface Evaluation extends ClassificationMetrics {
  readonly version: 1;
  /** The run evaluated, when there is one. */
  readonly runId?: string;
  readonly split: Split;
  /** Which weights: `best` or `last` checkpoint, and the epoch (0-based) they were saved at. */
  readonly checkpoint?: { readonly name: string; readonly epoch: number };
  readonly classes: readonly string[];
  /** The engine backend and device the predictions and timings ran on. */
  readonly backend: string;
  readonly device: string;
  readonly createdAt: string;
  /** Milliseconds spent predicting the split. */
  readonly predictMs: number;
  readonly speed: SpeedReport;
  /** One per image of the split, in split order. */
  readonly images: readonly ImageRecord[];
}
