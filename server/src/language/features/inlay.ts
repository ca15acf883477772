/**
 * Inlay hints: each layer's output shape at the end of its line in a model, with its parameter
 * count where it has parameters. Statements with a body get theirs after the closing brace,
 * where the body's result is known.
 */
import type { Analysis } from '../analysis';
import { compact } from '../numbers';
import { formatShape } from '../semantics/layers';

export interface InlayHint {
  readonly offset: number;
  readonly label: string;
  readonly tooltip: string;
}

export function inlayHints(analysis: Analysis, range: { start: number; end: number }, options: { params: boolean }): InlayHint[] {
  const hints: InlayHint[] = [];
  for (const model of analysis.models) {
    const section = model.section;
    if (section.span.end < range.start || section.span.start > range.end) continue;
    const input = section.body.statements[0];
    if (model.input && input?.head.text === 'input' && input.span.end >= range.start && input.span.end <= range.end) {
      hints.push({ offset: input.span.end, label: ` ${formatShape(model.input)}`, tooltip: 'Input shape (C×H×W).' });
    }
    for (const [statement, layers] of model.byStatement) {
      // Only lines written in this model: a block's lines change with each call.
      if (statement.span.start < section.span.start || statement.span.end > section.span.end) continue;
      const offset = statement.body?.close?.end ?? statement.span.end;
      if (offset < range.start || offset > range.end) continue;
      const last = layers[layers.length - 1]!;
      const params = options.params && last.params > 0 ? ` · ${compact(last.params)} params` : '';
      const times = layers.length > 1 ? ` (last of ${layers.length})` : '';
      hints.push({ offset, label: ` → ${formatShape(last.output)}${params}`, tooltip: `Output of ${last.path}${times}: ${formatShape(last.output)}, ${last.params.toLocaleString('en-US')} parameters.` });
    }
  }
  return onePerLine(analysis.source, hints.sort((a, b) => a.offset - b.offset));
}

/**
 * Keeps the last hint of each line: on `repeat 2 { basic 64 }` the repeat's result is what the
 * line produces, and two arrows on one line would read as a chain.
 */
function onePerLine(source: string, hints: readonly InlayHint[]): InlayHint[] {
  const kept: InlayHint[] = [];
  for (const hint of hints) {
    const previous = kept[kept.length - 1];
    if (previous && !source.slice(previous.offset, hint.offset).includes('\n')) kept.pop();
    kept.push(hint);
  }
  return kept;
}
