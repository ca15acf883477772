/**
 * Training and inference speed of the example networks on every TensorFlow.js backend available
 * here, side by side with PyTorch on the same machine in the same run: images/s for a training
 * step (forward, backward, Adam update) and for inference, and each process's peak RSS, for the
 * tutorial's SimpleCNN32 (examples/simple_cnn_cifar.ocular) and ResNet18 (examples/resnet18.ocular
 * at 3x32x32), batch 128. Prints figures; asserts nothing.
 *
 *   npm run bench:train-speed
 *   node out/bench/train-speed.js --models SimpleCNN32 --backends wasm --steps 5 --rounds 3 --limit 300
 *   node out/bench/train-speed.js --profile --backends wasm      (kernel times of one training step)
 *   node out/bench/train-speed.js --threads 1                    (one thread: no data-parallel replicas)
 *   node out/bench/train-speed.js --priority                     (as root on a shared machine: see raisePriority)
 *
 * Each (backend, model) pair runs in its own process, so that the peak RSS is that model's and the
 * backend is the only one loaded; PyTorch's runs of the same model (bench/train_speed.py, 2 threads)
 * alternate with ours, so both meet the same load on a shared machine. A process that runs
 * past `--limit` seconds is stopped and reported as such (the pure-JavaScript `cpu` backend needs
 * minutes for a single ResNet18 step).
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendPreference } from '../server/src/engine/engine';
import { analyze } from '../server/src/language/analysis';
import { Random } from '../server/src/random';
import { NATIVE_PACKAGE } from '../server/src/engine/tfjs/backends';
import { packageInstalled } from '../server/src/engine/tfjs/gpu-facts';
import { TfjsEngine } from '../server/src/engine/tfjs/tfjs-engine';
import { trainingDevice } from '../server/src/training/run';
import { type Ceiling, describeCeiling, measureCeiling } from './wasm-ceiling';

const root = path.resolve(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const BATCH = 128;
const CLASSES = 10;

/** The benchmarked networks: the file they come from and the input line that sets them to 3x32x32. */
const MODELS: Record<string, { readonly file: string }> = {
  SimpleCNN32: { file: 'simple_cnn_cifar.ocular' },
  ResNet18: { file: 'resnet18.ocular' },
};

const BACKENDS: Record<string, BackendPreference> = { 'tfjs-node': 'native', wasm: 'wasm', cpu: 'cpu' };

interface Figures {
  readonly train_images_per_s: number;
  readonly infer_images_per_s: number;
  readonly peak_rss_mb: number;
  readonly device?: string;
  /** PyTorch's version, from bench/train_speed.py. */
  readonly torch?: string;
}

type Outcome = Figures | { readonly failed: string };

interface Options {
  readonly models: string[];
  readonly backends: string[];
  readonly steps: number;
  readonly rounds: number;
  readonly limit: number;
  readonly torch: boolean;
  readonly profile: boolean;
  /** Data-parallel training threads; the engine's choice (one per core on wasm and cpu) when absent. */
  readonly threads: number | undefined;
  /** Raise this session's scheduling group above the machine's other sessions (root, Linux). */
  readonly priority: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const list = (flag: string, all: string[]): string[] => {
    const chosen = value(flag)?.split(',') ?? all;
    const unknown = chosen.filter((name) => !all.includes(name));
    if (unknown.length > 0) throw new Error(`${flag}: unknown ${unknown.join(', ')} (choose from ${all.join(', ')})`);
    return chosen;
  };
  const backends = Object.keys(BACKENDS).filter((name) => name !== 'tfjs-node' || packageInstalled(NATIVE_PACKAGE));
  return {
    models: list('--models', Object.keys(MODELS)),
    backends: list('--backends', backends),
    steps: Number(value('--steps') ?? 3),
    rounds: Number(value('--rounds') ?? 2),
    limit: Number(value('--limit') ?? 240),
    torch: !argv.includes('--no-torch'),
    profile: argv.includes('--profile'),
    threads: value('--threads') === undefined ? undefined : Number(value('--threads')),
    priority: argv.includes('--priority'),
  };
}

