// End-to-end scenarios: the packaged extension in a real VS Code (code-server), driven through
// Debian's headless Chromium the way a user works: quick open, the command palette, clicks,
// typing, hovering. Run with `npm run test:e2e`.
//
// Every step leaves a numbered screenshot in test-results/e2e/; a failing scenario leaves
// FAILED-<scenario>.png and the extension host's logs beside them.
//
// The scenarios share one workbench and run in order; each one opens what it needs, so that
// one failure does not hide the others' results.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { cleanup } from './lib/processes.mjs';
import { Session, lineText, poll, printTimings, timed } from './lib/session.mjs';

const EXAMPLE = 'simple_cnn_cifar.ocular';
const FIXTURE = 'fixture.ocular';
const MODEL = 'SimpleCNN32';
/** The whole run must end well within 10 minutes on 2 cores. */
const RUN_LIMIT_S = Number(process.env.OCULAR_E2E_TIMEOUT_S ?? 540);

const session = new Session();
const runStarted = Date.now();

// A watchdog: whatever hangs, the run ends, and ends everything it started.
const watchdog = setTimeout(() => {
  console.error(`[e2e] the run took longer than ${RUN_LIMIT_S} s: stopping it`);
  void session
    .saveFailure('watchdog', new Error('run time limit'))
    .finally(() => cleanup())
    .finally(() => process.exit(1));
}, RUN_LIMIT_S * 1000);
watchdog.unref();

/** A scenario: on failure, saves the page's screenshot and the extension host log, then fails. */
function scenario(name, fn, timeout = 90_000) {
  test(name, { timeout }, async () => {
    const started = Date.now();
    try {
      if (!session.page) throw new Error('the workbench did not start (see the set-up error above)');
      await fn();
    } catch (error) {
      await session.saveFailure(name, error);
      throw error;
    } finally {
      timed(`scenario: ${name}`, started);
    }
  });
}

/** Opens the example through quick open unless it is already the active editor. */
async function openExample() {
  const { page } = session;
  await page.keyboard.press('Escape');
  if ((await page.locator('.tab.active', { hasText: EXAMPLE }).count()) === 0) await session.quickOpen(EXAMPLE);
  await session.editorLine('conv 32').waitFor();
}

/** Moves the mouse out of the editor and closes whatever hover or widget is open. */
async function settle() {
  await session.page.mouse.move(2, 500);
  await session.page.keyboard.press('Escape');
}

before(async () => {
  await session.start();
}, { timeout: 420_000 });

after(async () => {
  clearTimeout(watchdog);
  await session.stop();
  printTimings();
});

scenario('activation: opening an .ocular file starts the extension and its language server', async () => {
  const { page } = session;
  await session.quickOpen(EXAMPLE);
  await session.shot('opened the example with quick open');
  // The status bar's language mode names the language contributed by the extension.
  await page.locator('[id="status.editor.mode"]', { hasText: 'Ocular' }).waitFor();
  // The extension host activated the extension on the language, as the manifest declares…
  const activated = await poll(() => /_doActivateExtension ocular\.ocular\b.*onLanguage:ocular/.test(session.extensionHostLog()));
  assert.ok(activated, "the extension host log does not show ocular.ocular activated by 'onLanguage:ocular'");
  // …and the language server answers: the status bar counts the example's warnings (its dataset
  // folders do not exist in the test workspace), which only the server can know.
  const problems = page.locator('[id="status.problems"]');
  await poll(async () => /[1-9]/.test((await problems.getAttribute('aria-label')) ?? ''));
  await session.shot('activated - the status bar shows Ocular and the server diagnostics');
  assert.match((await problems.getAttribute('aria-label')) ?? '', /Warnings?: [1-9]/);
});

