/**
 * Property tests by random edits: the examples are cut, spliced and scrambled the way a person
 * typing leaves them, and every state is run through `analyze()` and every editor feature. Nothing
 * may throw, every span and offset a feature answers must lie in the document, and formatting
 * must be idempotent and change nothing but whitespace. A smaller run sends random incremental
 * edits to the real server process and checks that it stays up and stays in step.
 *
 * The edits come from a seeded generator, so a run is reproducible: a failure prints its seed,
 * the edits that led to it and the smallest text that still fails. FUZZ_SEED picks another seed
 * and FUZZ_ITERATIONS a longer run, e.g. `FUZZ_SEED=7 FUZZ_ITERATIONS=50000 node --test out/test/fuzz`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { HoverRequest, MessageType, type Range } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, type Analysis } from '../../server/src/language/analysis';
import { complete } from '../../server/src/language/features/completion';
import { format } from '../../server/src/language/features/format';
import { hover } from '../../server/src/language/features/hover';
import { inlayHints } from '../../server/src/language/features/inlay';
import { outline, type OutlineItem } from '../../server/src/language/features/outline';
import { definition, prepareRename, references, rename } from '../../server/src/language/features/rename';
import { summaryRows, summaryText } from '../../server/src/language/features/summary';
import type { Span } from '../../server/src/language/syntax/span';
import { LspClient, positionAt } from '../protocol/lsp-client';

const repoRoot = path.resolve(__dirname, '../../..');
// A fixed default keeps the suite deterministic; other seeds are for exploring, not for CI.
const SEED = Number(process.env['FUZZ_SEED'] ?? 20251128);
const ITERATIONS = Number(process.env['FUZZ_ITERATIONS'] ?? 3000);
const SERVER_EDITS = 300;

/** The texts the edits start from: the examples, and the grammar fixtures that already hold errors. */
const CORPUS: readonly { name: string; text: string }[] = [
  ...fs.readdirSync(path.join(repoRoot, 'examples')).map((f) => path.join(repoRoot, 'examples', f)),
  ...['lexical', 'recovery', 'contexts'].map((f) => path.join(repoRoot, 'test/grammar', `${f}.ocular`)),
]
  .filter((file) => /^[^.].*\.ocular$/.test(path.basename(file)) && fs.existsSync(file))
  .map((file) => ({ name: path.relative(repoRoot, file), text: fs.readFileSync(file, 'utf8') }));

/** Words and punctuation of the language, and a few things that are not. */
const VOCABULARY = [
  ...'model block dataset train input conv dwconv maxpool avgpool globalavgpool batchnorm relu leakyrelu softmax dropout flatten dense residual repeat'.split(' '),
  ...'kernel stride padding dilation groups bias shortcut same valid auto projection true false classes times'.split(' '),
  ...'image split resize normalize augment hflip rotate imagenet epochs batch optimizer adam sgd schedule cosine early_stop monitor val_loss seed data val test'.split(' '),
  ...['{', '}', '(', ')', '=', ',', '"', '#', 'x', '+', '-', '*', '/', '.', '\\', '\n', '\t', '\r', '\r\n', 'é', '∞'],
  ...['0', '1', '2', '3', '7', '16', '64', '224', '-1', '0.5', '.5', '1e-3', '1e309', '3x32x32', '1x1', '32x32', '0x0', '"data/x"', '"unterminated', 'kernel=3', 'padding=same', '(1, 2)', 'channels*2', 'c'],
];
const SEPARATORS = ['', ' ', ' ', '  ', '\n', '\n  '];

/** mulberry32: a tiny, fast, seedable generator with a 32-bit state; enough to spread edits well. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** One edit: replace `[start, end)` with `text`. Every mutation is one, so the server can get it as a range edit. */
interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const applySplice = (text: string, s: Splice): string => text.slice(0, s.start) + s.text + text.slice(s.end);

