/**
 * Helpers shared by the language tests: where the repository and its examples are, how to write a
 * source position and a diagnostic so that expectations read like the editor shows them, and how
 * to mark cursors and spans inside a test input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../server/src/language/diagnostics';
import type { Span } from '../../server/src/language/syntax/span';
import { LineIndex } from '../../server/src/language/text';

/** The repository root, from out/test/language where the compiled tests run. */
export const repoRoot = path.resolve(__dirname, '../../..');

export interface Example {
  /** The path from the repository root, such as `examples/resnet18.ocular`. */
  readonly file: string;
  readonly source: string;
}

/** Every example model file, read fresh so that a test never sees another test's edits. */
export function examples(): Example[] {
  const dir = path.join(repoRoot, 'examples');
  return fs
    .readdirSync(dir)
    .filter((name) => /^[^.].*\.ocular$/.test(name)) // not the .ocular folder of runs and caches
    .sort()
    .map((name) => ({ file: `examples/${name}`, source: fs.readFileSync(path.join(dir, name), 'utf8') }));
}

/** An offset as the editor's status bar shows it: one-based `line:column`. */
export function lineCol(source: string, offset: number): string {
  const position = new LineIndex(source).position(offset);
  return `${position.line + 1}:${position.character + 1}`;
}

/** A diagnostic as one readable line: `line:col severity message`. */
export function renderDiagnostic(source: string, diagnostic: Diagnostic): string {
  return `${lineCol(source, diagnostic.span.start)} ${diagnostic.severity} ${diagnostic.message}`;
}

/**
 * Asserts that the diagnostics are exactly the expected ones, in order. Each expectation is written
 * `line:col severity text`, where the text only has to occur in the message, so that rewording the
 * rest of a message does not break a test about where and how bad a problem is. On failure the
 * diff shows every diagnostic in full, with the ones that matched written as expected.
 */
export function assertDiagnostics(source: string, diagnostics: readonly Diagnostic[], expected: readonly string[]): void {
  const actual = diagnostics.map((diagnostic, i) => {
    const rendered = renderDiagnostic(source, diagnostic);
    const wanted = expected[i];
    const prefix = wanted?.match(/^\d+:\d+ \w+ /)?.[0];
    return wanted !== undefined && prefix !== undefined && rendered.startsWith(prefix) && diagnostic.message.includes(wanted.slice(prefix.length)) ? wanted : rendered;
  });
  assert.deepEqual(actual, expected);
}

/** A test input with its markers removed, and where they were. */
export interface Marked {
  readonly source: string;
  /** Offsets of each `|`. */
  readonly cursors: readonly number[];
  /** Spans of each `[[text]]`. */
  readonly spans: readonly Span[];
}

/**
 * Reads markers in a test input: `|` marks a cursor and `[[text]]` marks a span. The language has
 * no `|`, `[` or `]`, so the markers can never be mistaken for source.
 */
export function marked(input: string): Marked {
  let source = '';
  const cursors: number[] = [];
  const spans: Span[] = [];
  const opens: number[] = [];
  for (let i = 0; i < input.length; i++) {
    if (input[i] === '|') cursors.push(source.length);
    else if (input.startsWith('[[', i)) {
      opens.push(source.length);
      i++;
    } else if (input.startsWith(']]', i)) {
      spans.push({ start: opens.pop()!, end: source.length });
      i++;
    } else source += input[i];
  }
  assert.equal(opens.length, 0, `unclosed [[ in test input: ${input}`);
  spans.sort((a, b) => a.start - b.start);
  return { source, cursors, spans };
}

/** The one cursor of a marked input. */
export function cursor(input: string): { source: string; offset: number } {
  const { source, cursors } = marked(input);
  assert.equal(cursors.length, 1, `expected exactly one | in test input: ${input}`);
  return { source, offset: cursors[0]! };
}

/** A model named M from its layer lines, each indented by two spaces, after `input`. */
export function model(lines: readonly string[], input = '3x32x32'): string {
  return ['model M {', `  input ${input}`, ...lines.map((line) => `  ${line}`), '}', ''].join('\n');
}

/** Applies non-overlapping edits to a source, as an editor applies a quick fix or a rename. */
export function applyEdits(source: string, edits: readonly { readonly span: Span; readonly text: string }[]): string {
  let result = source;
  for (const edit of [...edits].sort((a, b) => b.span.start - a.span.start)) {
    result = result.slice(0, edit.span.start) + edit.text + result.slice(edit.span.end);
  }
  return result;
}
