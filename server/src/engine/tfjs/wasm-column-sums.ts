/**
 * The sums of the columns of a row-major float matrix, in doubles, as WebAssembly SIMD kernels of
 * our own (wasm-assembler.ts): a bias's gradient and batchnorm's statistics sum every position
 * of a batch per channel. Two channels a vector, widened to doubles; eight rows are added to the
 * running sums in order before they are stored again, so the sums are the JavaScript loop's to
 * the bit (wasm-kernels.ts `columnSums`, which odd channel counts still take).
 */
import { FunctionBody, I32, V128, type WasmMemory, kernelsOnMemory } from './wasm-assembler';

/** Rows added in one pass over the sums. */
const ROWS_PER_PASS = 8;

const PARAMETERS = ['source', 'totals', 'passes', 'pairs', 'rowStride'] as const;

/**
 * `add_rows_R`: for `passes` passes of R rows each (`rowStride` bytes apart), adds every pair of
 * columns of the rows, in order, to the pair of doubles at `totals`.
 */
function addRows(rows: number): FunctionBody {
  const f = new FunctionBody(PARAMETERS.length);
  const [source, totals, passes, pairs, rowStride] = PARAMETERS.map((_, i) => i) as number[] as [number, number, number, number, number];
  const sum = f.local(V128);
  const [pass, pair, from, to, at] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  f.repeat(passes, pass, () => {
    f.get(source).set(from);
    f.get(totals).set(to);
    f.repeat(pairs, pair, () => {
      f.get(to).load().set(sum);
      f.get(from).set(at);
      for (let r = 0; r < rows; r++) {
        f.get(sum).get(at).loadLow().promoteLow().addF64x2().set(sum);
        if (r + 1 < rows) f.advance(at, rowStride);
      }
      f.get(to).get(sum).store();
      f.step(from, 8).step(to, 16);
    });
    f.get(source).get(rowStride).i32(rows).mul().add().set(source);
  });
  return f;
}

type AddRows = (source: number, totals: number, passes: number, pairs: number, rowStride: number) => void;

const kernels = kernelsOnMemory<Record<string, AddRows>>(() => [
  { name: `add_rows_${ROWS_PER_PASS}`, body: addRows(ROWS_PER_PASS) },
  { name: 'add_rows_1', body: addRows(1) },
]);

/**
 * Adds the column sums of the `rows` × `channels` matrix at `source` to the doubles at `totals`
 * (addresses in `memory`; `channels` even).
 */
export function addColumnSums(memory: WasmMemory, source: number, totals: number, rows: number, channels: number): void {
  const exported = kernels(memory);
  const passes = Math.floor(rows / ROWS_PER_PASS);
  const [pairs, rowStride] = [channels / 2, channels * 4];
  if (passes > 0) exported[`add_rows_${ROWS_PER_PASS}`]!(source, totals, passes, pairs, rowStride);
  const rest = rows % ROWS_PER_PASS;
  if (rest > 0) exported['add_rows_1']!(source + passes * ROWS_PER_PASS * rowStride, totals, rest, pairs, rowStride);
}
