/**
 * Hovers: what a layer does to the shape and what it costs, what a setting means, what a model
 * adds up to. Answers are Markdown.
 */
import type { Analysis } from '../analysis';
import { paramsOf } from '../catalog';
import { bytes, compact, groupDigits } from '../numbers';
import { formatShape } from '../semantics/layers';
import { activationBytes, type LayerInstance, type ModelInfo } from '../semantics/model';
import { show } from '../semantics/values';
import type { Statement } from '../syntax/ast';
import type { Span } from '../syntax/span';
import { locate, specOf } from './locate';
import { LineIndex } from '../text';

export interface Hover {
  readonly markdown: string;
  readonly span: Span;
}

const within = (span: Span, offset: number): boolean => offset >= span.start && offset <= span.end;

export function hover(analysis: Analysis, offset: number): Hover | undefined {
  for (const section of analysis.file.sections) {
    if (section.name && within(section.name.span, offset)) return sectionHover(analysis, section.name.text, section.kind, section.name.span);
  }
  for (const reference of analysis.symbols.references) {
    if (within(reference.name.span, offset) && reference.kind !== 'block') return sectionHover(analysis, reference.name.text, reference.kind, reference.name.span);
  }
  const location = locate(analysis, offset);
  const statement = location.statement;
  if (!statement) return undefined;
  const spec = specOf(location.container, statement);

  const keyArg = statement.args.find((a) => a.key && within(a.key.span, offset));
  if (keyArg?.key && spec) {
    const variant = statement.args[0]?.value.kind === 'ident' ? statement.args[0].value.name : undefined;
    const param = paramsOf(spec, variant).find((p) => p.name === keyArg.key!.text);
    if (param) return { markdown: `**${spec.name}** \`${param.name}\`${param.default ? ` (default \`${show(param.default)}\`)` : ''}\n\n${param.doc}`, span: keyArg.key.span };
  }
  const classesRef = statement.args.find((a) => a.value.kind === 'ident' && a.value.name === 'classes' && within(a.value.span, offset));
  if (classesRef) {
    const model = analysis.models.find((m) => m.section === location.section);
    if (model) return { markdown: `\`classes\` = **${model.classes.value}** (${model.classes.source === 'default' ? 'no dataset says otherwise: pair the model with a dataset in a train section, or declare classes' : `from ${model.classes.source}`})`, span: classesRef.value.span };
  }
  if (!within(statement.head.span, offset) && !within(statement.span, offset)) return undefined;

  const instances = instancesOf(analysis, statement);
  const block = !spec ? analysis.symbols.blocks.get(statement.head.text) : undefined;
  const doc = spec ? spec.doc + (spec.torch ? ` (PyTorch: \`${spec.torch}\`)` : '') : block ? `Block **${statement.head.text}**(${block.params.map((p) => p.name.text).join(', ')}).` : undefined;
  if (!doc) return undefined;
  const parts = [`**${statement.head.text}** — ${doc}`];
  if (instances.length === 1) parts.push(layerTable(instances[0]!.layer));
  else if (instances.length > 1) parts.push(callsTable(analysis, instances));
  else if (location.section?.kind === 'train') {
    const train = analysis.trains.find((t) => t.section === location.section);
    const resolved = train && (statement.head.text === 'optimizer' ? train.optimizer : statement.head.text === 'schedule' ? train.schedule : undefined);
    if (resolved) parts.push(`Resolved: ${Object.entries(resolved).map(([k, v]) => `\`${k}=${Array.isArray(v) ? `(${v.join(', ')})` : String(v)}\``).join(' ')}`);
  }
  return { markdown: parts.join('\n\n'), span: statement.head.span };
}

interface Placed {
  readonly model: ModelInfo;
  readonly layer: LayerInstance;
}

/** The layers a statement became, in every model that uses it. */
export function instancesOf(analysis: Analysis, statement: Statement): Placed[] {
  const placed: Placed[] = [];
  for (const model of analysis.models) for (const layer of model.byStatement.get(statement) ?? []) placed.push({ model, layer });
  return placed;
}

function layerTable(layer: LayerInstance): string {
  const rows = [
    ['input', formatShape(layer.input)],
    ['output', formatShape(layer.output)],
    ['parameters', `${groupDigits(layer.params)}${layer.projected ? ` (projection shortcut: ${groupDigits(layer.ownParams)})` : ''}`],
    ['MACs', `${compact(layer.macs)} (≈ ${compact(2 * layer.macs)} FLOPs)`],
    ['activations', `${bytes(activationBytes(layer.output))} per image (float32)`],
  ];
  if (layer.kind === 'residual') rows.push(['shortcut', layer.projected ? '1×1 conv + batchnorm projection' : 'identity']);
  return ['| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

function callsTable(analysis: Analysis, instances: readonly Placed[]): string {
  const shown = instances.slice(0, 8);
  const line = (layer: LayerInstance): string => String(new LineIndex(analysis.source).position(layer.statement.span.start).line + 1);
  const rows = shown.map(({ model, layer }) => `| ${model.name} \`${layer.path}\` | ${formatShape(layer.input)} | ${formatShape(layer.output)} | ${groupDigits(layer.params)} | ${compact(layer.macs)} |`);
  const more = instances.length > shown.length ? `\n\n…and ${instances.length - shown.length} more.` : '';
  return [`Used ${instances.length} times (statement on line ${line(shown[0]!.layer)}):`, '', '| where | input | output | parameters | MACs |', '| --- | --- | --- | --- | --- |', ...rows].join('\n') + more;
}