/** The offsets where the lines of a text start, and the text's length as the end of the last one. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** A whole line with its newline, as a span: the unit that duplicating and swapping move. */
function lineSpan(text: string, random: Random): Span {
  const starts = lineStarts(text);
  const line = random.int(starts.length);
  return { start: starts[line]!, end: line + 1 < starts.length ? starts[line + 1]! : text.length };
}

const MUTATIONS: readonly [name: string, mutate: (text: string, random: Random) => Splice][] = [
  [
    'delete a range',
    (text, random) => {
      const start = random.int(text.length + 1);
      return { start, end: Math.min(text.length, start + random.int(40)), text: '' };
    },
  ],
  [
    'insert tokens',
    (text, random) => {
      const at = random.int(text.length + 1);
      const tokens = Array.from({ length: 1 + random.int(4) }, () => random.pick(VOCABULARY));
      return { start: at, end: at, text: tokens.join(random.pick(SEPARATORS)) };
    },
  ],
  [
    'duplicate a line',
    (text, random) => {
      const line = lineSpan(text, random);
      const copy = text.slice(line.start, line.end);
      return { start: line.start, end: line.start, text: copy.endsWith('\n') ? copy : `${copy}\n` };
    },
  ],
  [
    'swap two lines',
    (text, random) => {
      const [first, second] = [lineSpan(text, random), lineSpan(text, random)].sort((a, b) => a.start - b.start) as [Span, Span];
      if (first.start === second.start) return { start: 0, end: 0, text: '' };
      const a = text.slice(first.start, first.end);
      const b = text.slice(second.start, second.end);
      const between = text.slice(first.end, second.start);
      // Each moved line keeps a newline after it, so the swap never joins two lines into one.
      const withNewline = (line: string): string => (line.endsWith('\n') ? line : `${line}\n`);
      const last = second.end === text.length && !b.endsWith('\n');
      return { start: first.start, end: second.end, text: withNewline(b) + between + (last ? a.replace(/\n$/, '') : withNewline(a)) };
    },
  ],
  ['truncate', (text, random) => ({ start: random.int(text.length + 1), end: text.length, text: '' })],
  [
    'replace a character',
    (text, random) => {
      const at = random.int(Math.max(1, text.length));
      return { start: at, end: Math.min(text.length, at + 1), text: random.pick(['{', '}', '(', ')', '=', '"', '#', ' ', '\n', 'x', '0', '-']) };
    },
  ],
];

/** A broken property: `property` names which, so that shrinking can keep to the same failure. */
class PropertyFailure extends Error {
  constructor(
    readonly property: string,
    detail: string,
  ) {
    super(`${property}: ${detail}`);
  }
}

function holds(condition: boolean, property: string, detail: () => string): void {
  if (!condition) throw new PropertyFailure(property, detail());
}

/** Runs one feature, turning an exception into a failure named after the feature. */
function attempt<T>(feature: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof PropertyFailure) throw error;
    throw new PropertyFailure(`${feature} threw`, error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
}

function spanInside(span: Span, text: string, what: string): void {
  holds(Number.isInteger(span.start) && Number.isInteger(span.end) && 0 <= span.start && span.start <= span.end && span.end <= text.length, `${what} lies outside the document`, () => JSON.stringify(span));
}

/** A cheap string hash, so that the offsets probed in a text depend on the text alone. */
function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Every offset of a short text; the ends and a sample of a long one. Short texts are what shrinking ends with. */
function probeOffsets(text: string): number[] {
  if (text.length <= 120) return Array.from({ length: text.length + 1 }, (_, i) => i);
  const random = new Random(hash(text));
  return [0, text.length, ...Array.from({ length: 24 }, () => random.int(text.length + 1))];
}

function checkOutline(items: readonly OutlineItem[], text: string): void {
  for (const item of items) {
    spanInside(item.span, text, 'an outline item');
    spanInside(item.selection, text, 'an outline selection');
    checkOutline(item.children, text);
  }
}

