/**
 * Protocol tests of the dataset views: the "Preview augmentation" code lens, `ocular/classImages`
 * (a class's files with the latest scan's findings, also for a class folder with a hostile name)
 * and `ocular/augmentPreview` (seeded draws from the document as edited, checked pixel by pixel
 * with flips that always happen).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { CodeLensRequest, InitializedNotification, InitializeRequest, WorkDoneProgressCreateRequest, type ProgressToken, type PublishDiagnosticsParams, type WorkDoneProgressBegin, type WorkDoneProgressEnd, type WorkDoneProgressReport } from 'vscode-languageserver-protocol';
import { AugmentPreviewRequest, ClassImagesRequest, DatasetTreeRequest, PREVIEW_AUGMENTATION_COMMAND } from '../../protocol/protocol';
import { LspClient, positionAt } from './lsp-client';

const HOSTILE = '<img src=x onerror=alert(1)>';

const MODEL = `model Net {
  input 1x4x6
  flatten
  dense classes
}

dataset shapes {
  train "data/train"
  image 1x4x6
  augment {
    hflip p=1
  }
}
`;

/** A 6×4 grey image whose pixel (x, y) is 10·x + 60·y + seed: every row and column differs, and no two seeds give copies. */
function pixels(seed: number): Buffer {
  return Buffer.from(Array.from({ length: 24 }, (_, p) => (p % 6) * 10 + Math.floor(p / 6) * 60 + seed));
}

