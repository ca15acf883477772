// Bundles the extension client, the language server and the command-line tool with esbuild.
// Each bundle is self-contained so the packaged extension needs no node_modules at run time.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
};

const entries = [
  { entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js', external: ['vscode'] },
  { entryPoints: ['server/src/lsp/main.ts'], outfile: 'dist/server.js' },
  { entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/ocular.js', banner: { js: '#!/usr/bin/env node' } },
];

await Promise.all(entries.map((entry) => build({ ...common, ...entry })));
