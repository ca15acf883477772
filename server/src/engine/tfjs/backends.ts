/**
 * The backend ladder: TensorFlow.js runs on the fastest backend that loads here, in the order
 * tfjs-node-gpu (CUDA) → tfjs-node (native CPU) → wasm (XNNPACK, always installable) → cpu
 * (pure JavaScript, for tiny models). The native packages are optional dependencies that are
 * often absent; every rung passed over is reported with the reason, so the status bar and
 * `Check GPU Setup` can say why training is not faster.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// The gradients of every op are registered by the layers package's Node bundle; tfjs-core's own
// register_all_gradients module is ES-only and cannot be required in Node.
import '@tensorflow/tfjs-layers';

// Required rather than imported: the package declares itself free of side effects, so a bundler
// drops a bare import of it, and then the CPU backend and its kernels are never registered.
require('@tensorflow/tfjs-backend-cpu');
import type { BackendPreference, DeviceInfo, SkippedBackend } from '../engine';
import { diagnoseGpuSetup, GPU_PACKAGE, packageProblem, type GpuFacts } from './gpu-diagnosis';
import { gatherGpuFacts, packageInstalled } from './gpu-facts';
import { registerWasmTrainingKernels } from './wasm-kernels';

export const NATIVE_PACKAGE = '@tensorflow/tfjs-node';
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];

/**
 * The folder with the wasm backend's `.wasm` files. By default the package's own `dist` folder;
 * a bundled extension, which ships no node_modules, passes the folder it copied them to.
 * Undefined when there is neither.
 */
export function wasmDirectory(override?: string): string | undefined {
  if (override !== undefined) return override;
  // The bundles in dist/ (the packaged extension, `ocular`) have the files copied beside them.
  if (WASM_FILES.every((file) => fs.existsSync(path.join(__dirname, file)))) return __dirname;
  try {
    return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

export interface LadderOptions {
  readonly preference?: BackendPreference;
  readonly wasmDirectory?: string;
  /** Loads a native package (its side effect registers the `tensorflow` backend). */
  readonly load?: (name: string) => void;
  readonly installed?: (name: string) => boolean;
  readonly gatherFacts?: (loadError?: string) => Promise<GpuFacts>;
}

type Rung = Exclude<BackendPreference, 'auto'>;
const RUNGS: readonly Rung[] = ['gpu', 'native', 'wasm', 'cpu'];

type Outcome = { readonly backend: string; readonly description: string; readonly gpuSkipped?: string } | { readonly skipped: string };

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Loads a native package by a name the bundler cannot see, so it stays an optional, external module. */
const loadPackage = (name: string): void => {
  require(name);
};

async function tryGpu(options: LadderOptions): Promise<Outcome> {
  const gather = options.gatherFacts ?? gatherGpuFacts;
  const facts = await gather();
  const before = diagnoseGpuSetup(facts);
  // Without a GPU or the package there is nothing to load; the diagnosis says why.
  if (!facts.nvidiaSmi?.gpus.length || !facts.gpuPackage.installed) return { skipped: before.summary };
  try {
    (options.load ?? loadPackage)(GPU_PACKAGE);
  } catch (error) {
    return { skipped: diagnoseGpuSetup(await gather(message(error))).summary };
  }
  if (!(await tf.setBackend('tensorflow'))) return { skipped: `${GPU_PACKAGE} loaded, but its backend did not start.` };
  const gpu = facts.nvidiaSmi.gpus[0]!;
  // libtensorflow falls back to the CPU when CUDA libraries are missing; say so rather than claim the GPU.
  if (!before.ready) return { backend: 'tfjs-node-gpu', description: 'native TensorFlow on the CPU', gpuSkipped: before.summary };
  return { backend: 'tfjs-node-gpu', description: `${gpu.name}, CUDA 11.2 (driver ${gpu.driver})` };
}

async function tryNative(options: LadderOptions): Promise<Outcome> {
  const installed = (options.installed ?? packageInstalled)(NATIVE_PACKAGE);
  let loadError: string | undefined;
  if (installed) {
    try {
      (options.load ?? loadPackage)(NATIVE_PACKAGE);
    } catch (error) {
      loadError = message(error);
    }
  }
  const problem = packageProblem(NATIVE_PACKAGE, installed, loadError);
  if (problem) return { skipped: `${problem.problem} ${problem.fix}` };
  if (!(await tf.setBackend('tensorflow'))) return { skipped: `${NATIVE_PACKAGE} loaded, but its backend did not start.` };
  return { backend: 'tfjs-node', description: 'native TensorFlow on the CPU' };
}

async function tryWasm(options: LadderOptions): Promise<Outcome> {
  const directory = wasmDirectory(options.wasmDirectory);
  if (directory === undefined) return { skipped: 'The WebAssembly files were not found: the package is not installed here and no folder of copies was given.' };
  const missing = WASM_FILES.filter((file) => !fs.existsSync(path.join(directory, file)));
  if (missing.length > 0) return { skipped: `The WebAssembly files (${missing.join(', ')}) are missing from ${directory}.` };
  setWasmPaths(directory + path.sep);
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) return { skipped: `The WebAssembly backend did not start from ${directory}.` };
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = getThreadsCount();
  return { backend: 'wasm', description: `WebAssembly on the CPU (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'})` };
}

async function tryCpu(): Promise<Outcome> {
  if (!(await tf.setBackend('cpu'))) return { skipped: 'The JavaScript backend did not start.' };
  return { backend: 'cpu', description: 'plain JavaScript on the CPU (slow: for tiny models)' };
}

/**
 * Picks the backend: the preferred one, or the fastest that loads for `auto`; when the preferred
 * one cannot load, the next ones down the ladder, each skip recorded with its reason.
 */
export async function selectBackend(options: LadderOptions = {}): Promise<DeviceInfo> {
  // Production mode: no debug checks, and no console banner suggesting tfjs-node.
  tf.env().set('PROD', true);
  const preference = options.preference ?? 'auto';
  const skipped: SkippedBackend[] = [];
  for (const rung of RUNGS.slice(preference === 'auto' ? 0 : RUNGS.indexOf(preference))) {
    const outcome = rung === 'gpu' ? await tryGpu(options) : rung === 'native' ? await tryNative(options) : rung === 'wasm' ? await tryWasm(options) : await tryCpu();
    if ('skipped' in outcome) {
      skipped.push({ backend: rung === 'gpu' ? GPU_PACKAGE : rung === 'native' ? NATIVE_PACKAGE : rung, reason: outcome.skipped });
      continue;
    }
    if (outcome.gpuSkipped) skipped.push({ backend: 'GPU', reason: outcome.gpuSkipped });
    return { engine: 'tfjs', backend: outcome.backend, description: outcome.description, skipped };
  }
  throw new Error(`No TensorFlow.js backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join(' ')}`);
}