/** Checks every property on one text; throws a PropertyFailure for the first that does not hold. */
function check(text: string): void {
  const analysis: Analysis = attempt('analyze', () => analyze(text));
  for (const diagnostic of analysis.diagnostics) {
    spanInside(diagnostic.span, text, 'a diagnostic');
    for (const related of diagnostic.related ?? []) spanInside(related.span, text, 'a related location');
    for (const fix of diagnostic.fixes ?? []) for (const edit of fix.edits) spanInside(edit.span, text, 'a quick-fix edit');
  }

  for (const offset of probeOffsets(text)) {
    const answer = attempt('hover', () => hover(analysis, offset));
    if (answer) spanInside(answer.span, text, 'a hover range');
    const completion = attempt('complete', () => complete(analysis, offset));
    spanInside(completion.replace, text, 'a completion replace range');
    if (completion.path) spanInside(completion.path.span, text, 'a completion path range');
    const target = attempt('definition', () => definition(analysis, offset));
    if (target) spanInside(target, text, 'a definition');
    for (const reference of attempt('references', () => references(analysis, offset))) spanInside(reference, text, 'a reference');
    const renamable = attempt('prepareRename', () => prepareRename(analysis, offset));
    if (renamable) {
      spanInside(renamable, text, 'a prepareRename range');
      holds(renamable.start <= offset && offset <= renamable.end, 'prepareRename answers a range away from the cursor', () => `${JSON.stringify(renamable)} at ${offset}`);
      const renamed = attempt('rename', () => rename(analysis, offset, 'renamed_name'));
      if (renamed.ok) for (const edit of renamed.edits) spanInside(edit.span, text, 'a rename edit');
    }
  }

  const random = new Random(hash(text) ^ 0x9e3779b9);
  const ranges: Span[] = [{ start: 0, end: text.length }];
  const a = random.int(text.length + 1);
  const b = random.int(text.length + 1);
  ranges.push({ start: Math.min(a, b), end: Math.max(a, b) });
  for (const range of ranges) {
    for (const params of [true, false]) {
      for (const hint of attempt('inlayHints', () => inlayHints(analysis, range, { params }))) {
        holds(range.start <= hint.offset && hint.offset <= range.end && hint.offset <= text.length, 'an inlay hint lies outside the requested range', () => `${hint.offset} not in ${JSON.stringify(range)}`);
      }
    }
  }
  checkOutline(attempt('outline', () => outline(analysis)), text);
  for (const model of analysis.models) {
    attempt('summaryRows', () => summaryRows(analysis, model));
    attempt('summaryText', () => summaryText(model));
  }

  const once = attempt('format', () => format(text));
  const twice = attempt('format', () => format(once));
  holds(once === twice, 'format is not idempotent', () => `format(x) = ${JSON.stringify(once)}\nformat(format(x)) = ${JSON.stringify(twice)}`);
  holds(once.replace(/\s/g, '') === text.replace(/\s/g, ''), 'format changes more than whitespace', () => JSON.stringify(once));
}

function failureOf(text: string): PropertyFailure | undefined {
  try {
    check(text);
    return undefined;
  } catch (error) {
    if (error instanceof PropertyFailure) return error;
    throw error;
  }
}

/**
 * The smallest text found for which `fails` still holds: whole lines are dropped first, then runs
 * of characters of halving length. Greedy, but it turns a 1,500-character example into a few
 * lines, which is what a bug report needs.
 */
function shrink(text: string, fails: (candidate: string) => boolean): string {
  let current = text;
  for (let changed = true; changed; ) {
    changed = false;
    const starts = lineStarts(current);
    for (let line = starts.length - 1; line >= 0; line--) {
      const candidate = current.slice(0, starts[line]) + current.slice(line + 1 < starts.length ? starts[line + 1] : current.length);
      if (candidate !== current && fails(candidate)) {
        current = candidate;
        changed = true;
      }
    }
  }
  for (let size = Math.max(1, current.length >> 1); size >= 1; size >>= 1) {
    for (let i = 0; i < current.length; ) {
      const candidate = current.slice(0, i) + current.slice(i + size);
      if (fails(candidate)) current = candidate;
      else i += size;
    }
  }
  return current;
}

