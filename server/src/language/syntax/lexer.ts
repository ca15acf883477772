/**
 * Splits `.ocular` source into tokens. The lexer never fails: text it cannot read becomes a
 * `bad` token with a diagnostic, and lexing goes on with the next character.
 */
import type { Diagnostic } from '../diagnostics';
import { span } from './span';
import type { Token, TokenKind } from './tokens';

const SHAPE = /\d+(?:x\d+)+(?![A-Za-z0-9_.])/y;
const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD_TAIL = /[A-Za-z0-9_.]*/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

const PUNCTUATION: Record<string, TokenKind> = {
  '{': 'lbrace',
  '}': 'rbrace',
  '(': 'lparen',
  ')': 'rparen',
  ',': 'comma',
  '=': 'equals',
  '+': 'plus',
  '-': 'minus',
  '*': 'star',
  '/': 'slash',
};

export interface LexResult {
  readonly tokens: Token[];
  readonly diagnostics: Diagnostic[];
}

export function lex(source: string): LexResult {
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  let pos = 0;
  const push = (kind: TokenKind, start: number, end: number, text = source.slice(start, end)): void => {
    tokens.push({ kind, span: span(start, end), text });
  };
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = pos;
    return pattern.exec(source)?.[0];
  };

  while (pos < source.length) {
    const ch = source[pos]!;
    const start = pos;
    if (ch === ' ' || ch === '\t' || ch === '\uFEFF' || (ch === '\r' && source[pos + 1] === '\n')) {
      pos++;
    } else if (ch === '\n' || ch === '\r') {
      // A lone carriage return ends a line too, as LSP clients count lines.
      push('newline', pos, ++pos);
    } else if (ch === '#') {
      while (pos < source.length && source[pos] !== '\n' && source[pos] !== '\r') pos++;
      push('comment', start, pos);
    } else if (ch === '"') {
      pos = lexString(source, pos, tokens, diagnostics);
    } else if (/[0-9.]/.test(ch) && (ch !== '.' || /[0-9]/.test(source[pos + 1] ?? ''))) {
      const shape = match(SHAPE);
      if (shape !== undefined) {
        pos += shape.length;
        push('shape', start, pos);
        continue;
      }
      pos += match(NUMBER)!.length;
      const tail = match(WORD_TAIL) ?? '';
      if (tail.length > 0) {
        pos += tail.length;
        const text = source.slice(start, pos);
        push('bad', start, pos);
        diagnostics.push({
          span: span(start, pos),
          severity: 'error',
          code: 'syntax',
          message: /x/.test(text)
            ? `'${text}' is not a shape: write sizes as whole numbers joined by 'x', like 3x224x224.`
            : `'${text}' is not a number.`,
        });
      } else {
        push('number', start, pos);
      }
    } else if (/[A-Za-z_]/.test(ch)) {
      pos += match(IDENT)!.length;
      push('ident', start, pos);
    } else if (PUNCTUATION[ch] !== undefined) {
      push(PUNCTUATION[ch]!, pos, ++pos);
    } else {
      pos++;
      push('bad', start, pos);
      diagnostics.push({
        span: span(start, pos),
        severity: 'error',
        code: 'syntax',
        message: `Unexpected character '${ch}'.`,
      });
    }
  }
  push('eof', source.length, source.length, '');
  return { tokens, diagnostics };
}

/** Reads a one-line string starting at the opening quote and returns the offset after it. */
function lexString(source: string, open: number, tokens: Token[], diagnostics: Diagnostic[]): number {
  let pos = open + 1;
  let value = '';
  while (pos < source.length && source[pos] !== '"' && source[pos] !== '\n' && source[pos] !== '\r') {
    if (source[pos] === '\\' && (source[pos + 1] === '"' || source[pos + 1] === '\\')) {
      value += source[pos + 1];
      pos += 2;
    } else {
      value += source[pos];
      pos++;
    }
  }
  if (source[pos] === '"') {
    pos++;
  } else {
    diagnostics.push({
      span: span(open, pos),
      severity: 'error',
      code: 'syntax',
      message: 'This string has no closing quote: end it with " on the same line.',
    });
  }
  tokens.push({ kind: 'string', span: span(open, pos), text: value });
  return pos;
}
