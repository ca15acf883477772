/**
 * The Ocular language server: the only code that speaks LSP. It keeps one analysis per open
 * document, publishes its diagnostics, and answers editor requests by calling the pure features
 * of the language core and converting their answers.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  createConnection,
  InlayHintKind,
  InsertTextFormat,
  MarkupKind,
  ProposedFeatures,
  ResponseError,
  TextDocumentSyncKind,
  TextDocuments,
  type CodeAction,
  type CompletionItem,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DatasetsChangedNotification, DatasetTreeRequest, ModelSummaryRequest, type DatasetTree, type ModelSummary } from '../../../protocol/protocol';
import { analyze, type Analysis } from '../language/analysis';
import type { Diagnostic } from '../language/diagnostics';
import { complete } from '../language/features/completion';
import { format } from '../language/features/format';
import { hover } from '../language/features/hover';
import { inlayHints } from '../language/features/inlay';
import { outline } from '../language/features/outline';
import { definition, prepareRename, references, rename } from '../language/features/rename';
import { summaryRows, summaryText } from '../language/features/summary';
import { LineIndex } from '../language/text';
import { checkDatasetPaths, listPathEntries } from '../host/paths';
import { cacheDirFor, datasetDiagnostics, scanInWorker, specOf, type DatasetScanResult } from '../host/datasets';
import { toDatasetTree } from './datasets';
import { augmentationLenses, registerDatasetViews } from './dataset-views';
import { registerEvaluation } from './evaluate';
import { registerTraining } from './training';
import { toCompletionKind, toDiagnostic, toDocumentSymbol, toRange, toSpan } from './convert';

interface DocumentState {
  readonly version: number;
  readonly analysis: Analysis;
  readonly index: LineIndex;
  /** The core's diagnostics plus the host's (missing paths), as published. */
  readonly diagnostics: readonly Diagnostic[];
}

interface Settings {
  inlayHintParameters: boolean;
}

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const states = new Map<string, DocumentState>();
const settings: Settings = { inlayHintParameters: true };
/** The latest finished scan of each dataset of an open document, by document URI: kept across edits until the next scan. */
const scanResults = new Map<string, readonly DatasetScanResult[]>();
/** The scan in flight for each document, so that a newer scan (or closing the file) cancels it. */
const scanning = new Map<string, AbortController>();
/** Workspace folders as the client gave them at initialize: the dataset cache goes into the one holding a file. */
let workspaceFolders: string[] = [];

function filePath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

function stateOf(uri: string): DocumentState | undefined {
  const document = documents.get(uri);
  if (!document) return undefined;
  const cached = states.get(uri);
  if (cached && cached.version === document.version) return cached;
  const text = document.getText();
  const analysis = analyze(text);
  const diagnostics = [...analysis.diagnostics, ...checkDatasetPaths(analysis, filePath(uri))].sort((a, b) => a.span.start - b.span.start);
  const state = { version: document.version, analysis, index: new LineIndex(text), diagnostics };
  states.set(uri, state);
  return state;
}

/**
 * Runs a request handler so that a bug in one feature answers that request with an error
 * (logged with its stack) instead of taking the server down with it.
 */