function sectionHover(analysis: Analysis, name: string, kind: string, span: Span): Hover | undefined {
  if (kind === 'model') {
    const model = analysis.models.find((m) => m.name === name);
    if (!model) return { markdown: `No model named \`${name}\`.`, span };
    const lines = [`**model ${name}**`, '', '| | |', '| --- | --- |'];
    lines.push(`| input | ${model.input ? formatShape(model.input) : '—'} |`);
    lines.push(`| output | ${model.output ? formatShape(model.output) : '— (fix the errors first)'} |`);
    lines.push(`| parameters | ${groupDigits(model.totalParams)} (${bytes(model.totalParams * 4)} as float32) |`);
    lines.push(`| MACs | ${compact(model.totalMacs)} per image (≈ ${compact(2 * model.totalMacs)} FLOPs) |`);
    lines.push(`| activations | ${bytes(model.layers.filter((l) => l.depth === 0).reduce((sum, l) => sum + activationBytes(l.output), 0))} per image (float32, top-level layers) |`);
    lines.push(`| classes | ${model.classes.value} (${model.classes.source}) |`);
    const heaviest = [...model.layers].filter((l) => l.ownParams > 0).sort((a, b) => b.ownParams - a.ownParams)[0];
    if (heaviest && model.totalParams > 0) lines.push('', `Largest layer: \`${heaviest.path}\` with ${groupDigits(heaviest.ownParams)} parameters (${((100 * heaviest.ownParams) / model.totalParams).toFixed(2)}%).`);
    return { markdown: lines.join('\n'), span };
  }
  if (kind === 'dataset') {
    const dataset = analysis.datasets.find((d) => d.name === name);
    if (!dataset) return { markdown: `No dataset named \`${name}\`.`, span };
    const lines = [`**dataset ${name}**`, ''];
    for (const source of dataset.sources) lines.push(`- ${source.split}: \`${source.path}\``);
    if (dataset.split) lines.push(`- split: val ${dataset.split.val}, test ${dataset.split.test}, seed ${dataset.split.seed}`);
    if (dataset.image) lines.push(`- images: ${formatShape(dataset.image)} (${dataset.resize})`);
    if (dataset.classes !== undefined) lines.push(`- classes: ${typeof dataset.classes === 'number' ? dataset.classes : dataset.classes.join(', ')}`);
    if (dataset.augment.length) lines.push(`- augment: ${dataset.augment.map((a) => a.name).join(', ')}`);
    if (dataset.normalize) lines.push(`- normalize: mean (${dataset.normalize.mean.join(', ')}), std (${dataset.normalize.std.join(', ')})`);
    return { markdown: lines.join('\n'), span };
  }
  if (kind === 'block') {
    const block = analysis.symbols.blocks.get(name);
    if (!block) return undefined;
    const calls = analysis.symbols.references.filter((r) => r.kind === 'block' && r.name.text === name).length;
    return { markdown: `**block ${name}**(${block.params.map((p) => p.name.text).join(', ')}) — used ${calls} time${calls === 1 ? '' : 's'}.`, span };
  }
  return undefined;
}
