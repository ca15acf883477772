/**
 * The parser, case by case. Trees are written back as compact text: one line per section,
 * statements separated by `;`, arguments as written but with every operation in parentheses, so
 * that precedence and the difference between a tuple and a grouping show. A body that never
 * closed ends in `…` instead of `}`.
 *
 * The recovery cases give a broken input and the exact errors the whole analysis reports for it:
 * one typo must give one error, at the place to fix, and the rest of the file must still parse.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../server/src/language/analysis';
import type { Body, Expr, Section, SourceFile, Statement } from '../../server/src/language/syntax/ast';
import { parse } from '../../server/src/language/syntax/parser';
import { assertDiagnostics } from './helpers';

function expr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return String(e.value);
    case 'shape':
      return e.dims.join('x');
    case 'string':
      return JSON.stringify(e.value);
    case 'ident':
      return e.name;
    case 'tuple':
      return `(${e.items.map(expr).join(', ')}${e.items.length === 1 ? ',' : ''})`;
    case 'unary':
      return `(${e.op}${expr(e.operand)})`;
    case 'binary':
      return `(${expr(e.left)} ${e.op} ${expr(e.right)})`;
    case 'missing':
      return '?';
  }
}

function body(b: Body): string {
  return `{ ${b.statements.map(statement).join('; ')}${b.statements.length ? ' ' : ''}${b.close ? '}' : '…'}`;
}

function statement(s: Statement): string {
  const args = s.args.map((a) => `${a.key ? `${a.key.text}=` : ''}${expr(a.value)}`);
  return [s.head.text, ...args, ...(s.body ? [body(s.body)] : [])].join(' ');
}

function section(s: Section): string {
  const params = s.params.map((p) => `${p.name.text}${p.default ? `=${expr(p.default)}` : ''}`);
  return `${s.kind}${s.name ? ` ${s.name.text}` : ''}${params.length ? `(${params.join(', ')})` : ''} ${body(s.body)}`;
}

const tree = (file: SourceFile): string[] => file.sections.map(section);

interface TreeCase {
  readonly name: string;
  readonly input: string;
  readonly tree: readonly string[];
}

const TREES: readonly TreeCase[] = [
  { name: 'an empty file', input: '', tree: [] },
  { name: 'only comments and blank lines', input: '# nothing here\n\n   # still nothing\n', tree: [] },
  {
    name: 'the four kinds of section',
    input: 'model M {\n  relu\n}\nblock B(c) {\n  conv c\n}\ndataset d {\n  train "x"\n}\ntrain {\n  model M\n}\ntrain second {\n  data d\n}\n',
    tree: ['model M { relu }', 'block B(c) { conv c }', 'dataset d { train "x" }', 'train { model M }', 'train second { data d }'],
  },
  { name: 'an empty body on one line', input: 'model M {}', tree: ['model M { }'] },
  { name: 'a body closed on the line of its last statement', input: 'model M {\n  relu }', tree: ['model M { relu }'] },
  { name: 'comments and blank lines inside a body', input: 'model M {  # the model\n\n  relu   # first\n\n\n  tanh\n}', tree: ['model M { relu; tanh }'] },
  { name: 'block parameters with and without defaults', input: 'block B(a, b=2, c=a*2) {\n  conv c\n}', tree: ['block B(a, b=2, c=(a * 2)) { conv c }'] },
  { name: 'a model parameter', input: 'model M(classes=100) {\n  dense classes\n}', tree: ['model M(classes=100) { dense classes }'] },
  { name: 'an empty parameter list', input: 'block B() {\n  relu\n}', tree: ['block B { relu }'] },
  { name: "'{' on the line after a section header", input: 'model M\n{\n  relu\n}\nblock B(c)\n\n{\n  conv c\n}', tree: ['model M { relu }', 'block B(c) { conv c }'] },
  {
    name: 'positional and key=value arguments',
    input: 'model M {\n  conv 64 kernel=3 stride=2 padding=same bias=false\n  dense kernel=3 64\n}',
    tree: ['model M { conv 64 kernel=3 stride=2 padding=same bias=false; dense kernel=3 64 }'],
  },
  { name: 'shapes, strings and decimals as values', input: 'dataset d {\n  image 3x224x224\n  train "data/a b"\n  split val=.2 seed=7\n}', tree: ['dataset d { image 3x224x224; train "data/a b"; split val=0.2 seed=7 }'] },
  { name: 'a tuple of two', input: 'model M {\n  conv 8 kernel=(3, 5)\n}', tree: ['model M { conv 8 kernel=(3, 5) }'] },
  { name: 'parentheses around one value only group it', input: 'model M {\n  conv 8 padding=(1)\n}', tree: ['model M { conv 8 padding=1 }'] },
  { name: 'a trailing comma makes a tuple of one', input: 'model M {\n  conv 8 kernel=(3,)\n}', tree: ['model M { conv 8 kernel=(3,) }'] },
  { name: 'an empty tuple', input: 'model M {\n  conv 8 kernel=()\n}', tree: ['model M { conv 8 kernel=() }'] },
  { name: 'nested tuples', input: 'dataset d {\n  classes ((a, b), c)\n}', tree: ['dataset d { classes ((a, b), c) }'] },
  { name: 'multiplication before addition', input: 'model M {\n  conv a+b*c\n}', tree: ['model M { conv (a + (b * c)) }'] },
  { name: 'parentheses before multiplication', input: 'model M {\n  conv (a+b)*c\n}', tree: ['model M { conv ((a + b) * c) }'] },
  { name: 'subtraction and division group to the left', input: 'model M {\n  conv a-b-c stride=a/b/c\n}', tree: ['model M { conv ((a - b) - c) stride=((a / b) / c) }'] },
  { name: 'unary minus binds tighter than multiplication', input: 'model M {\n  conv -a*b\n}', tree: ['model M { conv ((-a) * b) }'] },
  { name: 'arithmetic inside a tuple', input: 'model M {\n  conv 8 kernel=(w/2, w*2+1)\n}', tree: ['model M { conv 8 kernel=((w / 2), ((w * 2) + 1)) }'] },
  { name: 'an inline body', input: 'model M {\n  repeat 2 { basic 64 }\n}', tree: ['model M { repeat 2 { basic 64 } }'] },
  { name: 'nested bodies over several lines', input: 'model M {\n  repeat 2 {\n    residual shortcut=projection {\n      conv 8\n    }\n    relu\n  }\n}', tree: ['model M { repeat 2 { residual shortcut=projection { conv 8 }; relu } }'] },
  // Section keywords are not reserved: they open a section only at the start of a top-level line.
  { name: "'train' as a dataset setting and 'model' as a train setting", input: 'dataset d {\n  train "x"\n}\ntrain {\n  model M\n  data d\n}', tree: ['dataset d { train "x" }', 'train { model M; data d }'] },
  { name: 'a section keyword as a block name', input: 'block dataset(x) {\n  conv x\n}', tree: ['block dataset(x) { conv x }'] },
];

interface RecoveryCase {
  readonly name: string;
  readonly input: string;
  /** Every error the analysis reports, as helpers.assertDiagnostics reads them; warnings are left out. */
  readonly errors: readonly string[];
  /** The tree the parser recovers. */
  readonly tree: readonly string[];
}

