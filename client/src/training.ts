/**
 * Training from the editor, on the VS Code side: *Ocular: Train Model* (palette, the train
 * section's code lens, the editor title), *Ocular: Stop Training*, *Ocular: Resume Run* and
 * *Ocular: Check GPU Setup*; the status bar item with the backend and device (the `ocular.backend`
 * setting); and the Runs view. The language server trains, in a worker: this module saves the
 * file, asks, shows progress from the server's training events and reports how the run ended.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  DeviceRequest,
  GpuSetupRequest,
  StopTrainingRequest,
  TRAIN_MODEL_COMMAND,
  TrainingEventNotification,
  TrainRequest,
  type BackendSetting,
  type DeviceAnswer,
  type GpuSetupAnswer,
  type TrainResult,
} from '../../protocol/protocol';
import { RunsView, type RunNode } from './runs-view';
import { workspaceRuns } from './results/runs';

export const STOP_TRAINING_COMMAND = 'ocular.stopTraining';
export const RESUME_RUN_COMMAND = 'ocular.resumeRun';
export const CHECK_GPU_COMMAND = 'ocular.checkGpuSetup';
const BACKENDS: readonly BackendSetting[] = ['auto', 'gpu', 'native', 'wasm', 'cpu'];

function backendSetting(): BackendSetting {
  const value = vscode.workspace.getConfiguration('ocular').get<string>('backend', 'auto');
  return (BACKENDS as readonly string[]).includes(value) ? (value as BackendSetting) : 'auto';
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** How a finished run is reported: one sentence. */
export function describeResult(result: TrainResult): string {
  const best = result.bestValAcc !== undefined ? `, best validation accuracy ${percent(result.bestValAcc)}` : '';
  const what = `Run ${result.runId}: ${result.status} after ${result.epochsDone} of ${result.epochs} epochs${best}.`;
  return result.error ? `${what} ${result.error}` : what;
}

/** The `ocular.trainingThreads` setting as the train request takes it: absent for 0 (one per core). */
function threadsSetting(): { threads?: number } {
  const threads = vscode.workspace.getConfiguration('ocular').get<number>('trainingThreads', 0);
  return Number.isInteger(threads) && threads > 0 ? { threads } : {};
}

