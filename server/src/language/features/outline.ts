/** The outline: sections, and in models and blocks the layers they hold, with output shapes. */
import type { Analysis } from '../analysis';
import { compact } from '../numbers';
import { formatShape } from '../semantics/layers';
import type { SectionKind, Statement } from '../syntax/ast';
import type { Span } from '../syntax/span';

export type OutlineKind = SectionKind | 'layer' | 'setting';

export interface OutlineItem {
  readonly name: string;
  readonly detail: string;
  readonly kind: OutlineKind;
  readonly span: Span;
  readonly selection: Span;
  readonly children: readonly OutlineItem[];
}

export function outline(analysis: Analysis): OutlineItem[] {
  return analysis.file.sections.map((section) => {
    const model = analysis.models.find((m) => m.section === section);
    const layerKind = section.kind === 'model' || section.kind === 'block';
    const describe = (statement: Statement): OutlineItem => {
      const layers = model?.byStatement.get(statement);
      const last = layers?.[layers.length - 1];
      const args = statement.args.map((a) => analysis.source.slice(a.span.start, a.span.end)).join(' ');
      return {
        name: `${statement.head.text}${args ? ` ${args}` : ''}`,
        detail: last ? formatShape(last.output) : '',
        kind: layerKind ? 'layer' : 'setting',
        span: statement.span,
        selection: statement.head.span,
        children: (statement.body?.statements ?? []).map(describe),
      };
    };
    const name = section.name?.text ?? section.kind;
    const detail = model ? `${model.output ? formatShape(model.output) : '?'} · ${compact(model.totalParams)} params` : section.kind;
    return { name, detail, kind: section.kind, span: section.span, selection: section.name?.span ?? section.keyword.span, children: section.body.statements.map(describe) };
  });
}
