/**
 * The Ocular Datasets view in the Explorer: the datasets of the open `.ocular` files as the
 * language server's latest scan saw them, as datasets → splits → classes with image counts and
 * shares. Nodes with problems carry a warning icon and list the problems in their tooltip; a class
 * opens the gallery of its images. The server announces finished scans with `ocular/datasetsChanged`.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { DatasetsChangedNotification, DatasetTreeRequest, type DatasetTreeClass, type DatasetTreeDataset, type DatasetTreeSplit, type DatasetTreeWarning, type GalleryClass } from '../../protocol/protocol';
import { OPEN_GALLERY_COMMAND } from './gallery';

type Node =
  | { readonly kind: 'dataset'; readonly uri: string; readonly dataset: DatasetTreeDataset; readonly several: boolean }
  | { readonly kind: 'split'; readonly uri: string; readonly dataset: string; readonly split: DatasetTreeSplit }
  | { readonly kind: 'class'; readonly uri: string; readonly dataset: string; readonly split: DatasetTreeSplit; readonly cls: DatasetTreeClass };

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;
const images = (n: number): string => `${n.toLocaleString('en-US')} ${n === 1 ? 'image' : 'images'}`;

/** A tooltip listing a node's problems, one per line, or undefined when it has none. */
function problems(warnings: readonly DatasetTreeWarning[]): string | undefined {
  return warnings.length > 0 ? warnings.map((w) => `${w.severity === 'error' ? 'Error' : w.severity === 'warning' ? 'Warning' : 'Note'}: ${w.message}`).join('\n\n') : undefined;
}

/** The node's icon: a warning when it has problems worth attention, otherwise its kind's. */
function icon(warnings: readonly DatasetTreeWarning[], plain: string): vscode.ThemeIcon {
  const serious = warnings.some((w) => w.severity !== 'info');
  return new vscode.ThemeIcon(serious ? 'warning' : plain, serious ? new vscode.ThemeColor('problemsWarningIcon.foreground') : undefined);
}

export class DatasetsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly client: LanguageClient) {
    this.subscriptions.push(
      this.changed,
      client.onNotification(DatasetsChangedNotification, () => this.changed.fire(undefined)),
      vscode.workspace.onDidCloseTextDocument((document) => document.languageId === 'ocular' && this.changed.fire(undefined)),
    );
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      const documents = vscode.workspace.textDocuments.filter((d) => d.languageId === 'ocular' && d.uri.scheme === 'file');
      const trees = await Promise.all(documents.map((d) => this.client.sendRequest(DatasetTreeRequest, { uri: d.uri.toString() }).catch(() => null)));
      const datasets = trees.flatMap((tree) => (tree ? tree.datasets.map((dataset) => ({ uri: tree.uri, dataset })) : []));
      const several = new Set(datasets.map((d) => d.uri)).size > 1;
      return datasets.map(({ uri, dataset }) => ({ kind: 'dataset', uri, dataset, several }));
    }
    if (node.kind === 'dataset') return node.dataset.splits.map((split) => ({ kind: 'split', uri: node.uri, dataset: node.dataset.name, split }));
    if (node.kind === 'split') return node.split.classes.map((cls) => ({ kind: 'class', uri: node.uri, dataset: node.dataset, split: node.split, cls }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'dataset') {
      const { dataset } = node;
      const item = new vscode.TreeItem(dataset.name, vscode.TreeItemCollapsibleState.Expanded);
      const total = dataset.splits.reduce((sum, s) => sum + s.count, 0);
      item.description = `${images(total)}${node.several ? ` · ${path.basename(vscode.Uri.parse(node.uri).fsPath)}` : ''}`;
      item.iconPath = icon(dataset.warnings, 'database');
      item.tooltip = problems(dataset.warnings) ?? `Dataset ${dataset.name} in ${vscode.Uri.parse(node.uri).fsPath}`;
      item.contextValue = 'ocularDataset';
      return item;
    }
    if (node.kind === 'split') {
      const { split } = node;
      const item = new vscode.TreeItem(split.split, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `${images(split.count)} · ${percent(split.share)}${split.carvedFrom ? ` · from ${split.carvedFrom}` : ''}`;
      item.iconPath = icon(split.warnings, 'folder');
      item.tooltip = problems(split.warnings) ?? split.path;
      return item;
    }
    const { cls } = node;
    const item = new vscode.TreeItem(cls.name, vscode.TreeItemCollapsibleState.None);
    item.description = `${cls.count.toLocaleString('en-US')} · ${percent(cls.share)}`;
    item.iconPath = icon(cls.warnings, 'symbol-class');
    item.tooltip = problems(cls.warnings) ?? `${images(cls.count)} of class ${cls.name} in ${node.split.split}`;
    // CIFAR and IDX records are not files: only a class of an image folder has a gallery.
    if (cls.firstImage) {
      const target: GalleryClass = { uri: node.uri, dataset: node.dataset, split: node.split.split, class: cls.name };
      item.command = { title: 'Show Images', command: OPEN_GALLERY_COMMAND, arguments: [target] };
    }
    return item;
  }
}
