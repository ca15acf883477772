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
import { ClassImagesRequest, type ClassImage, type GalleryClass, type GalleryItem, type WebviewPages } from '../../protocol/protocol';
import { LatestRequest } from './webviews/latest-request';
import { folderRoots, type PagePanel } from './webviews/panel';
import { SinglePanel } from './webviews/single-panel';

export const OPEN_GALLERY_COMMAND = 'ocular.openClassGallery';

export class Galleries extends SinglePanel<'gallery'> {
  private target: GalleryClass | undefined;
  /** The folder of the class's images: the one folder the page may read from. */
  private roots: readonly vscode.Uri[] = [];
  /** An answer for a class the panel no longer shows is dropped. */
  private readonly request = new LatestRequest();

  constructor(
    private readonly client: LanguageClient,
    extensionUri: vscode.Uri,
  ) {
    super(extensionUri, { page: 'gallery', viewType: 'ocular.gallery' });
    this.disposables.push(vscode.commands.registerCommand(OPEN_GALLERY_COMMAND, (target: GalleryClass) => this.open(target)));
  }


  /** Shows `target` in the gallery panel, opening the panel when there is none. */
  open(target: GalleryClass): void {
    this.target = target;
    if (this.reveal()) void this.send();
  }

  protected title(): string {
    return this.target ? `${this.target.class} · ${this.target.dataset}` : 'Class gallery';
  }

  protected override resourceRoots(): readonly vscode.Uri[] {
    return this.roots;
  }

  protected restore(state: WebviewPages['gallery']['state'] | undefined): void {
    this.target = state?.target;
  }

  protected receive(message: WebviewPages['gallery']['toHost']): void {
    if (message.type === 'ready') void this.send();
    else if (message.type === 'open') void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(message.path), { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  protected override closed(): void {
    this.request.cancel();
  }

  /** Asks the server for the class's images and posts them to the page. */
  private async send(): Promise<void> {
    const panel = this.panel;
    const target = this.target;
    if (!panel || !target) return;
    const answer = await this.request.run(async (token) => {
      // After a window reload the model file may not be open yet; the server only knows open files.
      await vscode.workspace.openTextDocument(vscode.Uri.parse(target.uri));
      return this.client.sendRequest(ClassImagesRequest, target, token);
    });
    if (!answer) return;
    if ('error' in answer) {
      void panel.post({ type: 'error', target, message: answer.error });
      return;
    }
    if (!answer.value) {
      void panel.post({ type: 'error', target, message: `Dataset ${target.dataset} has no class '${target.class}' in its ${target.split} split any more.` });
      return;
    }
    const images = answer.value.images;
    this.roots = folderRoots(images.map((image) => image.path));
    panel.setResourceRoots(this.roots);
    void panel.post({ type: 'images', target, items: images.map((image) => item(panel, image)) });
  }
}

function item(panel: PagePanel<'gallery'>, image: ClassImage): GalleryItem {
  return { name: path.basename(image.path), path: image.path, findings: image.findings, ...(image.showable ? { src: panel.resourceUri(vscode.Uri.file(image.path)) } : {}) };
}
