/**
 * Checks every statement's name and argument layout against the catalog, once per statement,
 * whatever its values: unknown layers and settings (with "did you mean"), unknown parameters,
 * too many unnamed values, missing ones, misplaced bodies.
 */
import { LAYER_SPECS, statementsFor, type BodyKind, type StatementSpec } from '../catalog';
import { closest } from '../names';
import type { Body, Section, SectionKind, Statement } from '../syntax/ast';
import { checkStructure } from './bind';
import type { DiagnosticSink } from './report';
import type { SymbolTable } from './symbols';

export function checkSections(sections: readonly Section[], symbols: SymbolTable, source: string, sink: DiagnosticSink): void {
  for (const section of sections) {
    checkBody(section.body, section.kind, section.kind, symbols, source, sink);
  }
  checkRecursion(symbols, sink);
}

/** Reports every block that uses itself, directly or through other blocks, at the call that closes the loop. */
function checkRecursion(symbols: SymbolTable, sink: DiagnosticSink): void {
  const visit = (block: Section, chain: readonly string[], seen: Set<string>): void => {
    const calls: Statement[] = [];
    const collect = (body: Body): void => {
      for (const statement of body.statements) {
        if (!LAYER_SPECS.has(statement.head.text) && symbols.blocks.has(statement.head.text)) calls.push(statement);
        if (statement.body) collect(statement.body);
      }
    };
    collect(block.body);
    for (const call of calls) {
      const callee = call.head.text;
      if (callee === chain[0]) {
        sink.report('error', 'recursive-block', call.head.span, `Block '${callee}' uses itself (${[...chain, callee].join(' → ')}); a network must be finite.`);
      } else if (!seen.has(callee)) {
        // Each block is entered once per starting block, so shared blocks cost nothing extra.
        seen.add(callee);
        visit(symbols.blocks.get(callee)!, [...chain, callee], seen);
      }
    }
  };
  for (const [name, block] of symbols.blocks) visit(block, [name], new Set([name]));
}

const CONTAINER_WORDS: Record<SectionKind | BodyKind, string> = {
  model: 'layer',
  block: 'layer',
  layers: 'layer',
  dataset: 'dataset setting',
  augment: 'augmentation',
  train: 'training setting',
};

function checkBody(body: Body, container: SectionKind | BodyKind, section: SectionKind, symbols: SymbolTable, source: string, sink: DiagnosticSink): void {
  const specs = statementsFor(container);
  const layers = container === 'model' || container === 'block' || container === 'layers';
  const seen = new Map<string, Statement>();
  for (const statement of body.statements) {
    const name = statement.head.text;
    const spec = specs.get(name);
    const block = layers && !spec ? symbols.blocks.get(name) : undefined;
    if (block) {
      checkStructure(blockSpec(block, source), statement, sink, `block '${name}'`);
      continue;
    }
    if (!spec) {
      reportUnknown(statement, specs, container, layers ? [...symbols.blocks.keys()] : [], sink);
      continue;
    }
    if (name === 'input' && (section !== 'model' || container !== 'model')) {
      sink.report('error', 'misplaced-input', statement.head.span, "'input' belongs at the top of a model, not inside a block or a residual.");
      continue;
    }
    checkStructure(spec, statement, sink);
    if (!layers) {
      const earlier = seen.get(name);
      if (earlier && name !== 'augment') sink.report('error', 'duplicate-setting', statement.head.span, `'${name}' is already set above; keep one.`, { related: [{ span: earlier.span, message: 'Set here first.' }] });
      seen.set(name, statement);
    }
    if (statement.body && spec.body) checkBody(statement.body, spec.body, section, symbols, source, sink);
  }
}

function reportUnknown(statement: Statement, specs: ReadonlyMap<string, StatementSpec>, container: SectionKind | BodyKind, blocks: readonly string[], sink: DiagnosticSink): void {
  const name = statement.head.text;
  const candidates = [...specs.keys(), ...blocks];
  const suggestion = closest(name, candidates);
  const word = CONTAINER_WORDS[container];
  // A layer written in a dataset section, or a setting in a model, is a misplaced line, not a typo.
  const elsewhere = container !== 'model' && container !== 'block' && container !== 'layers' && LAYER_SPECS.has(name) ? ` '${name}' is a layer: layers go in a model or block.` : '';
  sink.report(
    'error',
    `unknown-${word.replace(/ /g, '-')}`,
    statement.head.span,
    suggestion ? `Unknown ${word} '${name}': did you mean '${suggestion}'?` : `Unknown ${word} '${name}'.${elsewhere || ` Expected one of: ${candidates.join(', ')}.`}`,
    suggestion ? { fixes: [{ title: `Change to '${suggestion}'`, edits: [{ span: statement.head.span, text: suggestion }] }] } : {},
  );
}

/**
 * A block's parameters seen as a statement spec, so calls are checked and completed like built-in
 * layers. A default is shown as written, since it may refer to earlier parameters.
 */
export function blockSpec(block: Section, source: string): StatementSpec {
  const name = block.name!.text;
  return {
    name,
    doc: `Block ${name}, declared in this file.`,
    positional: block.params.map((p) => p.name.text),
    params: block.params.map((p) => ({ name: p.name.text, type: { kind: 'number' }, ...(p.default ? { default: { kind: 'word', text: source.slice(p.default.span.start, p.default.span.end) } } : {}), doc: `Parameter of block ${name}.` })),
  };
}
