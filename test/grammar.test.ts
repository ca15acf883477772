/**
 * Tests for the TextMate grammar (syntaxes/ocular.tmLanguage.json) and the language configuration.
 *
 * Snapshots cover every example and the fixtures in test/grammar/ token by token, so that any change
 * in colouring shows up in review. The table of checks below states the important cases outright, so
 * that a reviewer sees what is intended and not only what happens to come out.
 *
 * Run with `npx tsc -p tsconfig.json && node --test out/test/grammar.test.js`; set UPDATE_SNAPSHOTS=1
 * to rewrite the snapshots after a deliberate change to the grammar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const repoRoot = path.resolve(__dirname, '../..');
const grammarPath = path.join(repoRoot, 'syntaxes/ocular.tmLanguage.json');
const configurationPath = path.join(repoRoot, 'language-configuration.json');
const fixturesDir = path.resolve(__dirname, '../../test/grammar');
const examplesDir = path.resolve(__dirname, '../../examples');
const updateSnapshots = process.env['UPDATE_SNAPSHOTS'] === '1';

interface Token {
  readonly line: number;
  readonly column: number;
  readonly text: string;
  /** The token's scopes from outermost to innermost, without the root `source.ocular`. */
  readonly scopes: readonly string[];
}

let grammarPromise: Promise<textmate.IGrammar> | undefined;

/** Loads the grammar once: Oniguruma's WebAssembly can only be initialised once per process. */
function loadGrammar(): Promise<textmate.IGrammar> {
  grammarPromise ??= (async () => {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (text: string) => new oniguruma.OnigString(text),
      }),
      loadGrammar: async (scopeName: string) =>
        scopeName === 'source.ocular' ? textmate.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath) : null,
    });
    const grammar = await registry.loadGrammar('source.ocular');
    assert.ok(grammar, 'the grammar for source.ocular did not load');
    return grammar;
  })();
  return grammarPromise;
}

async function tokenize(source: string): Promise<Token[]> {
  const grammar = await loadGrammar();
  const tokens: Token[] = [];
  let state = textmate.INITIAL;
  source.split(/\r?\n/).forEach((lineText, index) => {
    const result = grammar.tokenizeLine(lineText, state);
    assert.equal(result.stoppedEarly, false, `tokenizing stopped early on line ${index + 1}`);
    for (const token of result.tokens) {
      const text = lineText.slice(token.startIndex, token.endIndex);
      // Whitespace between tokens carries only the enclosing scopes; leaving it out keeps the
      // snapshots to the tokens a reader looks at.
      if (text.trim() === '') continue;
      tokens.push({ line: index + 1, column: token.startIndex + 1, text, scopes: token.scopes.filter((s) => s !== 'source.ocular') });
    }
    state = result.ruleStack;
  });
  return tokens;
}

function formatSnapshot(tokens: readonly Token[]): string {
  return tokens.map((t) => `${t.line}:${t.column} '${t.text}' ${t.scopes.join(' ')}`.trimEnd()).join('\n') + '\n';
}

function ocularFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => /^[^.].*\.ocular$/.test(name)) // not the .ocular folder of runs and caches
    .sort();
}

/** Every example and fixture, with the snapshot file it is compared against. */
const snapshotCases = [
  ...ocularFiles(examplesDir).map((name) => ({
    label: `examples/${name}`,
    source: path.join(examplesDir, name),
    snapshot: path.join(fixturesDir, 'examples', `${name}.snap`),
  })),
  ...ocularFiles(fixturesDir).map((name) => ({
    label: `test/grammar/${name}`,
    source: path.join(fixturesDir, name),
    snapshot: path.join(fixturesDir, `${name}.snap`),
  })),
];

