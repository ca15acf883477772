import type { Span } from './span';

export type TokenKind =
  | 'ident'
  | 'number'
  | 'shape'
  | 'string'
  | 'lbrace'
  | 'rbrace'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'equals'
  | 'plus'
  | 'minus'
  | 'star'
  | 'slash'
  | 'newline'
  | 'comment'
  | 'bad'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly span: Span;
  /** The token's source text; for strings, the text between the quotes with escapes resolved. */
  readonly text: string;
}
