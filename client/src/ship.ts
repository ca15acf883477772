/**
 * Export Model and Serve Model in the editor. Both run the bundled command line
 * (`dist/ocular.js export|serve`) as a child process of the extension host, so the work never
 * runs on the language server's event loop and a server can be stopped by ending its process:
 * an export (optionally pruned, then fine-tuned) shows a cancellable progress with the
 * fine-tuning epochs and then its parity and compression report in the *Ocular Export* output; a server shows its URL with Stop and Copy URL, and *Ocular: Stop Serving* ends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';

const FORMATS = [
  { label: 'onnx', description: 'ONNX (opset 13) for ONNX Runtime and most inference engines' },
  { label: 'tfjs', description: 'TensorFlow.js LayersModel (model.json and weights)' },
  { label: 'pytorch', description: 'PyTorch nn.Module source and weights.safetensors' },
];

/** Pruning targets offered, as `--prune` shares; the first keeps every weight. */
const PRUNING = [
  { label: 'no pruning', description: 'keep every weight', share: 0 },
  { label: 'prune 50%', description: "zero the smallest half of each conv and dense kernel's weights", share: 0.5 },
  { label: 'prune 80%', description: 'zero the smallest 80% of each kernel', share: 0.8 },
  { label: 'prune 90%', description: 'zero the smallest 90% of each kernel', share: 0.9 },
];

/** Fine-tuning epochs offered after pruning, as `--finetune` counts; the first exports the pruned weights as they are. */
const FINE_TUNING = [
  { label: 'no fine-tuning', description: 'export the pruned weights as they are', epochs: 0 },
  { label: 'fine-tune 1 epoch', description: 'train the pruned weights on the train split, keeping the zeros', epochs: 1 },
  { label: 'fine-tune 2 epochs', description: 'train the pruned weights on the train split, keeping the zeros', epochs: 2 },
  { label: 'fine-tune 5 epochs', description: 'train the pruned weights on the train split, keeping the zeros', epochs: 5 },
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
    const format = await vscode.window.showQuickPick(FORMATS, { title: 'Export Model: format', ignoreFocusOut: true });
    if (!format) return;
    const quantize = format.label === 'onnx' ? await vscode.window.showQuickPick([{ label: 'float32', description: 'as trained' }, { label: 'float16' }, { label: 'int8' }], { title: 'Export Model: weights', ignoreFocusOut: true }) : { label: 'float32' };
    if (!quantize) return;
    const pruning = await vscode.window.showQuickPick(PRUNING, { title: 'Export Model: pruning', ignoreFocusOut: true });
    if (!pruning) return;
    const fineTuning = pruning.share > 0 ? await vscode.window.showQuickPick(FINE_TUNING, { title: 'Export Model: fine-tuning after pruning', ignoreFocusOut: true }) : FINE_TUNING[0];
    if (!fineTuning) return;
    const suffix = [quantize.label === 'float32' ? '' : `-${quantize.label}`, pruning.share > 0 ? `-pruned${Math.round(pruning.share * 100)}` : '', fineTuning.epochs > 0 ? `-finetuned${fineTuning.epochs}` : ''].join('');
    const outDir = path.join(path.dirname(file), 'export', `${path.basename(file, '.ocular')}-${format.label}${suffix}`);
    const args = [
      'export', file, '--format', format.label, '--out', outDir,
      ...(quantize.label === 'float32' ? [] : ['--quantize', quantize.label]),
      ...(pruning.share > 0 ? ['--prune', String(pruning.share)] : []),
      ...(fineTuning.epochs > 0 ? ['--finetune', String(fineTuning.epochs)] : []),
    ];
    this.output.appendLine(`$ ocular ${args.join(' ')}`);
    let report = '';
    const code = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exporting ${path.basename(file)} as ${format.label}`, cancellable: true }, (progress, token) =>
      new Promise<number | null>((resolve) => {
        const child = this.cli(args, path.dirname(file));
        child.stdout?.on('data', (chunk: Buffer) => {
          report += chunk.toString();
          this.output.append(chunk.toString());
        });
        child.stderr?.on('data', (chunk: Buffer) => {
          const text = chunk.toString();
          this.output.append(text);
          // The command line tells each fine-tuning epoch on stderr: the notification shows the latest.
          const epoch = text.match(/^fine-tuning epoch .*$/gm)?.at(-1);
          if (epoch) progress.report({ message: epoch });
        });
        token.onCancellationRequested(() => child.kill());
        child.on('error', (error) => {
          this.output.appendLine(error.message);
          resolve(1);
        });
        child.on('close', resolve);
      }),
    );
    this.output.show(true);
    // A compressed export's accuracy line (before → after, or before pruning → after pruning → after fine-tuning) goes in the message too.
    const accuracy = /^ {2}accuracy (.+)$/m.exec(report)?.[1];
    // The figures first: a toast shows one line, and the folder's path is long.
    if (code === 0) void vscode.window.showInformationMessage(`Exported with parity OK${accuracy ? `; accuracy ${accuracy}` : ''}: ${outDir} (see Ocular Export).`);
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
