/**
 * The evaluation panel: shows a run's `evaluation.json` in the evaluation page (webviews/evaluation).
 * The host reads the file (plain JSON, read here rather than in the server because the page's
 * images are files the host turns into webview URIs), posts the figures without the per-image
 * records, and answers the page's cell clicks with that cell's images, highest loss first, and
 * its saliency requests through the language server (`ocular/saliency`). The page may load
 * images only from the deepest folder holding the evaluated files.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { SaliencyRequest, type EvaluationImage, type EvaluationView } from '../../../protocol/protocol';
import type { Evaluation } from '../../../server/src/evaluation/evaluation';
import { cellImages } from '../../../server/src/evaluation/records';
import { readEvaluation } from '../../../server/src/evaluation/store';
import { commonFolder } from '../gallery';
import { openPage, registerPageSerializer, type PagePanel } from '../webviews/panel';

const VIEW_TYPE = 'ocular.evaluation';

/** Images inside an archive (CIFAR, IDX) are named `file#record`: there is no file to show or open. */
const inArchive = (file: string): boolean => /#\d+$/.test(file);

/** The evaluation without its per-image records, for the page. */
function viewOf(e: Evaluation): EvaluationView {
  const { images: _images, version: _version, predictMs: _predictMs, ...view } = e;
  return view;
}

export class EvaluationPanels implements vscode.Disposable {
  private panel: PagePanel<'evaluation'> | undefined;
  private file: string | undefined;
  private evaluation: Evaluation | undefined;
  /** Why `file` could not be read, shown on the page instead of the evaluation. */
  private error: string | undefined;
  /** The saliency request in flight: a newer one (another cell) cancels it. */
  private saliency: vscode.CancellationTokenSource | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly client: LanguageClient,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.disposables.push(
      registerPageSerializer(VIEW_TYPE, extensionUri, 'evaluation', (panel, state) => {
        this.adopt(panel, state?.file);
        panel.load(this.title(), this.roots());
      }),
    );
  }

  dispose(): void {
    this.saliency?.cancel();
    this.panel?.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }

  /** Shows an evaluation file, in the open panel when there is one. */
  show(file: string): void {
    if (this.panel) {
      this.adopt(this.panel, file);
      this.panel.panel.title = this.title();
      this.panel.setResourceRoots(this.roots());
      this.panel.panel.reveal();
      void this.send();
      return;
    }
    const panel = openPage(this.extensionUri, { page: 'evaluation', viewType: VIEW_TYPE, title: 'Evaluation' });
    this.adopt(panel, file);
    panel.panel.title = this.title();
    panel.setResourceRoots(this.roots());
  }

  private title(): string {
    const e = this.evaluation;
    return e ? `Evaluation · ${e.runId ?? path.basename(path.dirname(this.file!))} · ${e.split}` : 'Evaluation';
  }

  /** The folder the page may load the evaluated images from. */
  private roots(): vscode.Uri[] {
    const files = (this.evaluation?.images ?? []).map((r) => r.file).filter((f) => !inArchive(f));
    const folder = commonFolder(files);
    return folder ? [vscode.Uri.file(folder)] : [];
  }

  /** Takes over a panel (new or restored) and reads `file`; a file that cannot be read is reported on the page. */
  private adopt(panel: PagePanel<'evaluation'>, file: string | undefined): void {
    const fresh = this.panel !== panel;
    this.panel = panel;
    this.file = file;
    this.evaluation = undefined;
    this.error = undefined;
    if (file) {
      try {
        this.evaluation = readEvaluation(file);
      } catch (error) {
        this.error = error instanceof Error ? error.message : String(error);
      }
    }
    if (!fresh) return;
    panel.onMessage((message) => {
      if (message.type === 'ready') void this.send();
      else if (message.type === 'cell') void this.sendCell(message.label, message.predicted);
      else if (message.type === 'saliency') void this.sendSaliency(message.label, message.predicted, message.paths);
      else if (message.type === 'open' && !inArchive(message.path)) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(message.path), { preview: true, viewColumn: vscode.ViewColumn.Beside });
    });
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private async send(): Promise<void> {
    const panel = this.panel;
    if (!panel) return;
    if (this.error || !this.evaluation || !this.file) {
      await panel.post({ type: 'error', message: this.error ?? 'No evaluation to show: run Ocular: Evaluate Model.' });
      return;
    }
    await panel.post({ type: 'evaluation', file: this.file, title: this.title(), evaluation: viewOf(this.evaluation) });
  }

  private async sendCell(label: number, predicted: number): Promise<void> {
    const panel = this.panel;
    const e = this.evaluation;
    if (!panel || !e) return;
    const images: EvaluationImage[] = cellImages(e.images, label, predicted).map((r) => ({
      name: path.basename(r.file),
      path: r.file,
      ...(inArchive(r.file) ? {} : { src: panel.resourceUri(vscode.Uri.file(r.file)) }),
      probability: r.probability,
      labelProbability: r.labelProbability,
      loss: r.loss,
    }));
    await panel.post({ type: 'cell', label, predicted, images });
  }

  private async sendSaliency(label: number, predicted: number, paths: readonly string[]): Promise<void> {
    const panel = this.panel;
    const file = this.file;
    if (!panel || !file) return;
    this.saliency?.cancel();
    const pending = (this.saliency = new vscode.CancellationTokenSource());
    let overlays: readonly ({ image: string } | { problem: string })[];
    try {
      overlays = (await this.client.sendRequest(SaliencyRequest, { runDir: path.dirname(file), files: paths, classes: paths.map(() => predicted) }, pending.token)).overlays;
    } catch (error) {
      if (pending.token.isCancellationRequested) return;
      const problem = `No saliency: ${error instanceof Error ? error.message : String(error)}`;
      overlays = paths.map(() => ({ problem }));
    }
    if (pending.token.isCancellationRequested) return;
    await panel.post({ type: 'saliency', label, predicted, overlays: paths.map((p, i) => ({ path: p, overlay: overlays[i] ?? { problem: 'No saliency for this image.' } })) });
  }
}
