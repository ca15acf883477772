/**
 * Values and their types: what an argument evaluates to, and the checks that turn a written
 * value into one a statement can use, with a message that says what to write instead.
 */
import type { Expr } from '../syntax/ast';

export type Value =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'word'; readonly text: string }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'shape'; readonly dims: readonly number[] }
  | { readonly kind: 'tuple'; readonly items: readonly Value[] };

export type ValueType =
  | { readonly kind: 'int'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'number'; readonly min?: number; readonly max?: number; readonly above?: number; readonly below?: number }
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** A whole number or an `(h, w)` pair of them, as PyTorch's `kernel_size`. */
  | { readonly kind: 'size'; readonly min: number }
  /** A size, or `same` / `valid`. */
  | { readonly kind: 'padding' }
  | { readonly kind: 'shape' }
  | { readonly kind: 'path' }
  | { readonly kind: 'ref'; readonly target: 'model' | 'dataset' }
  | { readonly kind: 'numbers'; readonly length?: number; readonly min?: number; readonly max?: number; readonly increasing?: boolean }
  /** `classes 10` or `classes (cat, dog)`. */
  | { readonly kind: 'classes' }
  /** `balanced` or a tuple of positive weights. */
  | { readonly kind: 'weights' };

export const num = (value: number): Value => ({ kind: 'number', value });
export const word = (text: string): Value => ({ kind: 'word', text });
export const tuple = (...items: Value[]): Value => ({ kind: 'tuple', items });

/** Looks up an identifier; absent means the identifier is a plain word such as `same`. */
export type Scope = (name: string) => Value | undefined;

export type Evaluated = { readonly ok: true; readonly value: Value } | { readonly ok: false; readonly message: string; readonly span: Expr['span'] };

export function evaluate(expr: Expr, scope: Scope): Evaluated {
  switch (expr.kind) {
    case 'number':
      return { ok: true, value: num(expr.value) };
    case 'shape':
      return { ok: true, value: { kind: 'shape', dims: expr.dims } };
    case 'string':
      return { ok: true, value: { kind: 'string', text: expr.value } };
    case 'ident':
      return { ok: true, value: scope(expr.name) ?? word(expr.name) };
    case 'missing':
      return { ok: false, message: '', span: expr.span };
    case 'tuple': {
      const items: Value[] = [];
      for (const item of expr.items) {
        const result = evaluate(item, scope);
        if (!result.ok) return result;
        items.push(result.value);
      }
      return { ok: true, value: { kind: 'tuple', items } };
    }
    case 'unary': {
      const operand = evaluate(expr.operand, scope);
      if (!operand.ok) return operand;
      if (operand.value.kind !== 'number') return { ok: false, message: `'${expr.op}' needs a number, not ${describe(operand.value)}.`, span: expr.span };
      return { ok: true, value: num(expr.op === '-' ? -operand.value.value : operand.value.value) };
    }
    case 'binary': {
      const left = evaluate(expr.left, scope);
      if (!left.ok) return left;
      const right = evaluate(expr.right, scope);
      if (!right.ok) return right;
      if (left.value.kind !== 'number' || right.value.kind !== 'number') {
        const bad = left.value.kind !== 'number' ? left.value : right.value;
        return { ok: false, message: `'${expr.op}' works on numbers, not on ${describe(bad)}.`, span: expr.span };
      }
      const [a, b] = [left.value.value, right.value.value];
      if (expr.op === '/' && b === 0) return { ok: false, message: 'Division by zero.', span: expr.span };
      const result = expr.op === '+' ? a + b : expr.op === '-' ? a - b : expr.op === '*' ? a * b : a / b;
      return { ok: true, value: num(result) };
    }
  }
}

/**
 * True when the expression names one of `names` (a block's parameters): its value then changes
 * from call to call. A misspelt name is not among them, so its error stays where it is written.
 */
export function dependsOn(expr: Expr, names: readonly string[]): boolean {
  switch (expr.kind) {
    case 'ident':
      return names.includes(expr.name);
    case 'tuple':
      return expr.items.some((item) => dependsOn(item, names));
    case 'unary':
      return dependsOn(expr.operand, names);
    case 'binary':
      return dependsOn(expr.left, names) || dependsOn(expr.right, names);
    default:
      return false;
  }
}

export function describe(value: Value): string {
  switch (value.kind) {
    case 'number':
      return `the number ${formatNumber(value.value)}`;
    case 'word':
      return `'${value.text}'`;
    case 'string':
      return `the string "${value.text}"`;
    case 'shape':
      return `the shape ${value.dims.join('x')}`;
    case 'tuple':
      return `a list of ${value.items.length}`;
  }
}

