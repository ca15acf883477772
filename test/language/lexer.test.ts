/**
 * The lexer, case by case: each input with the tokens it must give (kind and text, end of file
 * left out) and the diagnostics it must report. Newlines are written `newline:\n`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lex } from '../../server/src/language/syntax/lexer';
import { assertDiagnostics } from './helpers';

interface Case {
  readonly name: string;
  readonly input: string;
  /** `kind:text`; for a string the text is its value, quotes dropped and escapes resolved. */
  readonly tokens: readonly string[];
  /** `line:col severity message-substring`, as helpers.assertDiagnostics reads them. */
  readonly diagnostics?: readonly string[];
}

const CASES: readonly Case[] = [
  // Shapes, numbers and identifiers share their first characters; these decide between them.
  { name: 'a 3-D shape', input: '3x224x224', tokens: ['shape:3x224x224'] },
  { name: 'a 2-D shape', input: '32x32', tokens: ['shape:32x32'] },
  { name: 'a shape after its statement', input: 'input 3x32x32', tokens: ['ident:input', 'shape:3x32x32'] },
  { name: 'a shape with a trailing x is one bad token', input: '3x', tokens: ['bad:3x'], diagnostics: ["1:1 error '3x' is not a shape: write sizes as whole numbers joined by 'x'"] },
  { name: 'a shape cut short after the second size', input: '3x224x', tokens: ['bad:3x224x'], diagnostics: ["1:1 error '3x224x' is not a shape"] },
  { name: 'a shape with a decimal size', input: '3.5x2', tokens: ['bad:3.5x2'], diagnostics: ["1:1 error '3.5x2' is not a shape"] },
  { name: 'spaced sizes are three tokens, not a shape', input: '3 x 3', tokens: ['number:3', 'ident:x', 'number:3'] },
  { name: 'an identifier may start with x', input: 'x3', tokens: ['ident:x3'] },
  { name: 'an integer', input: '64', tokens: ['number:64'] },
  { name: 'a decimal', input: '0.001', tokens: ['number:0.001'] },
  { name: 'a negative exponent', input: '1e-4', tokens: ['number:1e-4'] },
  { name: 'a positive exponent in capitals', input: '2.5E+3', tokens: ['number:2.5E+3'] },
  { name: 'a decimal without its leading zero', input: '.5', tokens: ['number:.5'] },
  { name: 'a decimal point without digits after it', input: '1.', tokens: ['number:1.'] },
  { name: 'an exponent without digits', input: '1e', tokens: ['bad:1e'], diagnostics: ["1:1 error '1e' is not a number."] },
  { name: 'a number running into letters', input: '12abc', tokens: ['bad:12abc'], diagnostics: ["1:1 error '12abc' is not a number."] },
  { name: 'a number with two points', input: '0.5.', tokens: ['bad:0.5.'], diagnostics: ["1:1 error '0.5.' is not a number."] },
  { name: 'a minus sign is its own token', input: '-3', tokens: ['minus:-', 'number:3'] },
  { name: 'identifiers with underscores and digits', input: 'early_stop val_loss _x9', tokens: ['ident:early_stop', 'ident:val_loss', 'ident:_x9'] },
  { name: 'key=value', input: 'lr=0.001', tokens: ['ident:lr', 'equals:=', 'number:0.001'] },
  { name: 'a tuple', input: 'kernel=(3, 5)', tokens: ['ident:kernel', 'equals:=', 'lparen:(', 'number:3', 'comma:,', 'number:5', 'rparen:)'] },
  { name: 'arithmetic', input: 'channels*2+width/4-1', tokens: ['ident:channels', 'star:*', 'number:2', 'plus:+', 'ident:width', 'slash:/', 'number:4', 'minus:-', 'number:1'] },
  { name: 'braces', input: 'repeat 2 { relu }', tokens: ['ident:repeat', 'number:2', 'lbrace:{', 'ident:relu', 'rbrace:}'] },

  // Strings hold one line; only \" and \\ are escapes.
  { name: 'a string', input: 'train "data/cifar10/train"', tokens: ['ident:train', 'string:data/cifar10/train'] },
  { name: 'an empty string', input: '""', tokens: ['string:'] },
  { name: 'an escaped quote', input: '"a \\"quoted\\" word"', tokens: ['string:a "quoted" word'] },
  { name: 'an escaped backslash', input: '"C:\\\\data"', tokens: ['string:C:\\data'] },
  { name: 'a backslash before another letter is kept', input: '"a\\nb"', tokens: ['string:a\\nb'] },
  { name: 'a # inside a string is not a comment', input: '"a#b" # c', tokens: ['string:a#b', 'comment:# c'] },
  { name: 'an unterminated string at the end of the file', input: 'train "data', tokens: ['ident:train', 'string:data'], diagnostics: ['1:7 error This string has no closing quote'] },
  { name: 'an unterminated string stops at the end of its line', input: 'train "data\nval "v"', tokens: ['ident:train', 'string:data', 'newline:\n', 'ident:val', 'string:v'], diagnostics: ['1:7 error This string has no closing quote'] },
  { name: 'an escaped quote cannot close a string', input: '"abc\\"', tokens: ['string:abc"'], diagnostics: ['1:1 error This string has no closing quote'] },

  // Comments run to the end of the line and keep their text for the formatter.
  { name: 'a comment line', input: '# stem\nrelu', tokens: ['comment:# stem', 'newline:\n', 'ident:relu'] },
  { name: 'a trailing comment', input: 'conv 3    # conv1', tokens: ['ident:conv', 'number:3', 'comment:# conv1'] },
  { name: 'a comment at the end of the file', input: 'relu #', tokens: ['ident:relu', 'comment:#'] },

  // Whitespace and characters the language does not use.
  { name: 'carriage returns, tabs and a byte-order mark are skipped', input: '\uFEFFrelu\r\n\tconv', tokens: ['ident:relu', 'newline:\n', 'ident:conv'] },
  { name: 'a bad character between good tokens', input: 'conv @ 3', tokens: ['ident:conv', 'bad:@', 'number:3'], diagnostics: ["1:6 error Unexpected character '@'."] },
  { name: 'a dot between words', input: 'a.b', tokens: ['ident:a', 'bad:.', 'ident:b'], diagnostics: ["1:2 error Unexpected character '.'."] },
  { name: 'two bad characters on the second line', input: 'relu\n; ;', tokens: ['ident:relu', 'newline:\n', 'bad:;', 'bad:;'], diagnostics: ["2:1 error Unexpected character ';'.", "2:3 error Unexpected character ';'."] },
];

function check(input: string, tokens: readonly string[], diagnostics: readonly string[]): void {
  const result = lex(input);
  const last = result.tokens[result.tokens.length - 1]!;
  assert.equal(last.kind, 'eof');
  assert.deepEqual({ start: last.span.start, end: last.span.end }, { start: input.length, end: input.length });
  const body = result.tokens.slice(0, -1);
  assert.deepEqual(body.map((t) => `${t.kind}:${t.text}`), tokens);
  // Every token but a string is exactly its source text, and tokens come in order without overlap.
  let end = 0;
  for (const token of body) {
    assert.ok(token.span.start >= end, `token '${token.text}' overlaps the one before it`);
    if (token.kind !== 'string') assert.equal(input.slice(token.span.start, token.span.end), token.text);
    end = token.span.end;
  }
  assertDiagnostics(input, result.diagnostics, diagnostics);
}

for (const c of CASES) test(c.name, () => check(c.input, c.tokens, c.diagnostics ?? []));
