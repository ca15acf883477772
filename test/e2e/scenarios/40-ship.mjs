// Shipping a model (issue 8): Export Model from the palette writes an ONNX file and reports
// parity, and again pruned to 50% and fine-tuned for an epoch, reporting the accuracy before
// pruning, after pruning and after fine-tuning; Serve Model starts the model server, which answers a real request (curl), and Stop
// Serving ends it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { scenario, session } from '../lib/harness.mjs';
import { poll } from '../lib/session.mjs';

const MODEL_FILE = 'ship.ocular';

/** A port nothing listens on now. */
function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

scenario('ship: Export Model writes the ONNX file and reports parity; Serve Model answers a request', async () => {
  const { page } = session;
  // The digits example under another name at the workspace root, so its dataset paths hold and no run of it exists.
  writeFileSync(path.join(session.workspace, MODEL_FILE), readFileSync(path.join(session.workspace, 'digits.ocular'), 'utf8'));
  const port = await freePort();
  mkdirSync(path.join(session.workspace, '.vscode'), { recursive: true });
  const settingsFile = path.join(session.workspace, '.vscode', 'settings.json');
  const settings = existsSync(settingsFile) ? JSON.parse(readFileSync(settingsFile, 'utf8')) : {};
  writeFileSync(settingsFile, JSON.stringify({ ...settings, 'ocular.servePort': port }, null, 2));

  await page.keyboard.press('Escape');
  await session.quickOpen(MODEL_FILE);
  await session.editorLine('model DigitsCNN').waitFor();

  await session.runCommand('Ocular: Export Model', 'onnx', 'float32', 'no pruning');
  const toasts = page.locator('.notifications-toasts .notification-toast');
  await toasts.filter({ hasText: /Exported with parity OK: .*ship-onnx \(/ }).first().waitFor({ timeout: 90_000 });
  await session.shot('ship - export finished with its parity report');
  const onnx = path.join(session.workspace, 'export', 'ship-onnx', 'model.onnx');
  assert.ok(existsSync(onnx), `${onnx} was written`);

  // Pruned and fine-tuned: the model file was never trained, so its seeded weights are pruned and trained an epoch.
  await session.runCommand('Ocular: Export Model', 'onnx', 'float32', 'prune 50%', 'fine-tune 1 epoch');
  await toasts.filter({ hasText: /Exported with parity OK; accuracy [\d.]+% → [\d.]+% → [\d.]+% \(before pruning → after pruning → after fine-tuning\): .*ship-onnx-pruned50-finetuned1 \(/ }).first().waitFor({ timeout: 120_000 });
  await session.shot('ship - pruned and fine-tuned export with its accuracy report');
  assert.ok(existsSync(path.join(session.workspace, 'export', 'ship-onnx-pruned50-finetuned1', 'model.onnx')), 'the pruned, fine-tuned model.onnx was written');

  await session.runCommand('Ocular: Serve Model');
  await toasts.filter({ hasText: `Serving ${MODEL_FILE} at http://127.0.0.1:${port}` }).first().waitFor({ timeout: 60_000 });
  await session.shot('ship - the model server is running');
  const png = path.join(session.workspace, 'data', 'digits', 'val', '0', execFileSync('ls', [path.join(session.workspace, 'data', 'digits', 'val', '0')], { encoding: 'utf8' }).split('\n')[0]);
  const answer = JSON.parse(execFileSync('curl', ['-s', '-F', `image=@${png}`, `http://127.0.0.1:${port}/predict`], { encoding: 'utf8' }));
  assert.equal(answer.predictions.length, 5);
  assert.ok(answer.predictions.every((p) => typeof p.class === 'string' && p.probability >= 0 && p.probability <= 1), JSON.stringify(answer));

  await session.runCommand('Ocular: Stop Serving');
  const stopped = await poll(() => {
    try {
      execFileSync('curl', ['-s', '--max-time', '2', `http://127.0.0.1:${port}/health`]);
      return false;
    } catch {
      return true;
    }
  }, { timeoutMs: 15_000 });
  assert.ok(stopped, 'the server stopped');
}, 240_000);
