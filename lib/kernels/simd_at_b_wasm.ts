/**
 * `out += Aᵀ·B` for float32 matrices already on the wasm backend's heap, on
 * WebAssembly SIMD, for the filter gradient of a convolution
 * (`conv2d_backprop_filter_patches_wasm.ts`): `A` is `[n, k]` (image patches,
 * whose rows may lie anywhere along a strided walk, {@linkcode Walk}), `B` is
 * `[n, c]` (the output gradient), `out` is `[k, c]`, and `n` is large (every
 * output pixel of the batch) while `k` and `c` are small.
 *
 * The backend has no fast kernel for that: its `BatchMatMul` runs a scalar
 * loop when `A` is transposed, and its XNNPACK path packs `B` (44 MB for the
 * article CNN's first layer) anew on every call. Here a tiny WebAssembly
 * module, assembled below instruction by instruction, imports the backend's
 * own memory and reads both operands where they lie: for each block of `R`
 * rows of `out` and `4·V` of its columns it keeps the `R·V` accumulator
 * vectors in locals and streams the rows of `A` and `B` through them (each
 * step: `V` vector loads of `B`, `R` splats of `A`, `R·V` multiplies and
 * adds). `R = 3`, `V = 4` (12 accumulators, 4 vectors of `B` and a splat,
 * about the 16 SIMD registers of x86-64) measured fastest: on the article
 * CNN's second layer (`[1024, 13, 13, 16]`, 3x3, 16→16) 41 ms, against 46 for
 * `R = 2`, 52 for `R = 1` and 42 for `R = 4`.
 *
 * Where the engine has relaxed SIMD (V8 does), each multiply and add is one
 * `f32x4.relaxed_madd`, fused on a CPU with FMA: 41 ms instead of 54 on that
 * layer, 95 instead of 109 on the ResNet's `[256, 32, 32, 16]` 3x3 16→16
 * (the article's first layer, 16 ms, is bound by memory). Results then
 * differ from the unfused variant's in the last bits (the same on every run
 * of one machine); both variants are tested.
 *
 * Requires `c % 4 === 0` ({@linkcode atBSupported}); every address is a byte
 * offset into the backend's heap (`typedArrayFromHeap(t).byteOffset`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  advance,
  blockUnlessAnyZero,
  functionBody,
  instantiateOnHeap,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
  I32,
} from "./wasm_simd_builder.ts";
 * import { initBackend } from "../backend.ts";
 * import { accumulateAtB } from "./simd_at_b_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]); // n = 3, k = 2
 * const b = tf.ones([3, 4]) as tf.Tensor2D; // c = 4
 * const out = tf.zeros([2, 4]);
 * const heap = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
 * accumulateAtB(backend, heap(a), heap(b), heap(out), 3, 2, 4);
 * await out.data(); // [9, 9, 9, 9, 12, 12, 12, 12] (column sums of a)
 * tf.dispose([a, b, out]);
 * ```
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  advance,
  blockUnlessAnyZero,
  functionBody,
  I32,
  instantiateOnHeap,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
} from "./wasm_simd_builder.ts";

/** Rows of `out` one block keeps in registers (with {@linkcode VECTORS} vectors per row). */
export const ROWS = 3;
/** f32x4 vectors of `out` per row in a full-width block (16 columns). */
export const VECTORS = 4;

/** Whether {@linkcode accumulateAtB} handles `c` columns. */
export function atBSupported(c: number): boolean {
  return c > 0 && c % 4 === 0;
}

// Parameters of every block function, all i32 byte addresses or byte strides.
const P = 0; // &A[first row of the walk, first row of the block]
const D = 1; // &B[row 0, first column of the block]
const OUT = 2; // &out[first row, first column of the block]
const ROWS_LEFT = 3; // rows of the walk over A per repetition (middle loop)
const COLS = 4; // steps per row of the walk (inner loop); B advances one row per step
const P_COL = 5; // bytes from one step of A to the next within a row
const P_ROW = 6; // bytes from one row of the walk over A to the next
const D_STRIDE = 7; // bytes from one row of B to the next (4·c)
const OUT_STRIDE = 8; // bytes from one row of out to the next (4·c)
const IMAGES_LEFT = 9; // repetitions of the whole walk (outermost loop)
const P_IMAGE = 10; // bytes from one repetition's first row of A to the next one's
const PARAMS = 11;

