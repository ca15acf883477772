/**
 * Matches a statement's arguments to its parameters. `checkStructure` finds the mistakes that do
 * not depend on any value (an unknown parameter, a value without a name too many, a missing one);
 * `bindValues` evaluates the arguments and checks their types and ranges.
 */
import { paramsOf, type ParamSpec, type StatementSpec } from '../catalog';
import { closest } from '../names';
import type { Arg, Statement } from '../syntax/ast';
import { reportAt, type CallSite, type DiagnosticSink } from './report';
import type { Fix } from '../diagnostics';
import { checkType, dependsOn, evaluate, type Scope, type Value } from './values';

/** The parameter each argument fills, by position or by name; unknown arguments are left out. */
export function assignArgs(spec: Pick<StatementSpec, 'positional'>, params: readonly Pick<ParamSpec, 'name'>[], statement: Statement): Map<string, Arg> {
  const assigned = new Map<string, Arg>();
  let position = 0;
  for (const arg of statement.args) {
    if (arg.key) {
      if (params.some((p) => p.name === arg.key!.text) && !assigned.has(arg.key.text)) assigned.set(arg.key.text, arg);
    } else {
      const name = spec.positional[position++];
      if (name !== undefined && !assigned.has(name)) assigned.set(name, arg);
    }
  }
  return assigned;
}

/** The variant a statement picks with its first argument (`optimizer adam`), when written as a word. */
export function variantOf(spec: StatementSpec, statement: Statement): string | undefined {
  if (!spec.variants) return undefined;
  const first = spec.positional[0];
  const arg = statement.args.find((a) => (a.key ? a.key.text === first : true));
  return arg?.value.kind === 'ident' ? arg.value.name : undefined;
}

export function checkStructure(spec: StatementSpec, statement: Statement, sink: DiagnosticSink, what = `'${spec.name}'`): void {
  const variant = variantOf(spec, statement);
  const known = variant !== undefined && spec.variants?.[variant] ? paramsOf(spec, variant) : allParams(spec);
  const seen = new Map<string, Arg>();
  let position = 0;
  for (const arg of statement.args) {
    if (arg.key) {
      const name = arg.key.text;
      if (!known.some((p) => p.name === name)) {
        const suggestion = closest(name, known.map((p) => p.name));
        const list = known.map((p) => p.name).join(', ');
        sink.report('error', 'unknown-parameter', arg.key.span, suggestion ? `${what} has no parameter '${name}': did you mean '${suggestion}'?` : `${what} has no parameter '${name}'.${list ? ` It takes: ${list}.` : ' It takes none.'}`, suggestion ? { fixes: [{ title: `Change to '${suggestion}'`, edits: [{ span: arg.key.span, text: suggestion }] }] } : {});
        continue;
      }
      if (seen.has(name)) {
        sink.report('error', 'duplicate-parameter', arg.span, `'${name}' is given twice.`);
        continue;
      }
      seen.set(name, arg);
    } else {
      const name = spec.positional[position++];
      if (name === undefined) {
        // A value the lexer could not read has been reported already; one typo gives one error.
        if (arg.value.kind === 'missing') continue;
        sink.report(
          'error',
          'extra-argument',
          arg.span,
          spec.positional.length === 0
            ? `${what} takes no values without a name${known.length ? `; write them as name=value (${known.map((p) => p.name).join(', ')})` : ''}.`
            : `${what} takes ${spec.positional.length} value${spec.positional.length > 1 ? 's' : ''} without a name (${spec.positional.join(', ')}); write the others as name=value.`,
        );
        continue;
      }
      if (seen.has(name)) {
        sink.report('error', 'duplicate-parameter', arg.span, `'${name}' is given twice.`);
        continue;
      }
      seen.set(name, arg);
    }
  }
  for (const param of spec.params) {
    if (param.default === undefined && !param.optional && !seen.has(param.name)) {
      sink.report('error', 'missing-argument', statement.head.span, `${what} needs ${param.name}: ${param.doc}`);
    }
  }
  if (spec.body && !statement.body) sink.report('error', 'missing-body', statement.head.span, `${what} needs a body in braces: ${spec.name} … { … }.`);
  if (!spec.body && statement.body) sink.report('error', 'unexpected-body', statement.body.open, `${what} takes no body in braces.`);
}

