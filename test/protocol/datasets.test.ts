/**
 * Protocol tests of dataset checks: the bundled server scans a dataset section's folders when the
 * file is opened or saved, in a worker thread, with work-done progress, and publishes what it finds
 * as diagnostics on the section, merged with the language diagnostics. The fixture is a small
 * ImageFolder written with sharp: a zero-byte PNG, an empty class folder, enough images that a
 * scan takes a moment.
 *
 * Run with `npm run build && npx tsc -p tsconfig.json && node --test out/test/protocol`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import {
  DidSaveTextDocumentNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  type MarkupContent,
  type ProgressToken,
  type PublishDiagnosticsParams,
  type Range,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
} from 'vscode-languageserver-protocol';
import { DatasetsChangedNotification, DatasetTreeRequest } from '../../protocol/protocol';
import { LspClient, positionAt } from './lsp-client';

/** Images per real class in train: enough that decoding them takes longer than answering a hover. */
const PER_CLASS = 120;

/** A distinct 16×16 RGB image for each seed, so that no two files count as duplicates. */
async function writeImage(file: string, seed: number): Promise<void> {
  const pixels = Buffer.alloc(16 * 16 * 3);
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < pixels.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    pixels[i] = state >>> 24;
  }
  await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(file);
}

const MODEL = `model Net {
  input 3x16x16
  flatten
  dense classes
}

dataset pets {
  train "data/train"
  val "data/val"
  image 3x16x16
}

train {
  model Net
  data pets
}
`;

function rangeOfText(text: string, needle: string): Range {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, needle);
  return { start: positionAt(text, offset), end: positionAt(text, offset + needle.length) };
}

/** A diagnostic's text: the server sends plain strings, the protocol also allows Markdown. */
function textOf(content: string | MarkupContent): string {
  return typeof content === 'string' ? content : content.value;
}

