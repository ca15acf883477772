// Debian's headless Chromium driven by playwright-core (never `playwright install`), with a
// profile inside the run's folder so nothing persists between runs.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.OCULAR_E2E_CHROMIUM ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/**
 * Launches Chromium with a persistent profile in `profileDir` (so every Chromium process carries
 * that path on its command line and can be found and ended) and returns its context.
 */
export async function launchBrowser(profileDir, { width = 1600, height = 1000 } = {}) {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: install Debian's package (apt-get install chromium) or set OCULAR_E2E_CHROMIUM`);
  }
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width, height },
    // We end the browser ourselves (processes.mjs), also on signals.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    timeout: 60_000,
  });
}
