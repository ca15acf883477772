/**
 * The augmentation preview panel: the code lens "Preview augmentation" on a dataset's augment
 * block opens it. The language server draws the pictures in a worker (`ocular/augmentPreview`)
 * from the document as it is in the editor, so the panel is drawn again, debounced, as the
 * augment settings are edited, saved or not.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { AugmentPreviewRequest, PREVIEW_AUGMENTATION_COMMAND, type AugmentPreviewTarget, type WebviewPages } from '../../protocol/protocol';
import { LatestRequest } from './webviews/latest-request';
import { SinglePanel } from './webviews/single-panel';

/** Edits closer together than this draw once. */
const DEBOUNCE_MS = 400;

type Draw = WebviewPages['augment-preview']['toHost'];

export class AugmentPreviews extends SinglePanel<'augment-preview'> {
  private target: AugmentPreviewTarget | undefined;
  /** The page's latest request, repeated when the document changes. */
  private last: Draw | undefined;
  /** A newer draw cancels an older one. */
  private readonly request = new LatestRequest();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: LanguageClient,
    extensionUri: vscode.Uri,
  ) {
    super(extensionUri, { page: 'augment-preview', viewType: 'ocular.augmentPreview', column: vscode.ViewColumn.Beside, preserveFocus: true });
    this.disposables.push(
      vscode.commands.registerCommand(PREVIEW_AUGMENTATION_COMMAND, (uri: string, dataset: string) => this.open({ uri, dataset })),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (this.panel && this.target && event.document.uri.toString() === this.target.uri && event.contentChanges.length > 0) this.schedule();
      }),
    );
  }

  open(target: AugmentPreviewTarget): void {
    this.target = target;
    if (this.reveal()) void this.draw();
  }

  protected title(): string {
    return this.target ? `Augmentation · ${this.target.dataset}` : 'Augmentation preview';
  }

  protected restore(state: WebviewPages['augment-preview']['state'] | undefined): void {
    this.target = state?.target;
  }

  protected receive(message: Draw): void {
    this.last = message;
    void this.draw();
  }

  protected override closed(): void {
    clearTimeout(this.timer);
    this.request.cancel();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.draw(), DEBOUNCE_MS);
  }

  /** Asks the server for the pictures of the page's latest request. */
  private async draw(): Promise<void> {
    const panel = this.panel;
    const target = this.target;
    const last = this.last;
    if (!panel || !target || !last) return;
    void panel.post({ type: 'busy' });
    const answer = await this.request.run(async (token) => {
      await vscode.workspace.openTextDocument(vscode.Uri.parse(target.uri));
      return this.client.sendRequest(AugmentPreviewRequest, { uri: target.uri, dataset: target.dataset, image: last.image, draws: last.draws, seed: last.seed }, token);
    });
    if (!answer) return;
    if ('error' in answer) void panel.post({ type: 'error', target, message: answer.error });
    else if (!answer.value) void panel.post({ type: 'error', target, message: `The file has no dataset named ${target.dataset} any more.` });
    else void panel.post({ type: 'preview', target, preview: answer.value, seed: last.seed });
  }
}
