/**
 * The class gallery panel: a class in the Ocular Datasets view opens its images in the gallery
 * page (webviews/gallery). The language server lists the class (`ocular/classImages`); the page
 * shows the files themselves through webview URIs, so no image is decoded or held in the extension
 * host, and the page only decodes the thumbnails in view; decompression bombs and very large
 * images are not handed to it at all.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ClassImagesRequest, type ClassImage, type GalleryClass, type GalleryItem } from '../../protocol/protocol';
import { openPage, registerPageSerializer, type PagePanel } from './webviews/panel';

export const OPEN_GALLERY_COMMAND = 'ocular.openClassGallery';
const VIEW_TYPE = 'ocular.gallery';

/** The deepest folder holding every file: the one folder the page may read images from. */
export function commonFolder(files: readonly string[]): string | undefined {
  if (files.length === 0) return undefined;
  let folder = path.dirname(files[0]!);
  for (const file of files) {
    while (!(file.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep))) {
      const parent = path.dirname(folder);
      if (parent === folder) return folder;
      folder = parent;
    }
  }
  return folder;
}

export class Galleries implements vscode.Disposable {
  private panel: PagePanel<'gallery'> | undefined;
  private target: GalleryClass | undefined;
  /** Set for each request, so an answer for a class the panel no longer shows is dropped. */
  private pending: vscode.CancellationTokenSource | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly client: LanguageClient,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.disposables.push(
      vscode.commands.registerCommand(OPEN_GALLERY_COMMAND, (target: GalleryClass) => this.open(target)),
      registerPageSerializer(VIEW_TYPE, extensionUri, 'gallery', (panel, state) => {
        this.adopt(panel, state?.target);
        panel.load(this.title(), []);
      }),
    );
  }

  dispose(): void {
    this.pending?.cancel();
    this.panel?.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }

  /** Shows `target` in the gallery panel, opening the panel when there is none. */
  open(target: GalleryClass): void {
    this.target = target;
    if (this.panel) {
      this.panel.panel.title = this.title();
      this.panel.panel.reveal();
      void this.send();
      return;
    }
    this.adopt(openPage(this.extensionUri, { page: 'gallery', viewType: VIEW_TYPE, title: this.title() }), target);
  }

  private title(): string {
    return this.target ? `${this.target.class} · ${this.target.dataset}` : 'Class gallery';
  }

  private adopt(panel: PagePanel<'gallery'>, target: GalleryClass | undefined): void {
    this.panel = panel;
    this.target = target;
    panel.onMessage((message) => {
      if (message.type === 'ready') void this.send();
      else if (message.type === 'open') void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(message.path), { preview: true, viewColumn: vscode.ViewColumn.Beside });
    });
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }

  /** Asks the server for the class's images and posts them to the page. */
  private async send(): Promise<void> {
    const panel = this.panel;
    const target = this.target;
    if (!panel || !target) return;
    this.pending?.cancel();
    const pending = (this.pending = new vscode.CancellationTokenSource());
    try {
      // After a window reload the model file may not be open yet; the server only knows open files.
      await vscode.workspace.openTextDocument(vscode.Uri.parse(target.uri));
      const answer = await this.client.sendRequest(ClassImagesRequest, target, pending.token);
      if (pending.token.isCancellationRequested) return;
      if (!answer) {
        void panel.post({ type: 'error', target, message: `Dataset ${target.dataset} has no class '${target.class}' in its ${target.split} split any more.` });
        return;
      }
      const folder = commonFolder(answer.images.map((image) => image.path));
      panel.setResourceRoots(folder ? [vscode.Uri.file(folder)] : []);
      void panel.post({ type: 'images', target, items: answer.images.map((image) => this.item(panel, image)) });
    } catch (error) {
      if (pending.token.isCancellationRequested) return;
      void panel.post({ type: 'error', target, message: error instanceof Error ? error.message : String(error) });
    }
  }

  private item(panel: PagePanel<'gallery'>, image: ClassImage): GalleryItem {
    return { name: path.basename(image.path), path: image.path, findings: image.findings, ...(image.showable ? { src: panel.resourceUri(vscode.Uri.file(image.path)) } : {}) };
  }
}
