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
 * allocates the registers; the best counts. The modules are built with the engine's own assembler
 * (server/src/engine/tfjs/wasm-assembler.ts), as our kernels are. With `f32x4.relaxed_madd` (relaxed SIMD's fused
 * multiply-add, on by default from V8 11.4 and behind `--experimental-wasm-relaxed-simd` in Node
 * 20) the ceiling is measured again: tfjs's wasm binary does not use it, but a kernel of ours could.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FunctionBody, I32, V128, kernelsOnMemory, type WasmMemory } from '../server/src/engine/tfjs/wasm-assembler';

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
/** The depth of one pass over the panels: 8×256 and 256×16 floats fit in the L1 cache. */
const DEPTH = 256;
/** Where the second panel starts, and where the sum of the accumulators is written, in bytes. */
const SECOND_PANEL = 32768;
const RESULT = 65536 - 16;
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

/** The part of the WebAssembly API used here (the project's type library has no DOM declarations). */
const webAssembly = (globalThis as unknown as { WebAssembly: { Memory: new (size: { initial: number }) => WasmMemory } }).WebAssembly;

/**
 * `run(depth, repeats)`: `repeats` passes of `depth` steps of an MR×NR tile, each step NR/4 vector
 * loads of one panel, MR broadcast loads of the other and MR·NR/4 multiply-adds into accumulators
 * that stay in registers; the accumulators' sum is stored at the end, so that no work can be dropped.
 */
function tileFunction(rows: number, columns: number, fused: boolean): FunctionBody {
  const f = new FunctionBody(2);
  const [depth, repeats] = [0, 1];
  const vectors = columns / 4;
  const accumulators = Array.from({ length: rows * vectors }, () => f.local(V128));
  const panel = Array.from({ length: vectors }, () => f.local(V128));
  const broadcast = f.local(V128);
  const [pass, k, left, right] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  f.repeat(repeats, pass, () => {
    f.i32(0).set(left).i32(SECOND_PANEL).set(right);
    f.repeat(depth, k, () => {
      panel.forEach((b, v) => f.get(right).load(16 * v).set(b));
      for (let r = 0; r < rows; r++) {
        f.get(left).splat(4 * r).set(broadcast);
        for (let v = 0; v < vectors; v++) {
          const c = accumulators[r * vectors + v]!;
          if (fused) f.get(broadcast).get(panel[v]!).get(c).fusedMultiplyAddF32x4().set(c);
          else f.get(c).get(broadcast).get(panel[v]!).mulF32x4().addF32x4().set(c);
        }
      }
      f.step(left, 4 * rows).step(right, 4 * columns);
    });
  });
  f.i32(RESULT).get(accumulators[0]!);
  for (const c of accumulators.slice(1)) f.get(c).addF32x4();
  f.store();
  return f;
}

type Run = (depth: number, repeats: number) => void;

/** The tiles' module, compiled on first use in each thread. */
const tileKernels = (fused: boolean) => kernelsOnMemory<Record<string, Run>>(() => TILES.map(([rows, columns]) => ({ name: `tile_${rows}x${columns}`, body: tileFunction(rows, columns, fused) })));
const kernels = { plain: tileKernels(false), fused: tileKernels(true) };

interface Timing {
  readonly rows: number;
  readonly columns: number;
  readonly fused: boolean;
  readonly repeats: number;
  /** Threads wait on this word, so that they all start together. */
  readonly start?: Int32Array;
}

/** Runs a tile `repeats` times over the panels in a fresh memory and says how long it took, in ms. */
function timeTile({ rows, columns, fused, repeats, start }: Timing): number {
  const memory = new webAssembly.Memory({ initial: 1 });
  const values = new Float32Array(memory.buffer);
  for (let i = 0; i < values.length; i++) values[i] = 1e-3 * (i % 7);
  const run = (fused ? kernels.fused : kernels.plain)(memory)[`tile_${rows}x${columns}`]!;
  run(DEPTH, Math.max(1, repeats >> 3)); // Warm-up: V8 compiles the optimised code first.
  if (start) Atomics.wait(start, 0, 0);
  const began = performance.now();
  run(DEPTH, repeats);
  return performance.now() - began;
}

const REPEATS = 40000;

/** Multiply-adds per second of one tile on `threads` threads at once (one: this thread), best of three. */
async function tileRate(rows: number, columns: number, fused: boolean, threads: number): Promise<number> {
  const work = DEPTH * REPEATS * rows * columns * threads;
  let best = Infinity;
  for (let round = 0; round < 3; round++) best = Math.min(best, threads === 1 ? timeTile({ rows, columns, fused, repeats: REPEATS }) : await slowestOf({ rows, columns, fused, repeats: REPEATS }, threads));
  return work / (best / 1000);
}

/** How long the slowest of `threads` threads took to run the tile, all started at once, in ms. */
async function slowestOf(timing: Timing, threads: number): Promise<number> {
  const start = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from({ length: threads }, () => new Worker(__filename, { workerData: { ...timing, start } satisfies Timing }));
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
  let best: { rows: number; columns: number; rate: number } | undefined;
  for (const [rows, columns] of TILES) {
    const rate = await tileRate(rows, columns, fused, 1);
    if (!best || rate > best.rate) best = { rows, columns, rate };
  }
  const threads = os.availableParallelism();
  const { rows, columns, rate } = best!;
  return { tile: `${rows}×${columns}`, oneThread: rate, allThreads: await tileRate(rows, columns, fused, threads), threads };
}

/** Whether this Node compiles relaxed SIMD as it is. */
function relaxedSimdRuns(): boolean {
  try {
    kernels.fused(new webAssembly.Memory({ initial: 1 }));
    return true;
  } catch {
    return false;
  }
}

/**
 * The ceiling with and without the fused multiply-add. Where relaxed SIMD needs Node's flag, a
 * child process with the flag measures it; where even that fails, there is no fused figure.
 */
export async function measureCeiling(): Promise<Ceiling> {
  const plain = await measure(false);
  if (relaxedSimdRuns()) return { plain, fused: await measure(true) };
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
  parentPort!.postMessage(timeTile(workerData as Timing));
} else if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}