/** Body of the block function for `rows` x `vectors` accumulators. */
function blockBody(rows: number, vectors: number, fused: boolean): number[] {
  const acc = (r: number, v: number) => PARAMS + r * vectors + v;
  const dv = (v: number) => PARAMS + rows * vectors + v;
  const splat = PARAMS + rows * vectors + vectors;
  const pc = splat + 1; // i32: the walk's position in its current row
  const left = pc + 1; // i32: steps left in the current row
  const pr = left + 1; // i32: the walk's first position in its current row
  const rowsLeft = pr + 1; // i32: rows left in the current repetition
  const outRow = (r: number) =>
    r === 0 ? op.localGet(OUT) : [
      ...op.localGet(OUT),
      ...op.localGet(OUT_STRIDE),
      ...op.i32Const(r),
      ...op.i32Mul,
      ...op.i32Add,
    ];
  const code: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vectors; v++) {
      code.push(...outRow(r), ...op.v128Load(16 * v), ...op.localSet(acc(r, v)));
    }
  }
  code.push(...blockUnlessAnyZero(ROWS_LEFT, COLS, IMAGES_LEFT), ...op.loop); // repetitions
  code.push(...op.localGet(P), ...op.localSet(pr), ...op.localGet(ROWS_LEFT));
  code.push(...op.localSet(rowsLeft), ...op.loop); // rows
  code.push(...op.localGet(pr), ...op.localSet(pc), ...op.localGet(COLS), ...op.localSet(left));
  code.push(...op.loop); // steps of a row
  for (let v = 0; v < vectors; v++) {
    code.push(...op.localGet(D), ...op.v128Load(16 * v), ...op.localSet(dv(v)));
  }
  for (let r = 0; r < rows; r++) {
    code.push(...op.localGet(pc), ...op.f32Load(4 * r), ...op.f32x4Splat, ...op.localSet(splat));
    for (let v = 0; v < vectors; v++) {
      code.push(
        ...(fused
          ? [
            ...op.localGet(splat),
            ...op.localGet(dv(v)),
            ...op.localGet(acc(r, v)),
            ...op.f32x4RelaxedMadd,
          ]
          : [
            ...op.localGet(acc(r, v)),
            ...op.localGet(splat),
            ...op.localGet(dv(v)),
            ...op.f32x4Mul,
            ...op.f32x4Add,
          ]),
        ...op.localSet(acc(r, v)),
      );
    }
  }
  code.push(
    ...advance(pc, P_COL),
    ...advance(D, D_STRIDE),
    ...loopWhileCountingDown(left),
    ...op.end, // steps of a row
    ...advance(pr, P_ROW),
    ...loopWhileCountingDown(rowsLeft),
    ...op.end, // rows
    ...advance(P, P_IMAGE),
    ...loopWhileCountingDown(IMAGES_LEFT),
    ...op.end, // repetitions
    ...op.end, // block
  );
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vectors; v++) {
      code.push(...outRow(r), ...op.localGet(acc(r, v)), ...op.v128Store(16 * v));
    }
  }
  return functionBody([[rows * vectors + vectors + 1, V128], [4, I32]], code);
}

/** The block shapes the module exports, as `[rows, vectors]`, named `b<rows>x<vectors>`. */
const SHAPES: [number, number][] = [1, 2, 3, 4].flatMap((r) => [[r, 1], [r, VECTORS]]);

