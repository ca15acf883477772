/**
 * The `Ocular: Download Dataset` command: asks which standard dataset and which folder, then
 * downloads it with the data layer's downloader (checksummed, resumable) under a cancellable
 * progress notification. It imports the downloader module alone, not the data layer's index,
 * so the client bundle stays free of sharp.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { downloadDataset, DOWNLOADS, DownloadError, type DownloadName } from '../../server/src/data/download';

const NAMES: readonly { readonly name: DownloadName; readonly label: string; readonly detail: string }[] = [
  { name: 'cifar10', label: 'CIFAR-10', detail: '60,000 32×32 colour images in 10 classes (about 163 MB)' },
  { name: 'mnist', label: 'MNIST', detail: '70,000 28×28 grayscale handwritten digits (about 11 MB)' },
  { name: 'fashion-mnist', label: 'Fashion-MNIST', detail: '70,000 28×28 grayscale clothing images in 10 classes (about 30 MB)' },
];

const megabytes = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** The folder to offer first: the active `.ocular` file's, else the first workspace folder. */
function startFolder(): vscode.Uri | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId === 'ocular' && editor.document.uri.scheme === 'file') return vscode.Uri.file(path.dirname(editor.document.uri.fsPath));
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

export async function downloadDatasetCommand(): Promise<void> {
  const picked = await vscode.window.showQuickPick(
    NAMES.map((n) => ({ ...n, description: DOWNLOADS[n.name].title })),
    { title: 'Download Dataset', placeHolder: 'Which dataset?' },
  );
  if (!picked) return;
  const start = startFolder();
  const target = await vscode.window.showOpenDialog({
    title: `Folder to download ${picked.label} into (it goes into ${DOWNLOADS[picked.name].folder}/ there)`,
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: 'Download Here',
    ...(start ? { defaultUri: start } : {}),
  });
  const dest = target?.[0];
  if (!dest) return;
  const files = DOWNLOADS[picked.name].files.length;
  const controller = new AbortController();
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Downloading ${picked.label}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        // Each file's share of the bar grows with its bytes when the server says how many there are.
        const reported = new Map<string, number>();
        return downloadDataset(picked.name, dest.fsPath, {
          signal: controller.signal,
          onProgress: (p) => {
            const name = path.basename(p.file);
            const share = p.total ? (100 * p.received) / p.total / files : 0;
            progress.report({ message: `${name}: ${megabytes(p.received)}${p.total ? ` of ${megabytes(p.total)}` : ''}`, increment: share - (reported.get(name) ?? 0) });
            reported.set(name, share);
          },
        });
      },
    );
    const active = vscode.window.activeTextEditor?.document;
    const shown = active?.languageId === 'ocular' ? path.relative(path.dirname(active.uri.fsPath), result.folder).split(path.sep).join('/') : result.folder;
    void vscode.window.showInformationMessage(`${picked.label} is in ${result.folder}. Point a dataset at it: train "${shown}" and val "${shown}".`);
  } catch (error) {
    // A cancelled download rejects with whatever the request was doing when it stopped; the signal says why.
    if (controller.signal.aborted) void vscode.window.showInformationMessage(`The ${picked.label} download was cancelled; running the command again resumes it.`);
    else if (error instanceof DownloadError) void vscode.window.showErrorMessage(error.message);
    else void vscode.window.showErrorMessage(`Downloading ${picked.label} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
