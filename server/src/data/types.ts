/**
 * The plain types the data layer shares with its callers. They mirror the language core's
 * `DatasetConfig` structurally (a `DatasetConfig` can be passed wherever a `DatasetSpec` is asked
 * for) without importing it, so the data layer builds and tests on its own.
 */
export type Split = 'train' | 'val' | 'test';

export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

export type ResizeMode = 'stretch' | 'crop' | 'letterbox';

/** Channels, height, width. */
export type ImageShape = readonly [number, number, number];

export interface DataSource {
  readonly split: Split;
  /** As written in the model file: relative to its folder, or absolute. */
  readonly path: string;
}

export interface AugmentationSpec {
  readonly name: string;
  readonly args: Readonly<Record<string, number | readonly number[]>>;
}

export interface NormalizeSpec {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface SplitRatios {
  readonly val: number;
  readonly test: number;
  readonly seed: number;
}

export interface DatasetSpec {
  readonly sources: readonly DataSource[];
  readonly split?: SplitRatios;
  readonly image?: ImageShape;
  readonly resize: ResizeMode;
  readonly classes?: number | readonly string[];
  readonly augment: readonly AugmentationSpec[];
  readonly normalize?: NormalizeSpec;
}
