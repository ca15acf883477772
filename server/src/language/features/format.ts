/**
 * Formats a file: two-space indentation by brace depth, one space between words, none around
 * `=` or inside parentheses, `, ` between tuple items, at most one blank line in a row, and a
 * final newline. Trailing comments keep the gap the author gave them, so aligned comments stay
 * aligned. It works from tokens alone, so a file with errors formats too; a line holding text
 * the lexer could not read keeps its text and only gets its indentation.
 */
import { lex } from '../syntax/lexer';
import type { Token } from '../syntax/tokens';

const INDENT = '  ';

export function format(source: string): string {
  const { tokens } = lex(source);
  const lines: Token[][] = [[]];
  for (const token of tokens) {
    if (token.kind === 'eof') break;
    if (token.kind === 'newline') lines.push([]);
    else lines[lines.length - 1]!.push(token);
  }
  const out: string[] = [];
  let depth = 0;
  let blank = 0;
  for (const line of lines) {
    if (line.length === 0) {
      blank++;
      continue;
    }
    if (out.length > 0 && blank > 0) out.push('');
    blank = 0;
    const closesFirst = line[0]!.kind === 'rbrace' ? 1 : 0;
    const indent = INDENT.repeat(Math.max(0, depth - closesFirst));
    const raw = line.some((t) => t.kind === 'bad' || (t.kind === 'string' && !source.slice(t.span.start, t.span.end).endsWith('"')) || (t.kind === 'string' && t.span.end - t.span.start < 2));
    const start = line[0]!.span.start;
    const end = line[line.length - 1]!.span.end;
    out.push(indent + (raw ? source.slice(start, end).trimEnd() : formatLine(source, line)));
    for (const token of line) {
      if (token.kind === 'lbrace') depth++;
      if (token.kind === 'rbrace') depth = Math.max(0, depth - 1);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

function formatLine(source: string, line: readonly Token[]): string {
  let text = '';
  let previous: Token | undefined;
  for (const token of line) {
    const written = source.slice(token.span.start, token.span.end);
    if (previous) text += gap(source, previous, token);
    text += token.kind === 'comment' ? written.trimEnd() : written;
    previous = token;
  }
  return text;
}

/** The space to write between two tokens on a line. */
function gap(source: string, left: Token, right: Token): string {
  const original = source.slice(left.span.end, right.span.start);
  if (right.kind === 'comment') return original.length > 0 ? original : ' ';
  if (left.kind === 'equals' || right.kind === 'equals') return '';
  if (left.kind === 'lparen' || right.kind === 'rparen' || right.kind === 'comma') return '';
  if (right.kind === 'lparen' && left.kind === 'ident' && original.length === 0) return '';
  if (left.kind === 'star' || left.kind === 'slash' || right.kind === 'star' || right.kind === 'slash') return '';
  // Plus and minus may be unary or binary; the author's spacing tells which, so it is kept.
  if (left.kind === 'plus' || left.kind === 'minus' || right.kind === 'plus' || right.kind === 'minus') return original.length > 0 ? ' ' : '';
  return ' ';
}