/** The grey pixels of a `data:image/png` URI. */
async function decodeDataUri(uri: string): Promise<{ width: number; height: number; data: number[] }> {
  assert.match(uri, /^data:image\/png;base64,/);
  const { data, info } = await sharp(Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64')).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: [...data] };
}

const mirrored = (image: readonly number[], width: number): number[] => image.map((_, p) => image[p - (p % width) + (width - 1 - (p % width))]!);
const flipped = (image: readonly number[], width: number, height: number): number[] => image.map((_, p) => image[(height - 1 - Math.floor(p / width)) * width + (p % width)]!);

describe('dataset views', () => {
  let dir: string;
  let uri: string;
  let client: LspClient;
  const progress: { token: ProgressToken; value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd }[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-views-'));
    let seed = 0;
    for (const [name, count] of [['circle', 3], [HOSTILE, 2]] as const) {
      fs.mkdirSync(path.join(dir, 'data/train', name), { recursive: true });
      for (let i = 0; i < count; i++) await sharp(pixels(seed++ * 3), { raw: { width: 6, height: 4, channels: 1 } }).png().toFile(path.join(dir, 'data/train', name, `${i}.png`));
    }
    fs.writeFileSync(path.join(dir, 'data/train/circle/zero.png'), '');
    // A class whose only image is damaged: no usable image, but a file the gallery can show.
    fs.mkdirSync(path.join(dir, 'data/train/square'));
    fs.writeFileSync(path.join(dir, 'data/train/square/empty.png'), '');
    fs.writeFileSync(path.join(dir, 'model.ocular'), MODEL);
    uri = pathToFileURL(path.join(dir, 'model.ocular')).href;
    client = new LspClient();
    client.connection.onRequest(WorkDoneProgressCreateRequest.method, () => null);
    client.connection.onNotification('$/progress', (params: (typeof progress)[number]) => {
      progress.push(params);
    });
    await client.request(InitializeRequest.type, { processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: { window: { workDoneProgress: true } }, workspaceFolders: null });
    await client.connection.sendNotification(InitializedNotification.type, {});
    await client.open(uri, MODEL);
    await client.waitForDiagnostics(uri, (p: PublishDiagnosticsParams) => p.diagnostics.some((d) => d.code === 'empty-file'), 'the dataset scan', 30_000);
  });

  after(() => {
    client.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a code lens on the augment block runs the preview command for its dataset', async () => {
    const lenses = await client.request(CodeLensRequest.type, { textDocument: { uri } });
    assert.ok(lenses);
    const augmentAt = positionAt(MODEL, MODEL.indexOf('augment'));
    assert.deepEqual(
      lenses.map((lens) => [lens.range.start, lens.command?.title, lens.command?.command, lens.command?.arguments]),
      [[augmentAt, 'Preview augmentation', PREVIEW_AUGMENTATION_COMMAND, [uri, 'shapes']]],
    );
  });

  test('ocular/classImages lists a class with the findings on each file', async () => {
    const answer = await client.request(ClassImagesRequest, { uri, dataset: 'shapes', split: 'train', class: 'circle' });
    assert.ok(answer);
    const folder = path.join(dir, 'data/train/circle');
    assert.deepEqual(answer.images.map((image) => path.relative(folder, image.path)).sort(), ['0.png', '1.png', '2.png', 'zero.png']);
    const zero = answer.images.find((image) => image.path.endsWith('zero.png'))!;
    // Messages name the image relative to the model file's folder; `path` keeps it whole for opening.
    assert.match(zero.findings.map((f) => f.message).join('\n'), /^'data\/train\/circle\/zero\.png' is empty/m);
    assert.equal(zero.showable, true);
    assert.ok(answer.images.filter((image) => image !== zero).every((image) => image.findings.length === 0 && image.showable));
    const begin = progress.find((p) => p.value.kind === 'begin' && p.value.title === 'Listing the images of class circle');
    assert.ok(begin, JSON.stringify(progress));
    assert.ok(progress.some((p) => p.token === begin.token && p.value.kind === 'end'), 'the listing progress ends');
  });

  test('ocular/classImages lists a class folder with a hostile name, and answers null for a class or dataset that is not there', async () => {
    const hostile = await client.request(ClassImagesRequest, { uri, dataset: 'shapes', split: 'train', class: HOSTILE });
    assert.deepEqual(hostile?.images.map((image) => path.basename(path.dirname(image.path))), [HOSTILE, HOSTILE]);
    assert.equal(await client.request(ClassImagesRequest, { uri, dataset: 'shapes', split: 'train', class: 'triangle' }), null);
    assert.equal(await client.request(ClassImagesRequest, { uri, dataset: 'other', split: 'train', class: 'circle' }), null);
    assert.equal(await client.request(ClassImagesRequest, { uri, dataset: 'shapes', split: 'val', class: 'circle' }), null);
  });

  test('a class with no usable image still names a file, so the view can open its gallery', async () => {
    const tree = await client.request(DatasetTreeRequest, { uri });
    const square = tree?.datasets[0]?.splits[0]?.classes.find((c) => c.name === 'square');
    assert.equal(square?.count, 0);
    assert.equal(square?.firstImage, pathToFileURL(path.join(dir, 'data/train/square/empty.png')).href);
    const images = await client.request(ClassImagesRequest, { uri, dataset: 'shapes', split: 'train', class: 'square' });
    assert.deepEqual(images?.images.map((image) => [path.basename(image.path), image.findings.length > 0]), [['empty.png', true]]);
  });

  test('ocular/augmentPreview draws the image under the settings as edited, seeded', async () => {
    const ask = (seed: number, image = 0) => client.request(AugmentPreviewRequest, { uri, dataset: 'shapes', image, draws: 3, seed }, 30_000);
    const preview = await ask(7);
    assert.ok(preview);
    // Image 0 is in the first class folder (the hostile one, 2 images): only that folder is listed.
    assert.deepEqual([preview.shape, preview.augmentations, preview.draws.length, preview.count, preview.more], [[1, 4, 6], ['hflip p=1'], 3, 2, true]);
    const original = await decodeDataUri(preview.original);
    assert.deepEqual([original.width, original.height], [6, 4]);
    for (const draw of preview.draws) assert.deepEqual((await decodeDataUri(draw)).data, mirrored(original.data, 6), 'hflip p=1 mirrors every draw');

    // The document as edited, not as saved: a vertical flip instead.
    const edited = MODEL.replace('hflip p=1', 'vflip p=1');
    await client.change(uri, 2, [{ range: { start: { line: 0, character: 0 }, end: positionAt(MODEL, MODEL.length) }, text: edited }]);
    const vertical = await ask(7);
    assert.ok(vertical);
    assert.deepEqual(vertical.augmentations, ['vflip p=1']);
    for (const draw of vertical.draws) assert.deepEqual((await decodeDataUri(draw)).data, flipped(original.data, 6, 4));

    // Random draws: the same seed repeats them, another seed changes them.
    const random = edited.replace('vflip p=1', 'rotate degrees=90');
    await client.change(uri, 3, [{ range: { start: { line: 0, character: 0 }, end: positionAt(edited, edited.length) }, text: random }]);
    const [a, b, c] = await Promise.all([ask(11), ask(11), ask(12)]);
    assert.deepEqual(a?.draws, b?.draws);
    assert.notDeepEqual(a?.draws, c?.draws);
    // Stepping through the images wraps around; one that does not decode is named.
    const third = await ask(11, 2);
    assert.deepEqual([third?.image, third?.index, third?.count, third?.more], ['data/train/circle/0.png', 2, 6, true], 'image 2 is the first of the second class: two folders listed');
    const wrapped = await ask(11, 7);
    assert.deepEqual([wrapped?.index, wrapped?.count, wrapped?.more], [0, 7, false], 'past the last image every folder is listed, and it wraps');
    await assert.rejects(ask(11, -1), /^Error: 'data\/train\/square\/empty\.png' is empty/);
    await assert.rejects(ask(11, 5), /^Error: 'data\/train\/circle\/zero\.png' is empty/);
    assert.deepEqual(client.logs.filter((log) => log.type === 1), [], 'a problem with the data is an answer, not a logged fault');
  });
});