for (const { label, source, snapshot } of snapshotCases) {
  test(`grammar snapshot: ${label}`, async () => {
    const actual = formatSnapshot(await tokenize(fs.readFileSync(source, 'utf8')));
    if (updateSnapshots) {
      fs.mkdirSync(path.dirname(snapshot), { recursive: true });
      fs.writeFileSync(snapshot, actual);
      return;
    }
    assert.ok(fs.existsSync(snapshot), `${path.relative(repoRoot, snapshot)} is missing: run the tests with UPDATE_SNAPSHOTS=1 to write it, then review it.`);
    assert.equal(actual, fs.readFileSync(snapshot, 'utf8'), `${label} tokenizes differently from its snapshot; rerun with UPDATE_SNAPSHOTS=1 if the change is intended.`);
  });
}

test('grammar snapshot: no snapshot is left without its source file', () => {
  const expected = new Set(snapshotCases.map((c) => c.snapshot));
  const snapshots = [fixturesDir, path.join(fixturesDir, 'examples')]
    .filter((dir) => fs.existsSync(dir))
    .flatMap((dir) => fs.readdirSync(dir).filter((name) => name.endsWith('.snap')).map((name) => path.join(dir, name)));
  assert.deepEqual(snapshots.filter((s) => !expected.has(s)), []);
});

/**
 * Expectations for one source: each `[text, scope]` pair names the next token, after the one the
 * previous pair found, whose text is exactly `text` (so a shape split in two has no such token),
 * and the innermost scope it must have.
 */
type Expectation = readonly [text: string, innermostScope: string];

async function check(source: string, expectations: readonly Expectation[]): Promise<void> {
  const tokens = await tokenize(source);
  let from = 0;
  for (const [text, scope] of expectations) {
    const index = tokens.findIndex((t, i) => i >= from && t.text === text);
    assert.notEqual(index, -1, `no token '${text}' (in order) in:\n${formatSnapshot(tokens)}`);
    const token = tokens[index]!;
    assert.equal(token.scopes[token.scopes.length - 1], scope, `'${text}' at ${token.line}:${token.column} has scopes ${token.scopes.join(' ')}`);
    from = index + 1;
  }
}

