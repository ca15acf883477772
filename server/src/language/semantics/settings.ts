/**
 * Resolves dataset and train sections into plain configurations, with every default filled in,
 * and checks their values and how they fit together. The engine trains from these objects.
 */
import { AUGMENT_SPECS, DATASET_SPECS, NORMALIZE_PRESETS, TRAIN_SPECS, type StatementSpec } from '../catalog';
import type { Section, Statement } from '../syntax/ast';
import type { Span } from '../syntax/span';
import { bindValues, type Bound } from './bind';
import type { DiagnosticSink } from './report';
import type { Value } from './values';

export type Split = 'train' | 'val' | 'test';

/** A path written in a dataset, relative to the model file; the host checks that it exists. */
export interface PathReference {
  readonly split: Split;
  readonly path: string;
  readonly span: Span;
}

export interface Augmentation {
  readonly name: string;
  readonly args: Readonly<Record<string, number | readonly number[]>>;
}

export interface DatasetConfig {
  readonly name: string;
  readonly section: Section;
  readonly sources: readonly PathReference[];
  readonly split?: { readonly val: number; readonly test: number; readonly seed: number };
  /** Channels, height, width. */
  readonly image?: readonly [number, number, number];
  readonly resize: 'stretch' | 'crop' | 'letterbox';
  /** A count, or the names in label order. */
  readonly classes?: number | readonly string[];
  readonly augment: readonly Augmentation[];
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

export interface TrainConfig {
  readonly section: Section;
  readonly model?: string;
  readonly data?: string;
  readonly epochs: number;
  readonly batch: number;
  readonly optimizer: { readonly name: string } & Readonly<Record<string, number | boolean | string | readonly number[]>>;
  readonly schedule: { readonly name: string } & Readonly<Record<string, number | boolean | string | readonly number[]>>;
  readonly earlyStop?: { readonly monitor: string; readonly patience: number; readonly minDelta: number };
  readonly accumulate: number;
  readonly labelSmoothing: number;
  readonly classWeights?: 'balanced' | readonly number[];
  readonly seed: number;
}

const noScope = { scope: () => undefined, scopeNames: [], callSite: undefined };

function plain(value: Value): number | boolean | string | readonly number[] {
  switch (value.kind) {
    case 'number':
      return value.value;
    case 'word':
      return value.text === 'true' ? true : value.text === 'false' ? false : value.text;
    case 'string':
      return value.text;
    case 'shape':
      return value.dims;
    case 'tuple':
      return value.items.map((item) => (item.kind === 'number' ? item.value : NaN));
  }
}

function bindAll(section: Section, specs: ReadonlyMap<string, StatementSpec>, sink: DiagnosticSink): Map<string, { statement: Statement; bound: Bound }> {
  const result = new Map<string, { statement: Statement; bound: Bound }>();
  for (const statement of section.body.statements) {
    const spec = specs.get(statement.head.text);
    if (!spec || result.has(spec.name)) continue;
    result.set(spec.name, { statement, bound: bindValues(spec, statement, { ...noScope, sink }) });
  }
  return result;
}

const number = (bound: Bound | undefined, name: string, fallback: number): number => {
  const value = bound?.values.get(name);
  return value?.kind === 'number' ? value.value : fallback;
};

export function resolveDataset(section: Section, sink: DiagnosticSink): DatasetConfig {
  const settings = bindAll(section, DATASET_SPECS, sink);
  const sources: PathReference[] = [];
  for (const split of ['train', 'val', 'test'] as const) {
    const entry = settings.get(split);
    const value = entry?.bound.values.get('path');
    const arg = entry?.bound.args.get('path');
    if (value?.kind === 'string' && arg) {
      if (value.text.trim() === '') sink.report('error', 'invalid-value', arg.span, `The ${split} path is empty; write the folder or file, as "data/${split}".`);
      else sources.push({ split, path: value.text, span: arg.value.span });
    }
  }
  if (!settings.has('train')) sink.report('error', 'missing-setting', section.name?.span ?? section.keyword.span, `Dataset '${section.name?.text ?? ''}' has no training images: add a line 'train "path/to/images"'.`);

  let split: DatasetConfig['split'];
  const splitEntry = settings.get('split');
  if (splitEntry) {
    const bound = splitEntry.bound;
    split = { val: number(bound, 'val', 0.2), test: number(bound, 'test', 0), seed: number(bound, 'seed', 42) };
    if (split.val + split.test >= 1) sink.report('error', 'invalid-value', splitEntry.statement.span, `split leaves no training images: val + test is ${split.val + split.test}; keep it below 1.`);
    if (settings.has('val') && split.val > 0) sink.report('warning', 'conflicting-setting', splitEntry.statement.head.span, "This dataset has a val folder, so 'split val=…' is not used; remove one of them.");
  }

  let image: DatasetConfig['image'];
  const imageEntry = settings.get('image');
  if (imageEntry) {
    const size = imageEntry.bound.values.get('size');
    const channelsArg = imageEntry.bound.args.get('channels');
    const channels = number(imageEntry.bound, 'channels', 3);
    if (size?.kind === 'shape') {
      const dims = size.dims;
      const where = imageEntry.bound.args.get('size')!.span;
      if (dims.some((d) => d < 1)) sink.report('error', 'invalid-value', where, 'Every image size must be at least 1.');
      else if (dims.length === 3) {
        if (channelsArg) sink.report('error', 'conflicting-setting', channelsArg.span, `The image size already says ${dims[0]} channels; remove channels= or write the size as ${dims[1]}x${dims[2]}.`);
        if (dims[0] !== 1 && dims[0] !== 3) sink.report('error', 'invalid-value', where, `Images have 1 (grayscale) or 3 (RGB) channels, not ${dims[0]}.`);
        else image = [dims[0]!, dims[1]!, dims[2]!];
      } else if (dims.length === 2) {
        if (channels !== 1 && channels !== 3) sink.report('error', 'invalid-value', channelsArg?.span ?? where, `Images have 1 (grayscale) or 3 (RGB) channels, not ${channels}.`);
        else image = [channels, dims[0]!, dims[1]!];
      } else sink.report('error', 'invalid-value', where, 'Write the image size as CxHxW (3x224x224) or HxW (224x224).');
    }
  }

  let classes: DatasetConfig['classes'];
  const classesEntry = settings.get('classes');
  const classesValue = classesEntry?.bound.values.get('classes');
  if (classesValue?.kind === 'number') classes = classesValue.value;
  if (classesValue?.kind === 'tuple') {
    const names = classesValue.items.map((item) => (item.kind === 'word' || item.kind === 'string' ? item.text : ''));
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate !== undefined) sink.report('error', 'invalid-value', classesEntry!.bound.args.get('classes')!.span, `Class '${duplicate}' is listed twice.`);
    classes = names;
  }

