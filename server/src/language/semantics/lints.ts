/**
 * Warnings for the mistakes people really make when they write classifiers: checks that look at
 * a whole model rather than one line.
 */
import type { Body, Section, Statement } from '../syntax/ast';
import { formatShape, elements } from './layers';
import type { ModelInfo } from './model';
import type { DiagnosticSink } from './report';
import { groupDigits } from '../numbers';
import { LineIndex } from '../text';
import { deleteLine, insertLineBefore } from './edits';

const ACTIVATIONS = new Set(['relu', 'leakyrelu', 'gelu', 'silu', 'sigmoid', 'tanh', 'softmax', 'maxpool', 'globalmaxpool']);
/** Layers that are linear themselves, so they do not separate two linear layers. */
const LINEAR_PASSTHROUGH = new Set(['batchnorm', 'dropout', 'flatten', 'avgpool', 'globalavgpool']);
const LINEAR = new Set(['dense', 'conv', 'dwconv']);

/** A dense layer holding more than this share of a model of at least this size gets a warning. */
export const DOMINANCE_SHARE = 0.9;
export const DOMINANCE_MIN_PARAMS = 5_000_000;


export function lintModel(model: ModelInfo, source: string, sink: DiagnosticSink): void {
  denseDominance(model, sink);
  lintBody(model.section.body, source, sink);
  lintOutput(model, source, sink);
}

/** Lints that read one body's statements in order; blocks are linted where they are declared. */
export function lintBody(body: Body, source: string, sink: DiagnosticSink): void {
  let lastLinear: Statement | undefined;
  for (const statement of body.statements) {
    const kind = statement.head.text;
    if (kind === 'dense' && lastLinear) {
      const line = new LineIndex(source).position(lastLinear.head.span.start).line + 1;
      sink.report('warning', 'no-activation', statement.head.span, `No activation between this dense layer and the ${lastLinear.head.text} on line ${line}: two linear layers in a row compute no more than one. Add relu (or another activation) between them.`, {
        fixes: [insertLineBefore(source, statement, 'relu', 'Insert relu before this layer')],
      });
    }
    if (LINEAR.has(kind)) lastLinear = statement;
    else if (!LINEAR_PASSTHROUGH.has(kind)) lastLinear = undefined;
    if (statement.body) lintBody(statement.body, source, sink);
  }
}

function denseDominance(model: ModelInfo, sink: DiagnosticSink): void {
  // Only convolutional networks: in a plain MLP the first dense layer holding most weights is normal.
  if (model.totalParams < DOMINANCE_MIN_PARAMS || !model.layers.some((l) => l.kind === 'conv' || l.kind === 'dwconv')) return;
  for (const layer of model.layers) {
    if (layer.kind !== 'dense' || layer.ownParams / model.totalParams <= DOMINANCE_SHARE) continue;
    const share = ((100 * layer.ownParams) / model.totalParams).toFixed(2);
    sink.report(
      'warning',
      'dense-dominates',
      layer.statement.head.span,
      `This dense layer holds ${groupDigits(layer.ownParams)} of the model's ${groupDigits(model.totalParams)} parameters (${share}%): its input is ${groupDigits(elements(layer.input))} values. Shrink what reaches it (more pooling, or globalavgpool before flatten) or use fewer units.`,
    );
  }
}

function lintOutput(model: ModelInfo, source: string, sink: DiagnosticSink): void {
  const statements = model.section.body.statements;
  const lastWeighted = findLastIndex(statements, (s) => !ACTIVATIONS.has(s.head.text) && !LINEAR_PASSTHROUGH.has(s.head.text) && s.head.text !== 'input');
  for (const statement of statements.slice(lastWeighted + 1)) {
    if (statement.head.text === 'dropout') {
      sink.report('warning', 'dropout-at-output', statement.head.span, "Dropout after the last layer zeroes the model's class scores at random while it trains. Move it before the last dense layer.", { fixes: [deleteLine(source, statement, 'Remove this dropout')] });
    }
    if (statement.head.text === 'softmax') {
      sink.report('warning', 'softmax-before-loss', statement.head.span, 'Training uses cross-entropy, which applies softmax itself: a softmax here squashes the scores twice and slows learning. Remove it; predictions still report probabilities.', {
        fixes: [deleteLine(source, statement, 'Remove this softmax')],
      });
    }
  }
  if (!model.output) return;
  if (model.output.length !== 1) {
    sink.report('warning', 'output-shape', model.section.name?.span ?? model.section.keyword.span, `The model ends in ${formatShape(model.output)}; a classifier should end in one score per class. End it with flatten and dense classes.`);
    return;
  }
  const last = statements[lastWeighted];
  if (model.classes.source.startsWith('dataset') && model.output[0] !== model.classes.value && last) {
    sink.report('warning', 'output-shape', last.head.span, `The model ends in ${model.output[0]} scores but ${model.classes.source} has ${model.classes.value} classes: write 'dense classes' for the last layer.`);
  }
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}

/** Blocks get the per-body lints even when no model uses them. */
export function lintBlock(section: Section, source: string, sink: DiagnosticSink): void {
  lintBody(section.body, source, sink);
}