/** Fails the test with everything needed to reproduce: the seed, the edits, and the shrunk text. */
function report(failure: PropertyFailure, text: string, context: string): never {
  const smallest = shrink(text, (candidate) => failureOf(candidate)?.property === failure.property);
  const again = failureOf(smallest) ?? failure;
  assert.fail(`${again.message}\n\n${context} (FUZZ_SEED=${SEED})\nsmallest failing text: ${JSON.stringify(smallest)}\noriginal failing text: ${JSON.stringify(text)}`);
}

describe('random edits, in process', () => {
  test('keep every feature within its contract', () => {
    const random = new Random(SEED);
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const base = random.pick(CORPUS);
      let text = base.text;
      const applied: string[] = [];
      for (let n = 1 + random.int(3); n > 0; n--) {
        const [name, mutate] = random.pick(MUTATIONS);
        const splice = mutate(text, random);
        applied.push(`${name} ${JSON.stringify(splice)}`);
        text = applySplice(text, splice);
      }
      const failure = failureOf(text);
      if (failure) report(failure, text, `iteration ${iteration}: ${base.name} after ${applied.join('; ')}`);
    }
  });

  test('keep every feature within its contract on every prefix of the corpus', () => {
    const STEP = 7;
    for (const { name, text } of CORPUS) {
      for (let cut = 0; cut <= text.length; cut += STEP) {
        const prefix = text.slice(0, cut);
        const failure = failureOf(prefix);
        if (failure) report(failure, prefix, `${name} cut at ${cut}`);
      }
    }
  });

  test('the shrinker keeps a failure and drops the rest', () => {
    // The reports above are only as useful as the shrinking, so it is checked on a failure made on purpose.
    const fails = (candidate: string): boolean => /rleu\n[^]*dense/.test(candidate);
    assert.equal(shrink('model M {\n  input 3x32x32\n  rleu\n  flatten\n  dense 10\n}\n', fails), 'rleu\ndense');
  });
});

