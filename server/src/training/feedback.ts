/**
 * What a training run says about the model file, as diagnostics on the lines that can fix it:
 * overfitting (with quick fixes: dropout, augmentation, early stopping), a loss that does not
 * fall, a loss that became NaN or infinite (on the learning rate), running out of memory (on the
 * batch size) and classes the model never predicts. Pure: an analysis of the file as it is now
 * and the run's epoch history in, core diagnostics out, so the editor recomputes them on every
 * edit and each one disappears as soon as the history no longer shows it.
 */
import type { Analysis } from '../language/analysis';
import type { Diagnostic, Fix } from '../language/diagnostics';
import { insertLineBefore } from '../language/semantics/edits';
import type { ModelInfo } from '../language/semantics/model';
import type { DatasetConfig, TrainConfig } from '../language/semantics/settings';
import type { Section, Statement } from '../language/syntax/ast';
import type { Span } from '../language/syntax/span';
import { lineStartOf } from '../language/text';

/** One epoch line of metrics.jsonl, as far as feedback reads it (null where JSON had no number). */
export interface EpochHistory {
  readonly epoch: number;
  readonly train_loss: number | null;
  readonly train_acc: number | null;
  readonly val_loss?: number | null;
  readonly val_acc?: number | null;
  /** Validation images predicted as each class, in class order. */
  readonly val_predicted?: readonly number[];
}

export interface FeedbackInput {
  /** The model the run trained: the train section that trains it is the one diagnosed. */
  readonly modelName: string;
  readonly history: readonly EpochHistory[];
  /** Class names in label order, for naming the classes never predicted. */
  readonly classes?: readonly string[];
  /** Why the run ended, when it failed. */
  readonly error?: { readonly kind: 'nan' | 'oom' | 'data' | 'error'; readonly message: string };
  /**
   * True when the file has changed since the run started: the findings still stand, but quick
   * fixes are left out because the run did not train the text they would edit.
   */
  readonly edited?: boolean;
}

/** A train/val accuracy gap above this, for this many epochs in a row, is overfitting. */
export const OVERFIT_GAP = 0.1;
export const OVERFIT_EPOCHS = 2;
/** The training loss must fall by at least this share of its first value within LOSS_EPOCHS epochs. */
export const LOSS_DROP = 0.01;
export const LOSS_EPOCHS = 3;
/** Dropout is raised by this much, up to MAX_DROPOUT. */
const DROPOUT_STEP = 0.2;
const MAX_DROPOUT = 0.7;

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);
const statementOf = (section: Section, head: string): Statement | undefined => section.body.statements.find((s) => s.head.text === head);

/** The feedback diagnostics of one run on the file as it is now, sorted by position. */
export function trainingFeedback(analysis: Analysis, input: FeedbackInput): Diagnostic[] {
  const train = analysis.trains.find((t) => t.model === input.modelName);
  if (!train) return [];
  const model = analysis.models.find((m) => m.name === input.modelName);
  const dataset = analysis.datasets.find((d) => d.name === train.data);
  const context: Context = { source: analysis.source, train, model, dataset, fixes: !input.edited };
  const found = [nonFinite(context, input), outOfMemory(context, input), overfitting(context, input.history), lossNotFalling(context, input.history), neverPredicted(context, input)];
  return found.filter((d): d is Diagnostic => d !== undefined).sort((a, b) => a.span.start - b.span.start);
}

interface Context {
  readonly source: string;
  readonly train: TrainConfig;
  readonly model: ModelInfo | undefined;
  readonly dataset: DatasetConfig | undefined;
  readonly fixes: boolean;
}

function diagnostic(context: Context, span: Span, severity: Diagnostic['severity'], code: string, message: string, fixes: readonly (Fix | undefined)[] = []): Diagnostic {
  const offered = context.fixes ? fixes.filter((f): f is Fix => f !== undefined) : [];
  return { span, severity, code, message, ...(offered.length > 0 ? { fixes: offered } : {}) };
}

/** Where a train-section finding goes: the named setting's line, else the `train` keyword. */
function trainLine(context: Context, head: string): Span {
  const statement = statementOf(context.train.section, head);
  return statement?.span ?? context.train.section.keyword.span;
}

