/**
 * The results commands: *Ocular: Open Metrics Dashboard*, *Ocular: Evaluate Model* (pick a run
 * and a split; the language server evaluates it in a worker with progress, then the evaluation
 * opens) and *Ocular: Show Evaluation* (a run's last evaluation.json). Evaluate and Show take a
 * run folder as an argument when called from a view (the Runs view), and ask otherwise.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { EvaluateRequest } from '../../../protocol/protocol';
import { evaluationFile } from '../../../server/src/evaluation/store';
import { checkpointFile } from '../../../server/src/training/runs';
import { Dashboards } from './dashboard-panel';
import { EvaluationPanels } from './evaluation-panel';
import { workspaceRuns, type WorkspaceRun } from './runs';

export const OPEN_DASHBOARD_COMMAND = 'ocular.openDashboard';
export const EVALUATE_COMMAND = 'ocular.evaluateModel';
export const SHOW_EVALUATION_COMMAND = 'ocular.showEvaluation';

const hasCheckpoint = (run: WorkspaceRun): boolean => (['best', 'last'] as const).some((name) => fs.existsSync(checkpointFile(run.dir, name)));

async function pickRun(placeHolder: string, usable: (run: WorkspaceRun) => boolean, none: string): Promise<string | undefined> {
  const runs = (await workspaceRuns()).filter(usable);
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(none);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({ label: run.id, description: `${run.modelName} · ${run.status}`, detail: run.modelFile, dir: run.dir })),
    { placeHolder, matchOnDescription: true, ignoreFocusOut: true },
  );
  return picked?.dir;
}

async function pickSplit(): Promise<'test' | 'val' | 'train' | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'test', description: 'the held-out test split', split: 'test' as const },
      { label: 'val', description: 'the validation split', split: 'val' as const },
      { label: 'train', description: 'the training images, without augmentation', split: 'train' as const },
    ],
    { placeHolder: 'Split to evaluate on', ignoreFocusOut: true },
  );
  return picked?.split;
}

export function registerResults(client: LanguageClient, extensionUri: vscode.Uri): vscode.Disposable[] {
  const dashboards = new Dashboards(extensionUri);
  const evaluations = new EvaluationPanels(client, extensionUri);
  return [
    dashboards,
    evaluations,
    vscode.commands.registerCommand(OPEN_DASHBOARD_COMMAND, () => dashboards.open()),
    vscode.commands.registerCommand(EVALUATE_COMMAND, async (runDir?: string) => {
      const dir = typeof runDir === 'string' ? runDir : await pickRun('Run to evaluate (its best checkpoint)', hasCheckpoint, 'No trained run with a checkpoint in this workspace: train a model first.');
      if (!dir) return;
      const split = await pickSplit();
      if (!split) return;
      try {
        const result = await client.sendRequest(EvaluateRequest, { runDir: dir, split });
        evaluations.show(result.file);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!/cancelled/i.test(message)) void vscode.window.showErrorMessage(`Evaluation failed: ${message}`);
      }
    }),
    vscode.commands.registerCommand(SHOW_EVALUATION_COMMAND, async (runDir?: string) => {
      const dir = typeof runDir === 'string' ? runDir : await pickRun('Run whose evaluation to show', (run) => fs.existsSync(evaluationFile(run.dir)), 'No run in this workspace has been evaluated yet: run Ocular: Evaluate Model.');
      if (dir) evaluations.show(evaluationFile(dir));
    }),
  ];
}
