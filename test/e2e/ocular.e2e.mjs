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
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { EXAMPLE, MODEL, openExample, openProblems, runStarted, scenario, session, settle, watchdog } from './lib/harness.mjs';
import { lineText, poll, printTimings, timed } from './lib/session.mjs';

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

  const markers = await openProblems();
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

// Scenarios of later features live in scenarios/, one module per feature, run in file-name order
// after the language scenarios above and before the two checks below that close the run.
const scenarioDir = new URL('./scenarios/', import.meta.url);
for (const name of readdirSync(scenarioDir).filter((n) => n.endsWith('.mjs')).sort()) await import(new URL(name, scenarioDir).href);

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
