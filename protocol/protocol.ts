/**
 * The custom messages between the Ocular client, its language server and its webviews.
 *
 * Every message that is not plain LSP is declared here once, with its direction, so that the
 * client, the server and the webviews cannot disagree about a method name or a payload.
 * This module imports only vscode-jsonrpc's message-type classes (re-exported by both
 * vscode-languageclient and vscode-languageserver), never either side's runtime. A document it
 * carries whole (evaluation.json) is typed once where it is written and imported here with
 * `import type`; that module must stay free of Node, since the webviews type-check against it.
 */
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { Evaluation } from '../server/src/evaluation/document';

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
  /** A `file:` URI of the class's first image file (usable or not); absent for CIFAR and IDX records or a class folder with no image files. The view opens the class's gallery when it is set. */
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

// ---------------------------------------------------------------------------------------------
// Dataset views: the class gallery and the augmentation preview (client → server requests).
// ---------------------------------------------------------------------------------------------

export interface ClassImagesParams {
  /** The `.ocular` document that declares the dataset. */
  readonly uri: string;
  readonly dataset: string;
  readonly split: 'train' | 'val' | 'test';
  readonly class: string;
}

/** One image of a class as the gallery lists it. */
export interface ClassImage {
  /** The file, absolute. */
  readonly path: string;
  /** What the latest scan found about this image (corrupt, duplicate, too small …), if anything. */
  readonly findings: readonly DatasetTreeWarning[];
  /** False when the file must not be decoded for a thumbnail: a decompression bomb or a very large image. */
  readonly showable: boolean;
}

export interface ClassImages {
  /** The class folder's images in listing order; records of CIFAR or IDX files are not files and are not listed. */
  readonly images: readonly ClassImage[];
}

/**
 * client → server: the images of one class of one split, listed in a worker thread. Answers null
 * when the document or the dataset is not (or no longer) there.
 */
export const ClassImagesRequest = new RequestType<ClassImagesParams, ClassImages | null, void>('ocular/classImages');

export interface AugmentPreviewParams {
  readonly uri: string;
  readonly dataset: string;
  /** Which training image, counted in listing order (wraps around). */
  readonly image: number;
  /** How many random draws to show. */
  readonly draws: number;
  /** The seed of the first draw; the same seed and settings give the same pictures. */
  readonly seed: number;
}

export interface AugmentPreview {
  /** What the image is: its file (relative to the model file's folder when inside it), or `file#record` for CIFAR and IDX. */
  readonly image: string;
  /** The image's position and the number of training images, to step through them. */
  readonly index: number;
  readonly count: number;
  /**
   * True when `count` covers only the classes up to the image's: the preview lists class folders
   * one at a time until it reaches the image, not the whole dataset.
   */
  readonly more: boolean;
  /** The size the model sees, channels first. */
  readonly shape: readonly [number, number, number];
  /** The augmentations applied, one line each, as written in the file (`hflip p=0.5`). */
  readonly augmentations: readonly string[];
  /** The image before augmentation and after each draw, as `data:image/png` URIs. */
  readonly original: string;
  readonly draws: readonly string[];
}

/**
 * client → server: one training image under `draws` seeded draws of the dataset's current augment
 * settings (as in the open document, saved or not), computed in a worker thread. Answers null when
 * the dataset is gone; a dataset with no images answers an error naming it.
 */
export const AugmentPreviewRequest = new RequestType<AugmentPreviewParams, AugmentPreview | null, void>('ocular/augmentPreview');

/** The client command the server's "Preview augmentation" code lens runs, with arguments (document URI, dataset name). */
export const PREVIEW_AUGMENTATION_COMMAND = 'ocular.previewAugmentation';

// Results (issue 7): evaluating a run's best checkpoint on a split.

export interface EvaluateParams {
  /** The run folder (`<model folder>/.ocular/runs/<id>`), absolute. */
  readonly runDir: string;
  /** The split to evaluate; the dataset's test split when it has one, else val. */
  readonly split?: 'train' | 'val' | 'test';
}

export interface EvaluateResult {
  /** The `evaluation.json` written into the run folder. */
  readonly file: string;
  readonly accuracy: number;
  readonly count: number;
}

/**
 * client → server: evaluates a run's best checkpoint on a split in a worker thread (work-done
 * progress; cancelling the request ends the thread) and writes `evaluation.json` into the run
 * folder. A run that cannot be evaluated answers an error saying why.
 */
export const EvaluateRequest = new RequestType<EvaluateParams, EvaluateResult, void>('ocular/evaluate');

export interface SaliencyParams {
  readonly runDir: string;
  /** Image files, and for each the class whose score to explain. */
  readonly files: readonly string[];
  readonly classes: readonly number[];
}

