/**
 * The worker thread behind runDeviceJob (device.ts): walks the backend ladder with the user's
 * preference and, when asked, gathers the GPU facts and diagnoses them. Bundled as
 * dist/device-worker.js; the thread ends after one answer, so a native package it loaded is
 * never left in the language server.
 */
import { selectBackend } from '../engine/tfjs/backends';
import { diagnoseGpuSetup, GPU_PACKAGE } from '../engine/tfjs/gpu-diagnosis';
import { gatherGpuFacts } from '../engine/tfjs/gpu-facts';
import type { DeviceJob, DeviceJobResult } from './device';
import { serveJob } from './worker-job';

/** Loads a package by a name the bundler cannot see, so the optional native package stays external. */
const load = (name: string): void => {
  require(name);
};

serveJob<DeviceJob, DeviceJobResult>(async (job) => {
  const selected = await selectBackend({ preference: job.preference });
  const device = { backend: selected.backend, description: selected.description, skipped: selected.skipped.map((s) => ({ backend: s.backend, reason: s.reason })) };
  if (!job.diagnoseGpu) return { device };
  let facts = await gatherGpuFacts();
  // What loading the package throws names the shared library that is missing; only a machine with a GPU gets that far.
  if (facts.gpuPackage.installed && facts.nvidiaSmi?.gpus.length) {
    try {
      load(GPU_PACKAGE);
    } catch (error) {
      facts = await gatherGpuFacts(error instanceof Error ? error.message : String(error));
    }
  }
  const diagnosis = diagnoseGpuSetup(facts);
  return { device, gpu: { ready: diagnosis.ready, summary: diagnosis.summary, problems: diagnosis.problems.map((p) => ({ problem: p.problem, fix: p.fix })) } };
});
