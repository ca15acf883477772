/**
 * Finds what is at an offset: the section, the chain of statements around it, and the kind of
 * body it sits in. Every editor feature starts here.
 */
import type { BodyKind, StatementSpec } from '../catalog';
import { statementsFor } from '../catalog';
import type { Analysis } from '../analysis';
import type { Arg, Body, Section, SectionKind, Statement } from '../syntax/ast';
import type { Span } from '../syntax/span';

export interface Location {
  readonly section?: Section;
  /** Statements from the outermost to the innermost whose body or line holds the offset. */
  readonly chain: readonly Statement[];
  /** The innermost statement whose own line (head and arguments) holds the offset. */
  readonly statement?: Statement;
  /** The kind of body the offset is in: what statements may be written there. */
  readonly container?: SectionKind | BodyKind;
  readonly arg?: Arg;
}

const within = (span: Span, offset: number): boolean => offset >= span.start && offset <= span.end;

/** Whether the offset follows a statement without a body on its own line, where typing continues it: `conv 32 ‸`. */
const continues = (source: string, statement: Statement, offset: number): boolean => !statement.body && offset > statement.span.end && !source.slice(statement.span.end, offset).includes('\n');

function bodyHolds(body: Body, offset: number): boolean {
  return offset > body.open.start && (body.close ? offset <= body.close.start : true);
}

export function locate(analysis: Analysis, offset: number): Location {
  const section = analysis.file.sections.find((s) => within(s.span, offset) || (!s.body.close && offset >= s.span.start && bodyHolds(s.body, offset)));
  if (!section) return { chain: [] };
  const chain: Statement[] = [];
  let container: SectionKind | BodyKind | undefined = bodyHolds(section.body, offset) ? section.kind : undefined;
  let statements = container ? section.body.statements : [];
  let statement: Statement | undefined;
  for (;;) {
    const inner = statements.find((s) => within(s.span, offset) || continues(analysis.source, s, offset) || (s.body && !s.body.close && offset >= s.span.start && bodyHolds(s.body, offset)));
    if (!inner) break;
    chain.push(inner);
    const headerEnd = inner.body ? inner.body.open.start : inner.span.end;
    if (!inner.body || offset <= headerEnd) {
      statement = inner;
      break;
    }
    if (!inner.body || !bodyHolds(inner.body, offset)) break;
    const spec = statementsFor(container ?? section.kind).get(inner.head.text);
    container = spec?.body ?? 'layers';
    statements = inner.body.statements;
  }
  const arg = statement?.args.find((a) => within(a.span, offset));
  return { section, chain, ...(statement ? { statement } : {}), ...(container ? { container } : {}), ...(arg ? { arg } : {}) };
}

/** The spec of a statement in a container, or undefined for a block call or an unknown word. */
export function specOf(container: SectionKind | BodyKind | undefined, statement: Statement): StatementSpec | undefined {
  return container ? statementsFor(container).get(statement.head.text) : undefined;
}
