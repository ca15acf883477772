// The dataset views (issue 4): a class in the Ocular Datasets view opens the gallery of its
// images; the augment block's code lens opens the augmentation preview, which follows edits.
// Runs after 10-datasets.mjs, whose fixture dataset (fixture/train/0 with a damaged bad.png) it uses.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FIXTURE, scenario, session, webviewFrame } from '../lib/harness.mjs';
import { poll } from '../lib/session.mjs';

scenario('gallery: a class in the Ocular Datasets view opens its thumbnails, with the damaged image flagged, and an image opens', async () => {
  const { page } = session;
  await page.keyboard.press('Escape');
  await session.quickOpen(FIXTURE);
  await page.keyboard.press('Control+Shift+E');
  const header = page.locator('.pane-header', { has: page.locator('h3', { hasText: /^ocular datasets$/i }) }).first();
  await header.waitFor();
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
  const rows = page.locator('.pane', { has: header }).locator('.monaco-list-row');
  const row = (label) => rows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) }).first();
  await row('train').waitFor({ timeout: 60_000 });
  if ((await row('0').count()) === 0) await row('train').locator('.monaco-tl-twistie').click();
  await row('0').click();

  const gallery = await webviewFrame('.cell');
  // The damaged bad.png is handed to the page too (Chromium shows what of it decodes); its finding is on it.
  await poll(async () => (await gallery.locator('.cell img').count()) === 4 && (await gallery.locator('.cell img').evaluateAll((images) => images.every((image) => image.complete && image.naturalWidth > 0))));
  await session.shot('gallery - class 0 of the fixture with its thumbnails');
  assert.equal(await gallery.locator('.title').textContent(), '0 · train · tiny');
  const cells = await gallery.locator('.cell').evaluateAll((nodes) => nodes.map((n) => ({ name: n.querySelector('.name')?.textContent, finding: n.querySelector('.finding')?.textContent ?? '', width: n.querySelector('img')?.naturalWidth ?? 0 })));
  console.log(`[e2e]   gallery cells: ${JSON.stringify(cells)}`);
  assert.equal(cells.length, 4);
  const bad = cells.find((c) => c.name === 'bad.png');
  assert.match(bad?.finding ?? '', /^'fixture\/train\/0\/bad\.png' is a damaged or cut-short PNG/);
  assert.deepEqual(cells.filter((c) => c.name !== 'bad.png').map((c) => c.width), [8, 8, 8], 'each good image shows as its 8×8 thumbnail');

  const first = cells.find((c) => c.name !== 'bad.png');
  await gallery.locator('.cell', { has: gallery.locator('.name', { hasText: first.name }) }).first().click();
  await page.locator('.tab', { hasText: first.name }).first().waitFor();
  await session.shot('gallery - clicking a thumbnail opened the image');
}, 120_000);

scenario('augmentation preview: the code lens opens draws of the augment settings, drawn again as they are edited', async () => {
  const { page } = session;
  const file = 'augment.ocular';
  writeFileSync(path.join(session.workspace, file), ['dataset flips {', '  train "fixture/train"', '  image 1x8x8', '  augment {', '    hflip p=1', '  }', '}', ''].join('\n'));
  // The image the last scenario opened is shown in a webview, which keeps the keyboard from the
  // workbench's shortcuts; a text editor takes it back.
  await page.locator('.tab', { hasText: FIXTURE }).first().click();
  await page.keyboard.press('Escape');
  await session.quickOpen(file);
  const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Preview augmentation' }).first();
  await lens.waitFor({ timeout: 30_000 });
  await lens.click();

  const preview = await webviewFrame('#draw-grid figure');
  await poll(async () => (await preview.locator('#draw-grid img').count()) === 16);
  await session.shot('augmentation preview - 16 draws of hflip p=1');
  assert.deepEqual(await preview.locator('#settings code').allTextContents(), ['hflip p=1']);
  // fixture/train: 0 (three digits and the damaged bad.png) and 1 (two digits), in listing order.
  // Image 1 is in class 0, so only that folder is listed.
  assert.match((await preview.locator('#status').textContent()) ?? '', /^image 1 of 4 listed so far · seed 1$/);
  assert.equal(await preview.locator('.file').first().textContent(), 'fixture/train/0/0.png', 'the image is named relative to the workspace');

  // Edit the setting in the editor, without saving: the preview follows.
  const line = session.editorLine('hflip p=1');
  await line.click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type('rotate degrees=30');
  const followed = await poll(async () => (await preview.locator('#settings code').allTextContents()).join() === 'rotate degrees=30');
  await session.shot('augmentation preview - after editing the augment block to rotate');
  assert.ok(followed, `the preview still shows ${(await preview.locator('#settings code').allTextContents()).join()}`);
  assert.equal(await preview.locator('#draw-grid img').count(), 16);
}, 120_000);