const checks: ReadonlyArray<{ readonly name: string; readonly source: string; readonly expect: readonly Expectation[] }> = [
  {
    name: 'a shape is one token',
    source: 'model M {\n  input 3x224x224\n}',
    expect: [['3x224x224', 'constant.numeric.shape.ocular']],
  },
  {
    name: 'a word starting with x is an identifier and a half-written shape is marked, as the lexer does',
    source: 'model M {\n  conv x3 kernel=3x\n}',
    expect: [
      ['x3', 'variable.other.ocular'],
      ['3x', 'invalid.illegal.numeric.ocular'],
    ],
  },
  {
    name: 'numbers with exponents and a leading dot',
    source: 'model M {\n  batchnorm eps=1e-5 momentum=.5\n  dropout 0.25\n}',
    expect: [
      ['1e-5', 'constant.numeric.ocular'],
      ['.5', 'constant.numeric.ocular'],
      ['0.25', 'constant.numeric.ocular'],
    ],
  },
  {
    name: 'section keywords and names',
    source: 'block basic(channels, stride=1) {\n}\nmodel ResNet18 {\n}\ndataset pets {\n}\ntrain fast {\n}',
    expect: [
      ['block', 'storage.type.block.ocular'],
      ['basic', 'entity.name.function.block.ocular'],
      ['channels', 'variable.parameter.declaration.ocular'],
      ['stride', 'variable.parameter.declaration.ocular'],
      ['1', 'constant.numeric.ocular'],
      ['model', 'storage.type.model.ocular'],
      ['ResNet18', 'entity.name.type.model.ocular'],
      ['dataset', 'storage.type.dataset.ocular'],
      ['pets', 'entity.name.type.dataset.ocular'],
      ['train', 'storage.type.train.ocular'],
      ['fast', 'entity.name.type.train.ocular'],
    ],
  },
  {
    name: 'a layer at the start of a statement, and key= parameters',
    source: 'model M {\n  conv 32 kernel=3 padding=same\n}',
    expect: [
      ['conv', 'support.function.layer.ocular'],
      ['32', 'constant.numeric.ocular'],
      ['kernel', 'variable.parameter.argument.ocular'],
      ['=', 'keyword.operator.assignment.ocular'],
      ['padding', 'variable.parameter.argument.ocular'],
      ['same', 'constant.language.ocular'],
    ],
  },
  {
    name: 'a layer name elsewhere in a statement is a plain identifier',
    source: 'model M {\n  dense relu\n}',
    expect: [
      ['dense', 'support.function.layer.ocular'],
      ['relu', 'variable.other.ocular'],
    ],
  },
  {
    name: 'block calls, residual and repeat, also after a brace on the same line',
    source: 'model M {\n  repeat 2 { basic 64 stride=2 }\n  residual shortcut=projection {\n    conv channels*2\n  }\n}',
    expect: [
      ['repeat', 'keyword.control.ocular'],
      ['{', 'punctuation.section.block.begin.ocular'],
      ['basic', 'entity.name.function.call.ocular'],
      ['}', 'punctuation.section.block.end.ocular'],
      ['residual', 'keyword.control.ocular'],
      ['projection', 'constant.language.ocular'],
      ['channels', 'variable.other.ocular'],
      ['*', 'keyword.operator.arithmetic.ocular'],
    ],
  },
  {
    name: 'comments, alone and after code',
    source: '# x\nmodel M {\n  relu  # note\n}',
    expect: [
      ['#', 'punctuation.definition.comment.ocular'],
      [' x', 'comment.line.number-sign.ocular'],
      ['relu', 'support.function.layer.ocular'],
      ['#', 'punctuation.definition.comment.ocular'],
      [' note', 'comment.line.number-sign.ocular'],
    ],
  },
  {
    name: 'strings with escapes, and an unterminated string ends with its line',
    source: 'dataset d {\n  train "a\\"b\\\\c"\n  val "data/val\n  image 3x32x32\n}',
    expect: [
      ['train', 'keyword.other.dataset.ocular'],
      ['"', 'punctuation.definition.string.begin.ocular'],
      ['\\"', 'constant.character.escape.ocular'],
      ['\\\\', 'constant.character.escape.ocular'],
      ['"', 'punctuation.definition.string.end.ocular'],
      ['val', 'keyword.other.dataset.ocular'],
      ['data/val', 'string.quoted.double.ocular'],
      ['image', 'keyword.other.dataset.ocular'],
      ['3x32x32', 'constant.numeric.shape.ocular'],
    ],
  },
  {
    name: 'dataset statements, augmentations and presets',
    source: 'dataset d {\n  split val=0.2\n  augment {\n    hflip p=0.5\n  }\n  normalize imagenet\n}',
    expect: [
      ['split', 'keyword.other.dataset.ocular'],
      ['val', 'variable.parameter.argument.ocular'],
      ['augment', 'keyword.other.dataset.ocular'],
      ['hflip', 'support.function.augmentation.ocular'],
      ['normalize', 'keyword.other.dataset.ocular'],
      ['imagenet', 'constant.language.ocular'],
    ],
  },
  {
    name: 'train statements: model and data name what they refer to; a word can be a value and a key',
    source: 'train {\n  model ResNet18\n  data pets\n  optimizer momentum lr=0.1 momentum=0.9\n  early_stop monitor=val_loss\n}',
    expect: [
      ['model', 'keyword.other.train.ocular'],
      ['ResNet18', 'entity.name.type.model.ocular'],
      ['data', 'keyword.other.train.ocular'],
      ['pets', 'entity.name.type.dataset.ocular'],
      ['optimizer', 'keyword.other.train.ocular'],
      ['momentum', 'constant.language.ocular'],
      ['momentum', 'variable.parameter.argument.ocular'],
      ['val_loss', 'constant.language.ocular'],
    ],
  },
  {
    name: 'classes and booleans as values',
    source: 'model M {\n  dense classes bias=false\n}',
    expect: [
      ['classes', 'variable.language.classes.ocular'],
      ['false', 'constant.language.boolean.ocular'],
    ],
  },
  {
    name: "a section's brace may sit on the next line",
    source: 'model M\n{\n  relu\n}',
    expect: [
      ['M', 'entity.name.type.model.ocular'],
      ['relu', 'support.function.layer.ocular'],
    ],
  },
  {
    name: 'a section keyword at the start of a line recovers from a missing closing brace, as the parser does',
    source: 'model A {\n  relu\ndataset d {\n  train "x"\n}',
    expect: [
      ['dataset', 'storage.type.dataset.ocular'],
      ['d', 'entity.name.type.dataset.ocular'],
      ['train', 'keyword.other.dataset.ocular'],
    ],
  },
  {
    name: 'a half-typed header does not swallow the lines after it',
    source: 'model\ntrain {\n  seed 1\n}\n}',
    expect: [
      ['model', 'storage.type.model.ocular'],
      ['train', 'storage.type.train.ocular'],
      ['seed', 'keyword.other.train.ocular'],
      ['}', 'punctuation.section.block.end.ocular'],
      ['}', 'invalid.illegal.stray-brace.ocular'],
    ],
  },
];

