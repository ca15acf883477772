/**
 * The most multiply-adds per second WebAssembly SIMD can do on this machine: the ceiling no wasm
 * training kernel can pass, to set beside what PyTorch's native kernels reach (bench/train-speed
 * prints both). Prints figures; asserts nothing.
 *
 *   npm run bench:wasm-ceiling
 *
 * The kernel is the inner loop of a matrix product as the fastest GEMM libraries write it for
 * 128-bit SIMD (XNNPACK's wasmsimd micro-kernels): an MR×NR tile of accumulators kept in registers,
 * fed each step by NR/4 vector loads of one panel and MR broadcast loads of the other, over panels
 * small enough to stay in the L1 cache. Nothing else runs: no packing, no memory traffic beyond L1,
 * no other operations. Several tile shapes are tried, because the best one depends on how V8
 * allocates the registers; the best counts. With `f32x4.relaxed_madd` (relaxed SIMD's fused
 * multiply-add, on by default from V8 11.4 and behind `--experimental-wasm-relaxed-simd` in Node
 * 20) the ceiling is measured again: tfjs's wasm binary does not use it, but a kernel of ours could.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import wabt from 'wabt';

/** Multiply-adds per second: on one thread, and on one thread per core at once. */
export interface CeilingFigures {
  /** The tile, such as `5×8`. */
  readonly tile: string;
  readonly oneThread: number;
  readonly allThreads: number;
  readonly threads: number;
}

export interface Ceiling {
  /** Separate multiply and add, which is all tfjs's wasm binary (and Node 20 by default) has. */
  readonly plain: CeilingFigures;
  /** With relaxed SIMD's fused multiply-add, when this Node can run it (perhaps behind a flag). */
  readonly fused?: CeilingFigures & { readonly flag?: string };
}

const TILES: readonly (readonly [number, number])[] = [
  [4, 8],
  [5, 8],
  [6, 8],
  [8, 4],
  [4, 12],
  [3, 16],
];
/** The depth of one pass over the panels: 4×256 and 256×16 floats fit in the L1 cache. */
const DEPTH = 256;
/** Where the second panel starts in the module's one page of memory. */
const SECOND_PANEL = 32768;
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

