/**
 * Webview panels for Ocular's pages: one helper that every page's panel goes through, so they all
 * get the same strict shell (html.ts: a fresh nonce per load, nothing from the network), resource
 * roots limited to dist/webviews plus the folders a page must show images from, and typed
 * messages (the page's entry in `WebviewPages`, protocol/protocol.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PageName, WebviewPages } from '../../../protocol/protocol';
import { nonce, pageHtml } from './html';

export interface PageOptions<P extends PageName> {
  readonly page: P;
  /** The panel's view type, also the one its WebviewPanelSerializer is registered for. */
  readonly viewType: string;
  readonly title: string;
  /** Folders (besides dist/webviews) whose files the page may show, such as a class folder. */
  readonly resourceRoots?: readonly vscode.Uri[];
  readonly column?: vscode.ViewColumn;
  /** Keep the keyboard focus where it is (in the editor being typed in) instead of moving it to the new panel. */
  readonly preserveFocus?: boolean;
}

/** An open page: its panel and typed messaging. */
export class PagePanel<P extends PageName> implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    readonly page: P,
  ) {
    this.disposables.push(panel.onDidDispose(() => this.dispose()));
  }

  /** Sets the folders the page may load files from (dist/webviews is always among them) and loads the page. */
  load(title: string, resourceRoots: readonly vscode.Uri[] = []): void {
    const pages = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webviews');
    const webview = this.panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [pages, ...resourceRoots] };
    this.panel.title = title;
    webview.html = pageHtml({
      page: this.page,
      title,
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(pages, `${this.page}.js`)).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(pages, `${this.page}.css`)).toString(),
      nonce: nonce(),
    });
  }

  /** Changes the folders the page may load files from without reloading it. */
  setResourceRoots(resourceRoots: readonly vscode.Uri[]): void {
    this.panel.webview.options = { ...this.panel.webview.options, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webviews'), ...resourceRoots] };
  }

  post(message: WebviewPages[P]['toPage']): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  onMessage(handler: (message: WebviewPages[P]['toHost']) => void): vscode.Disposable {
    const subscription = this.panel.webview.onDidReceiveMessage((message: WebviewPages[P]['toHost']) => handler(message));
    this.disposables.push(subscription);
    return subscription;
  }

  /** A file the page may show, as a URI the webview can load. */
  resourceUri(file: vscode.Uri): string {
    return this.panel.webview.asWebviewUri(file).toString();
  }

  onDidDispose(listener: () => void): vscode.Disposable {
    return this.panel.onDidDispose(listener);
  }

  /** Closes the panel; also runs when the user closes it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}

/** Opens a new panel showing `page`. */
export function openPage<P extends PageName>(extensionUri: vscode.Uri, options: PageOptions<P>): PagePanel<P> {
  const show = { viewColumn: options.column ?? vscode.ViewColumn.Active, preserveFocus: options.preserveFocus ?? false };
  const panel = vscode.window.createWebviewPanel(options.viewType, options.title, show, { enableScripts: true, localResourceRoots: [] });
  const page = new PagePanel(panel, extensionUri, options.page);
  page.load(options.title, options.resourceRoots);
  return page;
}

/**
 * Registers a serializer that brings `page`'s panels back after a window reload: VS Code hands back
 * the panel and the state the page last saved, and `restore` takes it from there.
 */
export function registerPageSerializer<P extends PageName>(viewType: string, extensionUri: vscode.Uri, page: P, restore: (panel: PagePanel<P>, state: WebviewPages[P]['state'] | undefined) => void): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(viewType, {
    deserializeWebviewPanel: async (panel, state: unknown) => restore(new PagePanel(panel, extensionUri, page), (state ?? undefined) as WebviewPages[P]['state'] | undefined),
  });
}

/**
 * The resource roots for a page that shows these files: the deepest folder holding them all, the
 * one folder the page may read images from (none when there are no files).
 */
export function folderRoots(files: readonly string[]): vscode.Uri[] {
  if (files.length === 0) return [];
  let folder = path.dirname(files[0]!);
  for (const file of files) {
    while (!file.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep)) {
      const parent = path.dirname(folder);
      if (parent === folder) return [vscode.Uri.file(folder)];
      folder = parent;
    }
  }
  return [vscode.Uri.file(folder)];
}
