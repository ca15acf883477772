/** Go to definition, find references and rename, for models, blocks and datasets. */
import type { Analysis } from '../analysis';
import { LAYER_SPECS } from '../catalog';
import { symbolAt } from '../semantics/symbols';
import type { Span } from '../syntax/span';

export function definition(analysis: Analysis, offset: number): Span | undefined {
  return symbolAt(analysis.symbols, analysis.file.sections, offset)?.declaration?.name?.span;
}

export function references(analysis: Analysis, offset: number): Span[] {
  return symbolAt(analysis.symbols, analysis.file.sections, offset)?.spans ?? [];
}

/** The span of the name that would be renamed at `offset`, or undefined when nothing renames there. */
export function prepareRename(analysis: Analysis, offset: number): Span | undefined {
  const symbol = symbolAt(analysis.symbols, analysis.file.sections, offset);
  if (!symbol?.declaration) return undefined;
  return symbol.spans.find((s) => offset >= s.start && offset <= s.end);
}

export type RenameResult = { readonly ok: true; readonly edits: readonly { span: Span; text: string }[] } | { readonly ok: false; readonly message: string };

export function rename(analysis: Analysis, offset: number, newName: string): RenameResult {
  const symbol = symbolAt(analysis.symbols, analysis.file.sections, offset);
  if (!symbol?.declaration) return { ok: false, message: 'Only models, blocks and datasets declared in this file can be renamed.' };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) return { ok: false, message: `'${newName}' is not a valid name: use letters, digits and _, starting with a letter.` };
  const table = symbol.kind === 'model' ? analysis.symbols.models : symbol.kind === 'block' ? analysis.symbols.blocks : analysis.symbols.datasets;
  const current = symbol.declaration.name!.text;
  if (newName !== current && table.has(newName)) return { ok: false, message: `There is already a ${symbol.kind} named '${newName}'.` };
  if (symbol.kind === 'block' && LAYER_SPECS.has(newName)) return { ok: false, message: `'${newName}' is a built-in layer.` };
  return { ok: true, edits: symbol.spans.map((span) => ({ span, text: newName })) };
}