  const augment: Augmentation[] = [];
  for (const statement of settings.get('augment')?.statement.body?.statements ?? []) {
    const spec = AUGMENT_SPECS.get(statement.head.text);
    if (!spec) continue;
    const bound = bindValues(spec, statement, { ...noScope, sink });
    const args: Record<string, number | readonly number[]> = {};
    for (const [key, value] of bound.values) {
      const v = plain(value);
      if (typeof v === 'number' || Array.isArray(v)) args[key] = v as number | readonly number[];
    }
    augment.push({ name: spec.name, args });
  }
  for (const statement of section.body.statements.filter((s) => s.head.text === 'augment').slice(1)) {
    sink.report('error', 'duplicate-setting', statement.head.span, "'augment' is already set above; put all augmentations in one augment { } body.");
  }

  let normalize: DatasetConfig['normalize'];
  const normalizeEntry = settings.get('normalize');
  if (normalizeEntry) {
    const bound = normalizeEntry.bound;
    const preset = bound.values.get('preset');
    const mean = bound.values.get('mean');
    const std = bound.values.get('std');
    const given = (name: string): boolean => bound.args.has(name);
    if (given('preset') && (given('mean') || given('std'))) {
      sink.report('error', 'conflicting-setting', normalizeEntry.statement.head.span, 'Give either a preset or mean= and std=, not both.');
    } else if (given('mean') !== given('std')) {
      sink.report('error', 'missing-argument', normalizeEntry.statement.head.span, `normalize needs both mean= and std=, or a preset such as imagenet.`);
    } else if (mean && std) {
      const m = plain(mean);
      const s = plain(std);
      normalize = { mean: Array.isArray(m) ? m : [m as number], std: Array.isArray(s) ? s : [s as number] };
      if (normalize.mean.length !== normalize.std.length) sink.report('error', 'invalid-value', bound.args.get('std')!.span, `mean has ${normalize.mean.length} values but std has ${normalize.std.length}; give one of each per channel.`);
    } else if (preset?.kind === 'word' && NORMALIZE_PRESETS[preset.text]) {
      normalize = NORMALIZE_PRESETS[preset.text];
    } else if (!given('preset')) {
      sink.report('error', 'missing-argument', normalizeEntry.statement.head.span, 'normalize needs a preset (imagenet, cifar10, mnist, none) or mean=(…) std=(…).');
    }
    if (normalize && image && normalize.mean.length !== image[0] && normalize.mean.length !== 1) {
      sink.report('error', 'invalid-value', normalizeEntry.statement.span, `normalize gives ${normalize.mean.length} channel${normalize.mean.length > 1 ? 's' : ''} but the images have ${image[0]}; give one mean and std per channel.`);
    }
  }
  const resize = settings.get('resize')?.bound.values.get('mode');
  return {
    name: section.name?.text ?? '',
    section,
    sources,
    ...(split ? { split } : {}),
    ...(image ? { image } : {}),
    resize: resize?.kind === 'word' ? (resize.text as DatasetConfig['resize']) : 'stretch',
    ...(classes !== undefined ? { classes } : {}),
    augment,
    ...(normalize ? { normalize } : {}),
  };
}

