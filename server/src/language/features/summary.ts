/** A layer-by-layer table of a model, the way `torchsummary` prints one. */
import type { Analysis } from '../analysis';
import { bytes, groupDigits } from '../numbers';
import { formatShape } from '../semantics/layers';
import type { ModelInfo } from '../semantics/model';
import { LineIndex } from '../text';

export function summaryRows(analysis: Analysis, model: ModelInfo): { name: string; kind: string; outputShape: number[]; params: number; macs: number; line: number }[] {
  const index = new LineIndex(analysis.source);
  return model.layers.map((layer) => ({ name: layer.path, kind: layer.kind, outputShape: [...layer.output], params: layer.params, macs: layer.macs, line: index.position(layer.statement.head.span.start).line }));
}

export function summaryText(model: ModelInfo): string {
  const rows = model.layers.map((layer) => [`${'  '.repeat(layer.depth)}${layer.path}`, layer.kind, `[${formatShape(layer.output)}]`, groupDigits(layer.params)]);
  const header = ['Layer', 'Type', 'Output shape', 'Param #'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const rule = '='.repeat(widths.reduce((a, b) => a + b + 2, -2));
  return [
    `Model ${model.name}: input ${model.input ? formatShape(model.input) : '?'}`,
    rule,
    line(header),
    rule.replace(/=/g, '-'),
    ...rows.map(line),
    rule,
    `Total params: ${groupDigits(model.totalParams)} (${bytes(model.totalParams * 4)} as float32)`,
    `MACs per image: ${groupDigits(model.totalMacs)}`,
    `Output: ${model.output ? formatShape(model.output) : 'unknown (the file has errors)'}; classes = ${model.classes.value} (${model.classes.source})`,
    '',
  ].join('\n');
}
