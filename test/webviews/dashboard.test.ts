/**
 * The metrics dashboard (webviews/dashboard) in headless Chromium with fixture runs: a chart per
 * metric with a line per run and split, live appends redrawn, a run hidden and its state kept,
 * CSV/JSON/PNG exports posted to the host, and a hostile run id shown as text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { BatchPoint, DashboardRun, EpochPoint } from '../../protocol/protocol';
import { runsCsv } from '../../webviews/dashboard/series';
import { launchChromium, loadPage } from './harness';

const HOSTILE = '<img src=x onerror=alert(1)>';

function epochs(count: number, scale: number): EpochPoint[] {
  return Array.from({ length: count }, (_, i) => ({ epoch: i + 1, trainLoss: scale * 2 / (i + 1), trainAcc: 1 - 0.5 / (i + 1), valLoss: scale * 2.2 / (i + 1), valAcc: 0.95 - 0.5 / (i + 1), lr: 0.1 * 0.9 ** i, imagesPerSecond: 900 + i }));
}

function batches(count: number, perEpoch: number): BatchPoint[] {
  return Array.from({ length: count }, (_, i) => ({ x: (i + 1) / perEpoch, loss: 2 / (1 + i / perEpoch), acc: 0.5, imagesPerSecond: 1000 }));
}

const runs: DashboardRun[] = [
  { id: 'Net-20261128-070000', dir: '/w/.ocular/runs/Net-20261128-070000', model: 'Net', status: 'completed', epochs: epochs(5, 1), batches: batches(50, 10) },
  { id: HOSTILE, dir: `/w/.ocular/runs/${HOSTILE}`, model: 'Net', status: 'running', epochs: epochs(2, 1.3), batches: [] },
];

/** The legend labels of one chart, as uPlot shows them. */
const legend = (id: string) => `#chart-${id} .u-legend .u-series .u-label`;

let browser: Browser;
before(async () => (browser = await launchChromium()));
after(async () => browser?.close());

describe('dashboard series', () => {
  test('CSV quotes fields that need it and leaves missing values empty', () => {
    const csv = runsCsv([{ id: 'a,"b"', dir: '', model: 'M', status: 'completed', batches: [], epochs: [{ epoch: 1, trainLoss: 0.5, trainAcc: 0.75, valLoss: null, valAcc: null, lr: 0.1, imagesPerSecond: 100 }] }]);
    assert.equal(csv, 'run,model,epoch,train_loss,train_acc,val_loss,val_acc,lr,images_per_s\n"a,""b""",M,1,0.5,0.75,,,0.1,100\n');
  });
});

describe('dashboard page', () => {
  test('draws a line per run and split, appends live points, hides a run and exports', async () => {
    const ui = await loadPage(browser, 'dashboard', { width: 1100, height: 800 });
    try {
      await ui.waitForPosted('ready');
      await ui.send({ type: 'runs', runs });
      await ui.page.waitForSelector('#chart-loss canvas');
      assert.deepEqual(await ui.page.$$eval('#runs .run-name', (nodes) => nodes.map((n) => n.textContent)), ['Net · Net-20261128-070000', `Net · ${HOSTILE}`]);
      assert.deepEqual(await ui.page.$$eval(legend('loss'), (nodes) => nodes.map((n) => n.textContent)), [
        'Net-20261128-070000 train (batches)',
        'Net-20261128-070000 train',
        'Net-20261128-070000 val',
        `${HOSTILE} train`,
        `${HOSTILE} val`,
      ]);
      assert.deepEqual(await ui.page.$$eval('.chart:not(.empty) .chart-title', (nodes) => nodes.map((n) => n.textContent)), ['Loss', 'Accuracy', 'Learning rate', 'Images per second']);

      // A live epoch of the running run: the page keeps the series and redraws with the new point.
      await ui.send({ type: 'append', id: HOSTILE, status: 'completed', epochs: [epochs(3, 1.3)[2]!], batches: [] });
      await ui.page.waitForFunction(() => Array.from((globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ textContent: string }> } }).document.querySelectorAll('#runs .status')).map((n) => n.textContent).join() === 'completed · 5 epochs,completed · 3 epochs');
      await ui.page.click('#export-csv');
      const csv = (await ui.posted()).at(-1);
      assert.ok(csv?.type === 'save' && csv.format === 'csv' && csv.name === 'runs.csv');
      assert.equal(csv.content.trim().split('\n').length, 1 + 5 + 3, 'a header and one row per epoch of both runs');
      assert.match(csv.content, /^<img src=x onerror=alert\(1\)>,Net,3,/m);
      await ui.screenshot('dashboard');

      await ui.page.click(`#runs .run[data-run="${HOSTILE}"]`);
      assert.deepEqual((await ui.state())?.hidden, [HOSTILE]);
      await ui.page.waitForFunction((sel) => (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document.querySelectorAll(sel).length === 3, legend('loss'));
      await ui.page.click('#export-json');
      const json = (await ui.posted()).at(-1);
      assert.ok(json?.type === 'save' && json.format === 'json' && json.name === 'Net-20261128-070000.json');
      assert.deepEqual((JSON.parse(json.content) as { id: string }[]).map((r) => r.id), ['Net-20261128-070000']);
      await ui.page.click('#export-png');
      const png = (await ui.posted()).at(-1);
      assert.ok(png?.type === 'save' && png.format === 'png');
      assert.deepEqual([...Buffer.from(png.content, 'base64').subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');

      await ui.page.click('#show-batches');
      assert.equal((await ui.state())?.showBatches, false);
      await ui.page.waitForFunction((sel) => (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document.querySelectorAll(sel).length === 2, legend('loss'));
      assert.equal(await ui.page.$$eval('img', (nodes) => nodes.length), 0, 'the hostile run id made no element');
      assert.deepEqual(ui.problems(), []);
    } finally {
      await ui.close();
    }
  });

  test('with no runs it says how to get some', async () => {
    const ui = await loadPage(browser, 'dashboard');
    try {
      await ui.waitForPosted('ready');
      await ui.send({ type: 'runs', runs: [] });
      await ui.page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } | null } }).document.getElementById('message')?.textContent?.startsWith('No training runs'));
      assert.equal(await ui.page.$$eval('#charts canvas', (nodes) => nodes.length), 0);
      assert.deepEqual(ui.problems(), []);
    } finally {
      await ui.close();
    }
  });
});
