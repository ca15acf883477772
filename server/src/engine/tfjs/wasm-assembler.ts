/**
 * A small WebAssembly assembler: enough of the binary format to build, at run time, a module of
 * SIMD kernels that works on the wasm backend's own memory (wasm-tiles.ts). Building the bytes
 * here from readable source keeps the package free of prebuilt binaries and of a build step; the
 * module is compiled once per thread, in well under a millisecond.
 *
 * Only what the kernels use is here: i32 and f64 parameters, i32 and v128 locals, structured
 * control flow, i32 arithmetic, f32 and v128 loads and stores, f32x4 and f64x2 arithmetic. Every function is exported
 * under its name, and the module imports one memory as `env.memory`.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** A WebAssembly memory; the project's type library has no DOM declarations, so only what is used. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** The memory of a wasm backend: the heap its tensors live in, which our kernels import. */
export function backendMemory(wasm: BackendWasm): WasmMemory {
  return (wasm.wasm as unknown as { asm: { memory: WasmMemory } }).asm.memory;
}

/** Where a tensor's data starts in the wasm backend's heap, in bytes: the address our kernels take. */
export function heapAddress(wasm: BackendWasm, tensor: TensorInfo): number {
  return (wasm.typedArrayFromHeap(tensor) as Float32Array).byteOffset;
}

/** The synchronous part of the WebAssembly API that compiles and instantiates a module. */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: { env: { memory: WasmMemory } }) => { exports: unknown };
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;


