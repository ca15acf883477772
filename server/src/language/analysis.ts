/**
 * The one entry point of the language core: `analyze(source)` parses a file and runs every
 * check, returning everything the editor features need. It is pure (no file system, no LSP)
 * and never throws on any input.
 */
import { DEFAULT_CLASSES } from './catalog';
import type { Diagnostic } from './diagnostics';
import { elements, formatShape } from './semantics/layers';
import { lintBlock, lintModel } from './semantics/lints';
import { expandModel, type ClassCount, type ModelInfo } from './semantics/model';
import { DiagnosticSink } from './semantics/report';
import { classCount, resolveDataset, resolveTrain, type DatasetConfig, type TrainConfig } from './semantics/settings';
import { checkSections } from './semantics/structure';
import { collectSymbols, type SymbolTable } from './semantics/symbols';
import type { Section, SourceFile } from './syntax/ast';
import { parse } from './syntax/parser';
import type { Token } from './syntax/tokens';

export interface Analysis {
  readonly source: string;
  readonly file: SourceFile;
  readonly tokens: readonly Token[];
  readonly symbols: SymbolTable;
  readonly models: readonly ModelInfo[];
  readonly datasets: readonly DatasetConfig[];
  readonly trains: readonly TrainConfig[];
  /** Sorted by position; at most one per range and message. */
  readonly diagnostics: readonly Diagnostic[];
}

export function analyze(source: string): Analysis {
  const parsed = parse(source);
  const sink = new DiagnosticSink();
  for (const diagnostic of parsed.diagnostics) sink.add(diagnostic);
  const symbols = collectSymbols(parsed.file, sink);
  checkSections(parsed.file.sections, symbols, source, sink);

  const datasets = [...symbols.datasets.values()].map((section) => resolveDataset(section, sink));
  const trains = symbols.trains.map((section) => resolveTrain(section, sink));
  const datasetByName = new Map(datasets.map((d) => [d.name, d]));

  const models: ModelInfo[] = [];
  for (const section of symbols.models.values()) {
    const model = expandModel(section, symbols, classesFor(section, trains, datasetByName), sink, source);
    lintModel(model, source, sink);
    models.push(model);
  }
  for (const section of symbols.blocks.values()) lintBlock(section, source, sink);
  checkPairings(trains, new Map(models.map((m) => [m.name, m])), datasetByName, sink);

  const diagnostics = [...sink.diagnostics].sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end);
  return { source, file: parsed.file, tokens: parsed.tokens, symbols, models, datasets, trains, diagnostics };
}

/** The class count of a model: from the first train section that pairs it with a dataset that says. */
function classesFor(model: Section, trains: readonly TrainConfig[], datasets: ReadonlyMap<string, DatasetConfig>): ClassCount {
  for (const train of trains) {
    if (train.model !== model.name?.text || train.data === undefined) continue;
    const dataset = datasets.get(train.data);
    const count = dataset && classCount(dataset);
    if (count !== undefined) return { value: count, source: `dataset ${dataset!.name}` };
  }
  return { value: DEFAULT_CLASSES, source: 'default' };
}

/** Checks that each train section's model and dataset fit each other. */
function checkPairings(trains: readonly TrainConfig[], models: ReadonlyMap<string, ModelInfo>, datasets: ReadonlyMap<string, DatasetConfig>, sink: DiagnosticSink): void {
  for (const train of trains) {
    const model = train.model !== undefined ? models.get(train.model) : undefined;
    const dataset = train.data !== undefined ? datasets.get(train.data) : undefined;
    const dataLine = train.section.body.statements.find((s) => s.head.text === 'data');
    if (model?.input && dataset?.image && dataLine && formatShape(model.input) !== formatShape(dataset.image)) {
      sink.report('warning', 'input-mismatch', dataLine.span, `Model ${model.name} takes ${formatShape(model.input)} images, but dataset ${dataset.name} gives ${formatShape(dataset.image)}: change 'image' in the dataset or 'input' in the model.`);
    }
    const hasValidation = dataset && (dataset.sources.some((s) => s.split === 'val') || (dataset.split?.val ?? 0) > 0);
    const watchesValidation = train.section.body.statements.find((s) => s.head.text === 'early_stop' || (s.head.text === 'schedule' && train.schedule.name === 'plateau'));
    if (dataset && !hasValidation && watchesValidation) {
      sink.report('warning', 'no-validation', watchesValidation.head.span, `'${watchesValidation.head.text}' watches the validation metrics, but dataset ${dataset.name} has no validation images: add 'val "path"' or 'split val=0.2' to it.`);
    }
    const weights = train.classWeights;
    const count = dataset && classCount(dataset);
    const weightsLine = train.section.body.statements.find((s) => s.head.text === 'class_weights');
    if (Array.isArray(weights) && count !== undefined && weights.length !== count && weightsLine) {
      sink.report('error', 'invalid-value', weightsLine.span, `class_weights gives ${weights.length} weights but dataset ${dataset!.name} has ${count} classes; give one per class or write 'class_weights balanced'.`);
    }
    if (model && dataLine && count !== undefined && model.classes.source === 'model parameter' && model.classes.value !== count) {
      sink.report('warning', 'output-shape', dataLine.span, `Model ${model.name} declares classes=${model.classes.value}, but dataset ${dataset!.name} has ${count} classes: change the model's default or remove it so the dataset decides.`);
    }
    if (model?.output && model.output.length === 1 && elements(model.output) < 2 && dataLine) {
      sink.report('warning', 'output-shape', dataLine.span, `Model ${model.name} ends in a single value; a classifier needs one score per class.`);
    }
  }
}