function overfitting(context: Context, history: readonly EpochHistory[]): Diagnostic | undefined {
  const recent = history.slice(-OVERFIT_EPOCHS);
  if (recent.length < OVERFIT_EPOCHS) return undefined;
  const gapped = recent.every((e) => finite(e.train_acc) && finite(e.val_acc) && e.train_acc - e.val_acc > OVERFIT_GAP);
  const rising = history.slice(-(OVERFIT_EPOCHS + 1));
  const diverging =
    rising.length === OVERFIT_EPOCHS + 1 &&
    rising.every((e) => finite(e.val_loss) && finite(e.train_loss)) &&
    rising.slice(1).every((e, i) => e.val_loss! > rising[i]!.val_loss! && e.train_loss! < rising[i]!.train_loss!);
  if (!gapped && !diverging) return undefined;
  const last = history[history.length - 1]!;
  const what = gapped
    ? `training accuracy ${percent(last.train_acc!)} against validation ${percent(last.val_acc!)} (a gap above ${percent(OVERFIT_GAP)} for ${OVERFIT_EPOCHS} epochs)`
    : `the validation loss rose for ${OVERFIT_EPOCHS} epochs (${rising.map((e) => e.val_loss!.toFixed(3)).join(' → ')}) while the training loss fell`;
  return diagnostic(
    context,
    trainLine(context, 'model'),
    'warning',
    'overfitting',
    `Overfitting after epoch ${last.epoch + 1}: ${what}. The model is memorising its training images; add or raise dropout, add augmentation, or stop early.`,
    [dropoutFix(context), augmentFix(context), earlyStopFix(context)],
  );
}

/** Raises the dropout before the last layer, or adds one there. */
function dropoutFix(context: Context): Fix | undefined {
  const statements = context.model?.section.body.statements ?? [];
  const dropout = [...statements].reverse().find((s) => s.head.text === 'dropout');
  if (dropout) {
    const arg = dropout.args.find((a) => a.key === undefined || a.key.text === 'p');
    const p = arg?.value.kind === 'number' ? arg.value.value : arg ? undefined : 0.5;
    if (p === undefined || p >= MAX_DROPOUT) return undefined;
    const raised = Math.round(10 * Math.min(MAX_DROPOUT, p + DROPOUT_STEP)) / 10;
    const edit = arg ? { span: arg.value.span, text: String(raised) } : { span: { start: dropout.head.span.end, end: dropout.head.span.end }, text: ` ${raised}` };
    return { title: `Raise dropout to ${raised}`, edits: [edit] };
  }
  const lastDense = [...statements].reverse().find((s) => s.head.text === 'dense');
  return lastDense ? insertLineBefore(context.source, lastDense, 'dropout 0.5', 'Add dropout 0.5 before the last dense layer') : undefined;
}

/** Adds flips and small rotations to the dataset's augmentations (or an augment block with them). */
function augmentFix(context: Context): Fix | undefined {
  const section = context.dataset?.section;
  if (!section) return undefined;
  const block = statementOf(section, 'augment');
  if (!block?.body) {
    const anchor = statementOf(section, 'normalize') ?? section.body.statements[section.body.statements.length - 1];
    if (!anchor) return undefined;
    const indent = context.source.slice(lineStartOf(context.source, anchor.head.span.start), anchor.head.span.start);
    const text = ['augment {', `${indent}  hflip`, `${indent}  rotate 10`, `${indent}}`].join('\n');
    return anchor.head.text === 'normalize' ? insertLineBefore(context.source, anchor, text, 'Add augmentation: hflip, rotate 10') : insertLineAfter(context.source, anchor, text, 'Add augmentation: hflip, rotate 10');
  }
  const present = new Set(block.body.statements.map((s) => s.head.text));
  const missing = ['hflip', 'rotate 10'].find((line) => !present.has(line.split(' ')[0]!));
  if (!missing) return undefined;
  const last = block.body.statements[block.body.statements.length - 1];
  if (last) return insertLineAfter(context.source, last, missing, `Add augmentation: ${missing}`);
  // An empty augment { } body: put the augmentation inside the braces.
  return { title: `Add augmentation: ${missing}`, edits: [{ span: { start: block.body.open.end, end: block.body.close?.start ?? block.body.open.end }, text: ` ${missing} ` }] };
}

function earlyStopFix(context: Context): Fix | undefined {
  const statements = context.train.section.body.statements;
  const last = statements[statements.length - 1];
  if (context.train.earlyStop || !last) return undefined;
  return insertLineAfter(context.source, last, 'early_stop monitor=val_loss patience=3', 'Add early_stop monitor=val_loss patience=3');
}

/** A line after a statement, indented like it (the counterpart of the core's insertLineBefore). */
function insertLineAfter(source: string, statement: Statement, text: string, title: string): Fix {
  const indent = source.slice(lineStartOf(source, statement.head.span.start), statement.head.span.start);
  return { title, edits: [{ span: { start: statement.span.end, end: statement.span.end }, text: `\n${indent}${text}` }] };
}

function lossNotFalling(context: Context, history: readonly EpochHistory[]): Diagnostic | undefined {
  if (history.length < LOSS_EPOCHS) return undefined;
  const losses = history.map((e) => e.train_loss);
  if (!losses.every(finite)) return undefined;
  const first = losses[0]!;
  const best = Math.min(...losses.slice(1));
  if (best < first * (1 - LOSS_DROP)) return undefined;
  const lr = context.train.optimizer['lr'];
  return diagnostic(
    context,
    lrSpan(context),
    'warning',
    'loss-not-falling',
    `The training loss has not fallen in ${history.length} epochs (${first.toFixed(3)} at the first, ${losses[losses.length - 1]!.toFixed(3)} now): the learning rate${typeof lr === 'number' ? ` (${lr})` : ''} may be too high or too low, or the labels may not match the images.`,
  );
}