/** The status bar's backend and device, refreshed when the setting changes; it opens Check GPU Setup. */
class BackendStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ocular.backend', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[] = [this.item];

  constructor(private readonly client: LanguageClient) {
    this.item.name = 'Ocular Backend';
    this.item.command = CHECK_GPU_COMMAND;
    this.subscriptions.push(vscode.workspace.onDidChangeConfiguration((change) => change.affectsConfiguration('ocular.backend') && void this.refresh()));
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const setting = backendSetting();
    this.item.text = `$(loading~spin) Ocular: ${setting}`;
    this.item.show();
    try {
      const device = await this.client.sendRequest(DeviceRequest, { backend: setting });
      this.show(setting, device);
    } catch (error) {
      this.item.text = '$(warning) Ocular: no backend';
      this.item.tooltip = `No training backend could be started: ${message(error)}`;
    }
  }

  private show(setting: BackendSetting, device: DeviceAnswer): void {
    this.item.text = `$(pulse) ${device.backend} · ${device.description}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(`Ocular trains on ${device.backend}: ${device.description} (setting ocular.backend = ${setting}).`);
    for (const skipped of device.skipped) tooltip.appendText(`\n\nNot ${skipped.backend}: ${skipped.reason}`);
    tooltip.appendText('\n\nClick to check the GPU setup.');
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

/** The Check GPU Setup report as plain text for the output channel, from the server's answer. */
export function gpuReport(answer: GpuSetupAnswer, setting: BackendSetting): string {
  const lines = [`Training uses ${answer.device.backend}: ${answer.device.description} (setting ocular.backend = ${setting}).`];
  lines.push(answer.ready ? `The GPU backend has everything it needs: ${answer.summary}` : `The GPU backend is not used: ${answer.summary}`);
  if (answer.problems.length > 0) {
    lines.push('', 'What is in the way:');
    for (const [i, p] of answer.problems.entries()) lines.push(`  ${i + 1}. ${p.problem}`, `     Fix: ${p.fix}`);
  }
  if (answer.device.skipped.length > 0) {
    lines.push('', 'Faster backends passed over:');
    for (const s of answer.device.skipped) lines.push(`  - ${s.backend}: ${s.reason}`);
  }
  return lines.join('\n');
}

/** The model file a command is about: its argument, else the active `.ocular` editor's. */
async function modelDocument(uri: unknown): Promise<vscode.TextDocument | undefined> {
  if (typeof uri === 'string' || uri instanceof vscode.Uri) return vscode.workspace.openTextDocument(typeof uri === 'string' ? vscode.Uri.parse(uri) : uri);
  const editor = vscode.window.activeTextEditor;
  return editor?.document.languageId === 'ocular' ? editor.document : undefined;
}

export class Training implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The progress reporter of each training in progress, by model file URI. */
  private readonly reporters = new Map<string, vscode.Progress<{ message?: string }>>();
  /** Created on the first Check GPU Setup. */
  private gpuChannel: vscode.OutputChannel | undefined;

  constructor(private readonly client: LanguageClient) {
    const runs = new RunsView(client);
    const status = new BackendStatus(client);
    this.subscriptions.push(
      runs,
      status,
      vscode.window.createTreeView('ocularRuns', { treeDataProvider: runs }),
      client.onNotification(TrainingEventNotification, (event) => {
        if (event.message) this.reporters.get(event.uri)?.report({ message: event.message });
      }),
      vscode.commands.registerCommand(TRAIN_MODEL_COMMAND, (uri?: unknown, model?: unknown) => this.train(uri, typeof model === 'string' ? model : undefined)),
      vscode.commands.registerCommand(STOP_TRAINING_COMMAND, () => this.stop()),
      vscode.commands.registerCommand(RESUME_RUN_COMMAND, (node?: RunNode) => this.resume(node)),
      vscode.commands.registerCommand(CHECK_GPU_COMMAND, () => this.checkGpu()),
    );
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.gpuChannel?.dispose();
  }

  private async train(uri: unknown, model: string | undefined, resumeRunId?: string): Promise<TrainResult | undefined> {
    const document = await modelDocument(uri);
    if (!document || document.uri.scheme !== 'file') {
      void vscode.window.showInformationMessage('Open a saved .ocular file with a train section to train its model.');
      return undefined;
    }
    // The server trains the file on disk, so what is on screen is what trains.
    if (document.isDirty && !(await document.save())) {
      void vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(document.uri)} could not be saved; training needs the file as shown.`);
      return undefined;
    }
    const key = document.uri.toString();
    if (this.reporters.has(key)) {
      void vscode.window.showInformationMessage(`${vscode.workspace.asRelativePath(document.uri)} is already training: stop it first (Ocular: Stop Training).`);
      return undefined;
    }
    const title = `${resumeRunId ? `Resuming ${resumeRunId}` : `Training ${model ?? vscode.workspace.asRelativePath(document.uri)}`}`;
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      this.reporters.set(key, progress);
      progress.report({ message: 'loading the dataset' });
      try {
        const result = await this.client.sendRequest(TrainRequest, { uri: key, backend: backendSetting(), ...threadsSetting(), ...(model ? { model } : {}), ...(resumeRunId ? { resumeRunId } : {}) }, token);
        const text = describeResult(result);
        if (result.status === 'failed') void vscode.window.showErrorMessage(text);
        else void vscode.window.showInformationMessage(text);
        return result;
      } catch (error) {
        if (!token.isCancellationRequested) void vscode.window.showErrorMessage(`Training failed: ${message(error)}`);
        return undefined;
      } finally {
        this.reporters.delete(key);
      }
    });
  }

  private async stop(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const uri = editor?.document.languageId === 'ocular' && this.reporters.has(editor.document.uri.toString()) ? editor.document.uri.toString() : undefined;
    const { stopped } = await this.client.sendRequest(StopTrainingRequest, uri ? { uri } : {});
    if (stopped === 0) void vscode.window.showInformationMessage('No model is training.');
  }

  private async resume(node: RunNode | undefined): Promise<void> {
    let target = node?.run;
    if (!target) {
      const runs = (await workspaceRuns()).filter((run) => run.status === 'interrupted' || run.status === 'stopped');
      if (runs.length === 0) {
        void vscode.window.showInformationMessage('No interrupted or stopped run to resume in this workspace.');
        return;
      }
      const picked = await vscode.window.showQuickPick(
        runs.map((run) => ({ label: run.id, description: `${run.modelName} · ${run.status}`, detail: run.modelFile, run })),
        { placeHolder: 'Run to resume from its last complete epoch' },
      );
      target = picked?.run;
    }
    if (target) await this.train(vscode.Uri.file(target.modelFile), target.modelName, target.id);
  }

  private async checkGpu(): Promise<void> {
    const setting = backendSetting();
    try {
      const answer = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Checking the GPU setup' }, () => this.client.sendRequest(GpuSetupRequest, { backend: setting }));
      this.gpuChannel ??= vscode.window.createOutputChannel('Ocular GPU Setup');
      this.gpuChannel.replace(`${gpuReport(answer, setting)}\n`);
      this.gpuChannel.show(true);
    } catch (error) {
      void vscode.window.showErrorMessage(`The GPU setup could not be checked: ${message(error)}`);
    }
  }
}