function guard<P, R>(name: string, fallback: R, handler: (params: P) => R): (params: P) => R {
  return (params: P) => {
    try {
      return handler(params);
    } catch (error) {
      connection.console.error(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return fallback;
    }
  };
}

/** A document's language diagnostics merged with those of its latest dataset scans and its latest training runs. */
function allDiagnostics(uri: string, state: DocumentState): Diagnostic[] {
  return [...state.diagnostics, ...datasetDiagnostics(state.analysis, scanResults.get(uri) ?? []), ...training.diagnostics(uri, state.analysis)].sort((a, b) => a.span.start - b.span.start);
}

/** Publishes every diagnostic of a document (allDiagnostics). */
function publish(uri: string): void {
  const state = stateOf(uri);
  if (!state) return;
  const merged = allDiagnostics(uri, state);
  void connection.sendDiagnostics({ uri, version: state.version, diagnostics: merged.map((d) => toDiagnostic(state.index, uri, d)) });
}

/**
 * Scans every dataset section of a document in a worker thread, one after the other, with a
 * progress notification per dataset, then publishes the findings. It runs when a file is opened or
 * saved, not on every keystroke: a scan reads and decodes every image. A newer scan of the same
 * document cancels this one, and so does the user through the progress notification.
 */
async function scanDatasets(uri: string): Promise<void> {
  scanning.get(uri)?.abort();
  scanning.delete(uri);
  const file = filePath(uri);
  const state = stateOf(uri);
  // An untitled document has no folder that its dataset paths could be relative to.
  if (!file || !state) return;
  const controller = new AbortController();
  scanning.set(uri, controller);
  const results: DatasetScanResult[] = [];
  try {
    for (const dataset of state.analysis.datasets) {
      if (dataset.sources.length === 0) continue;
      const progress = await connection.window.createWorkDoneProgress();
      if (controller.signal.aborted) {
        progress.done();
        return;
      }
      const cancel = progress.token.onCancellationRequested(() => controller.abort());
      progress.begin(`Scanning dataset ${dataset.name}`, 0, 'listing images', true);
      try {
        const result = await scanInWorker(
          { name: dataset.name, spec: specOf(dataset), baseDir: path.dirname(file), cacheDir: cacheDirFor(file, workspaceFolders) },
          {
            signal: controller.signal,
            onProgress: (p) => progress.report(p.stage === 'decode' && p.total > 0 ? Math.floor((100 * p.done) / p.total) : 0, p.stage === 'decode' ? `${p.done} of ${p.total} images` : 'listing images'),
          },
        );
        results.push(result);
      } finally {
        cancel.dispose();
        progress.done();
      }
    }
  } catch (error) {
    if (controller.signal.aborted) return;
    connection.console.error(`Scanning the datasets of ${uri} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return;
  } finally {
    if (scanning.get(uri) === controller) scanning.delete(uri);
  }
  if (!documents.get(uri)) return;
  scanResults.set(uri, results);
  publish(uri);
  void connection.sendNotification(DatasetsChangedNotification, { uri });
}

connection.onInitialize((params): InitializeResult => {
  const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
  workspaceFolders = folders.flatMap((uri) => filePath(uri) ?? []);
  return {
    capabilities: {
      // Saves are announced so that datasets are scanned again when the file is saved.
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['=', '"', '/', ' '] },
      inlayHintProvider: true,
      documentSymbolProvider: true,
      definitionProvider: true,
      referencesProvider: true,
      renameProvider: { prepareProvider: true },
      documentFormattingProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'ocular-language-server', version: '0.1.0' },
  };
});

connection.onDidChangeConfiguration((change) => {
  const ocular = (change.settings as { ocular?: { inlayHints?: { parameters?: boolean } } } | undefined)?.ocular;
  if (typeof ocular?.inlayHints?.parameters === 'boolean') settings.inlayHintParameters = ocular.inlayHints.parameters;
  void connection.languages.inlayHint.refresh().catch(() => undefined);
});

documents.onDidOpen((event) => {
  training.opened(event.document.uri);
  guard('publish', undefined, publish)(event.document.uri);
  void scanDatasets(event.document.uri);
});
documents.onDidChangeContent((event) => guard('publish', undefined, publish)(event.document.uri));
documents.onDidSave((event) => void scanDatasets(event.document.uri));
documents.onDidClose((event) => {
  training.closed(event.document.uri);
  scanning.get(event.document.uri)?.abort();
  scanning.delete(event.document.uri);
  const scanned = scanResults.delete(event.document.uri);
  states.delete(event.document.uri);
  if (scanned) void connection.sendNotification(DatasetsChangedNotification, { uri: event.document.uri });
  void connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] });
});

connection.onHover(
  guard('hover', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    if (!state) return null;
    const answer = hover(state.analysis, state.index.offset(params.position));
    return answer ? { contents: { kind: MarkupKind.Markdown, value: answer.markdown }, range: toRange(state.index, answer.span) } : null;
  }),
);

connection.onCompletion(
  guard('completion', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    if (!state) return null;
    const result = complete(state.analysis, state.index.offset(params.position));
    const range = toRange(state.index, result.replace);
    const items: CompletionItem[] = result.items.map((item, i) => ({
      label: item.label,
      kind: toCompletionKind(item.kind),
      ...(item.detail ? { detail: item.detail } : {}),
      ...(item.documentation ? { documentation: { kind: MarkupKind.Markdown, value: item.documentation } } : {}),
      textEdit: { range, newText: item.insertText ?? item.label },
      sortText: `${item.preselect ? '0' : '1'}${String(i).padStart(4, '0')}`,
      insertTextFormat: InsertTextFormat.PlainText,
    }));
    const file = filePath(params.textDocument.uri);
    if (result.path && file) {
      const pathRange = toRange(state.index, { start: result.path.span.start + result.path.prefix.lastIndexOf('/') + 1, end: result.path.span.end });
      for (const entry of listPathEntries(file, result.path.prefix)) {
        items.push({ label: entry.directory ? `${entry.name}/` : entry.name, kind: entry.directory ? 19 : 17, textEdit: { range: pathRange, newText: entry.directory ? `${entry.name}/` : entry.name }, ...(entry.directory ? { command: { title: 'Suggest', command: 'editor.action.triggerSuggest' } } : {}) });
      }
    }
    return { isIncomplete: false, items };
  }),
);

connection.languages.inlayHint.on(
  guard('inlayHint', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    if (!state) return null;
    return inlayHints(state.analysis, toSpan(state.index, params.range), { params: settings.inlayHintParameters }).map((hint) => ({
      position: state.index.position(hint.offset),
      label: hint.label,
      kind: InlayHintKind.Type,
      tooltip: hint.tooltip,
      paddingLeft: true,
    }));
  }),
);

connection.onDocumentSymbol(
  guard('documentSymbol', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    return state ? outline(state.analysis).map((item) => toDocumentSymbol(state.index, item)) : null;
  }),
);

connection.onDefinition(
  guard('definition', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    const span = state && definition(state.analysis, state.index.offset(params.position));
    return state && span ? { uri: params.textDocument.uri, range: toRange(state.index, span) } : null;
  }),
);

connection.onReferences(
  guard('references', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    if (!state) return null;
    return references(state.analysis, state.index.offset(params.position)).map((span) => ({ uri: params.textDocument.uri, range: toRange(state.index, span) }));
  }),
);

connection.onPrepareRename(
  guard('prepareRename', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    const span = state && prepareRename(state.analysis, state.index.offset(params.position));
    return state && span ? toRange(state.index, span) : null;
  }),
);

connection.onRenameRequest((params) => {
  try {
    const state = stateOf(params.textDocument.uri);
    if (!state) return null;
    const result = rename(state.analysis, state.index.offset(params.position), params.newName);
    if (!result.ok) return new ResponseError(-32803, result.message);
    return { changes: { [params.textDocument.uri]: result.edits.map((edit) => ({ range: toRange(state.index, edit.span), newText: edit.text })) } };
  } catch (error) {
    connection.console.error(`rename failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return null;
  }
});

connection.onDocumentFormatting(
  guard('formatting', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    if (!state) return null;
    const formatted = format(state.analysis.source);
    if (formatted === state.analysis.source) return [];
    return [{ range: toRange(state.index, { start: 0, end: state.analysis.source.length }), newText: formatted }];
  }),
);