/** The learning rate as written (its value), else the optimizer line, else the train keyword. */
function lrSpan(context: Context): Span {
  const optimizer = statementOf(context.train.section, 'optimizer');
  return optimizer?.args.find((a) => a.key?.text === 'lr')?.value.span ?? optimizer?.span ?? context.train.section.keyword.span;
}

function nonFinite(context: Context, input: FeedbackInput): Diagnostic | undefined {
  const bad = input.history.find((e) => !finite(e.train_loss) || (e.val_loss !== undefined && e.val_loss !== null && !Number.isFinite(e.val_loss)));
  if (input.error?.kind !== 'nan' && !bad) return undefined;
  const lr = context.train.optimizer['lr'];
  const lower = typeof lr === 'number' ? Number((lr / 10).toPrecision(2)) : undefined;
  const when = bad ? `in epoch ${bad.epoch + 1}` : 'during training';
  return diagnostic(
    context,
    lrSpan(context),
    'error',
    'loss-not-finite',
    `The loss became NaN or infinite ${when}, so training stopped. The learning rate${typeof lr === 'number' ? ` ${lr}` : ''} is the usual cause: lower it${lower !== undefined ? ` to ${lower}` : ''}.`,
    [lower !== undefined ? lrFix(context, lower) : undefined],
  );
}

function lrFix(context: Context, lr: number): Fix | undefined {
  const optimizer = statementOf(context.train.section, 'optimizer');
  const title = `Lower the learning rate to ${lr}`;
  const arg = optimizer?.args.find((a) => a.key?.text === 'lr');
  if (arg) return { title, edits: [{ span: arg.value.span, text: String(lr) }] };
  if (optimizer) return { title, edits: [{ span: { start: optimizer.span.end, end: optimizer.span.end }, text: ` lr=${lr}` }] };
  const last = context.train.section.body.statements[context.train.section.body.statements.length - 1];
  return last ? insertLineAfter(context.source, last, `optimizer ${context.train.optimizer.name} lr=${lr}`, title) : undefined;
}

function outOfMemory(context: Context, input: FeedbackInput): Diagnostic | undefined {
  if (input.error?.kind !== 'oom') return undefined;
  const batch = context.train.batch;
  const smaller = Math.max(1, Math.floor(batch / 2));
  const statement = statementOf(context.train.section, 'batch');
  const fix: Fix | undefined =
    batch <= 1
      ? undefined
      : statement?.args[0]
        ? { title: `Use batch ${smaller}`, edits: [{ span: statement.args[0].value.span, text: String(smaller) }] }
        : (() => {
            const last = context.train.section.body.statements[context.train.section.body.statements.length - 1];
            return last ? insertLineAfter(context.source, last, `batch ${smaller}`, `Use batch ${smaller}`) : undefined;
          })();
  const advice = batch <= 1 ? 'Even one image does not fit: use a smaller image size or a smaller model.' : `Try batch ${smaller}${context.train.accumulate === 1 ? ` (with 'accumulate 2' to keep the effective batch of ${batch})` : ''}.`;
  return diagnostic(context, statement?.span ?? context.train.section.keyword.span, 'error', 'out-of-memory', `Training ran out of memory with batch ${batch} and stopped; the run's checkpoints are kept. ${advice} (${input.error.message})`, [fix]);
}

function neverPredicted(context: Context, input: FeedbackInput): Diagnostic | undefined {
  // The first epoch of a fresh model often predicts one class for everything; judge from the second.
  if (input.history.length < 2) return undefined;
  const counts = input.history[input.history.length - 1]!.val_predicted;
  if (!counts || counts.length < 2 || counts.every((c) => c === 0)) return undefined;
  const missing = counts.flatMap((count, i) => (count === 0 ? [input.classes?.[i] ?? `class ${i}`] : []));
  if (missing.length === 0) return undefined;
  const names = missing.length > 5 ? `${missing.slice(0, 5).join(', ')} and ${missing.length - 5} more` : missing.join(', ');
  return diagnostic(
    context,
    trainLine(context, 'data'),
    'warning',
    'class-never-predicted',
    `After ${input.history.length} epochs the model predicts ${missing.length === 1 ? 'class' : 'classes'} ${names} for no validation image: ${missing.length === 1 ? 'it is' : 'they are'} rare or hard to tell apart. Check ${missing.length === 1 ? 'its' : 'their'} images, or add 'class_weights balanced'.`,
  );
}
