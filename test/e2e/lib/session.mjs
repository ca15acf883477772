// One end-to-end session: a fresh code-server with the packaged extension, a fresh Chromium
// showing it, and the artifacts (a screenshot per step, logs on failure) in one folder.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { launchBrowser } from './browser.mjs';
import { codeServerDirs, ensureCodeServer, freePort, installVsix, packageVsix, repoRoot, startCodeServer, writeUserSettings } from './codeserver.mjs';
import { cleanup, killMentioning, onCleanup, processesMentioning, sweepOnExit } from './processes.mjs';

const RUN_PREFIX = 'ocular-e2e-';
const OWNER_FILE = 'owner.pid';

/**
 * Ends what earlier runs left behind when they could not clean up (killed with SIGKILL, or the
 * machine's OOM killer): every run folder whose owner process is gone, and the processes that
 * still mention it. Runs going on beside this one are left alone.
 */
function reapStaleRuns() {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(RUN_PREFIX)) continue;
    const dir = path.join(tmpdir(), entry);
    let owner = 0;
    try {
      owner = Number(readFileSync(path.join(dir, OWNER_FILE), 'utf8').trim());
    } catch {
      continue; // Not ours, or still being created.
    }
    let ownerAlive = false;
    try {
      process.kill(owner, 0);
      ownerAlive = true;
    } catch {
      // Gone.
    }
    if (ownerAlive) continue;
    const killed = killMentioning(dir);
    if (killed.length > 0) console.log(`[e2e] ended ${killed.length} process(es) left by an earlier run in ${dir}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where screenshots and logs go: $OCULAR_E2E_ARTIFACTS or test-results/e2e. */
export const artifactsDir = path.resolve(process.env.OCULAR_E2E_ARTIFACTS ?? path.join(repoRoot, 'test-results', 'e2e'));

/** Settings of the fresh user profile: a quiet, deterministic workbench. */
export const userSettings = {
  'workbench.startupEditor': 'none',
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'chat.disableAIFeatures': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'files.autoSave': 'off',
  'editor.hover.delay': 200,
  'editor.inlayHints.enabled': 'on',
  // Set before the workbench starts (a workspace settings file written during a scenario may be
  // read after the command that needs it): the training scenario checks that it reaches the run,
  // whose tiny model would otherwise train on one thread.
  'ocular.trainingThreads': 2,
};

const timings = [];
export function timed(label, started) {
  const seconds = (Date.now() - started) / 1000;
  timings.push([label, seconds]);
  console.log(`[e2e] ${label}: ${seconds.toFixed(1)} s`);
}

export class Session {
  /** @type {import('playwright-core').Page} */
  page;
  runDir = '';
  shotCount = 0;
  /** @type {ReturnType<typeof codeServerDirs>} */
  dirs;
  workspace = '';

  /** Packages and installs the extension, starts code-server and Chromium, opens the workbench. */
  async start() {
    const started = Date.now();
    rmSync(artifactsDir, { recursive: true, force: true });
    mkdirSync(artifactsDir, { recursive: true });
    // Fresh user data, extensions, browser profile and workspace for every run.
    reapStaleRuns();
    this.runDir = mkdtempSync(path.join(tmpdir(), RUN_PREFIX));
    writeFileSync(path.join(this.runDir, OWNER_FILE), `${process.pid}\n`);
    sweepOnExit(this.runDir);
    onCleanup(() => {
      if (process.env.OCULAR_E2E_KEEP) console.log(`[e2e] kept the run's folder: ${this.runDir}`);
      else rmSync(this.runDir, { recursive: true, force: true });
    });
    onCleanup(() => this.collectLogs());
    this.dirs = codeServerDirs(path.join(this.runDir, 'code-server'));
    this.workspace = path.join(this.runDir, 'workspace');
    // A copy of the examples: the scenarios type into files and must never change the repository.
    // Runs and caches (examples/.ocular) stay behind: the scenarios start from no runs.
    cpSync(path.join(repoRoot, 'examples'), this.workspace, { recursive: true, filter: (from) => path.basename(from) !== '.ocular' });

    let t = Date.now();
    await ensureCodeServer();
    timed('code-server ready in the cache', t);
    t = Date.now();
    const vsix = await packageVsix(path.join(this.runDir, 'ocular.vsix'));
    timed(`built and packaged ${path.basename(vsix)} (${Math.round(statSync(vsix).size / 1024)} KiB)`, t);
    t = Date.now();
    await installVsix(this.dirs, vsix);
    timed('installed the .vsix into a fresh extensions folder', t);
    writeUserSettings(this.dirs, userSettings);

    t = Date.now();
    const server = await startCodeServer({ dirs: this.dirs, port: await freePort(), workspace: this.workspace });
    onCleanup(server.stop);
    timed(`code-server listening on ${server.url}`, t);

    t = Date.now();
    const context = await launchBrowser(path.join(this.runDir, 'chromium-profile'));
    onCleanup(() => context.close());
    this.page = context.pages()[0] ?? (await context.newPage());
    this.page.setDefaultTimeout(20_000);
    await this.page.goto(server.url);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The explorer shows the workspace once the remote connection is up.
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
    timed('workbench loaded in Chromium', t);
    timed('set-up in all', started);
  }

  /** Saves a numbered screenshot of the whole page. */
  async shot(name) {
    this.shotCount += 1;
    const file = path.join(artifactsDir, `${String(this.shotCount).padStart(2, '0')}-${slug(name)}.png`);
    await this.page?.screenshot({ path: file });
    return file;
  }

  /** The extension host's log so far ('' before there is one). */
  extensionHostLog() {
    return readLogs(this.dirs?.userData, (file) => file.endsWith(path.join('exthost1', 'remoteexthost.log')));
  }

  /** The Ocular log channels (language client and server) so far. */
  ocularLogs() {
    return readLogs(this.dirs?.userData, (file) => file.includes(`${path.sep}ocular.ocular${path.sep}`));
  }

  /** What a failed step leaves behind: the page's screenshot and the extension host's logs. */
  async saveFailure(name, error) {
    const base = path.join(artifactsDir, `FAILED-${slug(name)}`);
    try {
      await this.page?.screenshot({ path: `${base}.png` });
    } catch (screenshotError) {
      console.error(`[e2e] no screenshot of the failure: ${screenshotError}`);
    }
    // The extension host's own log, and the Ocular channels (language client and server).
    const logsDir = this.dirs ? path.join(this.dirs.userData, 'logs') : '';
    for (const file of listFiles(logsDir)) {
      const name = path.basename(file);
      if (name === 'remoteexthost.log') cpSync(file, `${base}.exthost.log`);
      else if (file.includes(`${path.sep}ocular.ocular${path.sep}`) || /^\d+-Ocular/.test(name)) cpSync(file, `${base}.${slug(name.replace(/\.log$/, ''))}.log`);
    }
    console.error(`[e2e] ${name} failed: ${error instanceof Error ? error.message : error}`);
    console.error(`[e2e]   see ${base}.png and ${base}.exthost.log`);
  }

  /** Copies every log of the session (VS Code's and code-server's) into the artifacts. */
  collectLogs() {
    if (!this.dirs) return;
    const target = path.join(artifactsDir, 'logs');
    mkdirSync(target, { recursive: true });
    const logsDir = path.join(this.dirs.userData, 'logs');
    if (existsSync(logsDir)) cpSync(logsDir, path.join(target, 'vscode'), { recursive: true });
    if (existsSync(this.dirs.log)) cpSync(this.dirs.log, path.join(target, 'code-server.log'));
  }

  /**
   * Ends everything the session started and checks that nothing is left: returns the processes
   * that were still running (and had to be killed), which should be none.
   */
  async stop() {
    const runDir = this.runDir;
    await cleanup();
    if (!runDir) return [];
    await new Promise((r) => setTimeout(r, 500));
    const leftovers = processesMentioning(runDir);
    killMentioning(runDir);
    return leftovers;
  }

  // ---- What a user does ----------------------------------------------------------------------

  /** Ctrl+P, types the file name, picks it from the list; waits for its editor. */
  async quickOpen(fileName) {
    const { page } = this;
    const input = page.locator('.quick-input-widget input');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: fileName }).first();
    // A file the scenario has just written may not be in the workbench's file search yet (on a
    // busy machine Quick Open then says "No matching results" and never looks again): close and
    // ask again until it is listed.
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('Control+P');
      await input.waitFor();
      await input.pressSequentially(fileName, { delay: 10 });
      try {
        await row.waitFor({ timeout: 10_000 });
        break;
      } catch (error) {
        if (attempt === 4) throw error;
        await page.keyboard.press('Escape');
        await page.waitForTimeout(2_000);
      }
    }
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: fileName }).waitFor();
    await this.editorLines().first().waitFor();
  }

  /**
   * F1, types a command's name, runs it; then, for a command that asks with quick picks, picks
   * each entry of `picks` in turn by typing its text. Waits for the last pick to close.
   */
  async runCommand(title, ...picks) {
    const { page } = this;
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    const row = (text) => page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
    await input.waitFor();
    await input.pressSequentially(title, { delay: 10 });
    await row(title).waitFor();
    await page.keyboard.press('Enter');
    for (const pick of picks) {
      await row(pick).waitFor();
      await input.pressSequentially(pick, { delay: 10 });
      await row(pick).waitFor();
      await page.keyboard.press('Enter');
    }
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** The rendered lines of the active editor. */
  editorLines() {
    return this.page.locator('.editor-group-container.active .monaco-editor .view-lines .view-line');
  }

  /**
   * The rendered line whose source text starts (after indentation) with `start`.
   * Inlay hints render inside the line too, so matching is on the start only.
   */
  editorLine(start) {
    // The editor renders spaces as non-breaking spaces (which \s matches).
    const pattern = start.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
    return this.editorLines().filter({ hasText: new RegExp(`^\\s*${pattern}`) }).first();
  }

  /** The token span holding exactly `word` in a rendered line. */
  token(line, word) {
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return line.locator(':scope > span > span', { hasText: new RegExp(`^${escaped}$`) }).first();
  }
}

/** A rendered line's text with non-breaking spaces made plain. */
export async function lineText(line) {
  return (await line.textContent() ?? '').replace(/\u00a0/g, ' ');
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function poll(fn, { timeoutMs = 20_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let value = await fn();
  while (!value && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await fn();
  }
  return value;
}

export function printTimings() {
  console.log('[e2e] timings:');
  for (const [label, seconds] of timings) console.log(`[e2e]   ${seconds.toFixed(1).padStart(6)} s  ${label}`);
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60).replace(/-$/, '');
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name));
}

function readLogs(userData, predicate) {
  if (!userData) return '';
  return listFiles(path.join(userData, 'logs'))
    .filter(predicate)
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
}