/** Value types, as the binary format spells them. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** Unsigned LEB128, the encoding of every index and size. */
function unsigned(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

/** Signed LEB128, the encoding of an `i32.const`. */
function signed(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...unsigned(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsigned(content.length), ...content];
}

/** A SIMD instruction: the 0xfd prefix and its opcode. */
const simd = (opcode: number): number[] => [0xfd, ...unsigned(opcode)];

/**
 * The body of one function, written as calls that each append an instruction. Locals are
 * numbered after the parameters in the order `local` hands them out.
 */
export class FunctionBody {
  readonly code: number[] = [];
  private readonly locals: number[] = [];

  /** `parameters` i32 parameters, or parameters of the given types. */
  constructor(
    readonly parameters: number,
    readonly parameterTypes: readonly number[] = Array<number>(parameters).fill(I32),
  ) {}

  /** A new local of the given type; its index. */
  local(type: number): number {
    this.locals.push(type);
    return this.parameters + this.locals.length - 1;
  }

  get(index: number): this {
    return this.emit(0x20, ...unsigned(index));
  }
  set(index: number): this {
    return this.emit(0x21, ...unsigned(index));
  }
  tee(index: number): this {
    return this.emit(0x22, ...unsigned(index));
  }
  i32(value: number): this {
    return this.emit(0x41, ...signed(value));
  }
  add(): this {
    return this.emit(0x6a);
  }
  sub(): this {
    return this.emit(0x6b);
  }
  mul(): this {
    return this.emit(0x6c);
  }
  /** i32.lt_u: 1 when the second value on the stack is below the first. */
  lessThan(): this {
    return this.emit(0x49);
  }
  /** `local += by` for an i32 local, where `by` is a local. */
  advance(index: number, by: number): this {
    return this.get(index).get(by).add().set(index);
  }
  /** `local += constant` for an i32 local. */
  step(index: number, constant: number): this {
    return this.get(index).i32(constant).add().set(index);
  }

  /** A loop that runs `body` while the counter local, counted down from `count` (a local, at least 1), stays above 0. */
  repeat(count: number, counter: number, body: () => void): this {
    this.get(count).set(counter);
    this.emit(0x03, 0x40); // loop
    body();
    this.get(counter).i32(1).sub().tee(counter);
    this.emit(0x0d, 0x00); // br_if to the loop's start
    return this.emit(0x0b);
  }
  /** Runs `body` only when the value on the stack is not 0. */
  when(body: () => void): this {
    this.emit(0x04, 0x40);
    body();
    return this.emit(0x0b);
  }

  /** v128.load from the address on the stack plus `offset` bytes. */
  load(offset = 0): this {
    return this.emit(...simd(0x00), 2, ...unsigned(offset));
  }
  /** v128.store of the vector on the stack at the address below it plus `offset` bytes. */
  store(offset = 0): this {
    return this.emit(...simd(0x0b), 2, ...unsigned(offset));
  }
  /** v128.load32_splat: the float at the address plus `offset`, in all four lanes. */
  splat(offset = 0): this {
    return this.emit(...simd(0x09), 2, ...unsigned(offset));
  }
  /** v128.const of four equal i32 lanes. */
  constantI32x4(value: number): this {
    const lane = [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
    return this.emit(...simd(0x0c), ...lane, ...lane, ...lane, ...lane);
  }
  /** i32x4.splat of the i32 on the stack. */
  splatI32x4(): this {
    return this.emit(...simd(0x11));
  }
  /** i32x4.eq: all ones in the lanes where the two vectors are equal. */
  equalI32x4(): this {
    return this.emit(...simd(0x37));
  }
  /** f32x4.gt: all ones in the lanes where the first vector is greater (false for NaN). */
  greaterF32x4(): this {
    return this.emit(...simd(0x44));
  }
  and(): this {
    return this.emit(...simd(0x4e));
  }
  /** v128.bitselect: bits of the first vector where the third has ones, of the second elsewhere. */
  bitselect(): this {
    return this.emit(...simd(0x52));
  }
  /** v128.load64_zero: the 8 bytes at the address plus `offset` in the low half, zeros above. */
  loadLow(offset = 0): this {
    return this.emit(...simd(0x5d), 3, ...unsigned(offset));
  }
  /** f64x2.promote_low_f32x4: the two low floats as doubles. */
  promoteLow(): this {
    return this.emit(...simd(0x5f));
  }
  addF64x2(): this {
    return this.emit(...simd(0xf0));
  }
  subF64x2(): this {
    return this.emit(...simd(0xf1));
  }
  mulF64x2(): this {
    return this.emit(...simd(0xf2));
  }
  divF64x2(): this {
    return this.emit(...simd(0xf3));
  }
  sqrtF64x2(): this {
    return this.emit(...simd(0xef));
  }
  /** f64x2.splat of the f64 on the stack. */
  splatF64x2(): this {
    return this.emit(...simd(0x14));
  }
  /** f32x4.demote_f64x2_zero: the two doubles rounded to floats in the low lanes, zeros above. */
  demote(): this {
    return this.emit(...simd(0x5e));
  }
  /** v128.store64_lane 0: the low 8 bytes of the vector on the stack at the address below it plus `offset`. */
  storeLow(offset = 0): this {
    return this.emit(...simd(0x5b), 3, ...unsigned(offset), 0);
  }
  addF32x4(): this {
    return this.emit(...simd(0xe4));
  }
  mulF32x4(): this {
    return this.emit(...simd(0xe6));
  }
  /**
   * f32x4.relaxed_madd: the first vector times the second plus the third, fused where the CPU can
   * (relaxed SIMD: Node 20 compiles it only with --experimental-wasm-relaxed-simd; bench/wasm-ceiling.ts).
   */
  fusedMultiplyAddF32x4(): this {
    return this.emit(...simd(0x105));
  }

  private emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  /** The function's entry in the code section. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const type of this.locals) {
      const last = groups.at(-1);
      if (last && last[1] === type) last[0]!++;
      else groups.push([1, type]);
    }
    const body = [...vector(groups.map(([count, type]) => [...unsigned(count!), type!])), ...this.code, 0x0b];
    return [...unsigned(body.length), ...body];
  }
}

/** One exported function: its name, its i32 parameter count and its body. */
export interface AssembledFunction {
  readonly name: string;
  readonly body: FunctionBody;
}

/**
 * The exports of a module of `functions` (built on first use), instantiated once per memory: one
 * instance per wasm backend, that is per thread.
 */
export function kernelsOnMemory<Exports>(functions: () => readonly AssembledFunction[]): (memory: WasmMemory) => Exports {
  let compiled: object | undefined;
  const instances = new WeakMap<WasmMemory, Exports>();
  return (memory) => {
    let exports = instances.get(memory);
    if (!exports) {
      compiled ??= assemble(functions());
      exports = new webAssembly.Instance(compiled, { env: { memory } }).exports as Exports;
      instances.set(memory, exports);
    }
    return exports;
  };
}

/** A compiled module that imports `env.memory` and exports the functions, which return nothing. */
function assemble(functions: readonly AssembledFunction[]): object {
  const signature = (body: FunctionBody): string => body.parameterTypes.join(',');
  const signatures = [...new Set(functions.map((f) => signature(f.body)))];
  const types = signatures.map((text) => [0x60, ...vector(text.split(',').map((type) => [Number(type)])), 0x00]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector(functions.map((f) => unsigned(signatures.indexOf(signature(f.body)))))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...unsigned(i)]))),
    ...section(10, vector(functions.map((f) => f.body.encode()))),
  ];
  return new webAssembly.Module(Uint8Array.from(bytes));
}