for (const { name, source, expect } of checks) {
  test(`grammar: ${name}`, () => check(source, expect));
}

test('grammar: every include resolves and every repository rule is used', () => {
  const grammar = JSON.parse(fs.readFileSync(grammarPath, 'utf8')) as { repository: Record<string, unknown> };
  const included = new Set<string>();
  const scopes: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'include' && typeof value === 'string') included.add(value);
        else if (key === 'name' && typeof value === 'string') scopes.push(value);
        else walk(value);
      }
    }
  };
  walk(grammar);
  const defined = Object.keys(grammar.repository).map((name) => `#${name}`);
  assert.deepEqual([...included].filter((name) => !defined.includes(name)), [], 'includes with no repository rule');
  assert.deepEqual(defined.filter((name) => !included.has(name)), [], 'repository rules that nothing includes');
  // The grammar's display name is the only `name` that is not a scope.
  assert.deepEqual(scopes.filter((s) => s !== 'Ocular' && !s.endsWith('.ocular')), [], 'scopes must end in .ocular');
});

interface LanguageConfiguration {
  readonly wordPattern: string;
  readonly indentationRules: { readonly increaseIndentPattern: string; readonly decreaseIndentPattern: string };
}

function loadConfiguration(): LanguageConfiguration {
  return JSON.parse(fs.readFileSync(configurationPath, 'utf8')) as LanguageConfiguration;
}

test('language configuration: words keep shapes, numbers and snake_case names whole', () => {
  const wordPattern = new RegExp(loadConfiguration().wordPattern, 'g');
  const words = (line: string): string[] => line.match(wordPattern) ?? [];
  assert.deepEqual(words('  input 3x224x224'), ['input', '3x224x224']);
  assert.deepEqual(words('  early_stop monitor=val_loss min_delta=1e-4'), ['early_stop', 'monitor', 'val_loss', 'min_delta', '1e-4']);
  assert.deepEqual(words('  randomresizedcrop scale=(0.08,1) ratio=(.75,1.333)'), ['randomresizedcrop', 'scale', '0.08', '1', 'ratio', '.75', '1.333']);
  assert.deepEqual(words('  conv channels*2 # x3'), ['conv', 'channels', '2', 'x3']);
});

test('language configuration: indent after an opening brace, outdent on a closing one', () => {
  const { increaseIndentPattern, decreaseIndentPattern } = loadConfiguration().indentationRules;
  const increase = new RegExp(increaseIndentPattern);
  const decrease = new RegExp(decreaseIndentPattern);
  const cases: ReadonlyArray<readonly [line: string, increases: boolean, decreases: boolean]> = [
    ['model ResNet18 {', true, false],
    ['block basic(channels, stride=1) {   # two convolutions', true, false],
    ['  augment {', true, false],
    ['  repeat 2 { basic 64 }', false, false],
    ['  train "data/{odd}"', false, false],
    ['  relu  # see {', false, false],
    ['}', false, true],
    ['  }', false, true],
  ];
  for (const [line, increases, decreases] of cases) {
    assert.equal(increase.test(line), increases, `increaseIndentPattern on '${line}'`);
    assert.equal(decrease.test(line), decreases, `decreaseIndentPattern on '${line}'`);
  }
});
