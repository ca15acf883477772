/**
 * WebAssembly SIMD kernels of our own, on the wasm backend's heap, for the products XNNPACK runs
 * slowly in training. XNNPACK is built for inference: its matrix products keep one tile of the
 * output in registers while they run down the whole shared dimension, and pack one operand anew
 * on every call. A convolution's filter gradient shares the dimension of every output position of
 * the batch (32,768 for SimpleCNN32's second convolution), so XNNPACK's tiles stream megabytes from
 * memory each, at about half the speed of its forward convolutions.
 *
 * `accumulate_MRxNR` adds to an MR×NR tile of C (rows `cStride` bytes apart) the products
 * Σ over positions of a[position, 0..MR) ⊗ b[position, 0..NR): the outer products of MR floats of
 * one operand, at `x` plus the position's offset, and NR floats of the other, at `y` plus
 * `yStep` bytes a position. Positions run over `images` × `rows` × `columns`, `a` advancing
 * `xImage`, `xRow` and `xColumn` bytes along each, so `a` can be a strided window of an image.
 * The tile stays in registers (MR·NR/4 vectors) for all the positions; the caller hands it few
 * enough positions that both operands stay in the cache, and calls again for the next ones.
 */
import { FunctionBody, I32, V128, type WasmMemory, kernelsOnMemory } from './wasm-assembler';

/** The tile shapes: 4 rows by 8 columns (the fastest on 128-bit SIMD), and the remainders. */
export const TILE_ROWS = 4;
export const TILE_COLUMNS = 8;

const PARAMETERS = ['c', 'x', 'y', 'tiles', 'images', 'rows', 'columns', 'xImage', 'xRow', 'xColumn', 'cStride', 'yStep'] as const;

function accumulateKernel(tileRows: number, tileColumns: number): FunctionBody {
  const f = new FunctionBody(PARAMETERS.length);
  const [c, x, y, tiles, images, rows, columns, xImage, xRow, xColumn, cStride, yStep] = PARAMETERS.map((_, i) => i) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number];
  const vectors = tileColumns / 4;
  const sums = Array.from({ length: tileRows }, () => Array.from({ length: vectors }, () => f.local(V128)));
  const b = Array.from({ length: vectors }, () => f.local(V128));
  const a = f.local(V128);
  const [row, xImageAt, xRowAt, xAt, yAt, tile, image, rowLeft, columnLeft] = Array.from({ length: 9 }, () => f.local(I32)) as [number, number, number, number, number, number, number, number, number];
  /** Visits the tile's rows of C, `row` holding each one's address. */
  const eachRow = (body: (r: number) => void): void => {
    f.get(c).set(row);
    for (let r = 0; r < tileRows; r++) {
      body(r);
      if (r + 1 < tileRows) f.advance(row, cStride);
    }
  };
  f.repeat(tiles, tile, () => {
    eachRow((r) => sums[r]!.forEach((sum, v) => f.get(row).load(16 * v).set(sum)));
    f.get(x).set(xImageAt);
    f.get(y).set(yAt);
    f.repeat(images, image, () => {
      f.get(xImageAt).set(xRowAt);
      f.repeat(rows, rowLeft, () => {
        f.get(xRowAt).set(xAt);
        f.repeat(columns, columnLeft, () => {
          b.forEach((vector, v) => f.get(yAt).load(16 * v).set(vector));
          for (let r = 0; r < tileRows; r++) {
            f.get(xAt).splat(4 * r).set(a);
            for (let v = 0; v < vectors; v++) f.get(sums[r]![v]!).get(a).get(b[v]!).mulF32x4().addF32x4().set(sums[r]![v]!);
          }
          f.advance(xAt, xColumn).advance(yAt, yStep);
        });
        f.advance(xRowAt, xRow);
      });
      f.advance(xImageAt, xImage);
    });
    eachRow((r) => sums[r]!.forEach((sum, v) => f.get(row).get(sum).store(16 * v)));
    // The next tile down: tileRows rows of C further, and as many floats further into each x window.
    f.get(row).get(cStride).add().set(c);
    f.step(x, 4 * tileRows);
  });
  return f;
}

/**
 * The kernels' exports: `accumulate_RxC` for R in 1..4 and C in 4 and 8, which run `tiles` tiles
 * one below the other (C's rows, and the floats of each x window, in steps of R).
 */
export type TileKernel = (c: number, x: number, y: number, tiles: number, images: number, rows: number, columns: number, xImage: number, xRow: number, xColumn: number, cStride: number, yStep: number) => void;

/** The kernels working on a backend's memory. */
const tileKernels = kernelsOnMemory<Record<string, TileKernel>>(() => {
  const functions = [];
  for (let r = 1; r <= TILE_ROWS; r++) for (const columns of [4, 8]) functions.push({ name: `accumulate_${r}x${columns}`, body: accumulateKernel(r, columns) });
  return functions;
});

/** The kernel of tiles `rows` (1 to `TILE_ROWS`) by `columns` (4 or `TILE_COLUMNS`) on `memory`. */
export function tileKernel(memory: WasmMemory, rows: number, columns: number): TileKernel {
  return tileKernels(memory)[`accumulate_${rows}x${columns}`]!;
}

/**
 * The product's shared dimension and C's rows in blocks whose operands stay in the cache: 64 of
 * the shared dimension measured 19.3 ms on a dense layer's 128×4096 · 4096×512, 32 20.7 and 128
 * 21.1.
 */
const PRODUCT_DEPTH_BLOCK = 64;
const PRODUCT_ROW_BLOCK = 128;

/**
 * C (m × n floats at `c`, rows n apart) += Σ over k of A[k, 0..m) ⊗ B[k, 0..n): A and B are the
 * row-major k × m and k × n matrices at `a` and `b` (addresses in `memory`), so C += Aᵀ·B. `n`
 * must be a multiple of 4. Blocks of the shared dimension and of C's rows keep both operands in
 * the cache while every column of tiles passes over them.
 */
export function accumulateProduct(memory: WasmMemory, c: number, a: number, b: number, m: number, n: number, k: number): void {
  const [aStride, bStride, cStride] = [m * 4, n * 4, n * 4];
  for (let k0 = 0; k0 < k; k0 += PRODUCT_DEPTH_BLOCK) {
    const depth = Math.min(PRODUCT_DEPTH_BLOCK, k - k0);
    for (let i0 = 0; i0 < m; i0 += PRODUCT_ROW_BLOCK) {
      const rows = Math.min(PRODUCT_ROW_BLOCK, m - i0);
      const [whole, rest] = [Math.floor(rows / TILE_ROWS), rows % TILE_ROWS];
      const x = a + k0 * aStride + i0 * 4;
      for (let j = 0; j < n; j += TILE_COLUMNS) {
        const columns = Math.min(TILE_COLUMNS, n - j);
        const [ct, y] = [c + (i0 * n + j) * 4, b + k0 * bStride + j * 4];
        if (whole > 0) tileKernel(memory, TILE_ROWS, columns)(ct, x, y, whole, 1, 1, depth, 0, 0, aStride, cStride, bStride);
        if (rest > 0) tileKernel(memory, rest, columns)(ct + whole * TILE_ROWS * cStride, x + whole * TILE_ROWS * 4, y, 1, 1, 1, depth, 0, 0, aStride, cStride, bStride);
      }
    }
  }
}
