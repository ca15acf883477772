/**
 * Completion: section keywords at the top level; the statements a body allows at the start of a
 * line (layers and blocks, dataset or train settings, augmentations); a statement's parameters
 * with defaults and docs after its name; the allowed words after `key=`; names of models and
 * datasets in a train section. Inside a dataset path string it asks the host for folder names.
 */
import type { Analysis } from '../analysis';
import { paramsOf, statementsFor, type StatementSpec } from '../catalog';
import type { ValueType } from '../semantics/values';
import { show } from '../semantics/values';
import type { Span } from '../syntax/span';
import { locate, specOf } from './locate';
import { lineStartOf } from '../text';
import { blockSpec } from '../semantics/structure';

export type CompletionKind = 'keyword' | 'layer' | 'block' | 'setting' | 'parameter' | 'value' | 'reference' | 'variable';

export interface CompletionItem {
  readonly label: string;
  readonly kind: CompletionKind;
  readonly detail?: string;
  readonly documentation?: string;
  /** Text to insert in place of the word being typed; the label when absent. */
  readonly insertText?: string;
  /** Sorts the item before others of its kind: a statement's unused parameters come first. */
  readonly preselect?: boolean;
}

export interface CompletionResult {
  readonly items: readonly CompletionItem[];
  /** The span of the word being typed, which a chosen item replaces. */
  readonly replace: Span;
  /** Set when the cursor is in a dataset path: the host lists folders under `prefix`. */
  readonly path?: { readonly prefix: string; readonly span: Span };
}

const SECTION_SNIPPETS: readonly CompletionItem[] = [
  { label: 'model', kind: 'keyword', detail: 'model NAME { … }', documentation: 'A network: its first line is `input CxHxW`, then its layers.' },
  { label: 'block', kind: 'keyword', detail: 'block NAME(params) { … }', documentation: 'A reusable, parameterised run of layers.' },
  { label: 'dataset', kind: 'keyword', detail: 'dataset NAME { … }', documentation: 'Where images come from and how they are prepared.' },
  { label: 'train', kind: 'keyword', detail: 'train { … }', documentation: 'Which model trains on which dataset, and how.' },
];

const NUMERIC = new Set<ValueType['kind']>(['int', 'number', 'size', 'numbers']);

export function complete(analysis: Analysis, offset: number): CompletionResult {
  const source = analysis.source;
  const lineStart = lineStartOf(source, offset);
  const before = source.slice(lineStart, offset);
  const word = /[A-Za-z0-9_]*$/.exec(before)![0];
  const replace = { start: offset - word.length, end: offset };
  const location = locate(analysis, offset);

  const string = openString(before);
  if (string !== undefined) {
    const statement = location.statement;
    const isPath = location.section?.kind === 'dataset' && statement && ['train', 'val', 'test'].includes(statement.head.text);
    return isPath ? { items: [], replace, path: { prefix: string, span: { start: offset - string.length, end: offset } } } : { items: [], replace };
  }
  if (before.includes('#')) return { items: [], replace };

  if (!location.container) {
    return { items: /^\s*[A-Za-z_]*$/.test(before) ? SECTION_SNIPPETS : [], replace };
  }
  const specs = statementsFor(location.container);
  const atHead = /^\s*[A-Za-z_0-9]*$/.test(before);
  if (atHead) return { items: statementItems(analysis, specs, location.container === 'model' || location.container === 'block' || location.container === 'layers'), replace };

  const statement = location.statement;
  if (!statement) return { items: [], replace };
  const spec = specOf(location.container, statement) ?? blockSpecByName(analysis, statement.head.text);
  if (!spec) return { items: [], replace };
  const variant = statement.args[0]?.value.kind === 'ident' && !statement.args[0].key ? statement.args[0].value.name : undefined;
  const params = paramsOf(spec, variant);

  const keyMatch = /([A-Za-z_][A-Za-z0-9_]*)=\s*[A-Za-z0-9_]*$/.exec(before);
  if (keyMatch) {
    const param = params.find((p) => p.name === keyMatch[1]);
    return { items: param ? valueItems(analysis, param.type, location) : [], replace };
  }
  const given = new Set(statement.args.filter((a) => a.key && a.span.end < replace.start).map((a) => a.key!.text));
  const positionalCount = statement.args.filter((a) => !a.key && a.span.end < replace.start).length;
  const items: CompletionItem[] = [];
  const nextPositional = spec.positional[positionalCount];
  const positionalParam = params.find((p) => p.name === nextPositional);
  if (positionalParam && statement.args.every((a) => !a.key || a.span.start >= replace.start)) items.push(...valueItems(analysis, positionalParam.type, location));
  for (const param of params) {
    if (given.has(param.name) || spec.positional.slice(0, positionalCount).includes(param.name)) continue;
    // The next positional parameter is offered by name only when it is optional and numeric: its
    // words (resize stretch, model names) are offered above, and a number cannot be suggested.
    if (param.name === nextPositional && (!param.default || !NUMERIC.has(param.type.kind))) continue;
    items.push({ label: `${param.name}=`, kind: 'parameter', detail: param.default ? `default ${show(param.default)}` : 'required', documentation: param.doc, insertText: `${param.name}=`, preselect: true });
  }
  return { items, replace };
}

