/**
 * The augmentation preview panel: the code lens "Preview augmentation" on a dataset's augment
 * block opens it. The language server draws the pictures in a worker (`ocular/augmentPreview`)
 * from the document as it is in the editor, so the panel is drawn again, debounced, as the
 * augment settings are edited, saved or not.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { AugmentPreviewRequest, PREVIEW_AUGMENTATION_COMMAND, type AugmentPreviewTarget, type WebviewPages } from '../../protocol/protocol';
import { openPage, registerPageSerializer, type PagePanel } from './webviews/panel';

const VIEW_TYPE = 'ocular.augmentPreview';
/** Edits closer together than this draw once. */
const DEBOUNCE_MS = 400;

type Draw = WebviewPages['augment-preview']['toHost'];

export class AugmentPreviews implements vscode.Disposable {
  private panel: PagePanel<'augment-preview'> | undefined;
  private target: AugmentPreviewTarget | undefined;
  /** The page's latest request, repeated when the document changes. */
  private last: Draw | undefined;
  private pending: vscode.CancellationTokenSource | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly client: LanguageClient,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.disposables.push(
      vscode.commands.registerCommand(PREVIEW_AUGMENTATION_COMMAND, (uri: string, dataset: string) => this.open({ uri, dataset })),
      registerPageSerializer(VIEW_TYPE, extensionUri, 'augment-preview', (panel, state) => {
        this.adopt(panel, state?.target);
        panel.load(this.title());
      }),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (this.panel && this.target && event.document.uri.toString() === this.target.uri && event.contentChanges.length > 0) this.schedule();
      }),
    );
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.pending?.cancel();
    this.panel?.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }

  open(target: AugmentPreviewTarget): void {
    this.target = target;
    if (this.panel) {
      this.panel.panel.title = this.title();
      this.panel.panel.reveal(vscode.ViewColumn.Beside, true);
      void this.draw();
      return;
    }
    this.adopt(openPage(this.extensionUri, { page: 'augment-preview', viewType: VIEW_TYPE, title: this.title(), column: vscode.ViewColumn.Beside, preserveFocus: true }), target);
  }

  private title(): string {
    return this.target ? `Augmentation · ${this.target.dataset}` : 'Augmentation preview';
  }

  private adopt(panel: PagePanel<'augment-preview'>, target: AugmentPreviewTarget | undefined): void {
    this.panel = panel;
    this.target = target;
    panel.onMessage((message) => {
      this.last = message;
      void this.draw();
    });
    panel.onDidDispose(() => {
      if (this.panel !== panel) return;
      this.panel = undefined;
      clearTimeout(this.timer);
      this.pending?.cancel();
    });
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.draw(), DEBOUNCE_MS);
  }

  /** Asks the server for the pictures of the page's latest request; a newer draw cancels an older one. */
  private async draw(): Promise<void> {
    const panel = this.panel;
    const target = this.target;
    const last = this.last;
    if (!panel || !target || !last) return;
    this.pending?.cancel();
    const pending = (this.pending = new vscode.CancellationTokenSource());
    void panel.post({ type: 'busy' });
    try {
      await vscode.workspace.openTextDocument(vscode.Uri.parse(target.uri));
      const preview = await this.client.sendRequest(AugmentPreviewRequest, { uri: target.uri, dataset: target.dataset, image: last.image, draws: last.draws, seed: last.seed }, pending.token);
      if (pending.token.isCancellationRequested) return;
      if (!preview) void panel.post({ type: 'error', target, message: `The file has no dataset named ${target.dataset} any more.` });
      else void panel.post({ type: 'preview', target, preview, seed: last.seed });
    } catch (error) {
      if (pending.token.isCancellationRequested) return;
      void panel.post({ type: 'error', target, message: error instanceof Error ? error.message : String(error) });
    }
  }
}
