/**
 * What serving and export start from: a model file or a run folder turned into a built model with
 * its weights, classes and the preprocessing it was trained with. A run folder gives its best
 * checkpoint (else its last) and its record's classes and normalisation; a model file gives its
 * newest run that has a checkpoint, or, when it was never trained, a model built from its seed so
 * that the plumbing can be tried before training (the source says so).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendPreference, EngineModel, WeightMap } from '../engine/engine';
import { TfjsEngine } from '../engine/tfjs/tfjs-engine';
import { analyze } from '../language/analysis';
import type { ModelInfo } from '../language/semantics/model';
import type { DatasetConfig, TrainConfig } from '../language/semantics/settings';
import type { ImageShape, ResizeMode } from '../data/index';
import { checkpointFile, listRuns, readCheckpoint, readRun, runsFolderFor, type EpochLine } from '../training/runs';

export interface Preprocessing {
  /** Channels, height, width. */
  readonly inputShape: ImageShape;
  readonly resize: ResizeMode;
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  readonly classes: readonly string[];
}

export interface Servable {
  readonly modelFile: string;
  readonly model: ModelInfo;
  /** The dataset its train section pairs it with, when it has one: parity checks predict its validation split. */
  readonly dataset?: DatasetConfig;
  /** The model's train section, when it has one: fine-tuning after pruning trains with its settings. */
  readonly train?: TrainConfig;
  /** The epochs that trained the weights (their checkpoint's history); absent for untrained weights. */
  readonly history?: readonly EpochLine[];
  readonly preprocessing: Preprocessing;
  readonly weights: WeightMap;
  /** Where the weights came from, for people: a checkpoint's path or "untrained (seed 42)". */
  readonly weightsSource: string;
  readonly engineModel: EngineModel;
  readonly backend: string;
}

/** The target is unusable; the message names it and says why. */
export class ServableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServableError';
  }
}

interface Located {
  readonly modelFile: string;
  readonly modelName?: string;
  readonly runDir?: string;
}

function locate(target: string): Located {
  const absolute = path.resolve(target);
  if (!fs.existsSync(absolute)) throw new ServableError(`${target}: no such file or folder`);
  if (fs.existsSync(path.join(absolute, 'run.json'))) {
    const record = readRun(absolute);
    return { modelFile: record.modelFile, modelName: record.modelName, runDir: absolute };
  }
  if (fs.statSync(absolute).isDirectory()) throw new ServableError(`${target} is a folder without run.json: give a run folder (.ocular/runs/<id>) or a model file`);
  // listRuns gives the oldest first; the newest run with a checkpoint is the one a user means.
  const newest = listRuns(runsFolderFor(absolute))
    // The runs folder is per folder, shared by every model file in it: only this file's runs count.
    .filter((run) => run.record?.modelFile === absolute && (fs.existsSync(checkpointFile(run.dir, 'best')) || fs.existsSync(checkpointFile(run.dir, 'last'))))
    .at(-1);
  return newest?.record ? { modelFile: absolute, modelName: newest.record.modelName, runDir: newest.dir } : { modelFile: absolute };
}

/** Builds the model of a model file or run folder on the engine, with its weights set. */
export async function loadServable(target: string, options: { readonly backend?: BackendPreference; readonly modelName?: string } = {}): Promise<Servable> {
  const located = locate(target);
  let source: string;
  try {
    source = fs.readFileSync(located.modelFile, 'utf8');
  } catch (error) {
    throw new ServableError(`Cannot read the model file ${located.modelFile}: ${(error as Error).message}`);
  }
  const analysis = analyze(source);
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new ServableError(`${located.modelFile} has errors (${errors[0]!.message}); fix them first.`);
  const modelName = options.modelName ?? located.modelName;
  const model = modelName === undefined ? analysis.models[0] : analysis.models.find((m) => m.name === modelName);
  if (!model) throw new ServableError(`${located.modelFile} has no model${modelName === undefined ? '' : ` named ${modelName}`}.`);
  if (!model.input || model.input.length !== 3) throw new ServableError(`Model ${model.name} in ${located.modelFile} has no C×H×W input shape.`);
  const inputShape = [model.input[0]!, model.input[1]!, model.input[2]!] as unknown as ImageShape;
  const train = analysis.trains.find((t) => t.model === model.name);
  const dataset = analysis.datasets.find((d) => d.name === train?.data);

  const engine = await TfjsEngine.create({ preference: options.backend ?? 'auto' });
  let classes: readonly string[];
  let normalize = dataset?.normalize;
  let weights: WeightMap | undefined;
  let weightsSource: string;
  let history: readonly EpochLine[] | undefined;
  const seed = train?.seed ?? 0;
  if (located.runDir) {
    const record = readRun(located.runDir);
    const file = fs.existsSync(checkpointFile(located.runDir, 'best')) ? checkpointFile(located.runDir, 'best') : checkpointFile(located.runDir, 'last');
    const checkpoint = readCheckpoint(file);
    weights = checkpoint.weights;
    history = checkpoint.history;
    weightsSource = file;
    classes = record.classes;
    normalize = record.normalize;
  } else {
    const count = model.output?.[0] ?? 0;
    const named = Array.isArray(dataset?.classes) ? (dataset.classes as readonly string[]) : undefined;
    classes = named && named.length === count ? named : Array.from({ length: count }, (_, i) => `class${i}`);
    weightsSource = `untrained (seed ${seed})`;
  }
  const engineModel = await engine.build(model, { seed, ...(normalize ? { normalize } : {}) });
  try {
    if (weights) engineModel.setWeights(weights);
    else weights = await engineModel.getWeights();
    if (engineModel.classes !== classes.length) throw new ServableError(`Model ${model.name} ends in ${engineModel.classes} scores but its run has ${classes.length} classes.`);
  } catch (error) {
    engineModel.dispose();
    throw error;
  }
  return {
    modelFile: located.modelFile,
    model,
    ...(dataset ? { dataset } : {}),
    ...(train ? { train } : {}),
    ...(history ? { history } : {}),
    preprocessing: { inputShape, resize: dataset?.resize ?? 'stretch', ...(normalize ? { normalize } : {}), classes },
    weights,
    weightsSource,
    engineModel,
    backend: engine.device.backend,
  };
}
