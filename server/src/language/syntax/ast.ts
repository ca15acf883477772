/**
 * The syntax tree of an `.ocular` file. It is deliberately uniform: every line inside a section
 * is a `Statement` (a head word, arguments, and an optional braced body), and the meaning of a
 * head word is decided later by the semantic passes. That keeps the parser small and lets every
 * feature work on statements it does not understand yet.
 */
import type { Span } from './span';

export interface Name {
  readonly text: string;
  readonly span: Span;
}

export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly span: Span }
  | { readonly kind: 'shape'; readonly dims: readonly number[]; readonly span: Span }
  | { readonly kind: 'string'; readonly value: string; readonly span: Span }
  | { readonly kind: 'ident'; readonly name: string; readonly span: Span }
  | { readonly kind: 'tuple'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'unary'; readonly op: '-' | '+'; readonly operand: Expr; readonly span: Span }
  | { readonly kind: 'binary'; readonly op: '+' | '-' | '*' | '/'; readonly left: Expr; readonly right: Expr; readonly span: Span }
  /** Stands where a value was expected but none was written; a diagnostic has been reported. */
  | { readonly kind: 'missing'; readonly span: Span };

/** An argument: positional (`64`) or named (`kernel=3`). */
export interface Arg {
  readonly key?: Name;
  readonly value: Expr;
  readonly span: Span;
}

export interface Body {
  readonly open: Span;
  /** Absent when the file ends (or another section starts) before the closing brace. */
  readonly close?: Span;
  readonly statements: readonly Statement[];
}

export interface Statement {
  readonly head: Name;
  readonly args: readonly Arg[];
  readonly body?: Body;
  /** From the head to the last argument, or to the closing brace of the body. */
  readonly span: Span;
}

/** A parameter of a block or model: `channels` or `stride=1`. */
export interface Param {
  readonly name: Name;
  readonly default?: Expr;
  readonly span: Span;
}

export type SectionKind = 'model' | 'block' | 'dataset' | 'train';

export interface Section {
  readonly kind: SectionKind;
  readonly keyword: Name;
  /** Optional only for `train`; elsewhere its absence has been reported. */
  readonly name?: Name;
  readonly params: readonly Param[];
  readonly body: Body;
  readonly span: Span;
}

export interface SourceFile {
  readonly sections: readonly Section[];
}
