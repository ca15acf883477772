/** Quick-fix edits that work on whole lines, shared by the checks that offer them. */
import type { Fix } from '../diagnostics';
import type { Statement } from '../syntax/ast';
import { lineStartOf } from '../text';


export function insertLineBefore(source: string, statement: Statement, text: string, title: string): Fix {
  const start = lineStartOf(source, statement.head.span.start);
  const indent = source.slice(start, statement.head.span.start);
  return { title, edits: [{ span: { start, end: start }, text: `${indent}${text}\n` }] };
}

export function deleteLine(source: string, statement: Statement, title: string): Fix {
  const start = lineStartOf(source, statement.head.span.start);
  const newline = source.indexOf('\n', statement.span.end);
  return { title, edits: [{ span: { start, end: newline === -1 ? source.length : newline + 1 }, text: '' }] };
}

