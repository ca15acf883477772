// Bundles the extension client, the language server, the command-line tool and the worker threads
// they start with esbuild. Everything is inlined except sharp: it is a native module whose
// platform binary esbuild cannot bundle, so it stays a run-time dependency in node_modules.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
};

const native = ['sharp'];

const entries = [
  { entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js', external: ['vscode'] },
  { entryPoints: ['server/src/lsp/main.ts'], outfile: 'dist/server.js', external: native },
  { entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/ocular.js', external: native, banner: { js: '#!/usr/bin/env node' } },
  // The data layer's decode pool (server/src/data/pool.ts) starts `decode-worker.js` from the folder
  // of the bundle that inlines it, so the worker is emitted next to server.js and ocular.js.
  { entryPoints: ['server/src/data/decode-worker.ts'], outfile: 'dist/decode-worker.js', external: native },
  // The language server scans datasets in this worker thread (server/src/host/datasets.ts starts it).
  { entryPoints: ['server/src/host/scan-worker.ts'], outfile: 'dist/scan-worker.js', external: native },
];

await Promise.all(entries.map((entry) => build({ ...common, ...entry })));
