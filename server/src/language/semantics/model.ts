/**
 * Expands a model into the layers that run: block calls inlined with their arguments, repeats
 * unrolled, residual shortcuts decided. Each layer gets its input and output shape, parameters
 * and MACs. Problems are reported on the line the user can change: a problem inside a block
 * that depends on the call's arguments is shown on the call.
 */
import { BUILTIN_CLASSES, LAYER_SPECS } from '../catalog';
import type { Section, Statement } from '../syntax/ast';
import type { Fix } from '../diagnostics';
import { bindValues, type BindContext } from './bind';
import { insertLineBefore } from './edits';
import { applyLayer, elements, joinResidual, type Shape } from './layers';
import { reportAt, type CallSite, type DiagnosticSink } from './report';
import type { SymbolTable } from './symbols';
import { evaluate, num, type Value } from './values';

export interface LayerInstance {
  /** The statement in the file that this layer comes from (inside a block for inlined calls). */
  readonly statement: Statement;
  readonly kind: string;
  /** Where it sits in the expanded model, such as `basic3.residual1.conv1`. */
  readonly path: string;
  /** 0 for the model's own statements, deeper for block bodies, residuals and repeats. */
  readonly depth: number;
  readonly input: Shape;
  readonly output: Shape;
  /** Parameters of this layer alone; for a residual, those of its projection shortcut. */
  readonly ownParams: number;
  /** Parameters including everything inside (blocks, residuals, repeats). */
  readonly params: number;
  readonly macs: number;
  readonly args: ReadonlyMap<string, Value>;
  /** For a residual: whether its shortcut is a projection. */
  readonly projected?: boolean;
}

export interface ClassCount {
  readonly value: number;
  /** Where the number came from, for hovers: `model parameter`, `dataset cifar` or `default`. */
  readonly source: string;
}

export interface ModelInfo {
  readonly section: Section;
  readonly name: string;
  readonly input?: Shape;
  /** The model's output, when every layer's shape could be worked out. */
  readonly output?: Shape;
  /** Every layer in order, parents before their children. */
  readonly layers: readonly LayerInstance[];
  readonly totalParams: number;
  readonly totalMacs: number;
  readonly classes: ClassCount;
  /** The layers of each statement, for hovers and inlay hints. */
  readonly byStatement: ReadonlyMap<Statement, readonly LayerInstance[]>;
}

interface Frame {
  readonly scope: Map<string, Value>;
  /** How statements in this frame bind their arguments; made once per frame, not per statement. */
  readonly binding: BindContext;
  readonly callSite: CallSite | undefined;
  readonly pathPrefix: string;
  readonly depth: number;
  /** Blocks being expanded, to stop a block that calls itself. */
  readonly active: readonly string[];
}

/**
 * The most layers one model may expand to. Far beyond real networks (ResNet-152 has about 500),
 * it keeps a runaway repeat or blocks that call each other many times from freezing the editor.
 */
export const MAX_LAYERS = 20_000;

class Expander {
  readonly layers: LayerInstance[] = [];
  readonly byStatement = new Map<Statement, LayerInstance[]>();
  totalParams = 0;
  totalMacs = 0;

  constructor(
    private readonly symbols: SymbolTable,
    private readonly sink: DiagnosticSink,
    private readonly source: string,
  ) {}

  binding(scope: ReadonlyMap<string, Value>, callSite: CallSite | undefined): BindContext {
    return { scope: (name) => scope.get(name), scopeNames: [...scope.keys()], sink: this.sink, callSite };
  }

  /** Runs statements in order from `shape`; returns the output shape, or undefined after an error. */
  run(statements: readonly Statement[], shape: Shape | undefined, frame: Frame): Shape | undefined {
    const counters = new Map<string, number>();
    for (const statement of statements) {
      const kind = statement.head.text;
      if (kind === 'input') continue;
      const index = (counters.get(kind) ?? 0) + 1;
      counters.set(kind, index);
      const path = `${frame.pathPrefix}${kind}${index}`;
      const block = LAYER_SPECS.has(kind) ? undefined : this.symbols.blocks.get(kind);
      if (block) {
        shape = this.call(block, statement, shape, frame, path);
        continue;
      }
      const spec = LAYER_SPECS.get(kind);
      if (!spec) {
        shape = undefined;
        continue;
      }
      const bound = bindValues(spec, statement, frame.binding);
      if (!bound.valid || shape === undefined) {
        shape = undefined;
        continue;
      }
      shape = this.layer(statement, kind, path, shape, bound.values, frame);
    }
    return shape;
  }

