/**
 * Protocol tests: the bundled language server (dist/server.js), started as an editor starts it
 * and spoken to over stdio with a real JSON-RPC client. They check what crosses the wire: the
 * capabilities, diagnostics with their LSP ranges, incremental sync, every request the server
 * declares, the custom `ocular/modelSummary` request, and the shutdown handshake.
 *
 * Run with `npm run build && npx tsc -p tsconfig.json && node --test out/test/protocol`: the
 * server under test is the bundle, so a stale dist/ tests stale code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResponseError } from 'vscode-jsonrpc/node';
import {
  CodeActionKind,
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DiagnosticSeverity,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  HoverRequest,
  InlayHintRequest,
  MessageType,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  SymbolKind,
  TextDocumentSyncKind,
  type CodeAction,
  type Command,
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type InitializeResult,
  type InlayHint,
  type Location,
  type MarkupContent,
  type Position,
  type Range,
  type ServerCapabilities,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ModelSummaryRequest } from '../../protocol/protocol';
import { LspClient, positionAt, repoRoot, withCursor } from './lsp-client';

const EXAMPLES = ['mobilenet_small', 'resnet18', 'simple_cnn_224', 'simple_cnn_cifar'] as const;
type Example = (typeof EXAMPLES)[number];

const exampleFile = (name: Example): string => path.join(repoRoot, 'examples', `${name}.ocular`);
const exampleUri = (name: Example): string => pathToFileURL(exampleFile(name)).href;
const exampleText = (name: Example): string => fs.readFileSync(exampleFile(name), 'utf8');

/** The position of the first occurrence of `needle` in `text`, moved `delta` characters into it. */
function positionOf(text: string, needle: string, delta = 0): Position {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `${JSON.stringify(needle)} is not in the text`);
  return positionAt(text, offset + delta);
}

/** The range of `word` where it stands in the first occurrence of `needle` in `text`: the whole needle by default. */
function rangeOf(text: string, needle: string, word = needle): Range {
  const offset = text.indexOf(needle) + needle.indexOf(word);
  assert.ok(text.includes(needle) && needle.includes(word), `${JSON.stringify(word)} in ${JSON.stringify(needle)} is not in the text`);
  return { start: positionAt(text, offset), end: positionAt(text, offset + word.length) };
}

/** A diagnostic's or hover's text: the server sends plain strings or Markdown. */
function textOf(content: string | MarkupContent): string {
  return typeof content === 'string' ? content : content.value;
}

/** Splits a text whose expected range is written between `⟦` and `⟧` into the text and that range. */
function withRange(marked: string): { text: string; range: Range } {
  const start = marked.indexOf('⟦');
  const end = marked.indexOf('⟧') - 1;
  const text = marked.replace('⟦', '').replace('⟧', '');
  return { text, range: { start: positionAt(text, start), end: positionAt(text, end) } };
}

function applyEdits(text: string, edits: readonly TextEdit[]): string {
  return TextDocument.applyEdits(TextDocument.create('untitled:edit', 'ocular', 1, text), [...edits]);
}

/** The edits a workspace edit makes to one document, which must be the only one it touches. */
function editsFor(edit: WorkspaceEdit | null | undefined, uri: string): TextEdit[] {
  assert.ok(edit?.changes, 'expected a workspace edit with changes');
  assert.deepEqual(Object.keys(edit.changes), [uri]);
  return edit.changes[uri]!;
}

function labels(result: CompletionList | CompletionItem[] | null): string[] {
  return (Array.isArray(result) ? result : (result?.items ?? [])).map((item) => item.label);
}

function assertRangeInside(range: Range, text: string): void {
  const lines = text.split('\n');
  for (const position of [range.start, range.end]) {
    assert.ok(position.line >= 0 && position.line < lines.length, `line ${position.line} is outside the document`);
    assert.ok(position.character >= 0 && position.character <= lines[position.line]!.length, `character ${position.character} is outside line ${position.line}`);
  }
  assert.ok(range.start.line < range.end.line || (range.start.line === range.end.line && range.start.character <= range.end.character), 'the range ends before it starts');
}

/** A small model that is clean once `rleu` reads `relu`. */
const RLEU_MODEL = 'model Tiny {\n  input 3x32x32\n  conv 16 kernel=3\n  ⟦rleu⟧\n  globalavgpool\n  flatten\n  dense 10\n}\n';

