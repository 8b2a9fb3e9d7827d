/**
 * The passes of batch normalisation over channels-last float32 data on WebAssembly SIMD,
 * four channels at a time, for the wasm kernels of `batch_norm_wasm.ts`. Data is `rows` rows of
 * `4·vecs` floats (a row holds one or more pixels' channels, so that it is a whole number of
 * vectors); every per-channel operand (`shift`, `mean`, `scale`, ...) is one such row, laid out
 * like a data row, and every accumulator too:
 *
 * - `stats`: `sum += x - shift`, `sq += (x - shift)²` (a forward pass's per-channel sums, shifted
 *   so that the variance does not cancel);
 * - `affine`: `out = (x - mean) · scale + shift` (normalise and scale in one pass);
 * - `gradStats`: `sdy += dy`, `sdyx += dy · (x - mean)` (the backward pass's two sums);
 * - `gradInput`: `out = a · dy + b · (x - mean) + d` (the input gradient in one pass);
 * - `affineAddRelu`: `out = max((x - mean) · scale + shift + r, 0)` (batch norm, a residual sum and
 *   its ReLU in one pass: the ResNet's last batch norm of a block);
 * - `affineRelu`, `gradStatsRelu`, `gradInputRelu`: the same three with a ReLU after the affine
 *   pass (BN + ReLU as one layer): `affine < 0 ? 0 : affine` forward, and backward `dy` masked by
 *   `(x - mean) · scale + shift > 0`, the forward value recomputed from `x` (same instructions,
 *   same bits), so the ReLU costs no pass and no tensor of its own.
 *
 * The two summing passes walk the rows once per group of up to 4 vectors (`stats1`..`stats4`,
 * `gradStats1`..`gradStats4`), keeping the group's sums in locals: no store-to-load chain through
 * memory from one row to the next (`statsRows` and `gradStatsRows` call them group by group; a
 * caller's block of rows stays in cache between groups). Multiply-adds are `f32x4.relaxed_madd`
 * (fused where the CPU has FMA). Each function reads and writes tensors where they lie on the
 * backend's heap (byte addresses); accumulators are summed in float32, so callers sum blocks of
 * rows and add the blocks' sums in float64.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { affineRows, statsRows } from "./batch_norm_simd_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.tensor2d([[1, 2, 3, 4], [3, 6, 9, 12]]); // 2 rows, 4 channels
 * const zeros = tf.zeros([4]);
 * const sum = tf.zeros([4]);
 * const sq = tf.zeros([4]);
 * const heap = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
 * statsRows(backend, heap(x), heap(zeros), heap(sum), heap(sq), 2, 1);
 * console.log(await sum.data()); // [4, 8, 12, 16]
 * const mean = tf.tensor1d([2, 4, 6, 8]);
 * const scale = tf.tensor1d([1, 0.5, 1 / 3, 0.25]);
 * const y = tf.zeros([2, 4]);
 * affineRows(backend, heap(x), heap(mean), heap(scale), heap(zeros), heap(y), 2, 1);
 * console.log(await y.data()); // [-1, -1, -1, -1, 1, 1, 1, 1]
 * tf.dispose([x, zeros, sum, sq, mean, scale, y]);
 * ```
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { instantiateOnHeap } from "./wasm_simd_builder.ts";
import { batchNormModuleBytes, GROUP, RELU_GROUP } from "./batch_norm_simd_module_wasm.ts";

type Fn = (...args: number[]) => void;

function fns(backend: BackendWasm): Record<string, Fn> {
  return instantiateOnHeap<Record<string, Fn>>(backend, "batchNorm", batchNormModuleBytes);
}

/** `sum += x - shift`, `sq += (x - shift)²` over `rows` rows of `4·vecs` floats (heap addresses). */
export function statsRows(
  backend: BackendWasm,
  x: number,
  shift: number,
  sum: number,
  sq: number,
  rows: number,
  vecs: number,
): void {
  statsRowsOf(backend, vecs)(x, shift, sum, sq, rows);
}

/**
 * {@linkcode statsRows} for rows of `vecs` vectors, its functions looked up once (for callers that
 * sum many small pieces).
 */
