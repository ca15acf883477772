/**
 * The class gallery page (webviews/gallery) in headless Chromium: thumbnails with names and
 * findings, virtualisation over thousands of images, opening an image, state across hide/show,
 * and hostile class and file names shown as text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { GalleryClass, GalleryItem } from '../../protocol/protocol';
import { greyPng } from '../support/png';
import { launchChromium, loadPage, ORIGIN, type ServedFile } from './harness';

const HOSTILE = '<img src=x onerror=alert(1)>';
const target: GalleryClass = { uri: 'file:///work/digits.ocular', dataset: 'digits', split: 'train', class: '3' };

/** A 16×16 grey gradient, a different one per image, served as `/images/<name>`. */
function fixtureImages(names: readonly string[]): { items: GalleryItem[]; files: Map<string, ServedFile> } {
  const files = new Map<string, ServedFile>();
  const items = names.map((name, i) => {
    const grey = Uint8Array.from({ length: 256 }, (_, p) => ((p % 16) * 8 + i * 37) % 256);
    files.set(`/images/${name}`, { body: greyPng(16, 16, grey), contentType: 'image/png' });
    return { name, path: `/data/train/3/${name}`, src: `${ORIGIN}/images/${encodeURIComponent(name)}`, findings: [] };
  });
  return { items, files };
}

let browser: Browser;
before(async () => (browser = await launchChromium()));
after(async () => browser?.close());