scenario('colours: keywords, layers and shapes get distinct theme colours', async () => {
  await openExample();
  const { page } = session;
  const probes = [
    ['model', 'model SimpleCNN32'],
    ['conv', 'conv 32'],
    ['3x32x32', 'input 3x32x32'],
    ['SimpleCNN32', 'model SimpleCNN32'],
  ];
  /** @type {Record<string, string>} */
  const colours = {};
  for (const [word, line] of probes) {
    const span = session.token(session.editorLine(line), word);
    colours[word] = await span.evaluate((element) => getComputedStyle(element).color);
  }
  // The editor's own foreground: what an uncoloured token would show.
  const plain = await page
    .locator('.editor-group-container.active .monaco-editor .view-lines')
    .first()
    .evaluate((element) => getComputedStyle(element).color);
  console.log(`[e2e]   colours: ${JSON.stringify(colours)}, default foreground ${plain}`);
  await session.shot('colours - tokens coloured by the grammar');
  for (const [word, colour] of Object.entries(colours)) assert.notEqual(colour, plain, `'${word}' has the default foreground ${plain}`);
  const distinct = new Set([colours.model, colours.conv, colours['3x32x32']]);
  assert.equal(distinct.size, 3, `model, conv and 3x32x32 should differ: ${JSON.stringify(colours)}`);
});

scenario('hover: a layer shows its output shape and parameter count', async () => {
  await openExample();
  const { page } = session;
  await settle();
  await session.token(session.editorLine('conv 32'), 'conv').hover();
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: '896' }).first();
  await hover.waitFor();
  const text = await hover.innerText();
  await session.shot('hover over conv 32 - output shape and parameters');
  assert.match(text, /32×32×32/, `the hover does not show the output shape 32×32×32:\n${text}`);
  assert.match(text, /\b896\b/, `the hover does not show 896 parameters:\n${text}`);
  await settle();
});

scenario('inlay hints: every layer shows its output shape at the end of its line', async () => {
  await openExample();
  const expected = [
    ['conv 32', /→\s*32×32×32/],
    ['conv 32', /896 params/],
    ['maxpool 2', /→\s*32×16×16/],
    ['flatten', /→\s*4096/],
    ['dense 512', /→\s*512/],
  ];
  const found = await poll(async () => {
    for (const [line, pattern] of expected) if (!pattern.test(await lineText(session.editorLine(line)))) return false;
    return true;
  });
  await session.shot('inlay hints - shapes and parameter counts at line ends');
  for (const [line, pattern] of expected) {
    const text = await lineText(session.editorLine(line));
    assert.match(text, pattern, `the line '${line}' shows no inlay hint ${pattern}: '${text}'`);
  }
  assert.ok(found);
  // The hint is not part of the document: the source line holds 'x' shapes, never '×'.
  const conv = session.editorLine('conv 32');
  const hint = conv.locator('span', { hasText: '32×32×32' }).last();
  console.log(`[e2e]   the hint renders as <span class="${await hint.getAttribute('class')}">`);
});

scenario('outline: the Outline view lists the model and its layers', async () => {
  await openExample();
  const { page } = session;
  await session.runCommand('Explorer: Focus on Outline View');
  const outline = page.locator('.outline-pane');
  await outline.waitFor();
  // Give the outline room, as a user would: collapse the folder view above it.
  const folders = page.locator('.pane-header', { has: page.locator('h3', { hasText: /^workspace$/i }) });
  if ((await folders.getAttribute('aria-expanded')) === 'true') await folders.click();
  const rows = outline.locator('.monaco-list-row');
  await rows.filter({ hasText: MODEL }).first().waitFor();
  const wanted = [MODEL, 'input 3x32x32', 'conv 32', 'relu', 'maxpool 2', 'conv 64', 'flatten', 'dense 512', 'dropout'];
  const labels = await poll(async () => {
    const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    return wanted.every((w) => texts.some((t) => t.startsWith(w))) ? texts : undefined;
  });
  await session.shot('outline - the model and its layers');
  const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  console.log(`[e2e]   outline rows: ${JSON.stringify(texts)}`);
  assert.ok(labels, `the outline does not list ${wanted.join(', ')}: ${JSON.stringify(texts)}`);
});

