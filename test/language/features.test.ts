/**
 * The editor features, each as a table of cases: hover, completion, inlay hints, the outline,
 * definition, references and rename, and formatting. Inputs mark the cursor with `|` and expected
 * spans with `[[…]]` (see helpers.marked).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../server/src/language/analysis';
import { LAYERS } from '../../server/src/language/catalog';
import { complete } from '../../server/src/language/features/completion';
import { format } from '../../server/src/language/features/format';
import { hover } from '../../server/src/language/features/hover';
import { inlayHints } from '../../server/src/language/features/inlay';
import { outline, type OutlineItem } from '../../server/src/language/features/outline';
import { definition, prepareRename, references, rename } from '../../server/src/language/features/rename';
import type { Span } from '../../server/src/language/syntax/span';
import { applyEdits, cursor, examples, marked, model } from './helpers';

/**
 * A small but complete file the hover cases point into: a block called directly, with a named
 * argument and inside a repeat, and a train section pairing the model with a dataset.
 *
 * Parameters: unit 16 = 16·3·9 + 16 = 448; unit 32 s=2 = 32·16·9 + 32 = 4,640 (output 32×16×16);
 * each unit 32 in the repeat = 32·32·9 + 32 = 9,248; dense = 32·10 + 10 = 330; in all 23,914.
 */
const NET = `block unit(c, s=1) {
  conv c kernel=3 stride=s padding=1
  relu
}
model Net {
  input 3x32x32
  unit 16
  unit 32 s=2
  repeat 2 { unit 32 }
  globalavgpool
  flatten
  dense classes
}
dataset cifar {
  train "data/train"
  image 3x32x32
  classes 10
}
train {
  model Net
  data cifar
  optimizer adamw lr=0.002
}
`;

/** Puts the cursor into `source` where `needle`, written with a `|`, occurs first. */
function place(source: string, needle: string): string {
  const plain = needle.replace('|', '');
  const at = source.indexOf(plain);
  assert.notEqual(at, -1, `'${plain}' does not occur in the input`);
  return source.slice(0, at) + needle + source.slice(at + plain.length);
}

interface HoverCase {
  readonly name: string;
  readonly input: string;
  /** Texts the hover's Markdown must contain; an empty list means there must be no hover. */
  readonly contains: readonly string[];
  /** The source text of the hovered range. */
  readonly range?: string;
}

const HOVERS: readonly HoverCase[] = [
  {
    name: 'a layer: its shapes, parameters, MACs and PyTorch counterpart',
    input: model(['co|nv 16 kernel=3 padding=1']),
    contains: ['**conv**', 'torch.nn.Conv2d', '| input | 3×32×32 |', '| output | 16×32×32 |', '| parameters | 448 |', `| MACs | 442.4K`],
    range: 'conv',
  },
  { name: 'a parameter name: its default and meaning', input: place(NET, 'ker|nel=3'), contains: ['**conv** `kernel` (default `3`)', 'Filter size'], range: 'kernel' },
  { name: 'classes: its value and where it comes from', input: place(NET, 'dense cla|sses'), contains: ['`classes` = **10** (from dataset cifar)'], range: 'classes' },
  {
    name: 'a block call: the shapes and parameters of that call',
    input: place(NET, 'un|it 32 s=2'),
    contains: ['**unit** — Block **unit**(c, s).', '| input | 16×32×32 |', '| output | 32×16×16 |', '| parameters | 4,640 |'],
    range: 'unit',
  },
  {
    name: 'a line inside a block: every call it runs in',
    input: place(NET, 'co|nv c'),
    contains: ['Used 4 times (statement on line 2)', '| Net `unit1.conv1` | 3×32×32 | 16×32×32 | 448 |', '| Net `unit2.conv1` | 16×32×32 | 32×16×16 | 4,640 |', '| Net `repeat1.1.unit1.conv1` | 32×16×16 | 32×16×16 | 9,248 |'],
  },
  {
    name: "a model's name: its totals",
    input: place(NET, 'model N|et'),
    contains: ['**model Net**', '| input | 3×32×32 |', '| output | 10 |', '| parameters | 23,914 (', '| classes | 10 (dataset cifar) |', 'Largest layer: `repeat1.0.unit1.conv1` with 9,248 parameters'],
    range: 'Net',
  },
  { name: "SimpleCNN 224's totals", input: place(examples().find((e) => e.file === 'examples/simple_cnn_224.ocular')!.source, 'model Simple|CNN'), contains: ['| parameters | 102,785,482 (392.1 MiB as float32) |', '`dense1` with 102,760,960 parameters'] },
  { name: 'a reference to a dataset', input: place(NET, 'data ci|far'), contains: ['**dataset cifar**', '- train: `data/train`', '- images: 3×32×32 (stretch)', '- classes: 10'], range: 'cifar' },
  { name: "a block's name: how often it is called", input: place(NET, 'block un|it'), contains: ['**block unit**(c, s) — used 3 times.'], range: 'unit' },
  { name: 'an optimizer: its settings with defaults filled in', input: place(NET, 'opti|mizer'), contains: ['Resolved: `name=adamw` `lr=0.002`', '`weight_decay=0.01`'] },
  {
    name: 'a residual with a projection shortcut',
    input: model(['resi|dual {', '  conv 16 kernel=3 stride=2 padding=1 bias=false', '  batchnorm', '}'], '8x16x16'),
    contains: ['| output | 16×8×8 |', '| parameters | 1,344 (projection shortcut: 160) |', '| shortcut | 1×1 conv + batchnorm projection |'],
  },
  { name: 'nothing on a comment', input: `# a comment |here\n${model(['relu'])}`, contains: [] },
  { name: 'nothing on a blank line in a model', input: model(['relu', '|', 'relu']), contains: [] },
];