/** The module's bytes; its memory is imported as `env.memory` (`shared` as the backend's is). */
export function atBModuleBytes(shared: boolean, fused = false): Uint8Array {
  const functions = SHAPES.map(([r, v]) => ({ name: `b${r}x${v}`, body: blockBody(r, v, fused) }));
  return moduleBytes(shared, PARAMS, functions);
}

type BlockFn = (
  p: number,
  d: number,
  out: number,
  rows: number,
  cols: number,
  pCol: number,
  pRow: number,
  dStride: number,
  outStride: number,
  images: number,
  pImage: number,
) => void;

let relaxedSimd: boolean | undefined;

/** Whether this engine has relaxed SIMD (`f32x4.relaxed_madd`), so the fused variant runs. */
export function fusedAvailable(): boolean {
  relaxedSimd ??= WebAssembly.validate(atBModuleBytes(false, true) as BufferSource);
  return relaxedSimd;
}

/** The block functions, instantiated once per backend heap and variant. */
function blocks(backend: BackendWasm, fused: boolean): Record<string, BlockFn> {
  return instantiateOnHeap(backend, `atB-${fused}`, (shared) => atBModuleBytes(shared, fused));
}

/**
 * Where the rows of `A` lie: `images · rows · cols` of them, row `(g, i, j)`
 * starting at byte `address + g·imageStride + i·rowStride + j·colStride`, with
 * its `k` entries contiguous. A plain row-major `[n, k]` matrix is
 * `{ images: 1, rows: 1, cols: n, colStride: 4·k }`.
 */
export interface Walk {
  address: number;
  images: number;
  rows: number;
  cols: number;
  imageStride: number;
  rowStride: number;
  colStride: number;
}

/**
 * `out[t, c] += Σ_m a_m[t]·b[m, c]` over the rows `a_m` of `A` that `walk`
 * visits (in order, `m = (g·rows + i)·cols + j`), with `b` `[m, c]`
 * and `out` `[k, c]` row-major float32 at heap byte addresses `b` and `out`.
 * Accumulates in float32, in row order. `maxRows` (1 to 4, default
 * {@linkcode ROWS}) caps the rows of `out` per register block; `fused`
 * (default: where {@linkcode fusedAvailable}) picks the multiply-add variant.
 */
export function accumulateWalkAtB(
  backend: BackendWasm,
  walk: Walk,
  b: number,
  out: number,
  k: number,
  c: number,
  maxRows = ROWS,
  fused = fusedAvailable(),
): void {
  if (!atBSupported(c)) throw new Error(`accumulateAtB needs a multiple of 4 columns, got ${c}`);
  const fns = blocks(backend, fused);
  const { address, images, rows: walkRows, cols, imageStride, rowStride, colStride } = walk;
  for (let row = 0; row < k;) {
    const rows = Math.min(maxRows, k - row);
    for (let col = 0; col < c;) {
      const vectors = c - col >= 4 * VECTORS ? VECTORS : 1;
      fns[`b${rows}x${vectors}`](
        address + 4 * row,
        b + 4 * col,
        out + 4 * (row * c + col),
        walkRows,
        cols,
        colStride,
        rowStride,
        4 * c,
        4 * c,
        images,
        imageStride,
      );
      col += 4 * vectors;
    }
    row += rows;
  }
}

/**
 * `out[k, c] += Σ_i a[i, k]·b[i, c]` over `n` rows, with `a` `[n, k]`, `b`
 * `[n, c]` and `out` `[k, c]`, all row-major float32 at the given heap byte
 * addresses. `fused` as in {@linkcode accumulateWalkAtB}.
 */
export function accumulateAtB(
  backend: BackendWasm,
  a: number,
  b: number,
  out: number,
  n: number,
  k: number,
  c: number,
  fused = fusedAvailable(),
): void {
  const walk = {
    address: a,
    images: 1,
    rows: 1,
    cols: n,
    imageStride: 0,
    rowStride: 0,
    colStride: 4 * k,
  };
  accumulateWalkAtB(backend, walk, b, out, k, c, ROWS, fused);
}
