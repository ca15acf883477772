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
import { SaliencyRequest, type EvaluationImage, type EvaluationView, type SaliencyOverlay, type WebviewPages } from '../../../protocol/protocol';
import type { Evaluation } from '../../../server/src/evaluation/document';
import { cellImages } from '../../../server/src/evaluation/records';
import { readEvaluation } from '../../../server/src/evaluation/store';
import { LatestRequest } from '../webviews/latest-request';
import { folderRoots } from '../webviews/panel';
import { SinglePanel } from '../webviews/single-panel';

/** Images inside an archive (CIFAR, IDX) are named `file#record`: there is no file to show or open. */
const inArchive = (file: string): boolean => /#\d+$/.test(file);

/** The evaluation without its per-image records, for the page. */
function viewOf(e: Evaluation): EvaluationView {
  const { images: _images, version: _version, predictMs: _predictMs, ...view } = e;
  return view;
}

export class EvaluationPanels extends SinglePanel<'evaluation'> {
  private file: string | undefined;
  private evaluation: Evaluation | undefined;
  /** Why `file` could not be read, shown on the page instead of the evaluation. */
  private error: string | undefined;
  /** A newer saliency request (another cell) cancels the one in flight. */
  private readonly saliency = new LatestRequest();

  constructor(
    private readonly client: LanguageClient,
    extensionUri: vscode.Uri,
  ) {
    super(extensionUri, { page: 'evaluation', viewType: 'ocular.evaluation' });
  }


  /** Shows an evaluation file, in the open panel when there is one. */
  show(file: string): void {
    this.read(file);
    if (this.reveal()) void this.send();
  }

  protected title(): string {
    const e = this.evaluation;
    return e ? `Evaluation · ${e.runId ?? path.basename(path.dirname(this.file!))} · ${e.split}` : 'Evaluation';
  }

  /** The folder the page may load the evaluated images from. */
  protected override resourceRoots(): readonly vscode.Uri[] {
    return folderRoots((this.evaluation?.images ?? []).map((r) => r.file).filter((f) => !inArchive(f)));
  }

  protected restore(state: WebviewPages['evaluation']['state'] | undefined): void {
    this.read(state?.file);
  }

  protected receive(message: WebviewPages['evaluation']['toHost']): void {
    if (message.type === 'ready') void this.send();
    else if (message.type === 'cell') void this.sendCell(message.label, message.predicted);
    else if (message.type === 'saliency') void this.sendSaliency(message.label, message.predicted, message.paths);
    else if (message.type === 'open' && !inArchive(message.path)) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(message.path), { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  protected override closed(): void {
    this.saliency.cancel();
  }

  /** Reads `file`; a file that cannot be read is reported on the page. */
  private read(file: string | undefined): void {
    this.file = file;
    this.evaluation = undefined;
    this.error = undefined;
    if (!file) return;
    try {
      this.evaluation = readEvaluation(file);
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
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
    const answer = await this.saliency.run((token) => this.client.sendRequest(SaliencyRequest, { runDir: path.dirname(file), files: paths, classes: paths.map(() => predicted) }, token));
    if (!answer) return;
    const overlays: readonly SaliencyOverlay[] = 'error' in answer ? paths.map(() => ({ problem: `No saliency: ${answer.error}` })) : answer.value.overlays;
    await panel.post({ type: 'saliency', label, predicted, overlays: paths.map((p, i) => ({ path: p, overlay: overlays[i] ?? { problem: 'No saliency for this image.' } })) });
  }
}