function checkHover(c: HoverCase): void {
  const { source, offset } = cursor(c.input);
  const result = hover(analyze(source), offset);
  if (c.contains.length === 0) {
    assert.equal(result, undefined);
    return;
  }
  assert.ok(result, 'expected a hover');
  for (const text of c.contains) assert.ok(result.markdown.includes(text), `the hover lacks ${JSON.stringify(text)}:\n${result.markdown}`);
  if (c.range !== undefined) assert.equal(source.slice(result.span.start, result.span.end), c.range);
}

const LAYER_NAMES = LAYERS.map((spec) => spec.name);

interface CompletionCase {
  readonly name: string;
  readonly input: string;
  /** The labels offered, in order. */
  readonly labels: readonly string[];
  /** The text the chosen item replaces, when the case is about that. */
  readonly replaces?: string;
  /** For a dataset path: the folder prefix the host is asked to list. */
  readonly path?: string;
}

const COMPLETIONS: readonly CompletionCase[] = [
  { name: 'section keywords in an empty file', input: '|', labels: ['model', 'block', 'dataset', 'train'] },
  { name: 'section keywords replace the word being typed', input: 'mo|', labels: ['model', 'block', 'dataset', 'train'], replaces: 'mo' },
  { name: 'layers at the start of a line in a model', input: model(['rel|']), labels: LAYER_NAMES, replaces: 'rel' },
  { name: "layers and the file's blocks", input: `block unit(c) {\n  relu\n}\n${model(['|'])}`, labels: [...LAYER_NAMES, 'unit'] },
  { name: "a layer's parameters after its positional value", input: model(['conv 8 |']), labels: ['kernel=', 'stride=', 'padding=', 'dilation=', 'groups=', 'bias='] },
  { name: 'an optional numeric positional parameter is also offered by name', input: model(['dropout |']), labels: ['classes', 'p='] },
  { name: "a block's optional parameter after its required one", input: `block unit(c, s=1) {\n  relu\n}\n${model(['unit 8 |'])}`, labels: ['classes', 's='] },
  { name: 'parameters already given are not offered again', input: model(['conv 8 kernel=3 bias=false |']), labels: ['stride=', 'padding=', 'dilation=', 'groups='] },
  { name: "the block's parameters and classes as values", input: 'block B(width) {\n  conv |\n}\n', labels: ['width', 'classes', 'kernel=', 'stride=', 'padding=', 'dilation=', 'groups=', 'bias='] },
  { name: 'padding words and names after padding=', input: model(['conv 8 padding=|']), labels: ['same', 'valid', 'classes'] },
  { name: 'true and false after bias=', input: model(['conv 8 bias=|']), labels: ['true', 'false'] },
  { name: 'the shortcut choices', input: model(['residual shortcut=| {', '}']), labels: ['auto', 'identity', 'projection'] },
  { name: 'dataset settings', input: 'dataset d {\n  |\n}\n', labels: ['train', 'val', 'test', 'split', 'image', 'resize', 'classes', 'augment', 'normalize'] },
  { name: 'augmentations inside augment', input: 'dataset d {\n  augment {\n    |\n  }\n}\n', labels: ['hflip', 'vflip', 'rotate', 'randomresizedcrop', 'colorjitter'] },
  { name: 'resize modes', input: 'dataset d {\n  resize |\n}\n', labels: ['stretch', 'crop', 'letterbox'] },
  { name: 'folders inside a dataset path', input: 'dataset d {\n  train "data/ci|"\n}\n', labels: [], path: 'data/ci' },
  { name: 'training settings', input: 'train {\n  |\n}\n', labels: ['model', 'data', 'epochs', 'batch', 'optimizer', 'schedule', 'early_stop', 'accumulate', 'label_smoothing', 'class_weights', 'seed'] },
  { name: "the file's models after model in a train section", input: place(NET, '  model |Net'), labels: ['Net'] },
  { name: "the file's datasets after data in a train section", input: place(NET, 'data |cifar'), labels: ['cifar'] },
  { name: 'optimizers', input: 'train {\n  optimizer |\n}\n', labels: ['sgd', 'momentum', 'adam', 'adamw'] },
  { name: "the chosen optimizer's parameters", input: 'train {\n  optimizer sgd |\n}\n', labels: ['lr=', 'momentum=', 'nesterov=', 'weight_decay='] },
  { name: "the chosen schedule's parameters", input: 'train {\n  schedule cosine |\n}\n', labels: ['min_lr=', 'warmup='] },
  { name: 'nothing in a comment', input: model(['conv 8 # |']), labels: [] },
];

