/**
 * The backend and device training would use here, and why the GPU is or is not used, for the
 * status bar and `Ocular: Check GPU Setup`. Finding out loads TensorFlow.js and may try the native
 * packages, so it runs in a worker thread (`device-worker.ts`, bundled as `dist/device-worker.js`)
 * and never in the language server's own thread.
 */
import * as path from 'node:path';
import type { BackendPreference } from '../engine/engine';
import type { DeviceAnswer, GpuSetupAnswer } from '../../../protocol/protocol';
import { runWorkerJob } from './worker-job';

export interface DeviceJob {
  readonly preference: BackendPreference;
  /** Also diagnose the GPU setup (runs nvidia-smi and ldconfig). */
  readonly diagnoseGpu: boolean;
}

export interface DeviceJobResult {
  readonly device: DeviceAnswer;
  readonly gpu?: Omit<GpuSetupAnswer, 'device'>;
}

export function runDeviceJob(job: DeviceJob, signal?: AbortSignal, workerScript = path.join(__dirname, 'device-worker.js')): Promise<DeviceJobResult> {
  return runWorkerJob<DeviceJob, DeviceJobResult>(workerScript, job, signal ? { signal } : {});
}