/** The model analysed from its example file, its input set to 3x32x32. */
function loadModel(name: string) {
  const file = path.join(root, 'examples', MODELS[name]!.file);
  const source = fs.readFileSync(file, 'utf8').replace(/^(\s*input\s+)3x\d+x\d+/m, '$13x32x32');
  const model = analyze(source).models.find((m) => m.name === name);
  if (!model) throw new Error(`${file} has no model ${name}`);
  return model;
}

/**
 * Multiply-adds of one image: for inference the forward pass; for training also the weights'
 * gradients (as many again) and the inputs' gradients (as many again, less the first layer's,
 * whose input needs none). The few of pooling, batchnorm and the update are left out: this is the
 * product work alone.
 */
function multiplyAdds(name: string): { readonly train: number; readonly infer: number } {
  const model = loadModel(name);
  const first = model.layers.find((layer) => layer.macs > 0 && layer.ownParams > 0);
  return { train: 3 * model.totalMacs - (first?.macs ?? 0), infer: model.totalMacs };
}

/**
 * Where the rates stand against wasm's multiply-add ceiling: what PyTorch's rates and the issue's
 * multiples of them ask of it, and how much of it ours use. A wasm engine cannot go faster than
 * the ceiling allows, whatever its kernels, so a target that asks over 100% of it cannot be met in
 * WebAssembly on this machine.
 */
function ceilingReport(name: string, ceiling: Ceiling, reference: Figures | undefined, ours: Figures | undefined): string[] {
  const macs = multiplyAdds(name);
  const peak = Math.max(ceiling.plain.allThreads, ceiling.fused?.allThreads ?? 0);
  const share = (rate: number): string => `${fixed((100 * rate) / peak)}%`;
  const phase = (label: string, perImage: number, key: 'train_images_per_s' | 'infer_images_per_s', multiples: readonly number[]): string => {
    const parts = [`${label}: ${fixed(perImage / 1e6, 1)}M multiply-adds per image, at most ${fixed(peak / perImage)} images/s at the ceiling`];
    if (reference) parts.push(`PyTorch's ${fixed(reference[key], 1)} images/s are ${fixed((reference[key] * perImage) / 1e9, 1)} GMAC/s (${multiples.map((times) => `${times}× of them ask ${share(times * reference[key] * perImage)}`).join(', ')} of the ceiling)`);
    if (ours) parts.push(`ours use ${share(ours[key] * perImage)}`);
    return `  ${parts.join('; ')}.`;
  };
  return [`${name}, against ${fixed(peak / 1e9, 1)} GMAC/s on all cores:`, phase('training', macs.train, 'train_images_per_s', [1, 1.5, 2.5]), phase('inference', macs.infer, 'infer_images_per_s', [1, 3])];
}