function checkCompletion(c: CompletionCase): void {
  const { source, offset } = cursor(c.input);
  const result = complete(analyze(source), offset);
  assert.deepEqual(result.items.map((item) => item.label), c.labels);
  if (c.replaces !== undefined) assert.equal(source.slice(result.replace.start, result.replace.end), c.replaces);
  assert.equal(result.path?.prefix, c.path);
}

interface InlayCase {
  readonly name: string;
  readonly input: string;
  readonly params?: boolean;
  /** `[line, label]`, lines counted from 1. */
  readonly hints: readonly (readonly [number, string])[];
}

const INLAYS: readonly InlayCase[] = [
  {
    name: 'shapes and parameters of SimpleCNN32',
    input: examples().find((e) => e.file === 'examples/simple_cnn_cifar.ocular')!.source,
    hints: [
      [3, ' 3×32×32'],
      [4, ' → 32×32×32 · 896 params'],
      [5, ' → 32×32×32'],
      [6, ' → 32×16×16'],
      [7, ' → 64×16×16 · 18.5K params'],
      [8, ' → 64×16×16'],
      [9, ' → 64×8×8'],
      [10, ' → 4096'],
      [11, ' → 512 · 2.1M params'],
      [12, ' → 512'],
      [13, ' → 512'],
      [14, ' → 10 · 5.1K params'],
    ],
  },
  {
    name: 'shapes only when parameters are turned off',
    input: model(['conv 8 padding=1', 'flatten'], '3x4x4'),
    params: false,
    hints: [
      [2, ' 3×4×4'],
      [3, ' → 8×4×4'],
      [4, ' → 128'],
    ],
  },
  {
    name: 'bodies get their hint after the closing brace, blocks none inside',
    input: `block b(c) {\n  conv c padding=1\n}\n${model(['b 4', 'residual {', '  b 4', '}', 'repeat 2 { b 4 }'], '3x8x8')}`,
    hints: [
      [5, ' 3×8×8'],
      [6, ' → 4×8×8 · 112 params'],
      [8, ' → 4×8×8 · 148 params'],
      [9, ' → 4×8×8 · 148 params'],
      [10, ' → 4×8×8 · 296 params'],
    ],
  },
  {
    name: 'hints stop at a shape error',
    input: model(['conv 8 padding=1', 'conv 8 kernel=9', 'relu'], '3x8x8'),
    hints: [
      [2, ' 3×8×8'],
      [3, ' → 8×8×8 · 224 params'],
    ],
  },
];

function checkInlay(c: InlayCase): void {
  const analysis = analyze(c.input);
  const hints = inlayHints(analysis, { start: 0, end: c.input.length }, { params: c.params ?? true });
  const lineOf = (offset: number): number => c.input.slice(0, offset).split('\n').length;
  assert.deepEqual(hints.map((h) => [lineOf(h.offset), h.label]), c.hints);
}

interface OutlineCase {
  readonly name: string;
  readonly input: string;
  /** One line per item, `name — detail`, indented two spaces per level. */
  readonly tree: readonly string[];
}

