/**
 * The data layer's public surface: what the engine, the dataset view, the gallery and the
 * command line call. Nothing here depends on VS Code, LSP or TensorFlow.js, and the language
 * core never imports it. Heavy calls (loadDataset, checkDataset) belong in a worker thread or a
 * child process, away from the language server's event loop; decoding itself already spreads
 * over worker threads.
 */
export type { AugmentationSpec, DataSource, DatasetSpec, ImageShape, NormalizeSpec, ResizeMode, Split, SplitRatios } from './types';
export { SPLITS } from './types';
export type { Finding, FindingCode, FindingSeverity } from './findings';
export { readableBases, summarize, withReadablePaths } from './findings';
export { withRelativePaths } from './text';

export { listImageFolder, isImageName, IMAGE_EXTENSIONS, type FolderListing, type ImageFile, type ListOptions } from './listing';
export { resolveSource, type ResolvedSource, type SourceKind } from './sources';
export { scanDataset, loadDataset, imageAt, type DatasetScan, type SplitView, type SourceData, type ScanOptions, type LoadOptions, type LoadProgress, type LoadedDataset, type TensorSplit } from './dataset';
export { stratifiedSplit, type SplitMembers } from './split';

export { decodeImage, sniff, DEFAULT_LIMITS, type DecodeLimits, type DecodeOutcome, type DecodeTarget, type Decoded, type Failed } from './decode';
export { decodeFiles, type DecodeOptions } from './pool';
export type { DecodedBlock, FilePixels } from './decode-batch';
export { decodeWithCache, cacheFileFor, type CachedDecode } from './cache';
export { readCifar, CIFAR10_CLASSES } from './cifar';
export { readIdx, FASHION_CLASSES } from './mnist';
export { fitTensors, type TensorSet } from './tensors';

export { checkDataset, checkClasses, checkSizes, type CheckOptions, type DatasetReport } from './checks';
export { findDuplicates, type DuplicateGroup, type DuplicateMember, type DuplicateOptions } from './duplicates';

export { createAugmenter, normalizeBatch, cropBox, type Augmenter } from './augment';
export { batches, makeBatch, batchCount, epochOrder, type Batch, type BatchOptions, type BatchSource } from './batches';
export { Random, deriveSeed } from '../random';

export { downloadDataset, downloadFiles, DOWNLOADS, DownloadError, type DownloadName, type DownloadOptions, type DownloadProgress, type DownloadResult, type DownloadSpec, type RemoteFile } from './download';
