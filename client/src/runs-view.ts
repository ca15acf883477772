/**
 * The Ocular Runs view in the Explorer: every training run of the workspace's `.ocular` files,
 * newest first, with its status, best validation accuracy and duration. The runs are listed by
 * the results module's `workspaceRuns` (run folders on disk, so runs of `ocular train` show too);
 * the view refreshes when the language server announces a change and when a `run.json` changes.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { RunsChangedNotification } from '../../protocol/protocol';
import { readRun, RUN_FILE, type RunRecord } from '../../server/src/training/runs';
import { workspaceRuns, type WorkspaceRun } from './results/runs';

/** A run in the view: what the results module lists, with the record's figures when it can be read. */
export interface RunNode {
  readonly run: WorkspaceRun;
  readonly record?: RunRecord;
}

const ICONS: Readonly<Record<string, [icon: string, color?: string]>> = {
  running: ['sync~spin'],
  completed: ['pass', 'testing.iconPassed'],
  'early-stopped': ['pass', 'testing.iconPassed'],
  stopped: ['debug-stop'],
  interrupted: ['debug-pause', 'problemsWarningIcon.foreground'],
  failed: ['error', 'problemsErrorIcon.foreground'],
};

/** A duration as people read it: `48 s`, `3 min 05 s`, `2 h 07 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Seconds from the start to the end, or to now for a run still going. */
function durationOf(record: RunRecord, status: string): number | undefined {
  const start = Date.parse(record.startedAt);
  const end = record.endedAt ? Date.parse(record.endedAt) : status === 'running' ? Date.now() : NaN;
  return Number.isFinite(start) && Number.isFinite(end) ? (end - start) / 1000 : undefined;
}

/** The line under a run's name: status, epochs, best val accuracy, duration. */
export function describeRun(status: string, record: RunRecord | undefined): string {
  if (!record) return status;
  const parts = [status, `${record.epochsDone}/${record.epochs} epochs`];
  if (record.best) parts.push(`best val ${(100 * record.best.val_acc).toFixed(1)}%`);
  const seconds = durationOf(record, status);
  if (seconds !== undefined) parts.push(formatDuration(seconds));
  return parts.join(' · ');
}

export class RunsView implements vscode.TreeDataProvider<RunNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(client: LanguageClient) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/.ocular/runs/*/run.json');
    const refresh = (): void => this.changed.fire(undefined);
    this.subscriptions.push(this.changed, watcher, watcher.onDidCreate(refresh), watcher.onDidChange(refresh), watcher.onDidDelete(refresh), client.onNotification(RunsChangedNotification, refresh));
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  async getChildren(node?: RunNode): Promise<RunNode[]> {
    if (node) return [];
    return (await workspaceRuns()).map((run) => {
      try {
        return { run, record: readRun(run.dir) };
      } catch {
        // Listed a moment ago but unreadable now (being rewritten): shown without its figures.
        return { run };
      }
    });
  }

  getTreeItem({ run, record }: RunNode): vscode.TreeItem {
    const item = new vscode.TreeItem(run.id, vscode.TreeItemCollapsibleState.None);
    item.description = describeRun(run.status, record);
    const [icon, color] = ICONS[run.status] ?? ['circle-outline'];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(`${run.modelName} · ${run.modelFile}\n${describeRun(run.status, record)}`);
    if (record) tooltip.appendText(`\nDataset ${record.dataset} · ${record.backend} (${record.device}) · seed ${record.seed}\nStarted ${record.startedAt}`);
    if (record?.error) tooltip.appendText(`\n${record.error.message}`);
    item.tooltip = tooltip;
    // Menus in package.json offer Resume on the runs that can go on.
    item.contextValue = run.status === 'interrupted' || run.status === 'stopped' ? 'ocularRun.resumable' : 'ocularRun';
    // Clicking a run opens its record (configuration, status, best epoch); metrics.jsonl sits beside it.
    item.command = { title: 'Open run.json', command: 'vscode.open', arguments: [vscode.Uri.file(path.join(run.dir, RUN_FILE))] };
    return item;
  }
}
