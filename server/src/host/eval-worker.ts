/** The worker thread behind evaluateInWorker and saliencyInWorker (evaluation.ts). Bundled as dist/eval-worker.js. */
import { evaluateRun, runSaliency } from '../evaluation/run-evaluation';
import type { EvaluationProgress } from '../evaluation/evaluate-model';
import type { EvaluationJob, EvaluationJobResult } from './evaluation';
import { serveJob } from './worker-job';

serveJob<EvaluationJob, EvaluationJobResult, EvaluationProgress>(async (job, progress) => {
  if (job.job === 'saliency') return { overlays: await runSaliency(job.runDir, job.files, job.classes) };
  const { file, evaluation } = await evaluateRun(job.request, progress);
  return { file, accuracy: evaluation.accuracy, count: evaluation.count };
});
