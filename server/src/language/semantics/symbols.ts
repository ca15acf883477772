/**
 * The file's named things (models, blocks, datasets) and every place that refers to one, so that
 * go-to-definition, references and rename work from either end.
 */
import { LAYER_SPECS, TRAIN_SPECS } from '../catalog';
import { closest } from '../names';
import type { Body, Name, Section, SourceFile } from '../syntax/ast';
import type { Span } from '../syntax/span';
import type { DiagnosticSink } from './report';

export type SymbolKind = 'model' | 'block' | 'dataset';

export interface Reference {
  readonly kind: SymbolKind;
  readonly name: Name;
  readonly target?: Section;
}

export interface SymbolTable {
  readonly models: ReadonlyMap<string, Section>;
  readonly blocks: ReadonlyMap<string, Section>;
  readonly datasets: ReadonlyMap<string, Section>;
  readonly trains: readonly Section[];
  readonly references: readonly Reference[];
}

export function collectSymbols(file: SourceFile, sink: DiagnosticSink): SymbolTable {
  const models = new Map<string, Section>();
  const blocks = new Map<string, Section>();
  const datasets = new Map<string, Section>();
  const trains: Section[] = [];
  const tables: Record<SymbolKind, Map<string, Section>> = { model: models, block: blocks, dataset: datasets };

  for (const section of file.sections) {
    if (section.kind === 'train') {
      trains.push(section);
      continue;
    }
    if (!section.name) continue;
    const table = tables[section.kind];
    const earlier = table.get(section.name.text);
    if (earlier) {
      sink.report('error', 'duplicate-name', section.name.span, `There is already a ${section.kind} named '${section.name.text}'; give this one another name.`, { related: [{ span: earlier.name!.span, message: 'The first one.' }] });
      continue;
    }
    if (section.kind === 'block' && LAYER_SPECS.has(section.name.text)) {
      sink.report('error', 'duplicate-name', section.name.span, `'${section.name.text}' is a built-in layer; give the block another name.`);
      continue;
    }
    table.set(section.name.text, section);
  }

  const references: Reference[] = [];
  const visitLayers = (body: Body): void => {
    for (const statement of body.statements) {
      const block = blocks.get(statement.head.text);
      if (block && !LAYER_SPECS.has(statement.head.text)) references.push({ kind: 'block', name: statement.head, target: block });
      if (statement.body) visitLayers(statement.body);
    }
  };
  for (const section of file.sections) {
    if (section.kind === 'model' || section.kind === 'block') visitLayers(section.body);
    if (section.kind !== 'train') continue;
    for (const statement of section.body.statements) {
      const refKind = statement.head.text === 'model' ? 'model' : statement.head.text === 'data' ? 'dataset' : undefined;
      const arg = statement.args[0];
      if (!refKind || !TRAIN_SPECS.has(statement.head.text) || !arg || arg.value.kind !== 'ident') continue;
      const name = { text: arg.value.name, span: arg.value.span };
      const target = tables[refKind].get(name.text);
      references.push({ kind: refKind, name, ...(target ? { target } : {}) });
      if (!target) {
        const suggestion = closest(name.text, tables[refKind].keys());
        const known = [...tables[refKind].keys()];
        sink.report(
          'error',
          'unknown-reference',
          name.span,
          suggestion
            ? `No ${refKind} named '${name.text}': did you mean '${suggestion}'?`
            : `No ${refKind} named '${name.text}'.${known.length ? ` This file has: ${known.join(', ')}.` : ` Declare one with '${refKind} ${name.text} { … }'.`}`,
          suggestion ? { fixes: [{ title: `Change to '${suggestion}'`, edits: [{ span: name.span, text: suggestion }] }] } : {},
        );
      }
    }
  }
  return { models, blocks, datasets, trains, references };
}

/** The declaration name and every reference of the symbol at `offset`, or undefined. */
export function symbolAt(table: SymbolTable, sections: readonly Section[], offset: number): { kind: SymbolKind; declaration?: Section; spans: Span[] } | undefined {
  const inside = (s: Span): boolean => offset >= s.start && offset <= s.end;
  let kind: SymbolKind | undefined;
  let declaration: Section | undefined;
  let name: string | undefined;
  for (const section of sections) {
    if (section.kind !== 'train' && section.name && inside(section.name.span)) {
      kind = section.kind;
      declaration = section;
      name = section.name.text;
    }
  }
  for (const reference of table.references) {
    if (inside(reference.name.span)) {
      kind = reference.kind;
      declaration = reference.target;
      name = reference.name.text;
    }
  }
  if (!kind || name === undefined) return undefined;
  const spans: Span[] = [];
  if (declaration?.name) spans.push(declaration.name.span);
  for (const reference of table.references) {
    if (reference.kind === kind && reference.name.text === name) spans.push(reference.name.span);
  }
  return { kind, ...(declaration ? { declaration } : {}), spans };
}