/** One per file: a heat map as a `data:image/png` URI at the model's input size, or why there is none. */
export type SaliencyOverlay = { readonly image: string } | { readonly problem: string };

/**
 * client → server: gradient saliency of a run's best checkpoint for each image and class, in a
 * worker thread (cancelled with the request), for the evaluation gallery's overlay.
 */
export const SaliencyRequest = new RequestType<SaliencyParams, { readonly overlays: readonly SaliencyOverlay[] }, void>('ocular/saliency');

// ---------------------------------------------------------------------------------------------
// Training in the editor (issue 5): train, stop and resume runs, list them, and the device.
// ---------------------------------------------------------------------------------------------

/** The `ocular.backend` setting: the fastest backend that loads, or a chosen rung of the ladder. */
export type BackendSetting = 'auto' | 'gpu' | 'native' | 'wasm' | 'cpu';

export interface TrainParams {
  /** The `.ocular` model file (saved: training reads the file on disk). */
  readonly uri: string;
  /** The model whose train section runs; the file's first train section when absent. */
  readonly model?: string;
  /** Continue this run of the file from its last complete epoch instead of starting a new one. */
  readonly resumeRunId?: string;
  readonly backend: BackendSetting;
  /** The `ocular.trainingThreads` setting: data-parallel threads on wasm and cpu; one per core when absent. */
  readonly threads?: number;
}

export interface TrainResult {
  readonly runId: string;
  readonly runDir: string;
  /** completed, early-stopped, stopped or failed. */
  readonly status: string;
  readonly epochsDone: number;
  readonly epochs: number;
  readonly bestValAcc?: number;
  /** Why the run failed, when it did. */
  readonly error?: string;
}

/**
 * client → server: trains the file's model in a worker (work-done progress with epoch, batch,
 * loss, images/s and time left; cancelling the progress stops the run, keeping what it wrote) and
 * answers when the run ends. A file that cannot train answers an error naming the file and line.
 */
export const TrainRequest = new RequestType<TrainParams, TrainResult, void>('ocular/train');

export interface StopTrainingParams {
  /** Stop the run of this model file; every run in progress when absent. */
  readonly uri?: string;
}

/** client → server: stops runs in progress at their next batch; answers how many were stopped. */
export const StopTrainingRequest = new RequestType<StopTrainingParams, { readonly stopped: number }, void>('ocular/stopTraining');

export interface ListRunsParams {
  /** `.ocular` files whose runs to list (their folders' `.ocular/runs`). */
  readonly uris: readonly string[];
}

export interface RunSummary {
  readonly id: string;
  readonly dir: string;
  /** The model file's URI. */
  readonly uri: string;
  readonly model?: string;
  /** completed, early-stopped, stopped, failed, running or interrupted (a running record whose process is gone). */
  readonly status?: string;
  readonly epochs?: number;
  readonly epochsDone?: number;
  readonly bestValAcc?: number;
  readonly startedAt?: string;
  /** Seconds from start to end, or to now while it runs. */
  readonly seconds?: number;
  readonly backend?: string;
  readonly device?: string;
  /** Why run.json could not be read; the run is listed with nothing else. */
  readonly problem?: string;
}

/** client → server: the runs of model files, newest first. */
export const ListRunsRequest = new RequestType<ListRunsParams, readonly RunSummary[], void>('ocular/listRuns');

/** server → client: a run of this model file started, ended or was written to; list the runs again. */
export const RunsChangedNotification = new NotificationType<{ readonly uri: string }>('ocular/runsChanged');

/** One event of a run in progress, for the status bar and the live dashboard (which reads the run's metrics.jsonl). */
export interface TrainingEventParams {
  readonly uri: string;
  readonly runId: string;
  readonly runDir: string;
  readonly kind: 'started' | 'batch' | 'epoch' | 'finished' | 'failed';
  /** Zero-based epoch, and for `batch` the batch within it. */
  readonly epoch?: number;
  readonly batch?: number;
  readonly batches?: number;
  readonly loss?: number;
  readonly imagesPerSecond?: number;
  /** The run's status after the event. */
  readonly status: string;
  /** The progress line as the server's work-done progress shows it (epoch, batch, loss, images/s, time left). */
  readonly message?: string;
}

/** server → client: something happened in a run in progress. */
export const TrainingEventNotification = new NotificationType<TrainingEventParams>('ocular/trainingEvent');

export interface DeviceParams {
  readonly backend: BackendSetting;
}