/** One (backend, model) measurement, in this process: warm-up, then `steps` timed steps each. */
async function measure(backend: string, name: string, steps: number, profile: boolean, threads: number | undefined): Promise<Figures> {
  const engine = await TfjsEngine.create({ preference: BACKENDS[backend]! });
  if (engine.device.backend !== backend) throw new Error(`${backend} did not start: ${engine.device.skipped.map((s) => s.reason).join(' ')}`);
  const model = await engine.build(loadModel(name), {
    seed: 1,
    training: { optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, labelSmoothing: 0, accumulate: 1 },
    ...(threads ? { threads } : {}),
  });
  const random = new Random(7);
  const images = Float32Array.from({ length: BATCH * 3 * 32 * 32 }, () => random.next());
  const labels = Int32Array.from({ length: BATCH }, () => random.int(CLASSES));
  const rate = async (step: () => Promise<unknown>): Promise<number> => {
    await step(); // Warm-up: first calls compile and allocate.
    const start = performance.now();
    for (let i = 0; i < steps; i++) await step();
    return (BATCH * steps) / ((performance.now() - start) / 1000);
  };
  if (profile) {
    await model.trainStep({ images, labels }, 0.001);
    const info = await tf.profile(async () => {
      await model.trainStep({ images, labels }, 0.001);
      return [];
    });
    const byKernel = new Map<string, { ms: number; calls: number }>();
    for (const kernel of info.kernels) {
      const entry = byKernel.get(kernel.name) ?? { ms: 0, calls: 0 };
      entry.ms += Number(kernel.kernelTimeMs);
      entry.calls++;
      byKernel.set(kernel.name, entry);
    }
    const total = [...byKernel.values()].reduce((sum, e) => sum + e.ms, 0);
    console.log(`${name} on ${backend}: kernel time of one training step ${total.toFixed(0)} ms`);
    for (const [kernel, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) console.log(`  ${kernel.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.calls).padStart(4)} calls`);
  }
  const train = await rate(() => model.trainStep({ images, labels }, 0.001));
  const infer = await rate(() => model.predict(images));
  model.dispose();
  return { train_images_per_s: train, infer_images_per_s: infer, peak_rss_mb: process.resourceUsage().maxRSS / 1024, device: trainingDevice(engine.device, model.threads).description };
}

/** The best rates of two measurements of the same thing, and the higher peak memory. */
function better(a: Outcome | undefined, b: Outcome): Outcome {
  if (!a || 'failed' in a) return b;
  if ('failed' in b) return a;
  return {
    ...a,
    train_images_per_s: Math.max(a.train_images_per_s, b.train_images_per_s),
    infer_images_per_s: Math.max(a.infer_images_per_s, b.infer_images_per_s),
    peak_rss_mb: Math.max(a.peak_rss_mb, b.peak_rss_mb),
  };
}

/** Runs a command that prints one JSON object as its last line, within the time limit. */
function runJson(command: string, args: string[], limit: number): Outcome {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', timeout: limit * 1000, maxBuffer: 1 << 24 });
  // Lines before the figures are reports for people (the --profile tables).
  const report = result.stdout?.trim().split('\n').slice(0, -1) ?? [];
  if (report.length > 0) console.log(report.join('\n'));
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return { failed: `stopped after ${limit} s` };
  if (result.error) return { failed: result.error.message };
  if (result.signal) return { failed: result.signal === 'SIGTERM' ? `stopped after ${limit} s` : `killed by ${result.signal}` };
  const last = result.stdout.trim().split('\n').at(-1);
  if (result.status !== 0 || !last) return { failed: (result.stderr.trim().split('\n').at(-1) ?? '') || `exit code ${result.status}` };
  return JSON.parse(last) as Figures;
}

function torchAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
}

const fixed = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/**
 * Linux shares the cores between sessions (autogroups) before it looks at niceness, so on a
 * machine where other sessions keep the cores busy `nice` does not help a measurement; raising the
 * session's autogroup does, for this process and the PyTorch and engine processes it starts alike.
 */
