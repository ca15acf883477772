// The Ocular Datasets view (issue 4): a fixture dataset's splits and classes with counts, and a
// damaged image as a warning in the tree and in Problems.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FIXTURE, openProblems, scenario, session } from '../lib/harness.mjs';

/**
 * Writes a small ImageFolder dataset into the run's workspace (never the repository): digits
 * PNGs copied from the example, in train/0 (3 plus a damaged bad.png), train/1 (2), val/0 and
 * val/1 (1 each), and an .ocular file whose dataset section points at them.
 */
function writeFixture() {
  const digits = path.join(session.workspace, 'data', 'digits');
  const layout = [
    ['train', '0', 3],
    ['train', '1', 2],
    ['val', '0', 1],
    ['val', '1', 1],
  ];
  for (const [split, cls, count] of layout) {
    const from = path.join(digits, split, cls);
    const to = path.join(session.workspace, 'fixture', split, cls);
    mkdirSync(to, { recursive: true });
    for (const file of readdirSync(from).sort().slice(0, count)) copyFileSync(path.join(from, file), path.join(to, file));
  }
  // Half of a real PNG followed by garbage bytes: a damaged PNG, which the scan reports as a warning.
  // (Garbage right after the signature would be read as absurd dimensions: an error, not a warning.)
  const good = readFileSync(path.join(digits, 'train', '0', '0.png'));
  const damaged = Buffer.concat([good.subarray(0, Math.floor(good.length / 2)), Buffer.from('garbage bytes '.repeat(4))]);
  writeFileSync(path.join(session.workspace, 'fixture', 'train', '0', 'bad.png'), damaged);
  writeFileSync(
    path.join(session.workspace, FIXTURE),
    ['# A fixture written by the e2e run.', 'dataset tiny {', '  train "fixture/train"', '  val "fixture/val"', '  image 1x8x8', '  classes 2', '}', ''].join('\n'),
  );
}

scenario('datasets: the explorer lists a fixture dataset\'s classes and counts, and a corrupt image shows up as a warning', async () => {
  writeFixture();
  const { page } = session;
  await page.keyboard.press('Escape');
  await session.quickOpen(FIXTURE);
  await session.editorLine('dataset tiny').waitFor();
  await session.shot('datasets - opened the fixture with a corrupt image');

  // The Explorer, with the Ocular Datasets view expanded by clicking its header, as a user would;
  // the Outline above it is collapsed to give the tree room.
  await page.keyboard.press('Control+Shift+E');
  const paneHeader = (title) => page.locator('.pane-header', { has: page.locator('h3', { hasText: title }) }).first();
  const outline = paneHeader(/^outline$/i);
  if ((await outline.count()) > 0 && (await outline.getAttribute('aria-expanded')) === 'true') await outline.click();
  const header = paneHeader(/^ocular datasets$/i);
  await header.waitFor();
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
  const pane = page.locator('.pane', { has: header });
  const rows = pane.locator('.monaco-list-row');
  /** The row whose label is exactly `label` (dataset, split or class name). */
  const row = (label) => rows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) }).first();
  const description = async (label) => ((await row(label).locator('.label-description').first().textContent()) ?? '').trim();

  // The dataset appears once the server's scan has finished; 'train' has 5 good images, 'val' 2.
  await row('tiny').waitFor({ timeout: 60_000 });
  await session.shot('datasets - the Ocular Datasets view lists the fixture dataset');
  assert.match(await description('tiny'), /^7 images\b/, `the dataset's description: '${await description('tiny')}'`);
  assert.match(await description('train'), /^5 images · 71\.4%$/, `train's description: '${await description('train')}'`);
  assert.match(await description('val'), /^2 images · 28\.6%$/, `val's description: '${await description('val')}'`);

  // Expanding 'train' (collapsed at first) shows its classes, with counts and shares.
  await row('train').locator('.monaco-tl-twistie').click();
  await row('0').waitFor();
  await row('1').waitFor();
  const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  console.log(`[e2e]   dataset rows: ${JSON.stringify(texts)}`);
  await session.shot('datasets - train expanded - classes with counts and a warning icon');
  assert.equal(await description('0'), '3 · 60.0%');
  assert.equal(await description('1'), '2 · 40.0%');
  // The corrupt image is a problem of class 0: a warning icon there, none on class 1.
  assert.equal(await row('0').locator('.codicon-warning').count(), 1, "class 0 has no warning icon");
  assert.equal(await row('1').locator('.codicon-warning').count(), 0, 'class 1 has a warning icon');

  // The Problems panel names the file.
  const markers = await openProblems();
  const entry = markers.locator('.monaco-list-row', { hasText: 'bad.png' }).first();
  await entry.waitFor();
  const message = (await entry.innerText()).replace(/\s+/g, ' ');
  await session.shot('datasets - the Problems panel names bad.png');
  console.log(`[e2e]   problem: ${message}`);
  // Named relative to the model file's folder (the workspace), not by its long absolute path.
  assert.match(message, /'fixture\/train\/0\/bad\.png' is a damaged or cut-short PNG file/);
  assert.ok(!message.includes(session.workspace), `the message names the absolute path: ${message}`);
  assert.equal(await entry.locator('.codicon-warning').count(), 1, `the entry is not a warning: ${message}`);
}, 120_000);