  /** True, after reporting it once, when the model has grown past MAX_LAYERS. */
  private overLimit(statement: Statement, frame: Frame): boolean {
    if (this.layers.length < MAX_LAYERS) return false;
    reportAt(this.sink, frame.callSite, true, 'error', 'too-large', statement.head.span, `This model expands to more than ${MAX_LAYERS.toLocaleString('en-US')} layers; Ocular stops counting here. Check the repeat counts and the blocks' calls.`);
    return true;
  }

  private layer(statement: Statement, kind: string, path: string, input: Shape, args: ReadonlyMap<string, Value>, frame: Frame): Shape | undefined {
    if (this.overLimit(statement, frame)) return undefined;
    const start = this.layers.length;
    const paramsBefore = this.totalParams;
    const macsBefore = this.totalMacs;
    const instance = (output: Shape, ownParams: number, params: number, macs: number, projected?: boolean): LayerInstance => ({
      statement,
      kind,
      path,
      depth: frame.depth,
      input,
      output,
      ownParams,
      params,
      macs,
      args,
      ...(projected !== undefined ? { projected } : {}),
    });
    if (kind === 'residual' || kind === 'repeat') {
      this.layers.push(instance(input, 0, 0, 0));
      const inner: Frame = { ...frame, pathPrefix: `${path}.`, depth: frame.depth + 1 };
      let output: Shape | undefined = input;
      if (kind === 'repeat') {
        const times = args.get('times')!.kind === 'number' ? (args.get('times') as { value: number }).value : 1;
        for (let i = 0; i < times && output; i++) output = this.run(statement.body?.statements ?? [], output, { ...inner, pathPrefix: `${path}.${i}.` });
      } else {
        output = this.run(statement.body?.statements ?? [], input, inner);
      }
      if (!output) return this.abandon(start, paramsBefore, macsBefore);
      let projected: boolean | undefined;
      let ownParams = 0;
      if (kind === 'residual') {
        const shortcut = args.get('shortcut');
        const joined = joinResidual(input, output, shortcut?.kind === 'word' ? shortcut.text : 'auto');
        if (!joined.ok) {
          this.problem(statement, frame, joined.message);
          return this.abandon(start, paramsBefore, macsBefore);
        }
        projected = joined.projected;
        ownParams = joined.params;
        this.totalParams += joined.params;
        this.totalMacs += joined.macs;
      }
      this.layers[start] = instance(output, ownParams, this.totalParams - paramsBefore, this.totalMacs - macsBefore, projected);
      this.record(statement, this.layers[start]!);
      return output;
    }
    const outcome = applyLayer(kind, input, args);
    if (!outcome.ok) {
      const needsFlatten = kind === 'dense' && input.length === 3 && !frame.callSite;
      this.problem(statement, frame, outcome.message, needsFlatten ? [insertLineBefore(this.source, statement, 'flatten', 'Insert flatten before this layer')] : undefined);
      return undefined;
    }
    const leaf = instance(outcome.output, outcome.params, outcome.params, outcome.macs);
    this.layers.push(leaf);
    this.record(statement, leaf);
    this.totalParams += outcome.params;
    this.totalMacs += outcome.macs;
    return outcome.output;
  }

  private call(block: Section, statement: Statement, input: Shape | undefined, frame: Frame, path: string): Shape | undefined {
    const name = block.name!.text;
    // A block that uses itself has been reported where it is declared (structure.ts).
    if (frame.active.includes(name)) return undefined;
    const callSite = frame.callSite ?? { span: statement.span, label: this.source.slice(statement.head.span.start, statement.args[statement.args.length - 1]?.span.end ?? statement.head.span.end) };
    const scope = new Map<string, Value>();
    const classes = frame.scope.get(BUILTIN_CLASSES);
    if (classes) scope.set(BUILTIN_CLASSES, classes);
    const positional = statement.args.filter((a) => !a.key);
    let valid = true;
    block.params.forEach((param, i) => {
      const arg = statement.args.find((a) => a.key?.text === param.name.text) ?? positional[i];
      const expr = arg?.value ?? param.default;
      if (!expr) {
        valid = false;
        return;
      }
      // Arguments are evaluated where the call is written; defaults where the block is declared.
      const result = evaluate(expr, (n) => (arg ? frame.scope.get(n) : scope.get(n)));
      if (!result.ok) {
        valid = false;
        if (result.message) reportAt(this.sink, frame.callSite, true, 'error', 'invalid-value', result.span, result.message);
        return;
      }
      scope.set(param.name.text, result.value);
    });
    if (!valid || input === undefined || this.overLimit(statement, frame)) return undefined;
    const start = this.layers.length;
    const paramsBefore = this.totalParams;
    const macsBefore = this.totalMacs;
    const args = new Map(block.params.map((p) => [p.name.text, scope.get(p.name.text) ?? num(0)]));
    this.layers.push({ statement, kind: name, path, depth: frame.depth, input, output: input, ownParams: 0, params: 0, macs: 0, args });
    const output = this.run(block.body.statements, input, { scope, binding: this.binding(scope, callSite), callSite, pathPrefix: `${path}.`, depth: frame.depth + 1, active: [...frame.active, name] });
    if (!output) return this.abandon(start, paramsBefore, macsBefore);
    this.layers[start] = { ...this.layers[start]!, output, params: this.totalParams - paramsBefore, macs: this.totalMacs - macsBefore };
    this.record(statement, this.layers[start]!);
    return output;
  }