const OUTLINES: readonly OutlineCase[] = [
  {
    name: 'sections with their layers and settings',
    input: NET,
    tree: [
      'unit — block',
      '  conv c kernel=3 stride=s padding=1 — ',
      '  relu — ',
      'Net — 10 · 23.9K params',
      '  input 3x32x32 — ',
      '  unit 16 — 16×32×32',
      '  unit 32 s=2 — 32×16×16',
      '  repeat 2 — 32×16×16',
      '    unit 32 — 32×16×16',
      '  globalavgpool — 32×1×1',
      '  flatten — 32',
      '  dense classes — 10',
      'cifar — dataset',
      '  train "data/train" — ',
      '  image 3x32x32 — ',
      '  classes 10 — ',
      'train — train',
      '  model Net — ',
      '  data cifar — ',
      '  optimizer adamw lr=0.002 — ',
    ],
  },
  {
    name: 'a model with an error has no output',
    input: model(['conv 8 kernel=9', 'relu'], '3x4x4'),
    tree: ['M — ? · 0 params', '  input 3x4x4 — ', '  conv 8 kernel=9 — ', '  relu — '],
  },
];

function checkOutline(c: OutlineCase): void {
  const lines: string[] = [];
  const walk = (items: readonly OutlineItem[], depth: number): void => {
    for (const item of items) {
      lines.push(`${'  '.repeat(depth)}${item.name} — ${item.detail}`);
      walk(item.children, depth + 1);
    }
  };
  walk(outline(analyze(c.input)), 0);
  assert.deepEqual(lines, c.tree);
}

interface SymbolCase {
  readonly name: string;
  /** The cursor `|`, and every occurrence of the symbol as `[[…]]`, its declaration first. */
  readonly input: string;
  readonly newName: string;
  /** Set when rename must refuse; the text its message contains. */
  readonly refused?: string;
  /** False when the symbol is not declared: no definition and nothing to rename. */
  readonly declared?: boolean;
}

const SYMBOLS: readonly SymbolCase[] = [
  {
    name: 'a block from one of its calls, in a model and inside a repeat',
    input: 'block [[unit]](c) {\n  conv c\n}\nmodel M {\n  input 3x8x8\n  [[un|it]] 4\n  repeat 2 { [[unit]] 8 }\n}\n',
    newName: 'stage',
  },
  { name: 'a block called from another block', input: 'block [[unit]](c) {\n  conv c\n}\nblock pair(c) {\n  [[unit]] c\n  [[un|it]] c\n}\n', newName: 'single' },
  { name: 'a model from its declaration, used by two train sections', input: 'model [[N|et]] {\n  input 3x8x8\n}\ntrain {\n  model [[Net]]\n}\ntrain second {\n  model [[Net]]\n}\n', newName: 'Classifier' },
  { name: 'a dataset from a train section', input: 'dataset [[cifar]] {\n  train "x"\n}\ntrain {\n  data [[ci|far]]\n}\n', newName: 'cifar10' },
  { name: 'a dataset and a model may share a name', input: 'model [[x]] {\n  input 3x8x8\n}\ndataset x {\n  train "x"\n}\ntrain {\n  model [[|x]]\n  data x\n}\n', newName: 'y' },
  { name: 'a block cannot take the name of another block', input: 'block [[un|it]](c) {\n  conv c\n}\nblock other(c) {\n  [[unit]] c\n}\n', newName: 'other', refused: "There is already a block named 'other'." },
  { name: 'a block cannot take the name of a layer', input: 'block [[un|it]](c) {\n  conv c\n}\nblock other(c) {\n  [[unit]] c\n}\n', newName: 'conv', refused: "'conv' is a built-in layer." },
  { name: 'a new name must be an identifier', input: 'model [[M]] {\n  input 3x8x8\n}\ntrain {\n  model [[|M]]\n}\n', newName: '9lives', refused: "'9lives' is not a valid name" },
  { name: 'an undeclared model has references but no definition', input: 'train {\n  model [[Mis|sing]]\n}\ntrain {\n  model [[Missing]]\n}\n', newName: 'Found', declared: false, refused: 'Only models, blocks and datasets declared in this file can be renamed.' },
  { name: 'a built-in layer is not a symbol', input: model(['co|nv 8']), newName: 'x', declared: false, refused: 'Only models, blocks and datasets declared in this file can be renamed.' },
];

