/**
 * Export Model and Serve Model in the editor. Both run the bundled command line
 * (`dist/ocular.js export|serve`) as a child process of the extension host, so the work never
 * runs on the language server's event loop and a server can be stopped by ending its process:
 * an export shows a cancellable progress and then its parity report in the *Ocular Export*
 * output; a server shows its URL with Stop and Copy URL, and *Ocular: Stop Serving* ends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';

const FORMATS = [
  { label: 'onnx', description: 'ONNX (opset 13) for ONNX Runtime and most inference engines' },
  { label: 'tfjs', description: 'TensorFlow.js LayersModel (model.json and weights)' },
  { label: 'pytorch', description: 'PyTorch nn.Module source and weights.safetensors' },
];

export class Shipping implements vscode.Disposable {
  private readonly output = vscode.window.createOutputChannel('Ocular Export');
  private server: ChildProcess | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly extensionPath: string) {
    this.disposables = [
      this.output,
      vscode.commands.registerCommand('ocular.exportModel', (uri?: vscode.Uri) => this.exportModel(uri)),
      vscode.commands.registerCommand('ocular.serveModel', (uri?: vscode.Uri) => this.serveModel(uri)),
      vscode.commands.registerCommand('ocular.stopServing', () => this.stopServing()),
    ];
  }

  /** The CLI run with the extension host's Node (Electron as Node on the desktop). */
  private cli(args: readonly string[], cwd: string): ChildProcess {
    return spawn(process.execPath, [path.join(this.extensionPath, 'dist', 'ocular.js'), ...args], { cwd, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The model file to work on: the argument, else the active .ocular editor (saved first). */
  private async modelFile(uri?: vscode.Uri): Promise<string | undefined> {
    if (uri) return uri.fsPath;
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== 'ocular') {
      void vscode.window.showErrorMessage('Open an .ocular model file first.');
      return undefined;
    }
    if (editor.document.isDirty) await editor.document.save();
    return editor.document.uri.fsPath;
  }

  private async exportModel(uri?: vscode.Uri): Promise<void> {
    const file = await this.modelFile(uri);
    if (!file) return;
    const format = await vscode.window.showQuickPick(FORMATS, { title: 'Export Model: format' });
    if (!format) return;
    const quantize = format.label === 'onnx' ? await vscode.window.showQuickPick([{ label: 'float32', description: 'as trained' }, { label: 'float16' }, { label: 'int8' }], { title: 'Export Model: weights' }) : { label: 'float32' };
    if (!quantize) return;
    const outDir = path.join(path.dirname(file), 'export', `${path.basename(file, '.ocular')}-${format.label}${quantize.label === 'float32' ? '' : `-${quantize.label}`}`);
    const args = ['export', file, '--format', format.label, '--out', outDir, ...(quantize.label === 'float32' ? [] : ['--quantize', quantize.label])];
    this.output.appendLine(`$ ocular ${args.join(' ')}`);
    const code = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exporting ${path.basename(file)} as ${format.label}`, cancellable: true }, (_progress, token) =>
      new Promise<number | null>((resolve) => {
        const child = this.cli(args, path.dirname(file));
        child.stdout?.on('data', (chunk: Buffer) => this.output.append(chunk.toString()));
        child.stderr?.on('data', (chunk: Buffer) => this.output.append(chunk.toString()));
        token.onCancellationRequested(() => child.kill());
        child.on('error', (error) => {
          this.output.appendLine(error.message);
          resolve(1);
        });
        child.on('close', resolve);
      }),
    );
    this.output.show(true);
    if (code === 0) void vscode.window.showInformationMessage(`Exported to ${outDir}; parity OK (see Ocular Export).`);
    else if (code !== null) void vscode.window.showErrorMessage('The export failed; the reason is in the Ocular Export output.');
  }

  private async serveModel(uri?: vscode.Uri): Promise<void> {
    const file = await this.modelFile(uri);
    if (!file) return;
    this.stopServing();
    const port = vscode.workspace.getConfiguration('ocular').get<number>('servePort', 8080);
    const child = this.cli(['serve', file, '--port', String(port)], path.dirname(file));
    this.server = child;
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      const url = /at (http:\/\/\S+)/.exec(chunk.toString())?.[1];
      if (!url) return;
      this.output.appendLine(`Serving ${path.basename(file)} at ${url}`);
      void vscode.window.showInformationMessage(`Serving ${path.basename(file)} at ${url}`, 'Copy URL', 'Stop').then((choice) => {
        if (choice === 'Copy URL') void vscode.env.clipboard.writeText(url);
        if (choice === 'Stop') this.stopServing();
      });
    });
    child.on('close', (code) => {
      if (this.server === child) this.server = undefined;
      if (code !== 0 && code !== null) void vscode.window.showErrorMessage(`The model server stopped: ${log.trim().split('\n').at(-1) ?? `exit ${code}`}`);
    });
  }

  private stopServing(): void {
    this.server?.kill();
    this.server = undefined;
  }

  dispose(): void {
    this.stopServing();
    for (const disposable of this.disposables) disposable.dispose();
  }
}