function raisePriority(): string {
  try {
    fs.writeFileSync('/proc/self/autogroup', '-20');
    return `this session's scheduling group raised to nice -20 (${fs.readFileSync('/proc/self/autogroup', 'utf8').trim()})`;
  } catch (error) {
    return `the scheduling group could not be raised (${error instanceof Error ? error.message : String(error)}); figures share the cores with the machine's other work`;
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    console.log(JSON.stringify(await measure(argv[1]!, argv[2]!, Number(argv[3]), argv[4] === 'profile', argv[5] ? Number(argv[5]) : undefined)));
    return;
  }
  const options = parseOptions(argv);
  if (options.priority) console.log(`Priority: ${raisePriority()}.`);
  const torch = options.torch && torchAvailable();
  const cpu = os.cpus();
  console.log(`Training speed, batch ${BATCH}, 3x32x32, Adam; ${options.steps} timed steps after one warm-up step, best of ${options.rounds} alternating rounds; each run stopped after ${options.limit} s.`);
  console.log(`Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${fixed(os.totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}; load average at start ${load()}.`);
  if (!torch) console.log(options.torch ? `PyTorch: ${PYTHON} cannot import torch; no comparison.` : 'PyTorch: not asked for (--no-torch).');
  // Measured before the models, while nothing else of this run is loaded.
  const ceiling = options.backends.includes('wasm') ? await measureCeiling() : undefined;
  const rows: string[][] = [];
  const againstCeiling: string[] = [];
  for (const name of options.models) {
    // Rounds alternate PyTorch and ours, and each keeps its best rates: a burst of other work on a
    // shared machine then hurts neither side more than the other. A backend that failed is not retried.
    let reference: Outcome | undefined;
    const ours = new Map<string, Outcome>();
    for (let round = 0; round < options.rounds; round++) {
      if (torch) reference = better(reference, runJson(PYTHON, [path.join(root, 'bench', 'train_speed.py'), name, String(options.steps)], options.limit));
      for (const backend of options.backends) {
        const previous = ours.get(backend);
        if (previous && 'failed' in previous) continue;
        ours.set(backend, better(previous, runJson(process.execPath, [__filename, '--child', backend, name, String(options.steps), options.profile && round === 0 ? 'profile' : 'figures', ...(options.threads ? [String(options.threads)] : [])], options.limit)));
        console.log(`  measured ${name} on ${backend} (round ${round + 1}); load average ${load()}`);
      }
    }
    for (const [backend, outcome] of ours) {
      const ratio = (key: 'train_images_per_s' | 'infer_images_per_s' | 'peak_rss_mb'): string =>
        reference && !('failed' in reference) && !('failed' in outcome) ? `${(outcome[key] / reference[key]).toFixed(2)}×` : '–';
      rows.push(
        'failed' in outcome
          ? [name, backend, outcome.failed, '', '', '', '', '']
          : [name, `${backend} (${outcome.device})`, fixed(outcome.train_images_per_s, 1), ratio('train_images_per_s'), fixed(outcome.infer_images_per_s), ratio('infer_images_per_s'), fixed(outcome.peak_rss_mb), ratio('peak_rss_mb')],
      );
    }
    if (ceiling) {
      const figures = (outcome: Outcome | undefined): Figures | undefined => (outcome && !('failed' in outcome) ? outcome : undefined);
      againstCeiling.push(...ceilingReport(name, ceiling, figures(reference), figures(ours.get('wasm'))));
    }
    if (reference) {
      rows.push('failed' in reference ? [name, 'PyTorch', reference.failed, '', '', '', '', ''] : [name, `PyTorch ${reference.torch ?? ''} CPU, 2 threads`, fixed(reference.train_images_per_s, 1), '1.00×', fixed(reference.infer_images_per_s), '1.00×', fixed(reference.peak_rss_mb), '1.00×']);
    }
  }
  const header = ['model', 'engine', 'train img/s', 'vs PyTorch', 'inference img/s', 'vs PyTorch', 'peak RSS MB', 'vs PyTorch'];
  console.log();
  for (const row of [header, header.map(() => '---'), ...rows]) console.log(`| ${row.join(' | ')} |`);
  console.log();
  if (ceiling) {
    console.log(`WebAssembly SIMD multiply-add ceiling (bench/wasm-ceiling.ts: a GEMM tile over L1-resident panels, nothing else): f32x4.mul + f32x4.add ${describeCeiling(ceiling.plain)}${ceiling.fused ? `; relaxed SIMD's f32x4.relaxed_madd ${describeCeiling(ceiling.fused)}${ceiling.fused.flag ? ` (${ceiling.fused.flag})` : ''}` : ''}.`);
    for (const line of againstCeiling) console.log(line);
    console.log();
  }
  console.log(`Load average at the end: ${load()} (${cpu.length} cores; other work on the machine slows both sides alike).`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
