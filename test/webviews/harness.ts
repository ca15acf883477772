/**
 * Renders a built webview page (dist/webviews/<page>.js and .css) in headless Chromium, the way
 * VS Code shows it: inside the same HTML shell and Content-Security-Policy as the extension uses
 * (client/src/webviews/html.ts), served from a stand-in resource origin, with a fake
 * `acquireVsCodeApi` that records what the page posts and keeps its state. Tests then post host
 * messages to the page, assert the DOM and keep screenshots in test-results/webviews/.
 *
 * Chromium is Debian's (/usr/bin/chromium, or OCULAR_CHROMIUM); without it the tests fail with
 * that reason rather than pass without having looked at a page.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PageName, WebviewPages } from '../../protocol/protocol';
import { pageHtml } from '../../client/src/webviews/html';

export const chromiumPath = process.env['OCULAR_CHROMIUM'] ?? '/usr/bin/chromium';
/** The stand-in for `webview.cspSource`: every page resource and fixture file is served from here. */
export const ORIGIN = 'https://webview.test';
const root = path.resolve(__dirname, '..', '..', '..');
const pagesDir = path.join(root, 'dist', 'webviews');
export const screenshotDir = path.join(root, 'test-results', 'webviews');

/** Dark-theme values for the CSS variables VS Code defines in every webview, so screenshots look like the editor. */
const THEME: Record<string, string> = {
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-errorForeground': '#f85149',
  '--vscode-editorWarning-foreground': '#cca700',
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-editorWidget-background': '#202020',
  '--vscode-panel-border': '#2b2b2b',
  '--vscode-list-hoverBackground': '#2a2d2e',
  '--vscode-focusBorder': '#0078d4',
  '--vscode-font-family': 'system-ui, sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-font-weight': 'normal',
  '--vscode-button-background': '#0078d4',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-checkbox-background': '#313131',
  '--vscode-checkbox-border': '#3c3c3c',
};

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`The webview page tests need Chromium and found none at ${chromiumPath}: install Debian's package (apt-get install chromium) or set OCULAR_CHROMIUM to a Chromium binary.`);
  }
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export interface ServedFile {
  readonly body: Buffer;
  readonly contentType: string;
}

export interface PageUnderTest<P extends PageName> {
  readonly page: Page;
  /** Everything the page posted to the host so far. */
  posted(): Promise<WebviewPages[P]['toHost'][]>;
  /** Waits until the page has posted a message of `type`. */
  waitForPosted(type: WebviewPages[P]['toHost']['type']): Promise<void>;
  /** Posts a host message to the page, as `webview.postMessage` does. */
  send(message: WebviewPages[P]['toPage']): Promise<void>;
  /** The state the page last saved with setState. */
  state(): Promise<WebviewPages[P]['state'] | undefined>;
  /** Content-Security-Policy violations, page errors, console errors and dialogs (alert …) seen so far. */
  problems(): string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface LoadOptions<P extends PageName> {
  /** The state VS Code hands back to a page that was hidden and shown again. */
  readonly state?: WebviewPages[P]['state'];
  /** Files served under ORIGIN, by path (`/images/a.png`). */
  readonly files?: ReadonlyMap<string, ServedFile>;
  readonly width?: number;
  readonly height?: number;
}

/** Loads `page` in a new browser page and waits for its script to have run. */
export async function loadPage<P extends PageName>(browser: Browser, name: P, options: LoadOptions<P> = {}): Promise<PageUnderTest<P>> {
  for (const file of [`${name}.js`, `${name}.css`]) {
    if (!fs.existsSync(path.join(pagesDir, file))) throw new Error(`dist/webviews/${file} is missing: run npm run build first.`);
  }
  const context = await browser.newContext({ viewport: { width: options.width ?? 900, height: options.height ?? 640 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console error: ${message.text()}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.exposeFunction('__ocularProblem', (text: string) => problems.push(text));
  // Runs before the page's own script, as VS Code's preload does; init scripts are not subject to the page's CSP.
  await page.addInitScript(
    ({ state, theme }) => {
      const w = globalThis as unknown as Record<string, unknown> & {
        document: { documentElement: { style: { setProperty(k: string, v: string): void } } | null; addEventListener(type: string, listener: () => void): void };
        addEventListener(type: string, listener: (event: { violatedDirective: string; blockedURI: string }) => void): void;
      };
      const store = { posted: [] as unknown[], state: state as unknown, acquired: false };
      w['__ocularStore'] = store;
      w['acquireVsCodeApi'] = () => {
        if (store.acquired) throw new Error('acquireVsCodeApi was called twice: VS Code allows it once per page.');
        store.acquired = true;
        return { postMessage: (message: unknown) => store.posted.push(message), getState: () => store.state, setState: (next: unknown) => (store.state = next) };
      };
      // The document element may not exist yet when this runs.
      const paint = (): void => Object.entries(theme).forEach(([key, value]) => w.document.documentElement?.style.setProperty(key, value));
      if (w.document.documentElement) paint();
      else w.document.addEventListener('DOMContentLoaded', paint);
      w.addEventListener('securitypolicyviolation', (event) => (w['__ocularProblem'] as (t: string) => void)(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`));
    },
    { state: options.state, theme: THEME },
  );
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') {
      const html = pageHtml({ page: name, title: name, cspSource: ORIGIN, scriptUri: `${ORIGIN}/dist/${name}.js`, styleUri: `${ORIGIN}/dist/${name}.css`, nonce: 'dGVzdC1ub25jZS0xMjM0NQ==' });
      return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    }
    if (url.pathname.startsWith('/dist/')) {
      const file = path.join(pagesDir, path.basename(url.pathname));
      if (fs.existsSync(file)) return route.fulfill({ status: 200, contentType: file.endsWith('.css') ? 'text/css' : 'text/javascript', body: fs.readFileSync(file) });
    }
    const served = options.files?.get(decodeURIComponent(url.pathname));
    if (served) return route.fulfill({ status: 200, contentType: served.contentType, body: served.body });
    return route.fulfill({ status: 404, body: '' });
  });
  // Anything else would be a request off the machine, which the CSP must already have stopped.
  await page.route((url) => !url.href.startsWith(ORIGIN) && !url.href.startsWith('data:'), (route) => {
    problems.push(`network request: ${route.request().url()}`);
    return route.abort();
  });
  await page.goto(`${ORIGIN}/index.html`);
  const ui: PageUnderTest<P> = {
    page,
    posted: () => page.evaluate(() => (globalThis as unknown as { __ocularStore: { posted: WebviewPages[P]['toHost'][] } }).__ocularStore.posted),
    waitForPosted: async (type) => {
      await page.waitForFunction((t) => (globalThis as unknown as { __ocularStore: { posted: { type: string }[] } }).__ocularStore.posted.some((m) => m.type === t), type);
    },
    send: async (message) => {
      await page.evaluate((m) => (globalThis as unknown as { postMessage(m: unknown, origin: string): void }).postMessage(m, '*'), message);
    },
    state: () => page.evaluate(() => (globalThis as unknown as { __ocularStore: { state: WebviewPages[P]['state'] | undefined } }).__ocularStore.state),
    problems: () => [...problems],
    screenshot: async (shot) => {
      fs.mkdirSync(screenshotDir, { recursive: true });
      await page.screenshot({ path: path.join(screenshotDir, `${shot}.png`) });
    },
    close: () => context.close(),
  };
  return ui;
}