/** Waits until `holds` is true, checking every 20 ms, or fails after `timeoutMs`. */
async function until(holds: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const isFromScan = (params: PublishDiagnosticsParams): boolean => params.diagnostics.some((d) => d.code === 'empty-file');

describe('dataset checks', () => {
  let dir: string;
  let uri: string;
  let client: LspClient;
  const changed: string[] = [];
  const progress: { token: ProgressToken; value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd }[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-datasets-'));
    let seed = 0;
    for (const [split, count] of [['train', PER_CLASS], ['val', 4]] as const) {
      for (const name of ['cat', 'dog']) {
        const folder = path.join(dir, 'data', split, name);
        fs.mkdirSync(folder, { recursive: true });
        for (let i = 0; i < count; i++) await writeImage(path.join(folder, `${i}.png`), ++seed);
      }
    }
    fs.writeFileSync(path.join(dir, 'data/train/cat/zero.png'), '');
    fs.mkdirSync(path.join(dir, 'data/train/bird'));
    fs.writeFileSync(path.join(dir, 'model.ocular'), MODEL);
    uri = pathToFileURL(path.join(dir, 'model.ocular')).href;

    client = new LspClient();
    client.connection.onRequest(WorkDoneProgressCreateRequest.method, () => null);
    client.connection.onNotification(DatasetsChangedNotification.method, (params: { uri: string }) => {
      changed.push(params.uri);
    });
    client.connection.onNotification('$/progress', (params: { token: ProgressToken; value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd }) => {
      progress.push(params);
    });
    await client.request(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(dir).href,
      capabilities: { window: { workDoneProgress: true } },
      workspaceFolders: [{ uri: pathToFileURL(dir).href, name: 'fixture' }],
    });
    await client.connection.sendNotification(InitializedNotification.type, {});
  });

  after(() => {
    client.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  let scanned: PublishDiagnosticsParams;

  test('answers hover while the scan runs, then publishes the findings', async () => {
    await client.open(uri, MODEL);
    const hover = await client.request(HoverRequest.type, { textDocument: { uri }, position: rangeOfText(MODEL, 'dense').start });
    assert.ok(hover, 'no hover for dense');
    assert.ok(!client.allDiagnostics(uri).some(isFromScan), 'the scan finished before the hover was answered; the test proves nothing');
    scanned = await client.waitForDiagnostics(uri, isFromScan, 'diagnostics from the dataset scan', 30_000);
  });

  test('a zero-byte image is reported on the train path, naming the file', () => {
    const empty = scanned.diagnostics.filter((d) => d.code === 'empty-file');
    assert.equal(empty.length, 1, JSON.stringify(scanned.diagnostics));
    // The image is named relative to the model file's folder, not by its absolute path.
    assert.match(textOf(empty[0]!.message), /^'data\/train\/cat\/zero\.png' is empty \(0 bytes\)/);
    assert.deepEqual(empty[0]!.range, rangeOfText(MODEL, '"data/train"'));
  });

  test('an empty class folder is reported on the train path, naming the class', () => {
    const empty = scanned.diagnostics.filter((d) => d.code === 'empty-class' && textOf(d.message).includes("'bird'"));
    assert.ok(empty.length >= 1, JSON.stringify(scanned.diagnostics));
    assert.match(textOf(empty[0]!.message), /^The class folder 'data\/train\/bird' has no usable images/);
    assert.deepEqual(empty[0]!.range, rangeOfText(MODEL, '"data/train"'));
  });

  test('reports work-done progress titled after the dataset, from begin to end', () => {
    const begin = progress.find((p) => p.value.kind === 'begin');
    assert.ok(begin, JSON.stringify(progress));
    assert.equal((begin.value as WorkDoneProgressBegin).title, 'Scanning dataset pets');
    assert.ok(progress.some((p) => p.token === begin.token && p.value.kind === 'end'));
  });

  test('ocular/datasetTree lists splits and classes with counts, shares and warnings per node', async () => {
    await until(() => changed.includes(uri), 'ocular/datasetsChanged');
    const tree = await client.request(DatasetTreeRequest, { uri });
    assert.ok(tree);
    assert.deepEqual(tree.datasets.map((d) => d.name), ['pets']);
    const [train, val] = tree.datasets[0]!.splits;
    assert.deepEqual([train!.split, train!.count, val!.split, val!.count], ['train', 2 * PER_CLASS, 'val', 8]);
    assert.equal(train!.share, (2 * PER_CLASS) / (2 * PER_CLASS + 8));
    assert.deepEqual(train!.classes.map((c) => [c.name, c.count, c.share]), [['bird', 0, 0], ['cat', PER_CLASS, 0.5], ['dog', PER_CLASS, 0.5]]);
    const [bird, cat] = train!.classes;
    assert.ok(bird!.warnings.some((w) => w.message.includes("'bird'")), JSON.stringify(bird));
    assert.ok(cat!.warnings.some((w) => w.message.includes('zero.png')), JSON.stringify(cat));
    assert.equal(bird!.firstImage, undefined);
    assert.match(cat!.firstImage!, /^file:\/\/.*\/data\/train\/cat\/\d+\.png$/);
    assert.equal(await client.request(DatasetTreeRequest, { uri: 'file:///not/open.ocular' }), null);
  });

  test('findings follow their section after an edit and stay inside the document', async () => {
    await client.change(uri, 2, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '# a comment\n\n' }]);
    const edited = '# a comment\n\n' + MODEL;
    const { diagnostics } = await client.diagnostics(uri, 2);
    const empty = diagnostics.find((d) => d.code === 'empty-file');
    assert.ok(empty, 'the scan findings were dropped by an edit');
    assert.deepEqual(empty.range, rangeOfText(edited, '"data/train"'));

    const cut = edited.slice(0, edited.indexOf('dataset pets'));
    await client.change(uri, 3, [{ range: { start: { line: 0, character: 0 }, end: positionAt(edited, edited.length) }, text: cut }]);
    const after = await client.diagnostics(uri, 3);
    assert.ok(!after.diagnostics.some((d) => d.code === 'empty-file'), 'findings of a removed dataset are still shown');
    const end = positionAt(cut, cut.length);
    for (const d of after.diagnostics) assert.ok(d.range.end.line < end.line || (d.range.end.line === end.line && d.range.end.character <= end.character), JSON.stringify(d));
  });

  test('cancelling the progress stops the scan: no findings are published', async () => {
    // Another image size decodes again instead of reading the cache the earlier scans wrote.
    const text = MODEL.replace(/3x16x16/g, '3x12x12');
    const other = pathToFileURL(path.join(dir, 'cancelled.ocular')).href;
    const before = progress.length;
    await client.open(other, text);
    await until(() => progress.slice(before).some((p) => p.value.kind === 'begin'), 'the scan to begin');
    const begin = progress.slice(before).find((p) => p.value.kind === 'begin')!;
    await client.connection.sendNotification(WorkDoneProgressCancelNotification.method, { token: begin.token });
    await until(() => progress.some((p) => p.token === begin.token && p.value.kind === 'end'), 'the cancelled scan to end');
    // An uncancelled scan of these images publishes well within this time (the first test's takes a few hundred ms).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(!client.allDiagnostics(other).some(isFromScan), 'a cancelled scan published its findings');
    await client.close(other);
  });

  test('saving scans again, and a newer scan cancels the older one', async () => {
    const cut = fs.readFileSync(path.join(dir, 'model.ocular'), 'utf8').slice(0, MODEL.indexOf('dataset pets'));
    await client.change(uri, 4, [{ range: { start: { line: 0, character: 0 }, end: positionAt('# a comment\n\n' + cut, ('# a comment\n\n' + cut).length) }, text: MODEL }]);
    const before = progress.length;
    await client.connection.sendNotification(DidSaveTextDocumentNotification.type, { textDocument: { uri } });
    await client.connection.sendNotification(DidSaveTextDocumentNotification.type, { textDocument: { uri } });
    // One progress per save: the first is cancelled by the second, and both end.
    await until(() => progress.slice(before).filter((p) => p.value.kind === 'end').length >= 2, 'both scans to end');
    const published = client.allDiagnostics(uri).length;
    const last = await client.waitForDiagnostics(uri, (p) => client.allDiagnostics(uri).indexOf(p) >= published - 1 && p.version === 4, 'diagnostics after saving');
    assert.ok(isFromScan(last), JSON.stringify(last));
    const begins = progress.slice(before).filter((p) => p.value.kind === 'begin');
    // Every progress that began also ended, the cancelled one included.
    for (const b of begins) assert.ok(progress.some((p) => p.token === b.token && p.value.kind === 'end'), JSON.stringify(progress));
  });
});