/** The part of the WebAssembly API used here (the project's type library has no DOM declarations). */
interface WebAssemblyApi {
  instantiate(bytes: Uint8Array): Promise<{ instance: { exports: unknown } }>;
  validate(bytes: Uint8Array): boolean;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** The text of a module whose `run(depth, repeats)` multiplies-and-adds an MR×NR tile. */
function tileModule(rows: number, columns: number, fused: boolean): string {
  const vectors = columns / 4;
  const accumulators: string[] = [];
  for (let r = 0; r < rows; r++) for (let v = 0; v < vectors; v++) accumulators.push(`$c${r}_${v}`);
  const panel = Array.from({ length: vectors }, (_, v) => `$b${v}`);
  const step: string[] = panel.map((b, v) => `(local.set ${b} (v128.load offset=${16 * v} (local.get $pb)))`);
  for (let r = 0; r < rows; r++) {
    step.push(`(local.set $a (v128.load32_splat offset=${4 * r} (local.get $pa)))`);
    for (let v = 0; v < vectors; v++) {
      const c = `$c${r}_${v}`;
      step.push(
        fused
          ? `(local.set ${c} (f32x4.relaxed_madd (local.get $a) (local.get $b${v}) (local.get ${c})))`
          : `(local.set ${c} (f32x4.add (local.get ${c}) (f32x4.mul (local.get $a) (local.get $b${v}))))`,
      );
    }
  }
  // The sum is returned so that the compiler cannot drop the work.
  const sum = accumulators.slice(1).reduce((total, c) => `(f32x4.add ${total} (local.get ${c}))`, `(local.get ${accumulators[0]})`);
  return `(module
  (memory (export "memory") 1)
  (func (export "run") (param $depth i32) (param $repeats i32) (result f32)
    ${[...accumulators, ...panel, '$a'].map((name) => `(local ${name} v128)`).join(' ')}
    (local $pa i32) (local $pb i32) (local $k i32)
    (loop $repeat
      (local.set $pa (i32.const 0))
      (local.set $pb (i32.const ${SECOND_PANEL}))
      (local.set $k (local.get $depth))
      (loop $step
        ${step.join('\n        ')}
        (local.set $pa (i32.add (local.get $pa) (i32.const ${4 * rows})))
        (local.set $pb (i32.add (local.get $pb) (i32.const ${4 * columns})))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br_if $step (local.get $k)))
      (local.set $repeats (i32.sub (local.get $repeats) (i32.const 1)))
      (br_if $repeat (local.get $repeats)))
    (f32x4.extract_lane 0 ${sum})))`;
}

async function assemble(rows: number, columns: number, fused: boolean): Promise<Uint8Array> {
  const tools = await wabt();
  const module = tools.parseWat(`tile-${rows}x${columns}.wat`, tileModule(rows, columns, fused), { simd: true, relaxed_simd: true });
  try {
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

interface Timing {
  readonly bytes: Uint8Array;
  readonly repeats: number;
  /** Threads wait on this word, so that they all start together. */
  readonly start?: Int32Array;
}

/** Runs a tile module `repeats` times over the panels and says how long it took, in ms. */
async function timeTile({ bytes, repeats, start }: Timing): Promise<number> {
  const { instance } = await webAssembly.instantiate(bytes);
  const exports = instance.exports as { memory: { buffer: ArrayBuffer }; run: (depth: number, repeats: number) => number };
  const memory = new Float32Array(exports.memory.buffer);
  for (let i = 0; i < memory.length; i++) memory[i] = 1e-3 * (i % 7);
  exports.run(DEPTH, Math.max(1, repeats >> 3)); // Warm-up: V8 compiles the optimised code first.
  if (start) Atomics.wait(start, 0, 0);
  const began = performance.now();
  exports.run(DEPTH, repeats);
  return performance.now() - began;
}

/** Multiply-adds per second of one tile on `threads` threads at once (one: this thread). */
async function tileRate(bytes: Uint8Array, rows: number, columns: number, threads: number): Promise<number> {
  const repeats = 40000;
  const work = DEPTH * repeats * rows * columns;
  if (threads === 1) {
    let best = Infinity;
    for (let round = 0; round < 3; round++) best = Math.min(best, await timeTile({ bytes, repeats }));
    return work / (best / 1000);
  }
  let best = Infinity;
  for (let round = 0; round < 3; round++) best = Math.min(best, await slowestOf(bytes, repeats, threads));
  return (work * threads) / (best / 1000);
}

/** How long the slowest of `threads` threads took to run the tile, all started at once, in ms. */
async function slowestOf(bytes: Uint8Array, repeats: number, threads: number): Promise<number> {
  const start = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from({ length: threads }, () => new Worker(__filename, { workerData: { bytes, repeats, start } satisfies Timing }));
  const ready = workers.map((worker) => new Promise<number>((resolve, reject) => worker.once('message', resolve).once('error', reject)));
  // Each worker warms up before it waits; give them the time to get there, then release them all.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const slowest = Math.max(...(await Promise.all(ready)));
  await Promise.all(workers.map((worker) => worker.terminate()));
  return slowest;
}

async function measure(fused: boolean): Promise<CeilingFigures> {
  let best: { rows: number; columns: number; bytes: Uint8Array; rate: number } | undefined;
  for (const [rows, columns] of TILES) {
    const bytes = await assemble(rows, columns, fused);
    const rate = await tileRate(bytes, rows, columns, 1);
    if (!best || rate > best.rate) best = { rows, columns, bytes, rate };
  }
  const threads = os.availableParallelism();
  const { rows, columns, bytes, rate } = best!;
  return { tile: `${rows}×${columns}`, oneThread: rate, allThreads: await tileRate(bytes, rows, columns, threads), threads };
}

/** Whether this Node compiles relaxed SIMD as it is. */
async function relaxedSimdRuns(): Promise<boolean> {
  return webAssembly.validate(await assemble(4, 8, true));
}

/**
 * The ceiling with and without the fused multiply-add. Where relaxed SIMD needs Node's flag, a
 * child process with the flag measures it; where even that fails, there is no fused figure.
 */
export async function measureCeiling(): Promise<Ceiling> {
  const plain = await measure(false);
  if (await relaxedSimdRuns()) return { plain, fused: await measure(true) };
  const child = spawnSync(process.execPath, [RELAXED_FLAG, __filename, '--fused'], { encoding: 'utf8' });
  const last = child.stdout?.trim().split('\n').at(-1);
  if (child.status !== 0 || !last) return { plain };
  return { plain, fused: { ...(JSON.parse(last) as CeilingFigures), flag: RELAXED_FLAG } };
}

const giga = (rate: number): string => (rate / 1e9).toFixed(1);

/** One line for people: the best tile's rate on one thread and on all of them. */
export function describeCeiling(figures: CeilingFigures): string {
  return `${giga(figures.oneThread)} GMAC/s on one thread, ${giga(figures.allThreads)} on ${figures.threads} (tile ${figures.tile})`;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--fused') {
    console.log(JSON.stringify(await measure(true)));
    return;
  }
  const cpu = os.cpus();
  console.log(`WebAssembly SIMD multiply-add ceiling: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
  const ceiling = await measureCeiling();
  console.log(`f32x4.mul + f32x4.add: ${describeCeiling(ceiling.plain)}.`);
  console.log(
    ceiling.fused
      ? `f32x4.relaxed_madd: ${describeCeiling(ceiling.fused)}${ceiling.fused.flag ? ` (with ${ceiling.fused.flag})` : ''}.`
      : 'f32x4.relaxed_madd: this Node cannot run relaxed SIMD.',
  );
}

if (!isMainThread) {
  void timeTile(workerData as Timing).then((ms) => parentPort!.postMessage(ms));
} else if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}
