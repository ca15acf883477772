/**
 * An evaluation as plain-text tables for the terminal (`ocular eval`): the headline figures,
 * per-class precision, recall, F1 and support with the macro and weighted averages, the
 * confusion matrix (rows true, columns predicted) and the inference speed.
 */
import type { Evaluation } from './document';

/** Right-aligns every column but the first; columns are as wide as their widest cell. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
}

/** A class name shown in a table: control characters (a folder name can hold any) become '?'. */
const printable = (name: string): string => name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

const percent = (x: number): string => `${(x * 100).toFixed(2)}%`;
const fixed = (x: number): string => x.toFixed(3);

export function evaluationText(e: Evaluation): string {
  const names = e.classes.map(printable);
  const lines: string[] = [];
  const where = [e.runId && `run ${e.runId}`, `${e.split} split`, e.checkpoint && `${e.checkpoint.name} checkpoint (epoch ${e.checkpoint.epoch + 1})`].filter(Boolean).join(', ');
  lines.push(`Evaluation: ${where}; ${e.count} images, ${e.classes.length} classes`);
  lines.push(`accuracy ${percent(e.accuracy)}${e.topK.map((t) => `, top-${t.k} ${percent(t.accuracy)}`).join('')}, loss ${e.loss.toFixed(4)}`);
  lines.push('');
  lines.push(
    ...table([
      ['class', 'precision', 'recall', 'f1', 'support'],
      ...e.perClass.map((m, c) => [names[c]!, fixed(m.precision), fixed(m.recall), fixed(m.f1), String(m.support)]),
      ['macro avg', fixed(e.macro.precision), fixed(e.macro.recall), fixed(e.macro.f1), String(e.count)],
      ['weighted avg', fixed(e.weighted.precision), fixed(e.weighted.recall), fixed(e.weighted.f1), String(e.count)],
    ]),
  );
  lines.push('');
  lines.push('confusion matrix (rows: true class, columns: predicted)');
  lines.push(...table([['', ...names], ...e.confusion.map((row, t) => [names[t]!, ...row.map(String)])]));
  lines.push('');
  const s = e.speed;
  lines.push(`speed on ${e.backend} (${e.device}): latency at batch 1 p50 ${s.latencyMs.p50.toFixed(2)} ms, p95 ${s.latencyMs.p95.toFixed(2)} ms; throughput at batch ${s.throughput.batchSize} ${Math.round(s.throughput.imagesPerSecond)} images/s`);
  return `${lines.join('\n')}\n`;
}
