#!/usr/bin/env node
// `npm start`: open the extension on examples/ in a real VS Code.
//
// - With a desktop VS Code (`code` on PATH): builds the bundles and opens a window with
//   `--extensionDevelopmentPath` pointing at this repository (reload the window after
//   `npm run build` to see changes).
// - Otherwise: builds, packages the extension as a .vsix, installs it into code-server (VS Code
//   served to a browser, installed once into .e2e/cache with the Node 24 it needs), starts it
//   on 127.0.0.1 and prints the URL to open. Ctrl+C stops code-server and everything it started.
//
// Environment: OCULAR_PORT (default: 8080, or the first free port after it),
// OCULAR_START_BROWSER=1 (use code-server even where `code` exists),
// OCULAR_E2E_CACHE (where Node 24, code-server and the browser profile live).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { cacheDir, codeServerDirs, ensureCodeServer, freePort, installVsix, packageVsix, repoRoot, startCodeServer, writeUserSettings } from '../test/e2e/lib/codeserver.mjs';
import { cleanup, isCleaningUp, onCleanup, run } from '../test/e2e/lib/processes.mjs';

const examples = path.join(repoRoot, 'examples');

function onPath(command) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, command)));
}

async function desktop() {
  console.log('Building the extension…');
  await run('npm', ['run', '--silent', 'build'], { cwd: repoRoot });
  console.log(`Opening ${examples} in VS Code with the extension under development (${repoRoot}).`);
  const result = spawnSync('code', [`--extensionDevelopmentPath=${repoRoot}`, examples], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

async function pickPort() {
  if (process.env.OCULAR_PORT) {
    const wanted = Number(process.env.OCULAR_PORT);
    if (!Number.isInteger(wanted) || wanted <= 0 || wanted > 65535) throw new Error(`OCULAR_PORT must be a port number, not '${process.env.OCULAR_PORT}'`);
    if ((await freePort(wanted)) !== wanted) throw new Error(`port ${wanted} (OCULAR_PORT) is in use: pick another one`);
    return wanted;
  }
  for (let port = 8080; port < 8100; port += 1) if ((await freePort(port)) === port) return port;
  return freePort();
}

async function browser() {
  await ensureCodeServer();
  // A profile kept between runs (settings, open editors), with the extension reinstalled each time.
  const dirs = codeServerDirs(path.join(cacheDir, 'start-profile'));
  console.log('Building and packaging the extension…');
  const vsix = await packageVsix(path.join(dirs.root, 'ocular.vsix'));
  await installVsix(dirs, vsix);
  if (!existsSync(path.join(dirs.userData, 'User', 'settings.json'))) {
    writeUserSettings(dirs, {
      'workbench.startupEditor': 'none',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.disableAIFeatures': true,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'update.mode': 'none',
      // examples/ sits inside this repository: no prompt to open the parent repository.
      'git.openRepositoryInParentFolders': 'never',
    });
  }
  const port = await pickPort();
  const server = await startCodeServer({ dirs, port, workspace: examples });
  onCleanup(server.stop);
  console.log('');
  console.log(`  Ocular in VS Code (code-server): ${server.url}?folder=${encodeURIComponent(examples)}`);
  console.log('');
  console.log(`  Listening on 127.0.0.1 only. Log: ${dirs.log}`);
  console.log('  After changing the code, stop with Ctrl+C and run `npm start` again.');
  console.log('  Ctrl+C stops code-server.');
  await new Promise((resolve) => server.child.once('exit', resolve));
  if (isCleaningUp()) return; // Ctrl+C: the signal handler finishes and exits.
  console.error('code-server stopped by itself; see its log above.');
  await cleanup();
  process.exit(1);
}

try {
  if (onPath('code') && !process.env.OCULAR_START_BROWSER) await desktop();
  else await browser();
} catch (error) {
  console.error(`npm start failed: ${error instanceof Error ? error.message : error}`);
  await cleanup();
  process.exit(1);
}
