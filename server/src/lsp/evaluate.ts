/**
 * The language server's side of evaluation: `ocular/evaluate` evaluates a run in a worker thread
 * under a work-done progress with a cancel button (cancelling ends the thread and writes
 * nothing), and answers with the evaluation.json it wrote or an error saying why it could not;
 * `ocular/saliency` explains images with the run's checkpoint, in a worker cancelled with the request.
 */
import { ErrorCodes, LSPErrorCodes, ResponseError, type Connection } from 'vscode-languageserver/node';
import { EvaluateRequest, SaliencyRequest } from '../../../protocol/protocol';
import { evaluateInWorker, saliencyInWorker } from '../host/evaluation';
import type { EvaluationProgress } from '../evaluation/evaluate-model';

/** The first line of a worker's error, without the error class's name. */
const reason = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0]!.replace(/^\w*Error: /, '') : String(error));

const STAGES: Record<EvaluationProgress['stage'], string> = { load: 'loading the dataset', predict: 'predicting', speed: 'timing inference' };

export function registerEvaluation(connection: Connection, workspaceFolders: () => readonly string[]): void {
  connection.onRequest(EvaluateRequest, async (params, token) => {
    const progress = await connection.window.createWorkDoneProgress();
    progress.begin('Evaluating', 0, 'loading the run', true);
    const controller = new AbortController();
    const cancel = (): void => controller.abort(new Error('Evaluation cancelled.'));
    token.onCancellationRequested(cancel);
    progress.token.onCancellationRequested(cancel);
    try {
      return await evaluateInWorker(
        { runDir: params.runDir, ...(params.split ? { split: params.split } : {}), workspaceFolders: workspaceFolders() },
        { signal: controller.signal, onProgress: (p) => progress.report(p.stage === 'predict' ? Math.round((100 * p.done) / Math.max(1, p.total)) : p.stage === 'speed' ? 100 : 0, STAGES[p.stage]) },
      );
    } catch (error) {
      if (controller.signal.aborted) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'Evaluation cancelled.');
      throw new ResponseError(ErrorCodes.InternalError, reason(error));
    } finally {
      progress.done();
    }
  });

  connection.onRequest(SaliencyRequest, async (params, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort(new Error('Saliency cancelled.')));
    try {
      return { overlays: await saliencyInWorker(params.runDir, params.files, params.classes, { signal: controller.signal }) };
    } catch (error) {
      if (controller.signal.aborted) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'Saliency cancelled.');
      throw new ResponseError(ErrorCodes.InternalError, reason(error));
    }
  });
}