/** A variant statement's settings (`optimizer adamw lr=…`) with the chosen variant's defaults filled in. */
function variantSettings(spec: StatementSpec, entry: { bound: Bound } | undefined, fallback: string): { name: string } & Record<string, number | boolean | string | readonly number[]> {
  const result: { name: string } & Record<string, number | boolean | string | readonly number[]> = { name: entry?.bound.variant ?? fallback };
  for (const param of spec.variants?.[result.name]?.params ?? []) if (param.default) result[param.name] = plain(param.default);
  for (const [key, value] of entry?.bound.values ?? []) if (key !== 'name') result[key] = plain(value);
  return result;
}

export function resolveTrain(section: Section, sink: DiagnosticSink): TrainConfig {
  const settings = bindAll(section, TRAIN_SPECS, sink);
  const ref = (name: string): string | undefined => {
    const value = settings.get(name)?.bound.values.get('name');
    return value?.kind === 'word' ? value.text : undefined;
  };
  for (const [setting, example] of [['model', 'model SimpleCNN'], ['data', 'data cifar']] as const) {
    if (!settings.has(setting)) sink.report('error', 'missing-setting', section.keyword.span, `This train section needs '${setting} NAME', as '${example}'.`);
  }
  const model = ref('model');
  const data = ref('data');
  const epochs = number(settings.get('epochs')?.bound, 'count', 25);
  const optimizer = variantSettings(TRAIN_SPECS.get('optimizer')!, settings.get('optimizer'), 'adam');
  const schedule = variantSettings(TRAIN_SPECS.get('schedule')!, settings.get('schedule'), 'constant');

  const scheduleEntry = settings.get('schedule');
  if (scheduleEntry) {
    const warmup = number(scheduleEntry.bound, 'warmup', 0);
    if (warmup >= epochs) sink.report('warning', 'suspicious-setting', scheduleEntry.bound.args.get('warmup')?.span ?? scheduleEntry.statement.span, `warmup=${warmup} is not shorter than the ${epochs} epochs: the schedule never starts.`);
    const milestones = schedule['milestones'];
    if (Array.isArray(milestones) && milestones.some((m) => m >= epochs)) {
      sink.report('warning', 'suspicious-setting', scheduleEntry.bound.args.get('milestones')?.span ?? scheduleEntry.statement.span, `Some milestones are at or past the last epoch (${epochs}); they never apply.`);
    }
    if (schedule.name === 'step' && (schedule['every'] as number) >= epochs) {
      sink.report('warning', 'suspicious-setting', scheduleEntry.bound.args.get('every')?.span ?? scheduleEntry.statement.span, `every=${String(schedule['every'])} is not shorter than the ${epochs} epochs: the learning rate never steps down.`);
    }
  }

  let earlyStop: TrainConfig['earlyStop'];
  const stopEntry = settings.get('early_stop');
  if (stopEntry) {
    const monitor = stopEntry.bound.values.get('monitor');
    earlyStop = { monitor: monitor?.kind === 'word' ? monitor.text : 'val_loss', patience: number(stopEntry.bound, 'patience', 3), minDelta: number(stopEntry.bound, 'min_delta', 0) };
  }
  const weights = settings.get('class_weights')?.bound.values.get('weights');
  const classWeights = weights?.kind === 'word' ? 'balanced' : weights?.kind === 'tuple' ? (plain(weights) as readonly number[]) : undefined;
  return {
    section,
    ...(model !== undefined ? { model } : {}),
    ...(data !== undefined ? { data } : {}),
    epochs,
    batch: number(settings.get('batch')?.bound, 'size', 128),
    optimizer,
    schedule,
    ...(earlyStop ? { earlyStop } : {}),
    accumulate: number(settings.get('accumulate')?.bound, 'steps', 1),
    labelSmoothing: number(settings.get('label_smoothing')?.bound, 'amount', 0),
    ...(classWeights ? { classWeights } : {}),
    seed: number(settings.get('seed')?.bound, 'value', 42),
  };
}

/** The number of classes a dataset declares, if it does. */
export function classCount(dataset: DatasetConfig): number | undefined {
  return typeof dataset.classes === 'number' ? dataset.classes : dataset.classes?.length;
}
