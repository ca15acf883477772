/**
 * The evaluation page (webviews/evaluation) in headless Chromium with a fixture evaluation: the
 * figures, the per-class table, an N×N confusion matrix with the right counts, a cell click that
 * asks the host for the cell and lists the images it answers (highest loss first), opening an
 * image, the normalised view and its state, and a hostile class and file name shown as text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { EvaluationImage, EvaluationView } from '../../protocol/protocol';
import { classificationMetrics } from '../../server/src/evaluation/metrics';
import { greyPng } from '../support/png';
import { launchChromium, loadPage, ORIGIN, type ServedFile } from './harness';

const HOSTILE = '<img src=x onerror=alert(1)>';
const CLASSES = ['cat', 'dog', HOSTILE];

/** Three classes: labels and predictions chosen so every row and column differ. */
const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 1, 2, 2]);
const predicted = [0, 0, 1, 1, 1, 2, 0, 2, 0];
const expectedCounts = [
  [2, 1, 0],
  [1, 2, 1],
  [1, 0, 1],
];

function fixtureEvaluation(): EvaluationView {
  const p = new Float32Array(labels.length * 3).fill(0.2);
  predicted.forEach((c, i) => (p[i * 3 + c] = 0.6));
  return {
    runId: 'Net-20261128-070000',
    split: 'test',
    checkpoint: { name: 'best', epoch: 3 },
    classes: CLASSES,
    backend: 'wasm',
    device: 'WebAssembly, SIMD, 1 thread',
    createdAt: '2026-11-28T07:00:00.000Z',
    ...classificationMetrics(labels, p, 3, [2]),
    speed: { latencyMs: { p50: 1.25, p95: 2.5, runs: 50 }, throughput: { batchSize: 32, imagesPerSecond: 2400 } },
  };
}

function cellImages(): { images: EvaluationImage[]; files: Map<string, ServedFile> } {
  const files = new Map<string, ServedFile>();
  const names = [`${HOSTILE}.png`, 'b.png'];
  const images = names.map((name, i) => {
    files.set(`/images/${i}.png`, { body: greyPng(8, 8, new Uint8Array(64).fill(60 + i * 120)), contentType: 'image/png' });
    return { name, path: `/data/test/dog/${name}`, src: `${ORIGIN}/images/${i}.png`, probability: 0.6, labelProbability: 0.2 - i * 0.05, loss: 1.6 + (1 - i) };
  });
  return { images, files };
}

let browser: Browser;
before(async () => (browser = await launchChromium()));
after(async () => browser?.close());

