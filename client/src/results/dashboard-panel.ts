/**
 * The metrics dashboard panel (webviews/dashboard): the curves of every run in the workspace,
 * live while a run trains. Runs are found through their model files' runs folders. While the
 * panel is open, each running run's metrics.jsonl is read incrementally (MetricsTail: a stat
 * when nothing was written) once a second, and the runs folders are listed again every few
 * seconds, so a run trained from the editor or from `ocular train` in a terminal updates alike,
 * whatever the file watcher of the editor host reports. New lines are posted as appends; a new
 * run makes a full refresh. Exports the page makes are saved where the user picks.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DashboardRun, WebviewPages } from '../../../protocol/protocol';
import { readRun, runState } from '../../../server/src/training/runs';
import { SinglePanel } from '../webviews/single-panel';
import { MetricsTail } from './metrics-tail';
import { workspaceRuns } from './runs';

const READ_EVERY_MS = 1000;
/** Runs folders are listed again every this many reads. */
const LIST_EVERY_READS = 5;

export class Dashboards extends SinglePanel<'dashboard'> {
  private timer: NodeJS.Timeout | undefined;
  private reads = 0;
  /** Set while a tick reads, so a slow read is not overtaken by the next tick. */
  private following = false;
  /** The runs the page has, by folder, with their metrics reader and last status. */
  private readonly known = new Map<string, { id: string; tail: MetricsTail; status: string }>();

  constructor(extensionUri: vscode.Uri) {
    super(extensionUri, { page: 'dashboard', viewType: 'ocular.dashboard' });
  }

  open(): void {
    this.reveal();
  }

  protected title(): string {
    return 'Training Metrics';
  }

  /** The page keeps its own selection; the runs are read afresh when it is ready. */
  protected restore(): void {}

  protected receive(message: WebviewPages['dashboard']['toHost']): void {
    if (message.type === 'ready') void this.sendAll();
    else if (message.type === 'save') void save(message.format, message.name, message.content);
  }

  protected override opened(): void {
    this.stopFollowing();
    this.timer = setInterval(() => void this.follow(), READ_EVERY_MS);
  }

  protected override closed(): void {
    this.stopFollowing();
  }

  private stopFollowing(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One tick: new lines of the running runs, and now and then a new run. */
  private async follow(): Promise<void> {
    if (this.following) return;
    this.following = true;
    try {
      if (++this.reads % LIST_EVERY_READS === 0) {
        const dirs = (await workspaceRuns()).map((r) => r.dir);
        if (dirs.length !== this.known.size || dirs.some((dir) => !this.known.has(dir))) return await this.sendAll();
      }
      for (const [dir, run] of this.known) if (run.status === 'running') await this.readRun(dir);
    } finally {
      this.following = false;
    }
  }

  /** Lists every run afresh and posts them all. */
  private async sendAll(): Promise<void> {
    const panel = this.panel;
    if (!panel) return;
    try {
      const runs: DashboardRun[] = [];
      this.known.clear();
      for (const run of await workspaceRuns()) {
        const tail = new MetricsTail(path.join(run.dir, 'metrics.jsonl'));
        const { epochs, batches } = tail.read();
        const status = run.status;
        this.known.set(run.dir, { id: run.id, tail, status });
        runs.push({ id: run.id, dir: run.dir, model: run.modelName, status, epochs, batches });
      }
      await panel.post({ type: 'runs', runs });
    } catch (error) {
      await panel.post({ type: 'error', message: `Cannot list the training runs: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  /** Posts a running run's new metrics lines and its status. */
  private async readRun(runDir: string): Promise<void> {
    const panel = this.panel;
    const run = this.known.get(runDir);
    if (!panel || !run) return;
    const { epochs, batches, resumed } = run.tail.read();
    // A resumed run superseded points the page has: every run is sent again, read whole.
    if (resumed) return this.sendAll();
    const status = statusOf(runDir, run.status);
    if (epochs.length === 0 && batches.length === 0 && status === run.status) return;
    run.status = status;
    await panel.post({ type: 'append', id: run.id, status, epochs, batches });
  }
}

/** The run's status to show, or `fallback` when its record cannot be read just now. */
function statusOf(runDir: string, fallback: string): string {
  try {
    return runState(readRun(runDir));
  } catch {
    return fallback;
  }
}

const FILTERS: Record<'csv' | 'json' | 'png', Record<string, string[]>> = { csv: { CSV: ['csv'] }, json: { JSON: ['json'] }, png: { 'PNG image': ['png'] } };

/** Asks where to save an export from the page and writes it. */
async function save(format: 'csv' | 'json' | 'png', name: string, content: string): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({ filters: FILTERS[format], ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, path.basename(name)) } : {}) });
  if (!target) return;
  const bytes = format === 'png' ? Buffer.from(content, 'base64') : Buffer.from(content, 'utf8');
  await vscode.workspace.fs.writeFile(target, bytes);
  void vscode.window.showInformationMessage(`Saved ${target.fsPath}`);
}