export function show(value: Value): string {
  switch (value.kind) {
    case 'number':
      return formatNumber(value.value);
    case 'word':
      return value.text;
    case 'string':
      return JSON.stringify(value.text);
    case 'shape':
      return value.dims.join('x');
    case 'tuple':
      return `(${value.items.map(show).join(', ')})`;
  }
}

export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

/** Returns a message saying what is wrong with `value` for `type`, or undefined when it fits. */
export function checkType(type: ValueType, value: Value): string | undefined {
  switch (type.kind) {
    case 'int':
      if (value.kind !== 'number' || !Number.isInteger(value.value)) return `expects a whole number, not ${describe(value)}`;
      return checkRange(value.value, type);
    case 'number':
      if (value.kind !== 'number') return `expects a number, not ${describe(value)}`;
      return checkRange(value.value, type);
    case 'bool':
      return value.kind === 'word' && (value.text === 'true' || value.text === 'false') ? undefined : `expects true or false, not ${describe(value)}`;
    case 'enum':
      return value.kind === 'word' && type.values.includes(value.text) ? undefined : `expects one of ${type.values.join(', ')}, not ${describe(value)}`;
    case 'size':
      return checkSize(value, type.min);
    case 'padding':
      if (value.kind === 'word' && (value.text === 'same' || value.text === 'valid')) return undefined;
      return checkSize(value, 0) && `expects a whole number, an (h, w) pair, same or valid, not ${describe(value)}`;
    case 'shape':
      return value.kind === 'shape' ? undefined : `expects a shape such as 3x224x224, not ${describe(value)}`;
    case 'path':
      return value.kind === 'string' ? undefined : `expects a path in double quotes, such as "data/train", not ${describe(value)}`;
    case 'ref':
      return value.kind === 'word' ? undefined : `expects the name of a ${type.target}, not ${describe(value)}`;
    case 'numbers': {
      const items = value.kind === 'tuple' ? value.items : [value];
      if (type.length !== undefined && items.length !== type.length) return `expects ${type.length} numbers, as (${Array.from({ length: type.length }, () => '…').join(', ')}), not ${describe(value)}`;
      let previous = -Infinity;
      for (const item of items) {
        if (item.kind !== 'number') return `expects numbers, not ${describe(item)}`;
        const range = checkRange(item.value, { min: type.min, max: type.max });
        if (range) return range;
        if (type.increasing && item.value <= previous) return 'expects numbers in increasing order';
        previous = item.value;
      }
      return undefined;
    }
    case 'classes':
      if (value.kind === 'number') return checkType({ kind: 'int', min: 2 }, value);
      if (value.kind === 'tuple' && value.items.length >= 2 && value.items.every((item) => item.kind === 'word' || item.kind === 'string')) return undefined;
      return `expects a number of classes (2 or more) or their names, as (cat, dog), not ${describe(value)}`;
    case 'weights':
      if (value.kind === 'word' && value.text === 'balanced') return undefined;
      if (value.kind === 'tuple' && value.items.every((item) => item.kind === 'number' && item.value > 0)) return undefined;
      return `expects balanced or a list of positive weights, one per class, not ${describe(value)}`;
  }
}

function checkRange(value: number, range: { min?: number | undefined; max?: number | undefined; above?: number | undefined; below?: number | undefined }): string | undefined {
  if (range.min !== undefined && value < range.min) return `must be at least ${formatNumber(range.min)}, not ${formatNumber(value)}`;
  if (range.max !== undefined && value > range.max) return `must be at most ${formatNumber(range.max)}, not ${formatNumber(value)}`;
  if (range.above !== undefined && value <= range.above) return `must be more than ${formatNumber(range.above)}, not ${formatNumber(value)}`;
  if (range.below !== undefined && value >= range.below) return `must be less than ${formatNumber(range.below)}, not ${formatNumber(value)}`;
  return undefined;
}

function checkSize(value: Value, min: number): string | undefined {
  const items = value.kind === 'tuple' ? value.items : [value];
  if (items.length < 1 || items.length > 2) return `expects a whole number or an (h, w) pair, not ${describe(value)}`;
  for (const item of items) {
    if (item.kind !== 'number' || !Number.isInteger(item.value)) return `expects a whole number or an (h, w) pair, not ${describe(value)}`;
    if (item.value < min) return `must be at least ${min}, not ${formatNumber(item.value)}`;
  }
  return undefined;
}

/** A size value as `[h, w]`; callers have checked it with `checkType`. */
export function pair(value: Value): [number, number] {
  if (value.kind === 'tuple') {
    const [h, w] = value.items.map((item) => (item.kind === 'number' ? item.value : 0));
    return [h ?? 0, w ?? h ?? 0];
  }
  const n = value.kind === 'number' ? value.value : 0;
  return [n, n];
}