export interface DeviceAnswer {
  /** The backend training would use, such as `tfjs-node-gpu`, `wasm`. */
  readonly backend: string;
  /** For people: the GPU and CUDA version, or the CPU flavour. */
  readonly description: string;
  /** Faster backends passed over, with the reason. */
  readonly skipped: readonly { readonly backend: string; readonly reason: string }[];
}

/** client → server: the backend and device training would use with this setting (found in a worker thread). */
export const DeviceRequest = new RequestType<DeviceParams, DeviceAnswer, void>('ocular/device');

export interface GpuSetupAnswer {
  readonly device: DeviceAnswer;
  /** Whether the GPU backend has everything it needs. */
  readonly ready: boolean;
  readonly summary: string;
  /** Each thing in the way of the GPU, with its fix. */
  readonly problems: readonly { readonly problem: string; readonly fix: string }[];
}

/** client → server: why the GPU backend is or is not used here (packages, libraries, driver), found in a worker thread. */
export const GpuSetupRequest = new RequestType<DeviceParams, GpuSetupAnswer, void>('ocular/gpuSetup');

/** The client command the "Train" code lens on a train section runs, with the document URI and the model name. */
export const TRAIN_MODEL_COMMAND = 'ocular.trainModel';

// ---------------------------------------------------------------------------------------------
// Webviews: the messages between each page (webviews/<page>/) and its panel in the extension host.
//
// Pages import this module with `import type` only, so no runtime code (and nothing of Node's)
// reaches a browser bundle. Each page declares what the host posts to it, what it posts to the
// host, and the state it keeps across hide/show, and registers them in `WebviewPages`.
// ---------------------------------------------------------------------------------------------

/** The three message shapes of one page. */
export interface PageProtocol<ToPage extends { readonly type: string }, ToHost extends { readonly type: string }, State> {
  /** host → page, with `webview.postMessage`. */
  readonly toPage: ToPage;
  /** page → host, with `vscode.postMessage`. */
  readonly toHost: ToHost;
  /** Kept by VS Code with `setState` while the panel is hidden and across a window reload. */
  readonly state: State;
}

/** gallery: the images of one class of a dataset. */
export interface GalleryItem {
  /** The file name alone, shown as text. */
  readonly name: string;
  /** The file, absolute: what the page asks the host to open. */
  readonly path: string;
  /** A webview URI of the file, or absent when the file must not be decoded by the page (a decompression bomb, an unreadable file). */
  readonly src?: string;
  readonly findings: readonly DatasetTreeWarning[];
}

export interface GalleryClass {
  readonly uri: string;
  readonly dataset: string;
  readonly split: 'train' | 'val' | 'test';
  readonly class: string;
}

export type GalleryToPage =
  | { readonly type: 'images'; readonly target: GalleryClass; readonly items: readonly GalleryItem[] }
  | { readonly type: 'error'; readonly target: GalleryClass; readonly message: string };

export type GalleryToHost =
  /** The page has loaded (or been restored) and wants its images. */
  | { readonly type: 'ready' }
  /** Open one image in a VS Code editor. */
  | { readonly type: 'open'; readonly path: string };

export interface GalleryState {
  readonly target?: GalleryClass;
  /** The first visible row, so a hidden and shown gallery comes back where it was. */
  readonly scrollTop: number;
  /** Show only images with findings. */
  readonly onlyFindings: boolean;
}

export type GalleryProtocol = PageProtocol<GalleryToPage, GalleryToHost, GalleryState>;

/** augment-preview: one training image under random draws of the augment settings. */
export interface AugmentPreviewTarget {
  readonly uri: string;
  readonly dataset: string;
}

export type AugmentPreviewToPage =
  | { readonly type: 'preview'; readonly target: AugmentPreviewTarget; readonly preview: AugmentPreview; readonly seed: number }
  | { readonly type: 'busy' }
  | { readonly type: 'error'; readonly target: AugmentPreviewTarget; readonly message: string };

/** Draw: sent when the page loads, then for another image, another seed or another number of draws. */
export type AugmentPreviewToHost = { readonly type: 'draw'; readonly image: number; readonly seed: number; readonly draws: number };

export interface AugmentPreviewState {
  readonly target?: AugmentPreviewTarget;
  readonly image: number;
  readonly seed: number;
  readonly draws: number;
}

export type AugmentPreviewProtocol = PageProtocol<AugmentPreviewToPage, AugmentPreviewToHost, AugmentPreviewState>;

/** dashboard: training curves of one or more runs, live while they train. */
export interface EpochPoint {
  /** 1-based: the point is plotted at the end of its epoch. */
  readonly epoch: number;
  readonly trainLoss: number | null;
  readonly trainAcc: number | null;
  /** null when the run has no validation split. */
  readonly valLoss: number | null;
  readonly valAcc: number | null;
  readonly lr: number | null;
  readonly imagesPerSecond: number | null;
}

