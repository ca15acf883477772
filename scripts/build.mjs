// Bundles the extension client, the language server, the command-line tool, the worker threads
// they start and the webview pages with esbuild. Everything is inlined except sharp: it is a native module whose
// platform binary esbuild cannot bundle, so it stays a run-time dependency in node_modules.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
};

// onnxruntime-web stays external too: its ESM-in-CJS loader (import.meta.url) breaks when bundled, and its wasm files are found beside it.
const native = ['sharp', 'onnxruntime-web'];

const entries = [
  { entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js', external: ['vscode'] },
  { entryPoints: ['server/src/lsp/main.ts'], outfile: 'dist/server.js', external: native },
  { entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/ocular.js', external: native, banner: { js: '#!/usr/bin/env node' } },
  // The data layer's decode pool (server/src/data/pool.ts) starts `decode-worker.js` from the folder
  // of the bundle that inlines it, so the worker is emitted next to server.js and ocular.js.
  { entryPoints: ['server/src/data/decode-worker.ts'], outfile: 'dist/decode-worker.js', external: native },
  // The language server scans datasets in this worker thread (server/src/host/datasets.ts starts it).
  { entryPoints: ['server/src/host/scan-worker.ts'], outfile: 'dist/scan-worker.js', external: native },
  // The class gallery's listings and the augmentation preview run in this one (server/src/host/views.ts).
  { entryPoints: ['server/src/host/views-worker.ts'], outfile: 'dist/views-worker.js', external: native },
  // Training runs in this one (server/src/training/host.ts starts it), for the language server and `ocular train`.
  { entryPoints: ['server/src/training/train-worker.ts'], outfile: 'dist/train-worker.js', external: native },
  // Data-parallel training replicas (server/src/engine/tfjs/data-parallel.ts starts them from the training worker).
  { entryPoints: ['server/src/engine/tfjs/replica-worker.ts'], outfile: 'dist/replica-worker.js', external: native },
  // The backend and GPU-setup checks behind the status bar and Check GPU Setup (server/src/host/device.ts).
  { entryPoints: ['server/src/host/device-worker.ts'], outfile: 'dist/device-worker.js', external: native },
  // Evaluation and saliency run in this one (server/src/host/evaluation.ts starts it).
  { entryPoints: ['server/src/host/eval-worker.ts'], outfile: 'dist/eval-worker.js', external: native },
];

// Webview pages: every folder under webviews/ with a main.ts (except shared/) is one page, bundled
// for the browser into dist/webviews/<page>.js, with the CSS it imports in dist/webviews/<page>.css.
// The browser platform makes a Node import in a page a build error instead of a broken page.
const pages = Object.fromEntries(
  readdirSync('webviews', { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'shared' && existsSync(`webviews/${entry.name}/main.ts`))
    .map((entry) => [entry.name, `webviews/${entry.name}/main.ts`]),
);
const webviews = { entryPoints: pages, outdir: 'dist/webviews', bundle: true, platform: 'browser', target: 'chrome114', format: 'iife', sourcemap: true, logLevel: 'warning', metafile: true };

const [pageBuild] = await Promise.all([build(webviews), ...entries.map((entry) => build({ ...common, ...entry }))]);

// Pages import protocol/protocol.ts for its types only; its runtime (vscode-jsonrpc's message
// classes, which pull in Node-flavoured code) must never end up in a page.
const leaked = Object.keys(pageBuild.metafile.inputs).filter((input) => /node_modules\/vscode-(jsonrpc|languageserver|languageclient)/.test(input));
if (leaked.length > 0) throw new Error(`A webview page bundles language-server code (import the protocol with 'import type'): ${leaked.join(', ')}`);

// The wasm backend's binaries go beside the bundles: the packaged extension ships no node_modules
// for tfjs (it is inlined), so server/src/engine/tfjs/backends.ts looks for them next to itself first.
mkdirSync('dist', { recursive: true });
for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) copyFileSync(`node_modules/@tensorflow/tfjs-backend-wasm/dist/${file}`, `dist/${file}`);