function checkSymbol(c: SymbolCase): void {
  const { source, cursors, spans } = marked(c.input);
  const offset = cursors[0]!;
  const analysis = analyze(source);
  const text = (span: Span | undefined): string | undefined => span && `${span.start}:${source.slice(span.start, span.end)}`;
  assert.deepEqual([...references(analysis, offset)].sort((a, b) => a.start - b.start).map(text), spans.map(text));
  const declared = c.declared ?? true;
  assert.equal(text(definition(analysis, offset)), declared ? text(spans[0]) : undefined);
  assert.equal(text(prepareRename(analysis, offset)), declared ? text(spans.find((s) => s.start <= offset && offset <= s.end)) : undefined);
  const result = rename(analysis, offset, c.newName);
  if (c.refused !== undefined) {
    assert.ok(!result.ok && result.message.includes(c.refused), `rename should refuse with ${JSON.stringify(c.refused)}: ${JSON.stringify(result)}`);
    return;
  }
  assert.ok(result.ok, JSON.stringify(result));
  const expected = spans.reduceRight((text, span) => text.slice(0, span.start) + c.newName + text.slice(span.end), source);
  assert.equal(applyEdits(source, result.edits), expected);
}

interface FormatCase {
  readonly name: string;
  readonly input: string;
  readonly output: string;
}

const FORMATS: readonly FormatCase[] = [
  { name: 'indentation by depth', input: 'model M {\ninput 3x8x8\n      repeat 2 {\n relu\n         }\n}', output: 'model M {\n  input 3x8x8\n  repeat 2 {\n    relu\n  }\n}\n' },
  { name: 'one space between words', input: 'model   M {\n  conv    8     kernel=3\n}\n', output: 'model M {\n  conv 8 kernel=3\n}\n' },
  { name: 'no spaces around = or inside parentheses', input: 'model M {\n  conv 8 kernel = ( 3 , 5 ) padding= ( 1,2 )\n}\n', output: 'model M {\n  conv 8 kernel=(3, 5) padding=(1, 2)\n}\n' },
  { name: 'a space before an opening brace', input: 'block B(a=1,b = 2){\n  conv a\n}\ntrain{\n  epochs 3\n}\n', output: 'block B(a=1, b=2) {\n  conv a\n}\ntrain {\n  epochs 3\n}\n' },
  { name: 'spaces inside an inline body', input: 'model M {\n  repeat 2 {basic 64}\n}\n', output: 'model M {\n  repeat 2 { basic 64 }\n}\n' },
  { name: 'no spaces around * and /', input: 'block B(c) {\n  conv c * 2 stride=c / 4\n}\n', output: 'block B(c) {\n  conv c*2 stride=c/4\n}\n' },
  { name: 'plus and minus keep whether the author spaced them', input: 'block B(a, b) {\n  conv a - b  stride=a-b padding=-1\n}\n', output: 'block B(a, b) {\n  conv a - b stride=a-b padding=-1\n}\n' },
  { name: 'at most one blank line in a row, none at the start or end', input: '\n\nmodel M {\n  relu\n\n\n\n  relu\n}\n\n\n', output: 'model M {\n  relu\n\n  relu\n}\n' },
  { name: 'trailing comments keep their gap', input: 'model M {\n  conv 8    # first\n  relu # second   \n}\n', output: 'model M {\n  conv 8    # first\n  relu # second\n}\n' },
  { name: 'strings are kept as written', input: 'dataset d {\n    train   "a  \\"b\\"  c"\n}\n', output: 'dataset d {\n  train "a  \\"b\\"  c"\n}\n' },
  { name: 'a line the lexer cannot read is only reindented', input: 'model M {\n      conv 8  @  kernel=3\n    train "abc\n}\n', output: 'model M {\n  conv 8  @  kernel=3\n  train "abc\n}\n' },
  { name: 'carriage returns are dropped', input: 'model M {\r\n  relu\r\n}\r\n', output: 'model M {\n  relu\n}\n' },
  { name: 'an empty file stays empty', input: '\n\n', output: '' },
];

function checkFormat(c: FormatCase): void {
  assert.equal(format(c.input), c.output);
  assert.equal(format(c.output), c.output, 'formatting the output again changes it');
}

describe('hover', () => {
  for (const c of HOVERS) test(c.name, () => checkHover(c));
});

describe('completion', () => {
  for (const c of COMPLETIONS) test(c.name, () => checkCompletion(c));
});

describe('inlay hints', () => {
  for (const c of INLAYS) test(c.name, () => checkInlay(c));
});

describe('outline', () => {
  for (const c of OUTLINES) test(c.name, () => checkOutline(c));
});

describe('definition, references and rename', () => {
  for (const c of SYMBOLS) test(c.name, () => checkSymbol(c));
});

describe('format', () => {
  for (const c of FORMATS) test(c.name, () => checkFormat(c));
  for (const example of examples()) {
    test(`${example.file} is formatted and formatting it changes nothing`, () => checkFormat({ name: example.file, input: example.source, output: example.source }));
  }
});
