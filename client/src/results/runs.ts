/**
 * The training runs of the workspace, for the dashboard and the evaluation commands: every
 * `.ocular` file's runs folder (`<model folder>/.ocular/runs/<id>`), listed with the run
 * records' reader, newest first, each with the status to show (`interrupted` for a running
 * record whose process is gone). A runs folder that cannot be read is skipped; the others show.
 */
import * as vscode from 'vscode';
import { listRuns, runsFolderFor } from '../../../server/src/training/runs';

export interface WorkspaceRun {
  readonly dir: string;
  readonly id: string;
  readonly modelName: string;
  readonly modelFile: string;
  readonly status: string;
  readonly startedAt: string;
}

export async function workspaceRuns(): Promise<WorkspaceRun[]> {
  const files = await vscode.workspace.findFiles('**/*.ocular', '**/node_modules/**');
  const folders = [...new Set(files.map((f) => runsFolderFor(f.fsPath)))];
  const runs: WorkspaceRun[] = [];
  for (const folder of folders) {
    try {
      for (const run of listRuns(folder)) {
        // A run whose record cannot be read (being written, damaged) is left out this time.
        if (run.record && run.state) runs.push({ dir: run.dir, id: run.id, modelName: run.record.modelName, modelFile: run.record.modelFile, status: run.state, startedAt: run.record.startedAt });
      }
    } catch {
      // A runs folder that cannot be listed: its runs are left out this time.
    }
  }
  return runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}