const RECOVERY: readonly RecoveryCase[] = [
  {
    name: "a stray ')' in one line",
    input: 'model M {\n  input 3x32x32\n  conv 8 kernel=3)\n  relu\n}',
    errors: ["3:18 error Unexpected ')': expected a value or key=value."],
    tree: ['model M { input 3x32x32; conv 8 kernel=3; relu }'],
  },
  {
    name: "a missing '}' before the next section",
    input: 'model M {\n  input 3x32x32\n  relu\ndataset d {\n  train "x"\n}',
    errors: ["1:1 error The model M section has no closing '}'."],
    tree: ['model M { input 3x32x32; relu …', 'dataset d { train "x" }'],
  },
  {
    name: "a missing '}' of a nested body",
    input: 'model M {\n  input 3x32x32\n  repeat 2 {\n    relu\n}\ndataset d {\n  train "x"\n}',
    errors: ["1:1 error The model M section has no closing '}'."],
    tree: ['model M { input 3x32x32; repeat 2 { relu } …', 'dataset d { train "x" }'],
  },
  {
    name: "a missing '}' at the end of the file",
    input: 'train {\n  model M\n  data d\n',
    errors: ["1:1 error The train section has no closing '}'.", "2:9 error No model named 'M'", "3:8 error No dataset named 'd'"],
    tree: ['train { model M; data d …'],
  },
  {
    name: "an unclosed '('",
    input: 'model M {\n  input 3x32x32\n  conv 8 kernel=(3, 3\n  relu\n}',
    errors: ["3:17 error This '(' has no closing ')'."],
    tree: ['model M { input 3x32x32; conv 8 kernel=(3, 3); relu }'],
  },
  {
    name: 'a line starting with a number',
    input: 'model M {\n  input 3x32x32\n  3 relu\n  relu\n}',
    errors: ["3:3 error Expected a statement (a layer or setting name) but found '3'."],
    tree: ['model M { input 3x32x32; relu }'],
  },
  {
    name: 'a misspelt section keyword',
    input: 'modle X {\n  input 3x32x32\n}\nmodel Y {\n  input 3x32x32\n}',
    errors: ["1:1 error Unknown section 'modle': did you mean 'model'?"],
    tree: ['model Y { input 3x32x32 }'],
  },
  {
    name: 'a stray word at the top level',
    input: 'hello world\nmodel M {\n  input 3x32x32\n}',
    errors: ["1:1 error Expected a section (model, block, dataset or train) but found 'hello'."],
    tree: ['model M { input 3x32x32 }'],
  },
  {
    name: "a stray '}' at the top level",
    input: 'model M {\n  input 3x32x32\n}\n}\nmodel N {\n  input 3x32x32\n}',
    errors: ["4:1 error Expected a section (model, block, dataset or train) but found '}' with no open section."],
    tree: ['model M { input 3x32x32 }', 'model N { input 3x32x32 }'],
  },
  {
    name: "a missing '{' after a section header",
    input: 'model M\n  input 3x32x32\n}',
    errors: ["1:8 error Expected '{' to open the model section."],
    tree: ['model M { input 3x32x32 }'],
  },
  {
    name: 'a section without a name',
    input: 'model {\n  input 3x32x32\n}\nmodel N {\n  input 3x32x32\n}',
    errors: ["1:7 error Expected a name after 'model', as in 'model SimpleCNN {'."],
    tree: ['model { input 3x32x32 }', 'model N { input 3x32x32 }'],
  },
  {
    name: 'a missing comma between block parameters',
    input: 'block B(a b) {\n  conv a\n}',
    errors: ["1:11 error Expected ',' or ')' but found 'b'."],
    tree: ['block B(a) { conv a }'],
  },
  {
    name: 'a number as a block parameter',
    input: 'block B(a, 3) {\n  conv a\n}',
    errors: ["1:12 error Expected a parameter name but found '3'."],
    tree: ['block B(a) { conv a }'],
  },
  {
    name: "a parameter list without ')' before '{'",
    input: 'block B(a {\n  conv a\n}',
    errors: ["1:11 error This parameter list has no closing ')'."],
    tree: ['block B(a) { conv a }'],
  },
  {
    name: "a parameter list without ')' at the end of the line",
    input: 'block B(a\n  conv a\n}',
    errors: ["1:8 error This parameter list has no closing ')'."],
    tree: ['block B(a) { conv a }'],
  },
  {
    name: "a parameter list without ')' before '{' on the next line",
    input: 'block B(a, b=2\n{\n  conv a\n}',
    errors: ["1:8 error This parameter list has no closing ')'."],
    tree: ['block B(a, b=2) { conv a }'],
  },
  {
    name: 'a bad character after the last value',
    input: 'model M {\n  input 3x32x32\n  conv 8 @\n  relu @\n}',
    errors: ["3:10 error Unexpected character '@'.", "4:8 error Unexpected character '@'."],
    tree: ['model M { input 3x32x32; conv 8 ?; relu ? }'],
  },
  {
    name: 'a missing value after key=',
    input: 'model M {\n  input 3x32x32\n  conv 8 kernel=\n  relu\n}',
    errors: ["3:10 error Expected a value after 'kernel='."],
    tree: ['model M { input 3x32x32; conv 8 kernel=?; relu }'],
  },
  {
    name: 'a comma between arguments',
    input: 'model M {\n  input 3x32x32\n  conv 8, kernel=3\n  relu\n}',
    errors: ["3:9 error Unexpected ',': expected a value or key=value."],
    tree: ['model M { input 3x32x32; conv 8; relu }'],
  },
  {
    name: "an '=' without a key",
    input: 'model M {\n  input 3x32x32\n  conv 8 = 3\n  relu\n}',
    errors: ["3:10 error Unexpected '=': expected a value or key=value."],
    tree: ['model M { input 3x32x32; conv 8; relu }'],
  },
  {
    name: 'a malformed shape as an argument',
    input: 'model M {\n  input 3x32x32\n  conv 3x\n  relu\n}',
    errors: ["3:8 error '3x' is not a shape"],
    tree: ['model M { input 3x32x32; conv ?; relu }'],
  },
  {
    name: 'an unterminated string in a dataset',
    input: 'dataset d {\n  train "data\n  image 3x32x32\n}',
    errors: ['2:9 error This string has no closing quote'],
    tree: ['dataset d { train "data"; image 3x32x32 }'],
  },
  {
    name: 'two typos on two lines give two errors',
    input: 'model M {\n  input 3x32x32\n  conv 8 kernel=3)\n  relu\n  maxpool 2,\n}',
    errors: ["3:18 error Unexpected ')'", "5:12 error Unexpected ','"],
    tree: ['model M { input 3x32x32; conv 8 kernel=3; relu; maxpool 2 }'],
  },
];

function checkTree(input: string, expected: readonly string[]): void {
  const result = parse(input);
  assert.deepEqual(tree(result.file), expected);
  assert.deepEqual(result.diagnostics.map((d) => d.message), []);
}

function checkRecovery(input: string, errors: readonly string[], expected: readonly string[]): void {
  const analysis = analyze(input);
  assertDiagnostics(input, analysis.diagnostics.filter((d) => d.severity === 'error'), errors);
  assert.deepEqual(tree(analysis.file), expected);
}

describe('trees', () => {
  for (const c of TREES) test(c.name, () => checkTree(c.input, c.tree));
});

describe('recovery', () => {
  for (const c of RECOVERY) test(c.name, () => checkRecovery(c.input, c.errors, c.tree));
});