  /** Drops the partial layers of a composite that failed, so totals only count whole layers. */
  private abandon(start: number, params: number, macs: number): undefined {
    this.layers.length = start;
    this.totalParams = params;
    this.totalMacs = macs;
    return undefined;
  }

  private record(statement: Statement, instance: LayerInstance): void {
    const list = this.byStatement.get(statement);
    if (list) list.push(instance);
    else this.byStatement.set(statement, [instance]);
  }

  private problem(statement: Statement, frame: Frame, message: string, fixes?: readonly Fix[]): void {
    reportAt(this.sink, frame.callSite, true, 'error', 'shape', statement.head.span, message, fixes);
  }
}

/** The model's `input` statement and its shape, with problems reported. */
function readInput(section: Section, sink: DiagnosticSink): Shape | undefined {
  const statements = section.body.statements;
  const inputs = statements.filter((s) => s.head.text === 'input');
  const first = statements[0];
  if (inputs.length === 0) {
    sink.report('error', 'missing-input', section.name?.span ?? section.keyword.span, `Model '${section.name?.text ?? ''}' has no input: make its first line 'input CxHxW', such as 'input 3x224x224'.`);
    return undefined;
  }
  for (const extra of inputs.slice(1)) sink.report('error', 'misplaced-input', extra.head.span, 'A model has one input statement; remove this one.');
  const input = inputs[0]!;
  if (input !== first) sink.report('error', 'misplaced-input', input.head.span, "'input' must be the model's first line.");
  const arg = input.args[0];
  if (!arg || arg.value.kind !== 'shape') return undefined;
  const dims = arg.value.dims;
  if (dims.length !== 3) {
    sink.report('error', 'invalid-value', arg.span, dims.length === 2 ? `Write the input as C×H×W, with its channels first: 1x${dims.join('x')} for grayscale or 3x${dims.join('x')} for colour.` : `The input must be C×H×W (three sizes), as 3x224x224.`);
    return undefined;
  }
  if (dims.some((d) => d < 1)) {
    sink.report('error', 'invalid-value', arg.span, 'Every input size must be at least 1.');
    return undefined;
  }
  return dims;
}

export function expandModel(section: Section, symbols: SymbolTable, classes: ClassCount, sink: DiagnosticSink, source: string): ModelInfo {
  const input = readInput(section, sink);
  const scope = new Map<string, Value>([[BUILTIN_CLASSES, num(classes.value)]]);
  let declaredClasses = classes;
  // A model's own parameters (model M(classes=100)) are fixed by their defaults.
  let parametersComplete = true;
  for (const param of section.params) {
    if (!param.default) {
      parametersComplete = false;
      sink.report('error', 'missing-argument', param.name.span, `Model parameter '${param.name.text}' needs a default, as ${param.name.text}=10: nothing passes models arguments.`);
      continue;
    }
    const result = evaluate(param.default, (n) => scope.get(n));
    if (!result.ok) continue;
    scope.set(param.name.text, result.value);
    if (param.name.text === BUILTIN_CLASSES && result.value.kind === 'number') declaredClasses = { value: result.value.value, source: 'model parameter' };
  }
  const expander = new Expander(symbols, sink, source);
  // Without every parameter's value the layers cannot be worked out; the missing default is the one error.
  const output = parametersComplete ? expander.run(section.body.statements, input, { scope, binding: expander.binding(scope, undefined), callSite: undefined, pathPrefix: '', depth: 0, active: [] }) : undefined;
  return {
    section,
    name: section.name?.text ?? '',
    ...(input ? { input } : {}),
    ...(output ? { output } : {}),
    layers: expander.layers,
    totalParams: expander.totalParams,
    totalMacs: expander.totalMacs,
    classes: declaredClasses,
    byStatement: expander.byStatement,
  };
}

/** Bytes of float32 activations a layer's output takes for one image. */
export const activationBytes = (shape: Shape): number => elements(shape) * 4;