connection.onCodeAction(
  guard('codeAction', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    if (!state) return null;
    const span = toSpan(state.index, params.range);
    const actions: CodeAction[] = [];
    for (const diagnostic of allDiagnostics(params.textDocument.uri, state)) {
      if (!diagnostic.fixes || diagnostic.span.end < span.start || diagnostic.span.start > span.end) continue;
      for (const fix of diagnostic.fixes) {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [toDiagnostic(state.index, params.textDocument.uri, diagnostic)],
          isPreferred: diagnostic.fixes.length === 1,
          edit: { changes: { [params.textDocument.uri]: fix.edits.map((edit) => ({ range: toRange(state.index, edit.span), newText: edit.text })) } },
        });
      }
    }
    return actions;
  }),
);

connection.onRequest(
  ModelSummaryRequest,
  guard('modelSummary', null, (params): ModelSummary | null => {
    const state = stateOf(params.uri);
    if (!state) return null;
    const offset = params.line !== undefined ? state.index.lineStart(params.line) : -1;
    const models = state.analysis.models;
    const model = models.find((m) => offset >= m.section.span.start && offset <= m.section.span.end) ?? models[0];
    if (!model?.input) return null;
    return {
      model: model.name,
      inputShape: [...model.input],
      rows: summaryRows(state.analysis, model),
      totalParams: model.totalParams,
      totalMacs: model.totalMacs,
      text: summaryText(model),
    };
  }),
);

connection.onRequest(
  DatasetTreeRequest,
  guard('datasetTree', null, (params): DatasetTree | null => {
    const results = scanResults.get(params.uri);
    return results ? { uri: params.uri, datasets: toDatasetTree(results) } : null;
  }),
);

connection.onCodeLens(
  guard('codeLens', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    return state ? [...augmentationLenses(params.textDocument.uri, state.analysis, state.index), ...training.lenses(params.textDocument.uri, state.analysis, state.index)] : null;
  }),
);

registerDatasetViews(connection, { stateOf, scansOf: (uri) => scanResults.get(uri), log: (message) => connection.console.error(message) });
registerEvaluation(connection, () => workspaceFolders);
const training = registerTraining(connection, { publish, filePath, log: (message) => connection.console.error(message) });

documents.listen(connection);
connection.listen();
