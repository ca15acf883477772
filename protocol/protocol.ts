/**
 * The custom messages between the Ocular client, its language server and its webviews.
 *
 * Every message that is not plain LSP is declared here once, with its direction, so that the
 * client, the server and the webviews cannot disagree about a method name or a payload.
 * This module imports only vscode-jsonrpc's message-type classes (re-exported by both
 * vscode-languageclient and vscode-languageserver), never either side's runtime.
 */
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';

/** One row of a model summary: a layer as it runs, after blocks and repeats are expanded. */
export interface SummaryRow {
  /** The layer's path, such as `layer2.0.conv` for the first conv of a repeated block. */
  readonly name: string;
  /** The layer kind as written (`conv`, `dense`, `residual` …). */
  readonly kind: string;
  /** The output shape, channels first, such as `[64, 56, 56]`. */
  readonly outputShape: readonly number[];
  readonly params: number;
  /** Multiply-accumulate operations for one image. */
  readonly macs: number;
  /** Zero-based line of the statement in the model file. */
  readonly line: number;
}

export interface ModelSummaryParams {
  readonly uri: string;
  /** A zero-based line: the model around it is summarised, or the file's first model when none is. */
  readonly line?: number;
}

export interface ModelSummary {
  readonly model: string;
  readonly inputShape: readonly number[];
  readonly rows: readonly SummaryRow[];
  readonly totalParams: number;
  readonly totalMacs: number;
  /** The summary as a fixed-width table, the way `torchsummary` prints it. */
  readonly text: string;
}

/**
 * client → server: the layer-by-layer summary of one model in an open document.
 * Answers null when the document has no model that can be summarised.
 */
export const ModelSummaryRequest = new RequestType<ModelSummaryParams, ModelSummary | null, void>('ocular/modelSummary');

export interface DatasetTreeParams {
  /** The `.ocular` document whose datasets are wanted. */
  readonly uri: string;
}

/** A problem the latest scan found, shown on the tree node it is about. */
export interface DatasetTreeWarning {
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
}

export interface DatasetTreeClass {
  readonly name: string;
  /** Usable images of the class in the split. */
  readonly count: number;
  /** The class's share of the split's images, from 0 to 1. */
  readonly share: number;
  /** A `file:` URI of the class's first image; absent for CIFAR and IDX records or an empty class. */
  readonly firstImage?: string;
  readonly warnings: readonly DatasetTreeWarning[];
}

export interface DatasetTreeSplit {
  readonly split: 'train' | 'val' | 'test';
  /** The source path, absolute. */
  readonly path: string;
  readonly count: number;
  /** The split's share of the dataset's images, from 0 to 1. */
  readonly share: number;
  /** Set when the split was carved out of another by `split val=… test=…`. */
  readonly carvedFrom?: 'train' | 'val' | 'test';
  readonly classes: readonly DatasetTreeClass[];
  readonly warnings: readonly DatasetTreeWarning[];
}

export interface DatasetTreeDataset {
  readonly name: string;
  readonly splits: readonly DatasetTreeSplit[];
  /** Problems about the dataset as a whole, or about a split or class the tree has no node for. */
  readonly warnings: readonly DatasetTreeWarning[];
}

export interface DatasetTree {
  readonly uri: string;
  readonly datasets: readonly DatasetTreeDataset[];
}

/**
 * client → server: the datasets of an open document as the latest scan saw them (datasets →
 * splits → classes with counts and shares, warnings per node). Answers null before the first scan
 * of the document has finished.
 */
export const DatasetTreeRequest = new RequestType<DatasetTreeParams, DatasetTree | null, void>('ocular/datasetTree');

export interface DatasetsChangedParams {
  readonly uri: string;
}

/** server → client: a scan of the document's datasets finished (or the document closed); ask for the tree again. */
export const DatasetsChangedNotification = new NotificationType<DatasetsChangedParams>('ocular/datasetsChanged');