/** One training batch (at most one a second is recorded), plotted at `epoch + batch/batches`. */
export interface BatchPoint {
  /** Fractional epochs since the start of training. */
  readonly x: number;
  readonly loss: number;
  readonly acc: number;
  readonly imagesPerSecond: number;
}

export interface DashboardRun {
  readonly id: string;
  readonly dir: string;
  readonly model: string;
  /** As the run record says, or `interrupted` for a running record whose process is gone. */
  readonly status: string;
  readonly epochs: readonly EpochPoint[];
  readonly batches: readonly BatchPoint[];
}

export type DashboardToPage =
  /** Every run to list (replaces what the page has). */
  | { readonly type: 'runs'; readonly runs: readonly DashboardRun[] }
  /** New lines of a training run's metrics, appended to what the page has. */
  | { readonly type: 'append'; readonly id: string; readonly status: string; readonly epochs: readonly EpochPoint[]; readonly batches: readonly BatchPoint[] }
  | { readonly type: 'error'; readonly message: string };

export type DashboardToHost =
  | { readonly type: 'ready' }
  /** Save what the page made: CSV or JSON text, or a PNG as base64. */
  | { readonly type: 'save'; readonly format: 'csv' | 'json' | 'png'; readonly name: string; readonly content: string };

export interface DashboardState {
  /** Runs the user unticked. */
  readonly hidden: readonly string[];
  /** Plot per-batch training loss and accuracy as well as per-epoch points. */
  readonly showBatches: boolean;
}

export type DashboardProtocol = PageProtocol<DashboardToPage, DashboardToHost, DashboardState>;

/**
 * evaluation: a run's evaluation on a split: tables, the confusion matrix and its galleries. The
 * page is sent `evaluation.json` as server/src/evaluation/document.ts types it, without its
 * per-image records (the host answers a cell with its images) and what the page does not show.
 */
export type EvaluationView = Omit<Evaluation, 'images' | 'version' | 'predictMs'>;

export interface EvaluationImage {
  /** The file name alone, shown as text. */
  readonly name: string;
  /** The file (or `file#record` inside an archive): what the page asks the host to open. */
  readonly path: string;
  /** A webview URI of the file; absent for images inside an archive (CIFAR, IDX). */
  readonly src?: string;
  /** Probability of the predicted class, and of the true class. */
  readonly probability: number;
  readonly labelProbability: number;
  readonly loss: number;
}

export type EvaluationToPage =
  /** `file` is the evaluation.json shown: the page keeps it in its state so a reload shows it again. */
  | { readonly type: 'evaluation'; readonly file: string; readonly title: string; readonly evaluation: EvaluationView }
  /** The images of one cell, highest loss first. */
  | { readonly type: 'cell'; readonly label: number; readonly predicted: number; readonly images: readonly EvaluationImage[] }
  /** Saliency overlays for images of the cell shown, by path. */
  | { readonly type: 'saliency'; readonly label: number; readonly predicted: number; readonly overlays: readonly { readonly path: string; readonly overlay: SaliencyOverlay }[] }
  | { readonly type: 'error'; readonly message: string };

export type EvaluationToHost =
  | { readonly type: 'ready' }
  /** The images of true class `label` predicted as `predicted`. */
  | { readonly type: 'cell'; readonly label: number; readonly predicted: number }
  /** Saliency overlays of these images of the cell, for its predicted class. */
  | { readonly type: 'saliency'; readonly label: number; readonly predicted: number; readonly paths: readonly string[] }
  | { readonly type: 'open'; readonly path: string };

export interface EvaluationState {
  /** The `evaluation.json` shown, for restoring the panel after a reload. */
  readonly file?: string;
  /** Colour and label cells by row share instead of count. */
  readonly normalized: boolean;
  readonly cell?: { readonly label: number; readonly predicted: number };
  /** Lay each gallery image's saliency for the predicted class over it. */
  readonly saliency?: boolean;
}

export type EvaluationProtocol = PageProtocol<EvaluationToPage, EvaluationToHost, EvaluationState>;

/**
 * Every webview page by its folder name under webviews/ (and bundle name in dist/webviews/). A new
 * page adds its protocol here; the host helper (client/src/webviews/panel.ts) and the page's
 * connection (webviews/shared/host.ts) are typed by it.
 */
export interface WebviewPages {
  readonly gallery: GalleryProtocol;
  readonly 'augment-preview': AugmentPreviewProtocol;
  readonly dashboard: DashboardProtocol;
  readonly evaluation: EvaluationProtocol;
}

export type PageName = keyof WebviewPages;
