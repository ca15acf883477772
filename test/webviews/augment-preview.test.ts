/**
 * The augmentation preview page (webviews/augment-preview) in headless Chromium: the original and
 * the draws with their captions, the settings listed, the buttons asking the host for another
 * image or other draws, the state kept, errors and hostile names shown as text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { AugmentPreview, AugmentPreviewTarget } from '../../protocol/protocol';
import { greyPng } from '../support/png';
import { launchChromium, loadPage } from './harness';

const HOSTILE = '<img src=x onerror=alert(1)>';
const target: AugmentPreviewTarget = { uri: 'file:///work/digits.ocular', dataset: 'digits' };

/** An 8×8 grey picture as the server sends it, different for each `shift`. */
const picture = (shift: number): string => `data:image/png;base64,${greyPng(8, 8, Uint8Array.from({ length: 64 }, (_, p) => (((p + shift) % 8) * 32) % 256)).toString('base64')}`;

function preview(draws: number, image = '/work/data/digits/train/3/0001.png'): AugmentPreview {
  return { image, index: 0, count: 1437, more: false, shape: [1, 8, 8], augmentations: ['rotate degrees=15', 'hflip p=0.5'], original: picture(0), draws: Array.from({ length: draws }, (_, i) => picture(i + 1)) };
}

let browser: Browser;
before(async () => (browser = await launchChromium()));
after(async () => browser?.close());

describe('augmentation preview page', () => {
  test('asks for its draws on load, shows the original and each draw, and asks again from its buttons', async () => {
    const ui = await loadPage(browser, 'augment-preview');
    try {
      await ui.waitForPosted('draw');
      assert.deepEqual(await ui.posted(), [{ type: 'draw', image: 0, seed: 1, draws: 16 }]);
      await ui.send({ type: 'preview', target, preview: preview(6), seed: 1 });
      await ui.page.waitForSelector('#draw-grid figure');
      assert.deepEqual(await ui.page.$$eval('#draw-grid figcaption', (nodes) => nodes.map((n) => n.textContent)), ['draw 1', 'draw 2', 'draw 3', 'draw 4', 'draw 5', 'draw 6']);
      assert.deepEqual(await ui.page.$$eval('#settings code', (nodes) => nodes.map((n) => n.textContent)), ['rotate degrees=15', 'hflip p=0.5']);
      assert.equal(await ui.page.textContent('#status'), 'image 1 of 1,437 · seed 1');
      assert.equal(await ui.page.textContent('.file'), '/work/data/digits/train/3/0001.png');
      // 8×8 images are shown 24 times larger, with visible pixels.
      assert.deepEqual(await ui.page.$eval('.source img', (n) => [n.getAttribute('width'), n.className]), ['192', 'pixelated']);
      await ui.page.waitForFunction(() => Array.from((globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ complete: boolean; naturalWidth: number }> } }).document.querySelectorAll('img')).every((img) => img.complete && img.naturalWidth === 8));
      await ui.screenshot('augment-preview');

      await ui.page.click('#next');
      await ui.page.click('#redraw');
      await ui.page.click('#previous');
      assert.deepEqual((await ui.posted()).slice(1), [
        { type: 'draw', image: 1, seed: 1, draws: 16 },
        { type: 'draw', image: 1, seed: 2, draws: 16 },
        { type: 'draw', image: 0, seed: 2, draws: 16 },
      ]);
      assert.deepEqual(await ui.state(), { target, image: 0, seed: 2, draws: 16 });
      assert.deepEqual(ui.problems(), []);
    } finally {
      await ui.close();
    }
  });

  test('in a narrow panel the toolbar wraps instead of squeezing the title', async () => {
    const ui = await loadPage(browser, 'augment-preview', { width: 480 });
    try {
      await ui.waitForPosted('draw');
      await ui.send({ type: 'preview', target, preview: preview(4), seed: 1 });
      await ui.page.waitForSelector('#draw-grid figure');
      const title = await ui.page.$eval('.title', (n) => n.getBoundingClientRect().height);
      assert.ok(title < 30, `the title is ${title} pixels high`);
      await ui.screenshot('augment-preview-narrow');
    } finally {
      await ui.close();
    }
  });

  test('a page shown again asks for the draws it had', async () => {
    const ui = await loadPage(browser, 'augment-preview', { state: { target, image: 41, seed: 9, draws: 8 } });
    try {
      await ui.waitForPosted('draw');
      assert.deepEqual(await ui.posted(), [{ type: 'draw', image: 41, seed: 9, draws: 8 }]);
      assert.equal(await ui.page.textContent('.title'), 'Augmentation · digits');
    } finally {
      await ui.close();
    }
  });

  test('errors and hostile names are shown as text', async () => {
    const ui = await loadPage(browser, 'augment-preview');
    try {
      await ui.waitForPosted('draw');
      const hostile = { uri: target.uri, dataset: HOSTILE };
      await ui.send({ type: 'preview', target: hostile, preview: preview(2, `/data/${HOSTILE}/${HOSTILE}.png`), seed: 1 });
      await ui.page.waitForSelector('#draw-grid figure');
      assert.equal(await ui.page.textContent('.title'), `Augmentation · ${HOSTILE}`);
      assert.equal(await ui.page.textContent('.file'), `/data/${HOSTILE}/${HOSTILE}.png`);
      await ui.send({ type: 'error', target: hostile, message: `Dataset ${HOSTILE} has no training images to preview.` });
      assert.equal(await ui.page.textContent('#message'), `Dataset ${HOSTILE} has no training images to preview.`);
      assert.equal(await ui.page.$$eval('img', (nodes) => nodes.length), 0);
      await ui.page.waitForTimeout(200);
      assert.deepEqual(ui.problems(), [], 'no alert, no error, no CSP violation');
    } finally {
      await ui.close();
    }
  });
});