function allParams(spec: StatementSpec): ParamSpec[] {
  const params = [...spec.params];
  for (const variant of Object.values(spec.variants ?? {})) {
    for (const param of variant.params) if (!params.some((p) => p.name === param.name)) params.push(param);
  }
  return params;
}

export interface Bound {
  /** Every parameter's value: as written when valid, otherwise its default. */
  readonly values: ReadonlyMap<string, Value>;
  /** The argument that set each parameter, for pointing at it. */
  readonly args: ReadonlyMap<string, Arg>;
  readonly variant?: string;
  /** False when an argument was invalid or missing; its default stands in. */
  readonly valid: boolean;
}

export interface BindContext {
  readonly scope: Scope;
  /** The names the scope knows, for "did you mean" on a misspelt parameter reference. */
  readonly scopeNames: readonly string[];
  readonly sink: DiagnosticSink;
  readonly callSite: CallSite | undefined;
}

export function bindValues(spec: StatementSpec, statement: Statement, context: BindContext, what = `'${spec.name}'`): Bound {
  const variantArg = spec.variants ? assignArgs(spec, spec.params, statement).get(spec.positional[0]!) : undefined;
  const variantValue = variantArg ? evaluate(variantArg.value, context.scope) : undefined;
  const variant = variantValue?.ok && variantValue.value.kind === 'word' && spec.variants?.[variantValue.value.text] ? variantValue.value.text : undefined;
  const params = paramsOf(spec, variant ?? (spec.params[0]?.default?.kind === 'word' ? spec.params[0].default.text : undefined));
  const assigned = assignArgs(spec, params, statement);
  const values = new Map<string, Value>();
  let valid = true;
  for (const param of params) {
    const arg = assigned.get(param.name);
    if (!arg) {
      if (param.default !== undefined) values.set(param.name, param.default);
      else if (!param.optional) valid = false;
      continue;
    }
    const result = evaluate(arg.value, context.scope);
    if (!result.ok) {
      valid = false;
      if (result.message) reportAt(context.sink, context.callSite, dependsOn(arg.value, context.scopeNames), 'error', 'invalid-value', result.span, result.message);
      if (param.default !== undefined) values.set(param.name, param.default);
      continue;
    }
    const problem = checkType(param.type, result.value);
    if (problem) {
      valid = false;
      const described = describeProblem(what, param, problem, arg, result.value, context);
      reportAt(context.sink, context.callSite, dependsOn(arg.value, context.scopeNames), 'error', 'invalid-value', arg.value.span, described.message, described.fixes);
      if (param.default !== undefined) values.set(param.name, param.default);
      continue;
    }
    values.set(param.name, result.value);
  }
  return { values, args: assigned, ...(variant ? { variant } : {}), valid };
}

function describeProblem(what: string, param: ParamSpec, problem: string, arg: Arg, value: Value, context: BindContext): { message: string; fixes?: readonly Fix[] } {
  const replaceWith = (suggestion: string): readonly Fix[] => [{ title: `Change to '${suggestion}'`, edits: [{ span: arg.value.span, text: suggestion }] }];
  if (arg.value.kind === 'ident' && value.kind === 'word' && param.type.kind !== 'enum' && param.type.kind !== 'ref' && param.type.kind !== 'bool' && param.type.kind !== 'padding' && param.type.kind !== 'weights') {
    const suggestion = closest(value.text, context.scopeNames);
    if (suggestion) return { message: `Unknown name '${value.text}': did you mean '${suggestion}'?`, fixes: replaceWith(suggestion) };
    if (context.scopeNames.length > 0) return { message: `Unknown name '${value.text}'; the names here are ${context.scopeNames.join(', ')}.` };
  }
  if (param.type.kind === 'enum' && value.kind === 'word') {
    const suggestion = closest(value.text, param.type.values);
    if (suggestion) return { message: `${what} ${param.name}: '${value.text}' is not one of ${param.type.values.join(', ')}; did you mean '${suggestion}'?`, fixes: replaceWith(suggestion) };
  }
  return { message: `${what} ${param.name} ${problem}.` };
}