scenario('typo: a misspelt layer gets a squiggle and a Problems entry, both gone once fixed', async () => {
  await openExample();
  const { page } = session;
  await settle();
  const errors = page.locator('.editor-group-container.active .monaco-editor .squiggly-error');
  assert.equal(await errors.count(), 0, 'the example has errors before the typo');

  // Double-click the first `relu` (after conv 32) and type over it.
  const reluLine = session.editorLine('relu');
  await session.token(reluLine, 'relu').dblclick();
  await page.keyboard.type('rleu', { delay: 40 });
  await page.keyboard.press('Escape'); // close the completion list, as a user would
  await errors.first().waitFor();
  await session.shot('typo - rleu has a red squiggle');

  await page.keyboard.press('Control+Shift+M');
  const markers = page.locator('.markers-panel');
  try {
    await markers.waitFor({ timeout: 5_000 });
  } catch {
    await session.runCommand('View: Toggle Problems'); // the keyboard shortcut did not reach it
    await markers.waitFor();
  }
  const entry = markers.locator('.monaco-list-row', { hasText: "Unknown layer 'rleu'" }).first();
  await entry.waitFor();
  const message = await entry.innerText();
  await session.shot('typo - the Problems panel lists it');
  assert.match(message, /Unknown layer 'rleu'/);
  assert.match(message, /did you mean 'relu'/);

  // Fix it by typing over it again.
  await session.token(session.editorLine('rleu'), 'rleu').dblclick();
  await page.keyboard.type('relu', { delay: 40 });
  await page.keyboard.press('Escape');
  await errors.first().waitFor({ state: 'detached' });
  // No 'Unknown layer' entry at all: typing goes through 'r', 'rl', 're', 'rel' on the way.
  await markers.locator('.monaco-list-row', { hasText: 'Unknown layer' }).first().waitFor({ state: 'detached' });
  await markers.locator('.monaco-list-row', { hasText: 'data/cifar10/train' }).first().waitFor();
  // The whole model is analysed again: the fixed line has its inlay hint back.
  const hintBack = await poll(async () => /→\s*32×32×32/.test(await lineText(session.editorLine('relu'))));
  await session.shot('typo fixed - no squiggle, no Problems entry');
  assert.equal(await errors.count(), 0);
  assert.ok(hintBack, `the fixed line shows no shape again: '${await lineText(session.editorLine('relu'))}'`);
});

scenario('command palette: Ocular: Show Model Summary prints the layer table', async () => {
  await openExample();
  const { page } = session;
  // Put the cursor inside the model, as a user would, by clicking on one of its lines.
  await session.token(session.editorLine('conv 32'), 'conv').click();
  await session.runCommand('Ocular: Show Model Summary');
  // The Output panel shows the channel's end: the table's last rows and the totals.
  const output = page.locator('.panel .output-view, .panel [id="workbench.panel.output"]').first();
  await output.locator('.view-line', { hasText: 'Total params' }).first().waitFor();
  const text = (await output.locator('.view-lines').first().innerText()).replace(/\u00a0/g, ' ');
  await session.shot('model summary in the Output panel');
  // 896 + 18,496 + 2,097,664 + 5,130 parameters, as torchsummary counts SimpleCNN at 32x32.
  assert.match(text, /Total params: 2,122,186\b/, text);
  assert.match(text, /dense\S*\s+dense\s+\[10\]\s+5,130/, text);
});

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
  await page.keyboard.press('Control+Shift+M');
  const markers = page.locator('.markers-panel');
  try {
    await markers.waitFor({ timeout: 5_000 });
  } catch {
    await session.runCommand('View: Toggle Problems'); // the keyboard shortcut did not reach it
    await markers.waitFor();
  }
  const entry = markers.locator('.monaco-list-row', { hasText: 'bad.png' }).first();
  await entry.waitFor();
  const message = (await entry.innerText()).replace(/\s+/g, ' ');
  await session.shot('datasets - the Problems panel names bad.png');
  console.log(`[e2e]   problem: ${message}`);
  assert.match(message, /bad\.png' is a damaged or cut-short PNG file/);
  assert.equal(await entry.locator('.codicon-warning').count(), 1, `the entry is not a warning: ${message}`);
}, 120_000);

scenario('logs: the Ocular extension logged no errors', async () => {
  // Errors that never reach the UI (a module missing from the .vsix, a crashed worker) show here.
  const errors = session
    .ocularLogs()
    .split('\n')
    .filter((line) => /\[error\]/i.test(line));
  assert.deepEqual(errors, [], `the Ocular log has errors:\n${errors.join('\n')}`);
});

test('clean-up: every process the run started has ended', { timeout: 60_000 }, async () => {
  clearTimeout(watchdog);
  const leftovers = await session.stop();
  timed('whole run', runStarted);
  assert.deepEqual(leftovers.map((p) => `${p.pid} ${p.cmdline.slice(0, 160)}`), [], 'processes were still running after clean-up (now killed)');
});