describe('gallery page', () => {
  test('shows each image with its name and its finding, and opens a clicked image', async () => {
    const { items, files } = fixtureImages(['a.png', 'b.png', 'c.png', 'd.png']);
    const { src: _unshown, ...corrupt } = items[2]!;
    const withFindings: GalleryItem[] = [
      items[0]!,
      { ...items[1]!, findings: [{ severity: 'warning', message: 'b.png is an exact copy of val/3/b.png: the same image in train and val leaks the answer.' }] },
      { ...corrupt, findings: [{ severity: 'error', message: 'c.png is truncated: it cannot be decoded and is left out of training.' }] },
      items[3]!,
    ];
    const ui = await loadPage(browser, 'gallery', { files });
    try {
      await ui.waitForPosted('ready');
      await ui.send({ type: 'images', target, items: withFindings });
      await ui.page.waitForSelector('.cell img');
      await ui.page.waitForFunction(() => Array.from((globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ complete: boolean }> } }).document.querySelectorAll('.cell img')).every((img) => img.complete));
      const cells = await ui.page.$$eval('.cell', (nodes) => nodes.map((n) => ({ name: n.querySelector('.name')?.textContent, finding: n.querySelector('.finding')?.textContent ?? '', image: Boolean(n.querySelector('img')), kind: n.className })));
      assert.deepEqual(
        cells.map((c) => [c.name, c.image, c.kind]),
        [
          ['a.png', true, 'cell'],
          ['b.png', true, 'cell has-warning'],
          ['c.png', false, 'cell has-error'],
          ['d.png', true, 'cell'],
        ],
      );
      assert.match(cells[1]!.finding, /exact copy/);
      assert.match(cells[2]!.finding, /truncated/);
      assert.equal(await ui.page.textContent('.title'), '3 · train · digits');
      assert.equal(await ui.page.textContent('#summary'), '4 images · 2 images with findings');
      const loaded = await ui.page.$$eval('.cell img', (nodes) => nodes.map((n) => (n as unknown as { naturalWidth: number }).naturalWidth));
      assert.deepEqual(loaded, [16, 16, 16], 'every thumbnail decoded');
      await ui.screenshot('gallery-findings');

      await ui.page.click('.cell[data-index="3"]');
      const opened = (await ui.posted()).filter((m) => m.type === 'open');
      assert.deepEqual(opened, [{ type: 'open', path: '/data/train/3/d.png' }]);

      // The filter keeps only the images with findings, and is remembered.
      await ui.page.click('#only-findings');
      await ui.page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document.querySelectorAll('.cell').length === 2);
      assert.equal((await ui.state())?.onlyFindings, true);
      assert.deepEqual(ui.problems(), []);
    } finally {
      await ui.close();
    }
  });

  test('renders only the rows in view for 5,000 images, and comes back where it was after hide/show', async () => {
    const items: GalleryItem[] = Array.from({ length: 5000 }, (_, i) => ({ name: `img_${String(i).padStart(5, '0')}.png`, path: `/data/train/3/img_${i}.png`, findings: [] }));
    const ui = await loadPage(browser, 'gallery');
    let scrollTop = 0;
    try {
      await ui.waitForPosted('ready');
      await ui.send({ type: 'images', target, items });
      await ui.page.waitForSelector('.cell');
      const before = await ui.page.$$eval('.cell', (nodes) => nodes.length);
      assert.ok(before > 0 && before < 120, `${before} cells in the DOM for 5,000 images`);
      assert.equal(await ui.page.textContent('#summary'), '5,000 images');
      await ui.page.$eval('#scroller', (node) => ((node as unknown as { scrollTop: number }).scrollTop = 1e9));
      await ui.page.waitForSelector('.cell[data-index="4999"]');
      const names = await ui.page.$$eval('.cell .name', (nodes) => nodes.map((n) => n.textContent));
      assert.ok(names.includes('img_04999.png'), 'the last image is rendered at the bottom');
      assert.ok(!names.includes('img_00000.png'), 'the first row is gone');
      assert.ok(names.length < 120, `${names.length} cells after scrolling`);
      scrollTop = (await ui.state())?.scrollTop ?? 0;
      assert.ok(scrollTop > 10000, `state keeps the scroll position (${scrollTop})`);
    } finally {
      await ui.close();
    }
    // VS Code destroys a hidden page and loads it again with the state it saved.
    const shown = await loadPage(browser, 'gallery', { state: { target, scrollTop, onlyFindings: false } });
    try {
      assert.equal(await shown.page.textContent('.title'), '3 · train · digits', 'the title is back before the images');
      await shown.waitForPosted('ready');
      await shown.send({ type: 'images', target, items });
      await shown.page.waitForSelector('.cell[data-index="4999"]');
      assert.deepEqual(shown.problems(), []);
    } finally {
      await shown.close();
    }
  });

  test('a hostile class name and file name are shown as text and run nothing', async () => {
    const { items, files } = fixtureImages([`${HOSTILE}.png`, 'plain.png']);
    const hostile: GalleryClass = { ...target, class: HOSTILE, dataset: `<b>${HOSTILE}</b>` };
    const ui = await loadPage(browser, 'gallery', { files });
    try {
      await ui.waitForPosted('ready');
      await ui.send({ type: 'images', target: hostile, items: items.map((item, i) => (i === 0 ? { ...item, findings: [{ severity: 'warning', message: `Class '${HOSTILE}' has 1 image.` }] } : item)) });
      await ui.page.waitForSelector('.cell img');
      assert.equal(await ui.page.textContent('.title'), `${HOSTILE} · train · <b>${HOSTILE}</b>`);
      assert.equal(await ui.page.textContent('.cell[data-index="0"] .name'), `${HOSTILE}.png`);
      assert.match((await ui.page.textContent('.cell[data-index="0"] .finding')) ?? '', /<img src=x onerror=alert\(1\)>/);
      // The only images are the two thumbnails; no element came from the names.
      const sources = await ui.page.$$eval('img', (nodes) => nodes.map((n) => n.getAttribute('src')));
      assert.deepEqual(sources, items.map((item) => item.src));
      assert.equal(await ui.page.$$eval('b', (nodes) => nodes.length), 0);
      await ui.page.waitForTimeout(200);
      await ui.screenshot('gallery-hostile-names');
      assert.deepEqual(ui.problems(), [], 'no alert, no error, no CSP violation');
    } finally {
      await ui.close();
    }
  });

  test('an error from the host is shown in place of the images', async () => {
    const ui = await loadPage(browser, 'gallery');
    try {
      await ui.waitForPosted('ready');
      await ui.send({ type: 'error', target, message: 'Open digits.ocular again to see the images of dataset digits.' });
      assert.equal(await ui.page.textContent('#message'), 'Open digits.ocular again to see the images of dataset digits.');
      assert.equal(await ui.page.$$eval('.cell', (nodes) => nodes.length), 0);
    } finally {
      await ui.close();
    }
  });
});