describe('the language server over stdio', () => {
  let client: LspClient;
  let initialized: InitializeResult;
  let documents = 0;

  /** Opens a text under a fresh in-memory URI (so no dataset path is checked) and returns the URI. */
  async function open(text: string): Promise<string> {
    const uri = `untitled:test-${++documents}.ocular`;
    await client.open(uri, text);
    return uri;
  }

  async function openAndDiagnose(text: string): Promise<{ uri: string; diagnostics: Diagnostic[] }> {
    const uri = await open(text);
    return { uri, diagnostics: (await client.diagnostics(uri, 1)).diagnostics };
  }

  before(async () => {
    client = new LspClient();
    initialized = await client.initialize();
    for (const name of EXAMPLES) await client.open(exampleUri(name), exampleText(name));
  });

  after(() => client.dispose());

  describe('initialize', () => {
    const capabilities: [string, (c: ServerCapabilities) => boolean][] = [
      ['incremental text sync', (c) => typeof c.textDocumentSync === 'object' && c.textDocumentSync.change === TextDocumentSyncKind.Incremental && c.textDocumentSync.openClose === true],
      ['save notifications (datasets are scanned on save)', (c) => typeof c.textDocumentSync === 'object' && c.textDocumentSync.save !== undefined && c.textDocumentSync.save !== false],
      ['hover', (c) => c.hoverProvider === true],
      ['completion on = " / and space', (c) => ['=', '"', '/', ' '].every((t) => c.completionProvider?.triggerCharacters?.includes(t))],
      ['inlay hints', (c) => c.inlayHintProvider === true],
      ['document symbols', (c) => c.documentSymbolProvider === true],
      ['definition', (c) => c.definitionProvider === true],
      ['references', (c) => c.referencesProvider === true],
      ['rename with prepare', (c) => typeof c.renameProvider === 'object' && c.renameProvider.prepareProvider === true],
      ['formatting', (c) => c.documentFormattingProvider === true],
      ['quick-fix code actions', (c) => typeof c.codeActionProvider === 'object' && (c.codeActionProvider.codeActionKinds ?? []).includes(CodeActionKind.QuickFix)],
    ];
    for (const [name, holds] of capabilities) {
      test(`declares ${name}`, () => assert.ok(holds(initialized.capabilities), JSON.stringify(initialized.capabilities)));
    }

    test('names itself', () => assert.equal(initialized.serverInfo?.name, 'ocular-language-server'));
  });

  describe('diagnostics', () => {
    const cases: { name: string; marked: string; severity: DiagnosticSeverity; message: string }[] = [
      { name: 'a misspelt layer', marked: RLEU_MODEL, severity: DiagnosticSeverity.Error, message: "Unknown layer 'rleu': did you mean 'relu'?" },
      { name: 'a misspelt parameter', marked: 'model M {\n  input 3x32x32\n  conv 16 ⟦kernal⟧=3\n}\n', severity: DiagnosticSeverity.Error, message: "'conv' has no parameter 'kernal': did you mean 'kernel'?" },
      { name: 'dense on an image', marked: 'model M {\n  input 3x32x32\n  conv 16\n  relu\n  ⟦dense⟧ 10\n}\n', severity: DiagnosticSeverity.Error, message: 'dense needs a flat input, but it gets 16×30×30' },
      { name: 'a model with no input', marked: 'model ⟦M⟧ {\n  conv 16\n}\n', severity: DiagnosticSeverity.Error, message: "Model 'M' has no input" },
      { name: 'an undeclared model in a train section', marked: 'train {\n  model ⟦Nope⟧\n}\n', severity: DiagnosticSeverity.Error, message: "No model named 'Nope'." },
      { name: 'a pool larger than its input', marked: 'model M {\n  input 3x32x32\n  ⟦maxpool⟧ 64\n}\n', severity: DiagnosticSeverity.Error, message: 'the kernel (64), larger than its padded input 32' },
    ];
    for (const { name, marked, severity, message } of cases) {
      test(`reports ${name} on exactly its range`, async () => {
        const { text, range } = withRange(marked);
        const { diagnostics } = await openAndDiagnose(text);
        const found = diagnostics.find((d) => textOf(d.message).includes(message));
        assert.ok(found, `no diagnostic says ${JSON.stringify(message)}: ${JSON.stringify(diagnostics.map((d) => d.message))}`);
        assert.deepEqual(found.range, range);
        assert.equal(found.severity, severity);
        assert.equal(found.source, 'ocular');
        for (const diagnostic of diagnostics) assertRangeInside(diagnostic.range, text);
      });
    }

    test('publishes an empty list for a clean document', async () => {
      const { diagnostics } = await openAndDiagnose(withRange(RLEU_MODEL).text.replace('rleu', 'relu'));
      assert.deepEqual(diagnostics, []);
    });

    test('an incremental edit that fixes the error clears the diagnostics', async () => {
      const { text, range } = withRange(RLEU_MODEL);
      const { uri, diagnostics } = await openAndDiagnose(text);
      assert.equal(diagnostics.length, 1);
      await client.change(uri, 2, [{ range, text: 'relu' }]);
      assert.deepEqual((await client.diagnostics(uri, 2)).diagnostics, []);
    });

    test('applies the changes of one notification in order, each to the text the one before left', async () => {
      const { text } = withRange(RLEU_MODEL);
      const { uri } = await openAndDiagnose(text.replace('rleu', 'relu'));
      // The first change inserts a misspelt line at line 3; the second fixes it there, which it can only do if it sees the first.
      const insertAt = { line: 3, character: 0 };
      await client.change(uri, 2, [
        { range: { start: insertAt, end: insertAt }, text: '  tanhh\n' },
        { range: { start: { line: 3, character: 2 }, end: { line: 3, character: 7 } }, text: 'tanh' },
      ]);
      assert.deepEqual((await client.diagnostics(uri, 2)).diagnostics, []);
      await client.change(uri, 3, [{ range: { start: { line: 3, character: 6 }, end: { line: 3, character: 6 } }, text: 'h' }]);
      assert.deepEqual((await client.diagnostics(uri, 3)).diagnostics.map((d) => d.message), ["Unknown layer 'tanhh': did you mean 'tanh'?"]);
    });

    test('accepts a whole-text change too', async () => {
      const { uri } = await openAndDiagnose('model M {\n}\n');
      await client.change(uri, 2, [{ text: withRange(RLEU_MODEL).text }]);
      assert.deepEqual((await client.diagnostics(uri, 2)).diagnostics.map((d) => d.message), ["Unknown layer 'rleu': did you mean 'relu'?"]);
    });

    // LSP ends lines at \n, \r\n and \r alike; a file saved on Windows must get the same ranges.
    const endings: { name: string; eol: string }[] = [
      { name: 'CRLF', eol: '\r\n' },
      { name: 'lone CR', eol: '\r' },
    ];
    for (const { name, eol } of endings) {
      test(`${name} line endings give the same diagnostics on the same ranges as LF`, async () => {
        const lf = `${withRange(RLEU_MODEL).text}${exampleText('simple_cnn_224')}`;
        const expected = (await openAndDiagnose(lf)).diagnostics.map((d) => [d.range, d.message]);
        assert.ok(expected.length >= 2);
        const converted = (await openAndDiagnose(lf.replace(/\n/g, eol))).diagnostics.map((d) => [d.range, d.message]);
        assert.deepEqual(converted, expected);
      });
    }

    test('closing a document clears its diagnostics', async () => {
      const { uri } = await openAndDiagnose(withRange(RLEU_MODEL).text);
      await client.close(uri);
      const cleared = await client.waitForDiagnostics(uri, (p) => p.version === undefined, 'diagnostics after close');
      assert.deepEqual(cleared.diagnostics, []);
    });
  });

  describe('hover', () => {
    const cases: { example: Example; name: string; at: string; delta?: number; word: string; shows: string[] }[] = [
      { example: 'simple_cnn_224', name: 'a conv layer', at: 'conv 32', delta: 1, word: 'conv', shows: ['3×224×224', '32×224×224', '| parameters | 896 |'] },
      { example: 'simple_cnn_224', name: 'the second conv layer', at: 'conv 64', word: 'conv', shows: ['64×112×112', '18,496'] },
      { example: 'simple_cnn_224', name: 'the heavy dense layer', at: 'dense 512', delta: 3, word: 'dense', shows: ['200704', '102,760,960'] },
      { example: 'simple_cnn_224', name: 'the model name', at: 'SimpleCNN {', delta: 4, word: 'SimpleCNN', shows: ['**model SimpleCNN**', '102,785,482'] },
      { example: 'simple_cnn_224', name: 'a parameter name', at: 'kernel=3', delta: 2, word: 'kernel', shows: ['`kernel` (default `3`)'] },
      { example: 'simple_cnn_224', name: 'a dataset reference', at: 'data flowers', delta: 7, word: 'flowers', shows: ['**dataset flowers**', '`data/flowers/train`'] },
      { example: 'resnet18', name: 'the ResNet18 model name', at: 'ResNet18 {', word: 'ResNet18', shows: ['11,181,642'] },
      { example: 'mobilenet_small', name: 'a block call used once', at: 'dwsep 64', word: 'dwsep', shows: ['Block **dwsep**(out, stride)', '64×48×48'] },
    ];
    for (const { example, name, at, delta, word, shows } of cases) {
      test(`on ${name} in ${example}`, async () => {
        const text = exampleText(example);
        const answer = await client.request(HoverRequest.type, { textDocument: { uri: exampleUri(example) }, position: positionOf(text, at, delta) });
        assert.ok(answer, 'expected a hover');
        const markdown = textOf(answer.contents as MarkupContent);
        for (const expected of shows) assert.ok(markdown.includes(expected), `hover lacks ${JSON.stringify(expected)}:\n${markdown}`);
        assert.deepEqual(answer.range, rangeOf(text, at, word));
      });
    }

    test('on a comment answers null', async () => {
      const answer = await client.request(HoverRequest.type, { textDocument: { uri: exampleUri('simple_cnn_224') }, position: { line: 0, character: 4 } });
      assert.equal(answer, null);
    });
  });

  describe('completion', () => {
    const TWO_MODELS = 'model Small {\n  input 3x32x32\n  flatten\n  dense 10\n}\nmodel Big {\n  input 3x32x32\n  flatten\n  dense 10\n}\ndataset cifar {\n  image 3x32x32\n}\n';
    const cases: { name: string; marked: string; offers: string[]; omits?: string[] }[] = [
      { name: 'at the start of a line in a model', marked: 'model M {\n  input 3x32x32\n  ‸\n}\n', offers: ['conv', 'relu', 'maxpool', 'batchnorm', 'flatten', 'dense', 'residual', 'repeat'], omits: ['model', 'epochs', 'hflip'] },
      { name: 'at the start of a line, with the blocks of the file', marked: 'block stem(c) {\n  conv c\n}\nmodel M {\n  input 3x32x32\n  ‸\n}\n', offers: ['conv', 'stem'] },
      { name: 'after a conv and its positional argument', marked: 'model M {\n  input 3x32x32\n  conv 32 ‸\n}\n', offers: ['kernel=', 'stride=', 'padding=', 'dilation=', 'groups=', 'bias='], omits: ['out='] },
      { name: 'after a conv and a parameter', marked: 'model M {\n  input 3x32x32\n  conv 32 kernel=3 ‸\n}\n', offers: ['stride=', 'padding='], omits: ['kernel='] },
      { name: 'while typing a parameter name', marked: 'model M {\n  input 3x32x32\n  conv 32 ker‸\n}\n', offers: ['kernel=', 'stride='] },
      { name: 'after padding=', marked: 'model M {\n  input 3x32x32\n  conv 32 padding=‸\n}\n', offers: ['same', 'valid'] },
      { name: 'after bias=', marked: 'model M {\n  input 3x32x32\n  conv 32 bias=‸\n}\n', offers: ['true', 'false'] },
      { name: 'after a block call', marked: 'block stem(c, stride=1, groups=1) {\n  conv c stride=stride groups=groups\n}\nmodel M {\n  input 3x32x32\n  stem 16 ‸\n}\n', offers: ['groups='], omits: ['c='] },
      { name: 'after model in a train section', marked: `${TWO_MODELS}train {\n  model ‸\n}\n`, offers: ['Small', 'Big'], omits: ['cifar'] },
      { name: 'while typing a model name in a train section', marked: `${TWO_MODELS}train {\n  model B‸\n}\n`, offers: ['Small', 'Big'] },
      { name: 'after data in a train section', marked: `${TWO_MODELS}train {\n  model Small\n  data ‸\n}\n`, offers: ['cifar'], omits: ['Small'] },
      { name: 'after optimizer', marked: 'train {\n  optimizer ‸\n}\n', offers: ['sgd', 'momentum', 'adam', 'adamw'] },
      { name: 'at the top level', marked: '‸\n', offers: ['model', 'block', 'dataset', 'train'], omits: ['conv'] },
    ];
    for (const { name, marked, offers, omits = [] } of cases) {
      test(name, async () => {
        const { text, position } = withCursor(marked);
        const uri = await open(text);
        const offered = labels(await client.request(CompletionRequest.type, { textDocument: { uri }, position }));
        for (const label of offers) assert.ok(offered.includes(label), `${JSON.stringify(label)} is not offered: ${JSON.stringify(offered)}`);
        for (const label of omits) assert.ok(!offered.includes(label), `${JSON.stringify(label)} is offered: ${JSON.stringify(offered)}`);
      });
    }

    test('offers nothing in a comment', async () => {
      const { text, position } = withCursor('model M {\n  input 3x32x32\n  # conv ‸\n}\n');
      const uri = await open(text);
      assert.deepEqual(labels(await client.request(CompletionRequest.type, { textDocument: { uri }, position })), []);
    });

    test('replaces the word being typed', async () => {
      const { text, position } = withCursor('model M {\n  input 3x32x32\n  conv 32 ker‸\n}\n');
      const uri = await open(text);
      const result = await client.request(CompletionRequest.type, { textDocument: { uri }, position });
      const kernel = (Array.isArray(result) ? result : (result?.items ?? [])).find((item) => item.label === 'kernel=');
      assert.ok(kernel?.textEdit && 'range' in kernel.textEdit, 'expected a text edit on kernel=');
      assert.deepEqual(kernel.textEdit.range, { start: { line: 2, character: 10 }, end: position });
      assert.equal(applyEdits(text, [kernel.textEdit]), text.replace('ker\n', 'kernel=\n'));
    });
  });

  describe('dataset paths', () => {
    let folder: string;

    before(() => {
      folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-paths-'));
      for (const dir of ['data/flowers/train', 'data/flowers/val', 'data/cifar-10', 'images', '.cache']) fs.mkdirSync(path.join(folder, dir), { recursive: true });
      for (const file of ['data/cifar-10/data_batch_1.bin', 'data/cifar-10/readme.txt', 'notes.txt']) fs.writeFileSync(path.join(folder, file), '');
      fs.writeFileSync(path.join(folder, 'model.ocular'), 'dataset d {\n}\n');
    });

    after(() => fs.rmSync(folder, { recursive: true, force: true }));

    /** Opens a text as a file in the temporary folder; the file need not exist on disk, only its folder. */
    async function openIn(name: string, text: string): Promise<string> {
      const uri = pathToFileURL(path.join(folder, name)).href;
      await client.open(uri, text);
      return uri;
    }

    const cases: { name: string; marked: string; entries: string[]; replaces: string }[] = [
      { name: 'an empty train path lists the folders next to the file', marked: 'dataset d {\n  train "‸"\n}\n', entries: ['data/', 'images/'], replaces: '' },
      { name: 'an unclosed string lists them too', marked: 'dataset d {\n  train "‸\n}\n', entries: ['data/', 'images/'], replaces: '' },
      { name: 'a folder prefix lists that folder', marked: 'dataset d {\n  train "data/‸"\n}\n', entries: ['cifar-10/', 'flowers/'], replaces: '' },
      { name: 'a partial name lists its folder and replaces the partial name', marked: 'dataset d {\n  val "data/flowers/tr‸"\n}\n', entries: ['train/', 'val/'], replaces: 'tr' },
      { name: 'a folder of CIFAR batches lists the .bin files only', marked: 'dataset d {\n  test "data/cifar-10/‸"\n}\n', entries: ['data_batch_1.bin'], replaces: '' },
    ];
    cases.forEach(({ name, marked, entries, replaces }, i) => {
      test(name, async () => {
        const { text, position } = withCursor(marked);
        const uri = await openIn(`paths-${i}.ocular`, text);
        const result = await client.request(CompletionRequest.type, { textDocument: { uri }, position });
        const items = Array.isArray(result) ? result : (result?.items ?? []);
        assert.deepEqual(items.map((item) => item.label).sort(), entries);
        for (const item of items) {
          assert.ok(item.textEdit && 'range' in item.textEdit);
          assert.deepEqual(item.textEdit.range, { start: { line: position.line, character: position.character - replaces.length }, end: position });
        }
      });
    });

    test('a path string outside a dataset lists nothing', async () => {
      const { text, position } = withCursor('model M {\n  input 3x32x32\n  conv "‸"\n}\n');
      const uri = await openIn('not-a-path.ocular', text);
      assert.deepEqual(labels(await client.request(CompletionRequest.type, { textDocument: { uri }, position })), []);
    });

    test('warns about a dataset path that does not exist, on the path', async () => {
      const text = 'dataset d {\n  train "data/flowers/train"\n  val "data/flowres/val"\n}\n';
      const uri = await openIn('missing.ocular', text);
      const { diagnostics } = await client.diagnostics(uri, 1);
      const missing = diagnostics.filter((d) => d.code === 'missing-path');
      assert.equal(missing.length, 1, JSON.stringify(diagnostics));
      assert.equal(missing[0]!.severity, DiagnosticSeverity.Warning);
      // Named relative to the model file's folder, as the data layer's findings are.
      assert.equal(textOf(missing[0]!.message), "The val path 'data/flowres/val' does not exist. Training needs it; check the spelling, or download the data there.");
      const line = text.split('\n')[2]!;
      assert.deepEqual(missing[0]!.range.start.line, 2);
      assert.ok(line.slice(missing[0]!.range.start.character, missing[0]!.range.end.character).includes('data/flowres/val'));
    });
  });

  describe('inlay hints', () => {
    const text = exampleText('simple_cnn_224');
    const cases: [statement: string, label: string][] = [
      ['  input 3x224x224', ' 3×224×224'],
      ['  conv 32 kernel=3 padding=1', ' → 32×224×224 · 896 params'],
      ['  conv 64 kernel=3 padding=1', ' → 64×112×112 · 18.5K params'],
      ['  flatten', ' → 200704'],
      ['  dense 512', ' → 512 · 102.8M params'],
      ['  dense classes', ' → 10 · 5.1K params'],
    ];

    test('label each statement at its end with its output shape and parameters', async () => {
      const whole = { start: { line: 0, character: 0 }, end: positionAt(text, text.length) };
      const hints = await client.request(InlayHintRequest.type, { textDocument: { uri: exampleUri('simple_cnn_224') }, range: whole });
      assert.ok(hints);
      for (const [statement, label] of cases) {
        const position = positionOf(text, `\n${statement}`, 1 + statement.length);
        const hint: InlayHint | undefined = hints.find((h) => h.position.line === position.line);
        assert.ok(hint, `no hint on ${JSON.stringify(statement)}`);
        assert.deepEqual(hint.position, position, statement);
        assert.equal(hint.label, label, statement);
      }
      assert.equal(new Set(hints.map((h) => h.position.line)).size, hints.length, 'more than one hint on a line');
      for (const hint of hints) assertRangeInside({ start: hint.position, end: hint.position }, text);
    });

    test('stay inside the requested range', async () => {
      const range = { start: { line: 6, character: 0 }, end: { line: 8, character: 0 } };
      const hints = await client.request(InlayHintRequest.type, { textDocument: { uri: exampleUri('simple_cnn_224') }, range });
      assert.deepEqual(
        hints?.map((h) => [h.position.line, h.label]),
        [
          [6, ' → 32×224×224'],
          [7, ' → 32×112×112'],
        ],
      );
    });
  });

  describe('document symbols', () => {
    test('list the sections, and in the model its layers with their shapes', async () => {
      const symbols = await client.request(DocumentSymbolRequest.type, { textDocument: { uri: exampleUri('resnet18') } });
      assert.ok(symbols && symbols.every((s) => 'children' in s), 'expected hierarchical document symbols');
      const text = exampleText('resnet18');
      assert.deepEqual(
        symbols.map((s) => [s.name, s.kind]),
        [
          ['basic', SymbolKind.Function],
          ['ResNet18', SymbolKind.Class],
          ['imagenette', SymbolKind.Struct],
          ['train', SymbolKind.Event],
        ],
      );
      const model = symbols[1]!;
      assert.ok('selectionRange' in model);
      assert.deepEqual(model.selectionRange, rangeOf(text, 'ResNet18 {', 'ResNet18'));
      assert.equal(model.detail, '10 · 11.2M params');
      const layers = (model.children ?? []).map((c) => [c.name, c.detail]);
      assert.deepEqual(layers.slice(0, 6), [
        ['input 3x224x224', ''],
        ['conv 64 kernel=7 stride=2 padding=3 bias=false', '64×112×112'],
        ['batchnorm', '64×112×112'],
        ['relu', '64×112×112'],
        ['maxpool 3 stride=2 padding=1', '64×56×56'],
        ['repeat 2', '64×56×56'],
      ]);
      assert.deepEqual(layers[layers.length - 1], ['dense classes', '10']);
    });
  });

  describe('definition and references', () => {
    const cases: { example: Example; name: string; at: string; word: string; declaration: string }[] = [
      { example: 'mobilenet_small', name: 'a block call', at: 'dwsep 128 stride=2', word: 'dwsep', declaration: 'block dwsep(' },
      { example: 'mobilenet_small', name: 'a block call inside repeat', at: 'dwsep 512 }', word: 'dwsep', declaration: 'block dwsep(' },
      { example: 'resnet18', name: 'a model in a train section', at: 'model ResNet18\n', word: 'ResNet18', declaration: 'model ResNet18 {' },
      { example: 'resnet18', name: 'a dataset in a train section', at: 'data imagenette', word: 'imagenette', declaration: 'dataset imagenette {' },
    ];
    for (const { example, name, at, word, declaration } of cases) {
      test(`definition of ${name} is its declaration`, async () => {
        const text = exampleText(example);
        const position = positionOf(text, at, at.indexOf(word) + 1);
        const location = (await client.request(DefinitionRequest.type, { textDocument: { uri: exampleUri(example) }, position })) as Location | null;
        assert.ok(location && !Array.isArray(location), 'expected one location');
        assert.equal(location.uri, exampleUri(example));
        assert.deepEqual(location.range, rangeOf(text, declaration, word));
      });
    }

    test('definition of a built-in layer is null', async () => {
      const text = exampleText('resnet18');
      assert.equal(await client.request(DefinitionRequest.type, { textDocument: { uri: exampleUri('resnet18') }, position: positionOf(text, 'conv 64', 1) }), null);
    });

    test('references of a block are its declaration and every call', async () => {
      const text = exampleText('mobilenet_small');
      const locations = await client.request(ReferencesRequest.type, { textDocument: { uri: exampleUri('mobilenet_small') }, position: positionOf(text, 'dwsep 64', 2), context: { includeDeclaration: true } });
      assert.ok(locations);
      const lines = locations.map((l) => l.range.start.line);
      const expected = text.split('\n').flatMap((line, i) => (/\bdwsep\b/.test(line) ? [i] : []));
      assert.deepEqual(lines.sort((a, b) => a - b), expected);
      assert.equal(locations.length, 9);
      for (const location of locations) assert.equal(location.range.end.character - location.range.start.character, 'dwsep'.length);
    });
  });

  describe('rename', () => {
    const TWO_BLOCKS = 'block a(c) {\n  conv c\n  relu\n}\nblock b(c) {\n  conv c\n  relu\n}\nmodel M {\n  input 3x32x32\n  a 8\n  b 16\n  globalavgpool\n  flatten\n  dense 10\n}\n';

    test('prepareRename on a block call answers the range of the name', async () => {
      const text = exampleText('mobilenet_small');
      const position = positionOf(text, 'dwsep 128 stride=2', 2);
      const range = await client.request(PrepareRenameRequest.type, { textDocument: { uri: exampleUri('mobilenet_small') }, position });
      assert.deepEqual(range, { start: { line: position.line, character: 2 }, end: { line: position.line, character: 7 } });
    });

    test('prepareRename on a built-in layer answers null', async () => {
      const text = exampleText('mobilenet_small');
      assert.equal(await client.request(PrepareRenameRequest.type, { textDocument: { uri: exampleUri('mobilenet_small') }, position: positionOf(text, 'batchnorm', 3) }), null);
    });

    test('renaming a block renames its declaration and every call, and the model stays the same', async () => {
      const original = exampleText('mobilenet_small');
      const uri = await open(original);
      const edit = await client.request(RenameRequest.type, { textDocument: { uri }, position: positionOf(original, 'dwsep 64', 1), newName: 'separable' });
      const edits = editsFor(edit, uri);
      assert.equal(edits.length, 9);
      const renamed = applyEdits(original, edits);
      assert.equal(renamed, original.replace(/\bdwsep\b/g, 'separable'));
      const renamedUri = await open(renamed);
      const before = await client.request(ModelSummaryRequest, { uri });
      const after = await client.request(ModelSummaryRequest, { uri: renamedUri });
      assert.equal(after?.totalParams, before?.totalParams);
      assert.deepEqual((await client.diagnostics(renamedUri, 1)).diagnostics, []);
    });

    const refusals: { name: string; at: string; newName: string; message: RegExp }[] = [
      { name: 'the name of another block', at: 'a 8', newName: 'b', message: /already a block named 'b'/ },
      { name: 'a name that is not an identifier', at: 'a 8', newName: '9lives', message: /'9lives' is not a valid name/ },
      { name: 'a name with a space', at: 'block a', newName: 'two words', message: /not a valid name/ },
      { name: 'a built-in layer', at: 'b 16', newName: 'conv', message: /'conv' is a built-in layer/ },
    ];
    for (const { name, at, newName, message } of refusals) {
      test(`renaming to ${name} is refused with an error`, async () => {
        const uri = await open(TWO_BLOCKS);
        const position = positionOf(TWO_BLOCKS, at, at.startsWith('block ') ? 6 : 0);
        await assert.rejects(client.request(RenameRequest.type, { textDocument: { uri }, position, newName }), (error: unknown) => {
          assert.ok(error instanceof ResponseError, String(error));
          assert.match(error.message, message);
          return true;
        });
      });
    }

    test('renaming something that is not a declared name is refused with an error', async () => {
      const uri = await open(TWO_BLOCKS);
      await assert.rejects(client.request(RenameRequest.type, { textDocument: { uri }, position: positionOf(TWO_BLOCKS, 'relu'), newName: 'x' }), /Only models, blocks and datasets/);
    });
  });

  describe('formatting', () => {
    /** Undoes the canonical layout without changing meaning: indentation, spaces around `=` and `,`, blank lines. */
    function scramble(text: string): string {
      return text
        .split('\n')
        .map((line, i) => {
          const hash = line.indexOf('#');
          const code = hash < 0 ? line : line.slice(0, hash);
          const comment = hash < 0 ? '' : line.slice(hash);
          const spaced = code.trimStart().replace(/=/g, ' = ').replace(/, /g, ' ,  ');
          return (i % 2 ? '\t' : '     ') + spaced + comment;
        })
        .join('\n')
        .replace(/\n\s*\n/g, '\n\n\n\n');
    }

    for (const name of EXAMPLES) {
      test(`turns a scrambled ${name} back into the example`, async () => {
        const canonical = exampleText(name);
        const scrambled = scramble(canonical);
        assert.notEqual(scrambled, canonical);
        const uri = await open(scrambled);
        const edits = await client.request(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
        assert.ok(edits && edits.length > 0);
        assert.equal(applyEdits(scrambled, edits), canonical);
      });
    }

    test('answers no edits for a document already formatted', async () => {
      const edits = await client.request(DocumentFormattingRequest.type, { textDocument: { uri: exampleUri('resnet18') }, options: { tabSize: 2, insertSpaces: true } });
      assert.deepEqual(edits, []);
    });
  });

  describe('code actions', () => {
    const cases: { name: string; text: string; message: string; title: string }[] = [
      { name: 'a misspelt layer', text: withRange(RLEU_MODEL).text, message: "Unknown layer 'rleu'", title: "Change to 'relu'" },
      { name: 'a misspelt parameter', text: 'model M {\n  input 3x32x32\n  conv 16 kernal=3\n  relu\n  globalavgpool\n  flatten\n  dense 10\n}\n', message: "no parameter 'kernal'", title: "Change to 'kernel'" },
      { name: 'dense on an image', text: 'model M {\n  input 3x8x8\n  conv 4\n  relu\n  dense 10\n}\n', message: 'dense needs a flat input', title: 'Insert flatten before this layer' },
    ];
    for (const { name, text, message, title } of cases) {
      test(`fix ${name}: ${title}`, async () => {
        const uri = await open(text);
        const diagnostic = (await client.diagnostics(uri, 1)).diagnostics.find((d) => textOf(d.message).includes(message));
        assert.ok(diagnostic, `no diagnostic says ${message}`);
        const actions = (await client.request(CodeActionRequest.type, { textDocument: { uri }, range: diagnostic.range, context: { diagnostics: [diagnostic] } })) ?? [];
        const action = actions.find((a): a is CodeAction => a.title === title);
        assert.ok(action, `no action ${JSON.stringify(title)}: ${JSON.stringify(actions.map((a: CodeAction | Command) => a.title))}`);
        assert.equal(action.kind, CodeActionKind.QuickFix);
        assert.equal(action.diagnostics?.[0]?.message, diagnostic.message);
        const fixed = applyEdits(text, editsFor(action.edit, uri));
        await client.change(uri, 2, [{ text: fixed }]);
        const after = (await client.diagnostics(uri, 2)).diagnostics;
        assert.ok(!after.some((d) => textOf(d.message).includes(message)), `the fix left ${message}:\n${fixed}`);
        assert.ok(!after.some((d) => d.severity === DiagnosticSeverity.Error), JSON.stringify(after));
      });
    }

    test('offers nothing away from any diagnostic', async () => {
      const text = withRange(RLEU_MODEL).text;
      const uri = await open(text);
      await client.diagnostics(uri, 1);
      assert.deepEqual(await client.request(CodeActionRequest.type, { textDocument: { uri }, range: rangeOf(text, 'flatten'), context: { diagnostics: [] } }), []);
    });
  });

  describe('ocular/modelSummary', () => {
    test('summarises SimpleCNN with 102,785,482 parameters', async () => {
      const summary = await client.request(ModelSummaryRequest, { uri: exampleUri('simple_cnn_224') });
      assert.ok(summary);
      assert.equal(summary.model, 'SimpleCNN');
      assert.equal(summary.totalParams, 102785482);
      assert.deepEqual(summary.inputShape, [3, 224, 224]);
      assert.deepEqual(summary.rows[0], { name: 'conv1', kind: 'conv', outputShape: [32, 224, 224], params: 896, macs: summary.rows[0]!.macs, line: 5 });
      assert.equal(
        summary.rows.reduce((sum, row) => sum + row.params, 0),
        102785482,
      );
      assert.ok(summary.text.includes('Total params: 102,785,482'), summary.text);
    });

    test('summarises the model around the given line', async () => {
      const text = 'model A {\n  input 3x8x8\n  flatten\n  dense 2\n}\nmodel B {\n  input 1x4x4\n  flatten\n  dense 3\n}\n';
      const uri = await open(text);
      const models = [0, 3, 5, 8].map(async (line) => (await client.request(ModelSummaryRequest, { uri, line }))?.model);
      assert.deepEqual(await Promise.all(models), ['A', 'A', 'B', 'B']);
      assert.equal((await client.request(ModelSummaryRequest, { uri, line: 7 }))?.totalParams, 16 * 3 + 3);
    });

    test('answers null for a document without a model', async () => {
      const uri = await open('dataset d {\n  image 3x8x8\n}\n');
      assert.equal(await client.request(ModelSummaryRequest, { uri }), null);
    });
  });

  describe('a document the server does not know', () => {
    const uri = 'file:///nowhere/unknown.ocular';
    const textDocument = { uri };
    const position = { line: 0, character: 0 };
    const range = { start: position, end: position };
    const requests: [string, () => Promise<unknown>][] = [
      ['hover', () => client.request(HoverRequest.type, { textDocument, position })],
      ['completion', () => client.request(CompletionRequest.type, { textDocument, position })],
      ['inlay hints', () => client.request(InlayHintRequest.type, { textDocument, range })],
      ['document symbols', () => client.request(DocumentSymbolRequest.type, { textDocument })],
      ['definition', () => client.request(DefinitionRequest.type, { textDocument, position })],
      ['references', () => client.request(ReferencesRequest.type, { textDocument, position, context: { includeDeclaration: true } })],
      ['prepareRename', () => client.request(PrepareRenameRequest.type, { textDocument, position })],
      ['rename', () => client.request(RenameRequest.type, { textDocument, position, newName: 'x' })],
      ['formatting', () => client.request(DocumentFormattingRequest.type, { textDocument, options: { tabSize: 2, insertSpaces: true } })],
      ['code actions', () => client.request(CodeActionRequest.type, { textDocument, range, context: { diagnostics: [] } })],
      ['ocular/modelSummary', () => client.request(ModelSummaryRequest, { uri })],
    ];
    for (const [name, send] of requests) {
      test(`${name} answers null`, async () => assert.equal(await send(), null));
    }

    test('the server keeps answering afterwards', async () => {
      const text = exampleText('simple_cnn_224');
      const answer = await client.request(HoverRequest.type, { textDocument: { uri: exampleUri('simple_cnn_224') }, position: positionOf(text, 'conv 32') });
      assert.ok(textOf(answer?.contents as MarkupContent).includes('32×224×224'));
    });
  });

  // Handlers catch their own exceptions and log them, so a failure would otherwise pass unseen as a null answer.
  test('no request handler failed along the way', () => {
    assert.deepEqual(
      client.logs.filter((log) => log.type === MessageType.Error),
      [],
    );
  });
});

describe('the server lifecycle', () => {
  const clients: LspClient[] = [];
  after(() => clients.forEach((c) => c.dispose()));

  const cases: [name: string, end: (client: LspClient) => Promise<number | null>, code: number][] = [
    ['shutdown then exit ends the process with code 0', (client) => client.shutdown(), 0],
    ['exit without shutdown ends the process with code 1', (client) => client.exit(), 1],
  ];
  for (const [name, end, code] of cases) {
    test(name, async () => {
      const client = new LspClient();
      clients.push(client);
      await client.initialize();
      await client.open('untitled:lifecycle.ocular', withRange(RLEU_MODEL).text);
      await client.diagnostics('untitled:lifecycle.ocular', 1);
      assert.equal(await end(client), code);
    });
  }
});
