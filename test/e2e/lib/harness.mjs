// The shared workbench of the end-to-end suite: one code-server session for every scenario, the
// watchdog that bounds the run, and the helpers scenarios use (see test/e2e/ocular.e2e.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanup } from './processes.mjs';
import { poll, Session, timed } from './session.mjs';

export const EXAMPLE = 'simple_cnn_cifar.ocular';
export const FIXTURE = 'fixture.ocular';
export const MODEL = 'SimpleCNN32';
/** The whole run must end well within 10 minutes on 2 cores. */
const RUN_LIMIT_S = Number(process.env.OCULAR_E2E_TIMEOUT_S ?? 540);

export const session = new Session();
export const runStarted = Date.now();

// A watchdog: whatever hangs, the run ends, and ends everything it started.
export const watchdog = setTimeout(() => {
  console.error(`[e2e] the run took longer than ${RUN_LIMIT_S} s: stopping it`);
  void session
    .saveFailure('watchdog', new Error('run time limit'))
    .finally(() => cleanup())
    .finally(() => process.exit(1));
}, RUN_LIMIT_S * 1000);
watchdog.unref();

/** A scenario: on failure, saves the page's screenshot and the extension host log, then fails. */
export function scenario(name, fn, timeout = 90_000) {
  test(name, { timeout }, async () => {
    const started = Date.now();
    try {
      if (!session.page) throw new Error('the workbench did not start (see the set-up error above)');
      await fn();
    } catch (error) {
      await session.saveFailure(name, error);
      throw error;
    } finally {
      timed(`scenario: ${name}`, started);
    }
  });
}

/** Opens the example through quick open unless it is already the active editor. */
export async function openExample() {
  const { page } = session;
  await page.keyboard.press('Escape');
  if ((await page.locator('.tab.active', { hasText: EXAMPLE }).count()) === 0) await session.quickOpen(EXAMPLE);
  await session.editorLine('conv 32').waitFor();
}

/** Moves the mouse out of the editor and closes whatever hover or widget is open. */
export async function settle() {
  await session.page.mouse.move(2, 500);
  await session.page.keyboard.press('Escape');
}


/** Opens the Problems panel (the shortcut, or the palette where the shortcut does not reach it). */
export async function openProblems() {
  const { page } = session;
  await page.keyboard.press('Control+Shift+M');
  const markers = page.locator('.markers-panel');
  try {
    await markers.waitFor({ timeout: 5_000 });
  } catch {
    await session.runCommand('View: Toggle Problems');
    await markers.waitFor();
  }
  return markers;
}

/**
 * The frame of a webview page holding `selector`. code-server shows a webview in nested iframes
 * (the webview host's frame, and the page's frame inside it), so every frame of the page is tried.
 */
export async function webviewFrame(selector, timeoutMs = 60_000) {
  const frame = await poll(
    async () => {
      for (const candidate of session.page.frames()) {
        try {
          if (await candidate.$(selector)) return candidate;
        } catch {
          // A frame that went away while it was asked.
        }
      }
      return undefined;
    },
    { timeoutMs },
  );
  assert.ok(frame, `no webview frame shows ${selector}`);
  return frame;
}