/** When the line has an open string before the cursor, the text typed in it so far. */
function openString(before: string): string | undefined {
  let inString = false;
  let start = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === '#' && !inString) return undefined;
    if (before[i] === '\\' && inString) i++;
    else if (before[i] === '"') {
      inString = !inString;
      start = i + 1;
    }
  }
  return inString ? before.slice(start) : undefined;
}

function statementItems(analysis: Analysis, specs: ReadonlyMap<string, StatementSpec>, layers: boolean): CompletionItem[] {
  const items: CompletionItem[] = [...specs.values()].map((spec) => ({
    label: spec.name,
    kind: layers ? 'layer' : 'setting',
    detail: signature(spec),
    documentation: spec.doc + (spec.torch ? `\n\nPyTorch: ${spec.torch}` : ''),
  }));
  if (layers) {
    for (const [name, block] of analysis.symbols.blocks) {
      items.push({ label: name, kind: 'block', detail: `block ${name}(${block.params.map((p) => analysis.source.slice(p.span.start, p.span.end)).join(', ')})`, documentation: `A block declared in this file.` });
    }
  }
  return items;
}

function signature(spec: StatementSpec): string {
  const parts = spec.params.map((p) => (spec.positional.includes(p.name) && !p.default ? p.name : `${p.name}=${p.default ? show(p.default) : '…'}`));
  return `${spec.name} ${parts.join(' ')}`.trim();
}

function valueItems(analysis: Analysis, type: ValueType, location: ReturnType<typeof locate>): CompletionItem[] {
  const words = (values: readonly string[], detail: string): CompletionItem[] => values.map((label) => ({ label, kind: 'value', detail }));
  switch (type.kind) {
    case 'enum':
      return words(type.values, 'value');
    case 'bool':
      return words(['true', 'false'], 'value');
    case 'padding':
      return [...words(['same', 'valid'], 'padding'), ...variables(analysis, location)];
    case 'weights':
      return words(['balanced'], 'inverse class frequency');
    case 'ref': {
      const table = type.target === 'model' ? analysis.symbols.models : analysis.symbols.datasets;
      return [...table.keys()].map((label) => ({ label, kind: 'reference', detail: type.target }));
    }
    case 'int':
    case 'number':
    case 'size':
    case 'numbers':
      return variables(analysis, location);
    default:
      return [];
  }
}

/** Names usable as values here: `classes`, and the parameters of the enclosing block or model. */
function variables(analysis: Analysis, location: ReturnType<typeof locate>): CompletionItem[] {
  const section = location.section;
  if (!section || (section.kind !== 'model' && section.kind !== 'block')) return [];
  const items: CompletionItem[] = section.params.map((p) => ({ label: p.name.text, kind: 'variable', detail: `parameter of ${section.kind} ${section.name?.text ?? ''}` }));
  if (!section.params.some((p) => p.name.text === 'classes')) {
    const model = analysis.models.find((m) => m.section === section);
    items.push({ label: 'classes', kind: 'variable', detail: model ? `${model.classes.value} (${model.classes.source})` : 'the number of classes' });
  }
  return items;
}

function blockSpecByName(analysis: Analysis, name: string): StatementSpec | undefined {
  const block = analysis.symbols.blocks.get(name);
  return block && blockSpec(block, analysis.source);
}
