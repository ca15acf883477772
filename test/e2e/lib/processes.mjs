// Every process the e2e harness and `npm start` start goes through here, so that all of them
// end when we do: on success, on a failing test, on an exception, on Ctrl+C or SIGTERM.
//
// Children are spawned detached (each leads its own process group), remembered, and stopped
// as a tree: SIGTERM to the group, then SIGKILL to whatever of the group or of the
// descendants seen before is still alive. A synchronous SIGKILL sweep also runs on 'exit'.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, createWriteStream } from 'node:fs';

/** @type {Map<number, string>} pid of a group leader → a name for messages */
const groups = new Map();
/** @type {Array<() => Promise<void> | void>} */
const cleanups = [];
let cleaningUp;

/**
 * Spawns a command as the leader of a new process group and remembers it.
 * Output goes to `logFile` when given (appended), otherwise it is inherited.
 * @param {string} name
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions & { logFile?: string }} [options]
 */
export function spawnTracked(name, command, args, options = {}) {
  const { logFile, ...spawnOptions } = options;
  const stdio = logFile ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'];
  const child = spawn(command, args, { stdio, ...spawnOptions, detached: true });
  if (logFile) {
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  if (child.pid !== undefined) {
    groups.set(child.pid, name);
    child.once('exit', () => groups.delete(child.pid ?? -1));
  }
  return child;
}

/** Runs a command to completion (not detached: it is short-lived and inherits our group). */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** @returns {Map<number, { ppid: number, pgid: number }>} every process we can see */
function processTable() {
  const table = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

/** The pids of every descendant of `pid` alive now. */
export function descendants(pid) {
  const table = processTable();
  const found = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop();
    for (const [child, { ppid }] of table) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        frontier.push(child);
      }
    }
  }
  return found;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid, sig, group = false) {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Stops a tracked process and everything it started: SIGTERM, up to `graceMs` to exit, SIGKILL.
 * @param {import('node:child_process').ChildProcess} child
 */
export async function stopTree(child, graceMs = 5000) {
  const pid = child.pid;
  if (pid === undefined) return;
  const tree = [pid, ...descendants(pid)];
  signal(pid, 'SIGTERM', true);
  for (const p of tree) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && tree.some(alive)) await new Promise((r) => setTimeout(r, 100));
  signal(pid, 'SIGKILL', true);
  for (const p of tree) if (alive(p)) signal(p, 'SIGKILL');
  groups.delete(pid);
}

/**
 * Processes whose command line mentions `text` (such as a run's temporary folder), except us.
 * @returns {{ pid: number, cmdline: string }[]}
 */
export function processesMentioning(text) {
  const found = [];
  for (const pid of processTable().keys()) {
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (cmdline.includes(text)) found.push({ pid, cmdline });
    } catch {
      // Gone.
    }
  }
  return found;
}

/**
 * Kills every process mentioning `text`, with its descendants and, where it leads a process
 * group (as the children spawned here do), the rest of its group: a code-server whose runner was
 * killed still has its extension host and language server, which do not name the folder.
 * Returns the processes that mentioned `text`.
 */
export function killMentioning(text) {
  const found = processesMentioning(text);
  if (found.length === 0) return found;
  const table = processTable();
  const doomed = new Set();
  for (const { pid } of found) {
    doomed.add(pid);
    for (const child of descendants(pid)) doomed.add(child);
    const entry = table.get(pid);
    if (entry && entry.pgid === pid) {
      for (const [other, { pgid }] of table) if (pgid === pid) doomed.add(other);
    }
  }
  doomed.delete(process.pid);
  for (const pid of doomed) signal(pid, 'SIGKILL');
  return found;
}

/** Registers an async clean-up step; steps run in reverse order, once, by `cleanup()`. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** Runs the clean-up steps (each one's failure is reported, not thrown), then kills tracked stragglers. */
export function cleanup() {
  cleaningUp ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop();
      try {
        await fn?.();
      } catch (error) {
        console.error(`clean-up step failed: ${error instanceof Error ? error.message : error}`);
      }
    }
    killTrackedSync();
  })();
  return cleaningUp;
}

/** @type {Set<string>} */
const sweeps = new Set();

/**
 * Makes the last-resort clean-up also kill every process whose command line mentions `text`
 * (a run's private folder): that catches processes started by others for us, such as the
 * browser Playwright launches with its profile there.
 */
export function sweepOnExit(text) {
  sweeps.add(text);
}

/** Whether clean-up has begun (after a signal, or when the run ends). */
export function isCleaningUp() {
  return cleaningUp !== undefined;
}

/** SIGKILL every tracked group still running, and its descendants. */
export function killTrackedSync() {
  for (const pid of [...groups.keys()]) {
    for (const p of descendants(pid)) signal(p, 'SIGKILL');
    signal(pid, 'SIGKILL', true);
    groups.delete(pid);
  }
}

/** Last resort, synchronous (on exit and signals): tracked groups, then swept processes. */
export function killAllSync() {
  killTrackedSync();
  for (const text of sweeps) killMentioning(text);
}

process.on('exit', killAllSync);
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(sig, () => {
    console.error(`\nReceived ${sig}: stopping everything this run started…`);
    // A second signal while cleaning up kills at once.
    process.removeAllListeners(sig);
    process.on(sig, () => {
      killAllSync();
      process.exit(130);
    });
    void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}
