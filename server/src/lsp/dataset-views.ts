/**
 * The language server's side of the dataset views: the class gallery's image list
 * (`ocular/classImages`), the augmentation preview (`ocular/augmentPreview`) and the code lens that
 * opens the preview on a dataset's augment block. The work runs in a worker thread (host/views.ts);
 * a cancelled request ends its thread.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResponseError, type CancellationToken, type CodeLens, type Connection } from 'vscode-languageserver/node';
import { AugmentPreviewRequest, ClassImagesRequest, PREVIEW_AUGMENTATION_COMMAND, type AugmentPreview, type ClassImage, type ClassImages, type DatasetTreeWarning } from '../../../protocol/protocol';
import type { Finding } from '../data';
import type { Analysis } from '../language/analysis';
import type { LineIndex } from '../language/text';
import { specOf, type DatasetScanResult } from '../host/datasets';
import { describeAugmentation, runViewJob } from '../host/views';
import { toRange } from './convert';

/** The most draws one preview computes, whatever the page asks for. */
const MAX_DRAWS = 64;

export interface DatasetViewSources {
  /** The current analysis of an open document and its line index. */
  stateOf(uri: string): { readonly analysis: Analysis; readonly index: LineIndex } | undefined;
  /** The latest finished scans of an open document. */
  scansOf(uri: string): readonly DatasetScanResult[] | undefined;
  log(message: string): void;
}

/**
 * Runs a view job under a work-done progress (in VS Code's status bar: the request itself is
 * cancelled by the page's next request, so the progress offers no cancel button of its own).
 */
async function withProgress<T>(connection: Connection, title: string, run: () => Promise<T>): Promise<T> {
  const progress = await connection.window.createWorkDoneProgress();
  progress.begin(title, undefined, undefined, false);
  try {
    return await run();
  } finally {
    progress.done();
  }
}

function signalOf(token: CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

/** The scan's findings by the image they name (a duplicate's finding also names its other copies). */
function findingsByFile(findings: readonly Finding[]): Map<string, DatasetTreeWarning[]> {
  const byFile = new Map<string, DatasetTreeWarning[]>();
  for (const finding of findings) {
    for (const file of [finding.file, ...(finding.related ?? [])]) {
      if (!file) continue;
      const list = byFile.get(file) ?? [];
      list.push({ severity: finding.severity, message: finding.message });
      byFile.set(file, list);
    }
  }
  return byFile;
}

const dataUri = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;

/** Code lenses: "Preview augmentation" on the augment block of each dataset section. */
export function augmentationLenses(uri: string, analysis: Analysis, index: LineIndex): CodeLens[] {
  const lenses: CodeLens[] = [];
  for (const dataset of analysis.datasets) {
    const statement = dataset.section.body.statements.find((s) => s.head.text === 'augment');
    if (!statement || !dataset.name) continue;
    lenses.push({ range: toRange(index, statement.head.span), command: { title: 'Preview augmentation', command: PREVIEW_AUGMENTATION_COMMAND, arguments: [uri, dataset.name] } });
  }
  return lenses;
}

export function registerDatasetViews(connection: Connection, sources: DatasetViewSources): void {
  const datasetOf = (uri: string, name: string) => {
    const state = sources.stateOf(uri);
    let file: string | undefined;
    try {
      file = uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
    } catch {
      file = undefined;
    }
    const dataset = state?.analysis.datasets.find((d) => d.name === name);
    return state && file && dataset ? { dataset, baseDir: path.dirname(file) } : undefined;
  };
  const failure = (what: string, error: unknown): ResponseError<void> => {
    const message = error instanceof Error ? error.message.split('\n')[0]!.replace(/^Error: /, '') : String(error);
    sources.log(`${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return new ResponseError(-32603, message);
  };

  connection.onRequest(ClassImagesRequest, async (params, token): Promise<ClassImages | null | ResponseError<void>> => {
    const found = datasetOf(params.uri, params.dataset);
    if (!found) return null;
    try {
      const job = { job: 'class-images' as const, spec: specOf(found.dataset), baseDir: found.baseDir, split: params.split, class: params.class };
      const listed = await withProgress(connection, `Listing the images of class ${params.class}`, () => runViewJob(job, signalOf(token)));
      if (!listed.found) return null;
      const scan = sources.scansOf(params.uri)?.find((s) => s.name === params.dataset);
      const byFile = findingsByFile(scan?.findings ?? []);
      const heavy = new Set((scan?.findings ?? []).filter((f) => f.file && (f.code === 'decompression-bomb' || f.code === 'large-image')).map((f) => f.file));
      const images: ClassImage[] = listed.files.map((file) => ({ path: file, findings: byFile.get(file) ?? [], showable: !heavy.has(file) }));
      return { images };
    } catch (error) {
      if (token.isCancellationRequested) return null;
      return failure(`Listing class '${params.class}' of dataset ${params.dataset}`, error);
    }
  });

  connection.onRequest(AugmentPreviewRequest, async (params, token): Promise<AugmentPreview | null | ResponseError<void>> => {
    const found = datasetOf(params.uri, params.dataset);
    if (!found) return null;
    const spec = specOf(found.dataset);
    const draws = Math.max(1, Math.min(MAX_DRAWS, Math.floor(params.draws)));
    try {
      const job = { job: 'augment-preview' as const, spec, baseDir: found.baseDir, image: Math.floor(params.image), draws, seed: params.seed >>> 0 };
      const result = await withProgress(connection, `Drawing augmentations of dataset ${params.dataset}`, () => runViewJob(job, signalOf(token)));
      // A problem with the data is the answer, shown on the page; only a fault is logged.
      if ('problem' in result) return new ResponseError(-32603, result.problem);
      return {
        image: result.image,
        index: result.index,
        count: result.count,
        more: result.more,
        shape: result.shape,
        augmentations: spec.augment.map(describeAugmentation),
        original: dataUri(result.original),
        draws: result.draws.map(dataUri),
      };
    } catch (error) {
      if (token.isCancellationRequested) return null;
      return failure(`Previewing the augmentation of dataset ${params.dataset}`, error);
    }
  });
}
