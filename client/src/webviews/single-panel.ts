/**
 * The one panel of a page: what the gallery, the augmentation preview, the dashboard and the
 * evaluation panel share. A command opens it on first use and brings it to the front, with a fresh
 * title and resource roots, when it is open already; after a window reload the page's serializer
 * hands it back with the state the page saved. A subclass keeps only what is its own: what the
 * panel shows, its title, the page's messages, and what to stop when the panel closes.
 */
import * as vscode from 'vscode';
import type { PageName, WebviewPages } from '../../../protocol/protocol';
import { openPage, registerPageSerializer, type PageOptions, type PagePanel } from './panel';

export abstract class SinglePanel<P extends PageName> implements vscode.Disposable {
  /** The open panel, if any. */
  protected panel: PagePanel<P> | undefined;
  /** Disposed with this object: the commands and listeners a subclass registers. */
  protected readonly disposables: vscode.Disposable[] = [];

  constructor(
    protected readonly extensionUri: vscode.Uri,
    private readonly options: Omit<PageOptions<P>, 'title' | 'resourceRoots'>,
  ) {
    this.disposables.push(
      registerPageSerializer(options.viewType, extensionUri, options.page, (panel, state) => {
        this.restore(state);
        this.adopt(panel);
        panel.load(this.title(), this.resourceRoots());
      }),
    );
  }

  /** The panel's title for what it shows now. */
  protected abstract title(): string;

  /** Takes what the page saved before a window reload, before the restored panel loads. */
  protected abstract restore(state: WebviewPages[P]['state'] | undefined): void;

  /** Answers a message from the page. */
  protected abstract receive(message: WebviewPages[P]['toHost']): void;

  /** The folders (besides dist/webviews) the page may load files from now. */
  protected resourceRoots(): readonly vscode.Uri[] {
    return [];
  }

  /** Runs when a panel, new or restored, is taken over. */
  protected opened(): void {}

  /** Runs when the panel closes: stop what works for it. */
  protected closed(): void {}

  /**
   * Opens the panel, or brings the open one to the front with the current title and resource
   * roots. True when it was open already: a new page asks for its data itself once it is ready,
   * an open one must be sent what changed.
   */
  protected reveal(): boolean {
    const { column, preserveFocus } = this.options;
    if (this.panel) {
      this.panel.panel.title = this.title();
      this.panel.setResourceRoots(this.resourceRoots());
      this.panel.panel.reveal(column, preserveFocus);
      return true;
    }
    this.adopt(openPage(this.extensionUri, { ...this.options, title: this.title(), resourceRoots: this.resourceRoots() }));
    return false;
  }

  dispose(): void {
    this.panel?.dispose();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
  }

  private adopt(panel: PagePanel<P>): void {
    this.panel = panel;
    panel.onMessage((message) => this.receive(message));
    panel.onDidDispose(() => {
      if (this.panel !== panel) return;
      this.panel = undefined;
      this.closed();
    });
    this.opened();
  }
}
