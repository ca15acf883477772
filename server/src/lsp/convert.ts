/** Converts between the language core's types (offsets, plain data) and LSP's. */
import { CompletionItemKind, DiagnosticSeverity, SymbolKind, type Diagnostic as LspDiagnostic, type DocumentSymbol, type Range } from 'vscode-languageserver/node';
import type { CompletionKind } from '../language/features/completion';
import type { Diagnostic } from '../language/diagnostics';
import type { OutlineItem, OutlineKind } from '../language/features/outline';
import type { Span } from '../language/syntax/span';
import type { LineIndex } from '../language/text';

export function toRange(index: LineIndex, span: Span): Range {
  return { start: index.position(span.start), end: index.position(span.end) };
}

export function toSpan(index: LineIndex, range: Range): Span {
  return { start: index.offset(range.start), end: index.offset(range.end) };
}

const SEVERITY: Record<Diagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toDiagnostic(index: LineIndex, uri: string, diagnostic: Diagnostic): LspDiagnostic {
  return {
    range: toRange(index, diagnostic.span),
    severity: SEVERITY[diagnostic.severity],
    source: 'ocular',
    code: diagnostic.code,
    message: diagnostic.message,
    ...(diagnostic.related ? { relatedInformation: diagnostic.related.map((r) => ({ location: { uri, range: toRange(index, r.span) }, message: r.message })) } : {}),
  };
}

const COMPLETION_KIND: Record<CompletionKind, CompletionItemKind> = {
  keyword: CompletionItemKind.Keyword,
  layer: CompletionItemKind.Function,
  block: CompletionItemKind.Module,
  setting: CompletionItemKind.Property,
  parameter: CompletionItemKind.Field,
  value: CompletionItemKind.EnumMember,
  reference: CompletionItemKind.Reference,
  variable: CompletionItemKind.Variable,
};

export const toCompletionKind = (kind: CompletionKind): CompletionItemKind => COMPLETION_KIND[kind];

const SYMBOL_KIND: Record<OutlineKind, SymbolKind> = {
  model: SymbolKind.Class,
  block: SymbolKind.Function,
  dataset: SymbolKind.Struct,
  train: SymbolKind.Event,
  layer: SymbolKind.Field,
  setting: SymbolKind.Property,
};

export function toDocumentSymbol(index: LineIndex, item: OutlineItem): DocumentSymbol {
  return {
    name: item.name,
    detail: item.detail,
    kind: SYMBOL_KIND[item.kind],
    range: toRange(index, item.span),
    selectionRange: toRange(index, item.selection),
    children: item.children.map((child) => toDocumentSymbol(index, child)),
  };
}