describe('pathological inputs', () => {
  const model = (body: string): string => `model M {\n  input 3x32x32\n${body}\n}\n`;

  // Deep nesting must not exhaust the stack: the server runs analyze() on its main thread, where a
  // RangeError loses the document's diagnostics. The depths are far past any real file, and past
  // the depth at which a recursive descent on Node's default stack gives out (about 1,500 to 4,000).
  const deep: { name: string; text: string }[] = [
    { name: '10,000 nested parentheses', text: model(`  conv ${'('.repeat(10_000)}1${')'.repeat(10_000)}`) },
    { name: '10,000 unclosed parentheses', text: model(`  conv ${'('.repeat(10_000)}`) },
    { name: '10,000 nested residual bodies', text: model(`${'  residual {\n'.repeat(10_000)}${'  }\n'.repeat(10_000)}`) },
    { name: '10,000 unary minuses', text: model(`  conv ${'-'.repeat(10_000)}1`) },
    { name: 'a sum of 10,000 terms', text: model(`  conv ${Array(10_000).fill('1').join('+')}`) },
  ];
  for (const { name, text } of deep) {
    test(`${name} keep every feature within its contract`, () => {
      const failure = failureOf(text);
      assert.equal(failure, undefined, failure && `${failure.property}: ${failure.message.slice(0, 300)}`);
    });
  }

  /**
   * Analyses a text in a worker thread, so that a runaway analysis can be stopped: it answers
   * 'ok', what was thrown, or 'timeout'.
   */
  function analyzeWithin(text: string, limitMs: number): Promise<string> {
    const analysis = path.resolve(__dirname, '../../server/src/language/analysis.js');
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       try { require(${JSON.stringify(analysis)}).analyze(workerData); parentPort.postMessage('ok'); }
       catch (error) { parentPort.postMessage(String(error)); }`,
      { eval: true, workerData: text },
    );
    return new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), limitMs);
      worker.once('message', (message: string) => {
        clearTimeout(timer);
        resolve(message);
      });
    }).finally(() => void worker.terminate());
  }

  // The expansion of repeats and block calls must stay bounded: the server analyses on every
  // keystroke, and typing `repeat 1000000` on the way to `repeat 10` must not freeze it.
  const huge: { name: string; text: string }[] = [
    { name: 'repeat 1000000000', text: model('  repeat 1000000000 { relu }') },
    {
      name: 'forty blocks that each call the next twice',
      text: `${Array.from({ length: 40 }, (_, i) => `block b${i}(c) {\n  b${i + 1} c\n  b${i + 1} c\n}\n`).join('')}block b40(c) {\n  relu\n}\n${model('  b0 1')}`,
    },
  ];
  for (const { name, text } of huge) {
    test(`${name} is analysed within 2 s`, async () => {
      assert.equal(await analyzeWithin(text, 2000), 'ok');
    });
  }
});

describe('random edits, through the server process', () => {
  let client: LspClient;
  before(async () => {
    client = new LspClient();
    await client.initialize();
  });
  after(() => client.dispose());

  const rangeOf = (text: string, s: Span): Range => ({ start: positionAt(text, s.start), end: positionAt(text, s.end) });

  test(`${SERVER_EDITS} incremental edits leave the server up, in step and within the document`, async () => {
    const random = new Random(SEED ^ 0x5eed);
    const uri = 'untitled:fuzz.ocular';
    const base = CORPUS.find((c) => c.name.endsWith('resnet18.ocular')) ?? CORPUS[0]!;
    let text = base.text;
    const texts = new Map<number, string>([[1, text]]);
    await client.open(uri, text);
    let version = 1;
    while (version <= SERVER_EDITS) {
      // Some notifications carry several changes: each range is relative to the text the one before left.
      const changes = [];
      for (let n = random.int(4) === 0 ? 2 + random.int(3) : 1; n > 0; n--) {
        const [, mutate] = random.pick(MUTATIONS);
        // Truncating often would leave too little to edit; growing back keeps the document interesting.
        const mutated = text.length < 200 ? { start: text.length, end: text.length, text: base.text } : mutate(text, random);
        // No carriage returns here: an edit could split a `\r\n`, and LSP cannot name the offset
        // between the two (line endings are tested in test/protocol).
        const splice = { ...mutated, text: mutated.text.replace(/\r/g, '') };
        changes.push({ range: rangeOf(text, splice), text: splice.text });
        text = applySplice(text, splice);
      }
      version++;
      texts.set(version, text);
      await client.change(uri, version, changes);
    }
    const last = await client.diagnostics(uri, version);

    // The server's copy of the text must match ours: its diagnostics are what analyze() gives on our copy.
    const expected = analyze(text).diagnostics.map((d) => `${JSON.stringify(rangeOf(text, d.span))} ${d.message}`);
    assert.deepEqual(
      last.diagnostics.map((d) => `${JSON.stringify(d.range)} ${typeof d.message === 'string' ? d.message : d.message.value}`),
      expected,
    );

    for (const published of client.allDiagnostics(uri)) {
      const at = texts.get(published.version!);
      assert.ok(at !== undefined, `diagnostics for unknown version ${published.version}`);
      const document = TextDocument.create(uri, 'ocular', 0, at);
      for (const diagnostic of published.diagnostics) {
        for (const position of [diagnostic.range.start, diagnostic.range.end]) {
          const offset = document.offsetAt(position);
          assert.deepEqual(document.positionAt(offset), position, `version ${published.version}: ${JSON.stringify(diagnostic.range)} is not a position in the document`);
        }
      }
    }

    for (let n = 0; n < 20; n++) {
      const position = positionAt(text, random.int(text.length + 1));
      const answer = await client.request(HoverRequest.type, { textDocument: { uri }, position });
      if (answer?.range) assert.ok(answer.range.end.line < text.split('\n').length);
    }
    assert.deepEqual(
      client.logs.filter((log) => log.type === MessageType.Error),
      [],
    );
  });
});