export function statsRowsOf(
  backend: BackendWasm,
  vecs: number,
): (x: number, shift: number, sum: number, sq: number, rows: number) => void {
  const f = fns(backend);
  const groups: [Fn, number][] = [];
  for (let j = 0; j < vecs; j += GROUP) {
    groups.push([f[`stats${Math.min(GROUP, vecs - j)}`], 16 * j]);
  }
  const stride = 16 * vecs;
  return (x, shift, sum, sq, rows) => {
    for (const [g, o] of groups) g(x + o, shift + o, sum + o, sq + o, rows, stride);
  };
}

/**
 * `out = (x - mean) · scale + shift` over `rows` rows of `4·vecs` floats (heap addresses); with
 * `relu`, `that < 0 ? 0 : that`.
 */
export function affineRows(
  backend: BackendWasm,
  x: number,
  mean: number,
  scale: number,
  shift: number,
  out: number,
  rows: number,
  vecs: number,
  relu = false,
): void {
  fns(backend)[relu ? "affineRelu" : "affine"](x, out, mean, scale, shift, rows, vecs);
}

/**
 * `out = max((x - mean) · scale + shift + r, 0)` over `rows` rows of `4·vecs` floats (heap
 * addresses; `r` laid out as `x`).
 */
export function affineAddReluRows(
  backend: BackendWasm,
  x: number,
  r: number,
  per: { mean: number; scale: number; shift: number },
  out: number,
  rows: number,
  vecs: number,
): void {
  fns(backend).affineAddRelu(x, r, out, per.mean, per.scale, per.shift, rows, vecs);
}

/**
 * `sdy += dy`, `sdyx += dy · (x - mean)` over `rows` rows of `4·vecs` floats (heap addresses).
 * With `relu` (the forward pass's `scale` and `shift` rows), dy counts only where
 * `(x - mean) · scale + shift > 0`.
 */
export function gradStatsRows(
  backend: BackendWasm,
  dy: number,
  x: number,
  mean: number,
  sdy: number,
  sdyx: number,
  rows: number,
  vecs: number,
  relu?: { scale: number; shift: number },
): void {
  gradStatsRowsOf(backend, vecs, relu !== undefined)(dy, x, mean, sdy, sdyx, rows, relu);
}

/**
 * {@linkcode gradStatsRows} for rows of `vecs` vectors (with `relu`: the masked sums), its
 * functions looked up once (for callers that sum many blocks of rows).
 */
export function gradStatsRowsOf(
  backend: BackendWasm,
  vecs: number,
  relu: boolean,
): (
  dy: number,
  x: number,
  mean: number,
  sdy: number,
  sdyx: number,
  rows: number,
  mask?: { scale: number; shift: number },
) => void {
  const f = fns(backend);
  const group = relu ? RELU_GROUP : GROUP;
  const groups: [Fn, number][] = [];
  for (let j = 0; j < vecs; j += group) {
    const g = Math.min(group, vecs - j);
    groups.push([f[relu ? `gradStatsRelu${g}` : `gradStats${g}`], 16 * j]);
  }
  const stride = 16 * vecs;
  return (dy, x, mean, sdy, sdyx, rows, mask) => {
    for (const [fn, o] of groups) {
      if (mask) {
        fn(
          dy + o,
          x + o,
          mean + o,
          sdy + o,
          sdyx + o,
          rows,
          stride,
          mask.scale + o,
          mask.shift + o,
        );
      } else fn(dy + o, x + o, mean + o, sdy + o, sdyx + o, rows, stride);
    }
  };
}

/**
 * `out = a · dy + b · (x - mean) + d` over `rows` rows of `4·vecs` floats (heap addresses). With
 * a `shift` row (a ReLU after the forward pass's affine, whose scale was `a`), dy counts only
 * where `(x - mean) · a + shift > 0`.
 */
export function gradInputRows(
  backend: BackendWasm,
  dy: number,
  x: number,
  coefficients: { mean: number; a: number; b: number; d: number; shift?: number },
  out: number,
  rows: number,
  vecs: number,
): void {
  const { mean, a, b, d, shift } = coefficients;
  if (shift === undefined) fns(backend).gradInput(dy, x, out, mean, a, b, d, rows, vecs);
  else fns(backend).gradInputRelu(dy, x, out, mean, a, b, d, shift, rows, vecs);
}