describe('evaluation page', () => {
  test('shows the figures, the table and an N×N matrix with the right counts; a cell lists its images', async () => {
    const { images, files } = cellImages();
    const ui = await loadPage(browser, 'evaluation', { files, width: 1100, height: 760 });
    try {
      await ui.waitForPosted('ready');
      await ui.send({ type: 'evaluation', file: '/w/run/evaluation.json', title: `Net · test · ${HOSTILE}`, evaluation: fixtureEvaluation() });
      await ui.page.waitForSelector('#matrix .cell');
      const cells = await ui.page.$$eval('#matrix .cell', (nodes) => nodes.map((n) => [Number(n.getAttribute('data-label')), Number(n.getAttribute('data-predicted')), n.textContent]));
      assert.equal(cells.length, 9);
      for (const [t, p, text] of cells) assert.equal(text, String(expectedCounts[t as number]![p as number]), `cell ${t},${p}`);
      assert.deepEqual(await ui.page.$$eval('#matrix .row-label', (nodes) => nodes.map((n) => n.textContent)), CLASSES);
      assert.deepEqual(await ui.page.$$eval('#matrix .column-label', (nodes) => nodes.map((n) => n.textContent)), CLASSES);
      assert.equal(await ui.page.textContent('#title'), `Net · test · ${HOSTILE}`);
      const figures = await ui.page.textContent('#figures');
      assert.match(figures!, /Accuracy55\.6%/);
      assert.match(figures!, /Top-2/);
      assert.match(figures!, /p50 1\.25 ms · p95 2\.50 ms/);
      assert.match(figures!, /2,400 images\/s/);
      // Per-class rows: cat P 2/4 R 2/3; dog P 2/3 R 2/4; hostile P 1/2 R 1/2.
      const rows = await ui.page.$$eval('#classes tbody tr', (nodes) => nodes.map((n) => Array.from(n.children, (c: { textContent: string | null }) => c.textContent)));
      assert.deepEqual(rows, [
        ['cat', '0.500', '0.667', '0.571', '3', '4'],
        ['dog', '0.667', '0.500', '0.571', '4', '3'],
        [HOSTILE, '0.500', '0.500', '0.500', '2', '2'],
      ]);

      await ui.page.click('#matrix .cell[data-label="1"][data-predicted="0"]');
      await ui.waitForPosted('cell');
      assert.deepEqual((await ui.posted()).at(-1), { type: 'cell', label: 1, predicted: 0 });
      await ui.send({ type: 'cell', label: 1, predicted: 0, images });
      await ui.page.waitForSelector('#gallery .image img');
      assert.deepEqual(await ui.page.$$eval('#gallery .image', (nodes) => nodes.map((n) => n.getAttribute('data-path'))), images.map((i) => i.path));
      assert.deepEqual(await ui.page.$$eval('#gallery .name', (nodes) => nodes.map((n) => n.textContent)), [`${HOSTILE}.png`, 'b.png']);
      assert.equal(await ui.page.textContent('#gallery-title'), 'dog → cat: 2 images, highest loss first');
      assert.match((await ui.page.textContent('#gallery .image'))!, /predicted p=0\.60 · true p=0\.20loss 2\.60/);
      await ui.page.click('#gallery .image >> nth=1');
      assert.deepEqual((await ui.posted()).at(-1), { type: 'open', path: '/data/test/dog/b.png' });
      // The hostile names made no element: the only images are the two thumbnails.
      assert.equal(await ui.page.$$eval('img', (nodes) => nodes.length), 2);
      assert.deepEqual(await ui.state(), { normalized: false, file: '/w/run/evaluation.json', cell: { label: 1, predicted: 0 } });

      // Saliency: the page asks for the listed images' overlays and lays them on; a problem is text.
      await ui.page.click('#saliency');
      assert.deepEqual((await ui.posted()).at(-1), { type: 'saliency', label: 1, predicted: 0, paths: images.map((i) => i.path) });
      const heat = `data:image/png;base64,${greyPng(4, 4, new Uint8Array(16).fill(200)).toString('base64')}`;
      await ui.send({ type: 'saliency', label: 1, predicted: 0, overlays: [{ path: images[0]!.path, overlay: { image: heat } }, { path: images[1]!.path, overlay: { problem: HOSTILE } }] });
      await ui.page.waitForSelector('#gallery .thumb img.overlay');
      assert.equal(await ui.page.$$eval('#gallery .image >> nth=0', (nodes) => nodes[0]!.querySelectorAll('img.overlay').length), 1);
      assert.equal(await ui.page.textContent('#gallery .overlay-problem'), HOSTILE);
      assert.equal((await ui.state())?.saliency, true);
      await ui.screenshot('evaluation');
      assert.deepEqual(ui.problems(), []);
    } finally {
      await ui.close();
    }
  });

  test('the normalised view shows row shares and a restored page asks for its cell again', async () => {
    const ui = await loadPage(browser, 'evaluation', { state: { normalized: true, file: '/w/run/evaluation.json', cell: { label: 2, predicted: 0 } } });
    try {
      await ui.waitForPosted('ready');
      await ui.send({ type: 'evaluation', file: '/w/run/evaluation.json', title: 'Net · test', evaluation: fixtureEvaluation() });
      await ui.page.waitForSelector('#matrix .cell');
      assert.deepEqual(await ui.page.$$eval('#matrix .cell[data-label="1"]', (nodes) => nodes.map((n) => n.textContent)), ['25.0%', '50.0%', '25.0%']);
      assert.deepEqual((await ui.posted()).at(-1), { type: 'cell', label: 2, predicted: 0 });
      assert.equal(await ui.page.$$eval('#matrix .cell.selected', (nodes) => nodes.map((n) => n.getAttribute('data-label') + ',' + n.getAttribute('data-predicted')).join()), '2,0');
      await ui.page.click('#normalized');
      assert.equal(await ui.page.textContent('#matrix .cell[data-label="1"][data-predicted="1"]'), '2');
      assert.equal((await ui.state())?.normalized, false);
      await ui.send({ type: 'error', message: `Cannot read ${HOSTILE}/evaluation.json: no such file` });
      assert.equal(await ui.page.textContent('#message'), `Cannot read ${HOSTILE}/evaluation.json: no such file`);
      assert.deepEqual(ui.problems(), []);
    } finally {
      await ui.close();
    }
  });
});
