/**
 * The custom messages between the Ocular client, its language server and its webviews.
 *
 * Every message that is not plain LSP is declared here once, with its direction, so that the
 * client, the server and the webviews cannot disagree about a method name or a payload.
 * This module imports only vscode-jsonrpc's message-type classes (re-exported by both
 * vscode-languageclient and vscode-languageserver), never either side's runtime.
 */
import { RequestType } from 'vscode-languageserver-protocol';

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
