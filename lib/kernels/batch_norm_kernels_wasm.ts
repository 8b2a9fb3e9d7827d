/**
 * The four wasm kernels of batch normalisation (`batch_norm_wasm.ts` has the ops that call them,
 * and runs the same math as tfjs ops on other backends): `SslChannelMoments` (per-channel mean and
 * biased variance), `SslChannelAffine` (`(x - mean) · scale + shift`), `SslChannelGradSums`
 * (`Σ dy`, `Σ dy · (x - mean)`) and `SslChannelGradInput` (`a · dy + b · (x - mean) + d`), each
 * one pass over channels-last float32 data where it lies on the backend's heap, on WebAssembly
 * SIMD (`batch_norm_simd_wasm.ts`); and the last three with a ReLU after the affine pass
 * (`SslChannelAffineRelu`, `SslChannelGradSumsRelu`, `SslChannelGradInputRelu`: `dy` masked where
 * the ReLU cut, the mask recomputed from `x`, `mean`, the scale and the shift); and
 * `SslChannelAffineAddRelu`, the affine pass with a residual added before its ReLU.
 *
 * Channels need not be a multiple of 4: a SIMD row then holds 2 or 4 pixels (per-channel operands
 * tiled to match) and the leftover pixels run in JavaScript. Sums are float32 over blocks of
 * {@linkcode BLOCK_ROWS} pixels, the blocks added in float64; the variance is taken of `x - K`,
 * with `K` the mean of the first 16 pixels of each channel (shifted sums: no cancellation when the
 * mean is large against the spread).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * import { batchNormWasmKernels, CHANNEL_MOMENTS } from "./batch_norm_kernels_wasm.ts";
 * await initBackend("wasm");
 * for (const k of batchNormWasmKernels) {
 *   if (tf.getKernel(k.kernelName, "wasm") === undefined) tf.registerKernel(k);
 * }
 * const x = tf.tensor2d([[1, 10], [3, 30]]);
 * const [mean, variance] = tf.engine().runKernel(CHANNEL_MOMENTS, { x }) as tf.Tensor[];
 * console.log(await mean.data(), await variance.data()); // [2, 20] [1, 100]
 * tf.dispose([x, mean, variance]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  affineAddReluRows,
  affineRows,
  gradInputRows,
  gradStatsRowsOf,
  statsRowsOf,
} from "./batch_norm_simd_wasm.ts";
import { cachedMoments } from "./conv_output_moments_wasm.ts";

/** Kernel names (wasm only). */
export const CHANNEL_MOMENTS = "SslChannelMoments";
/** See {@linkcode CHANNEL_MOMENTS}. */
export const CHANNEL_AFFINE = "SslChannelAffine";
/** See {@linkcode CHANNEL_MOMENTS}. */
export const CHANNEL_GRAD_SUMS = "SslChannelGradSums";
/** See {@linkcode CHANNEL_MOMENTS}. */
export const CHANNEL_GRAD_INPUT = "SslChannelGradInput";
/** `max((x - mean) · scale + shift, 0)`: the affine pass with a ReLU after it. */
export const CHANNEL_AFFINE_RELU = "SslChannelAffineRelu";
/**
 * `max((x - mean) · scale + shift + residual, 0)`: the affine pass, a residual sum and its ReLU
 * (inputs + `residual`, of x's shape).
 */
export const CHANNEL_AFFINE_ADD_RELU = "SslChannelAffineAddRelu";
/** The two sums of {@linkcode CHANNEL_GRAD_SUMS} of `dy` masked by that ReLU (inputs + scale, shift). */
export const CHANNEL_GRAD_SUMS_RELU = "SslChannelGradSumsRelu";
/** {@linkcode CHANNEL_GRAD_INPUT} of `dy` masked by that ReLU (inputs + shift; `a` is its scale). */
export const CHANNEL_GRAD_INPUT_RELU = "SslChannelGradInputRelu";

/** Pixels summed in float32 before their sums join the float64 totals. */
export const BLOCK_ROWS = 512;

/** Pixels whose mean is each channel's shift `K` of the shifted sums. */
const SHIFT_ROWS = 16;

/** How `pixels` rows of `c` channels are walked: SIMD rows of `period` pixels, then a tail. */
interface Plan {
  pixels: number;
  c: number;
  /** Pixels per SIMD row: 1, 2 or 4, so that a row is a whole number of vectors. */
  period: number;
  /** Floats in one SIMD row (`period · c`). */
  width: number;
  /** Vectors in one SIMD row. */
  vecs: number;
  /** SIMD rows. */
  rows: number;
  /** First pixel after the SIMD rows (the rest run in JavaScript). */
  tailFrom: number;
}

function planOf(x: tf.TensorInfo): Plan {
  const c = x.shape[x.shape.length - 1];
  const size = x.shape.reduce((a, b) => a * b, 1);
  const pixels = c === 0 ? 0 : size / c;
  const period = c % 4 === 0 ? 1 : c % 2 === 0 ? 2 : 4;
  const width = period * c;
  const rows = Math.floor(pixels / period);
  return { pixels, c, period, width, vecs: width / 4, rows, tailFrom: rows * period };
}

/** Floats of heap scratch, freed by `free` (allocations may move the heap: take views after). */
function scratch(backend: BackendWasm, floats: number): { info: tf.TensorInfo; free: () => void } {
  const info = backend.makeOutput([Math.max(floats, 1)], "float32");
  return { info, free: () => backend.disposeData(info.dataId) };
}

/** Writes `values` (one per channel) `period` times into `dst` from `at`. */
function tile(dst: Float32Array, at: number, values: ArrayLike<number>, period: number): void {
  const c = values.length;
  for (let p = 0; p < period; p++) {
    for (let k = 0; k < c; k++) dst[at + p * c + k] = values[k];
  }
}

/** Adds the SIMD row of accumulators at `src[at..]` into the per-channel `acc`, then zeroes it. */
function fold(acc: Float64Array, src: Float32Array, at: number, period: number): void {
  const c = acc.length;
  for (let p = 0; p < period; p++) {
    for (let k = 0; k < c; k++) acc[k] += src[at + p * c + k];
  }
  src.fill(0, at, at + period * c);
}

/** Pixels per float32 block, in SIMD rows. */
const blockRows = (plan: Plan) => Math.max(1, Math.floor(BLOCK_ROWS / plan.period));

function momentsWasm(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const plan = planOf(x);
  const { pixels, c, width, vecs, rows, period } = plan;
  const meanInfo = backend.makeOutput([c], "float32");
  const varInfo = backend.makeOutput([c], "float32");
  // Taken by the convolution that wrote x, while it was in cache (conv_output_moments_wasm.ts).
  const taken = cachedMoments(x);
  if (taken !== undefined && taken.mean.length === c) {
    (backend.typedArrayFromHeap(meanInfo) as Float32Array).set(taken.mean);
    (backend.typedArrayFromHeap(varInfo) as Float32Array).set(taken.variance);
    return [meanInfo, varInfo];
  }
  const work = scratch(backend, 3 * width); // shift, sum, sq rows
  try {
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const w = backend.typedArrayFromHeap(work.info) as Float32Array;
    const shift = new Float64Array(c);
    const first = Math.min(pixels, SHIFT_ROWS);
    for (let i = 0; i < first * c; i++) shift[i % c] += xs[i];
    for (let k = 0; k < c; k++) shift[k] = first > 0 ? Math.fround(shift[k] / first) : 0;
    tile(w, 0, shift, period);
    w.fill(0, width, 3 * width);
    const sum = new Float64Array(c);
    const sq = new Float64Array(c);
    const block = blockRows(plan);
    const stats = statsRowsOf(backend, vecs);
    const base = w.byteOffset;
    for (let r = 0; r < rows; r += block) {
      const n = Math.min(block, rows - r);
      stats(xs.byteOffset + 4 * r * width, base, base + 4 * width, base + 8 * width, n);
      fold(sum, w, width, period);
      fold(sq, w, 2 * width, period);
    }
    for (let i = plan.tailFrom * c; i < pixels * c; i++) {
      const d = xs[i] - shift[i % c];
      sum[i % c] += d;
      sq[i % c] += d * d;
    }
    const mean = backend.typedArrayFromHeap(meanInfo) as Float32Array;
    const variance = backend.typedArrayFromHeap(varInfo) as Float32Array;
    for (let k = 0; k < c; k++) {
      const m = sum[k] / pixels;
      mean[k] = shift[k] + m;
      variance[k] = Math.max(sq[k] / pixels - m * m, 0);
    }
  } finally {
    work.free();
  }
  return [meanInfo, varInfo];
}

/** The heap addresses of per-channel rows, tiled into scratch when a SIMD row holds several pixels. */
function channelRows(
  backend: BackendWasm,
  plan: Plan,
  rows: tf.TensorInfo[],
): { at: number[]; free: () => void } {
  if (plan.period === 1) {
    return { at: rows.map((t) => backend.typedArrayFromHeap(t).byteOffset), free: () => {} };
  }
  const work = scratch(backend, rows.length * plan.width);
  const w = backend.typedArrayFromHeap(work.info) as Float32Array;
  rows.forEach((t, i) => tile(w, i * plan.width, backend.typedArrayFromHeap(t), plan.period));
  return { at: rows.map((_, i) => w.byteOffset + 4 * i * plan.width), free: work.free };
}

/** `1` where the ReLU after the affine pass lets its gradient through (`z > 0`, as the SIMD mask). */
const passes = (z: number) => (z > 0 ? 1 : 0);

function affineWasm(args: Parameters<tf.KernelFunc>[0], relu = false): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, mean, scale, shift, residual } = args.inputs as Record<string, tf.TensorInfo>;
  const plan = planOf(x);
  const out = backend.makeOutput(x.shape, "float32");
  const per = channelRows(backend, plan, [mean, scale, shift]);
  try {
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const ys = backend.typedArrayFromHeap(out) as Float32Array;
    const rs = residual ? backend.typedArrayFromHeap(residual) as Float32Array : undefined;
    const [m, s, b] = per.at;
    if (rs) {
      const { rows, vecs } = plan;
      affineAddReluRows(
        backend,
        xs.byteOffset,
        rs.byteOffset,
        { mean: m, scale: s, shift: b },
        ys.byteOffset,
        rows,
        vecs,
      );
    } else {
      affineRows(backend, xs.byteOffset, m, s, b, ys.byteOffset, plan.rows, plan.vecs, relu);
    }
    const [mv, sv, bv] = [mean, scale, shift].map((t) => backend.typedArrayFromHeap(t));
    for (let i = plan.tailFrom * plan.c; i < xs.length; i++) {
      const k = i % plan.c;
      const a = Math.fround((xs[i] - mv[k]) * sv[k] + bv[k]);
      const z = rs ? Math.fround(a + rs[i]) : a;
      ys[i] = relu && z < 0 ? 0 : z; // NaN stays NaN, as the SIMD pmax and tfjs's ReLU
    }
  } finally {
    per.free();
  }
  return out;
}

function gradSumsWasm(args: Parameters<tf.KernelFunc>[0], relu = false): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { dy, x, mean, scale, shift } = args.inputs as Record<string, tf.TensorInfo>;
  const plan = planOf(x);
  const { c, width, vecs, rows, period } = plan;
  const sdyInfo = backend.makeOutput([c], "float32");
  const sdyxInfo = backend.makeOutput([c], "float32");
  const per = channelRows(backend, plan, relu ? [mean, scale, shift] : [mean]);
  const work = scratch(backend, 2 * width);
  try {
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const gs = backend.typedArrayFromHeap(dy) as Float32Array;
    const w = backend.typedArrayFromHeap(work.info) as Float32Array;
    const mv = backend.typedArrayFromHeap(mean) as Float32Array;
    w.fill(0);
    const sdy = new Float64Array(c);
    const sdyx = new Float64Array(c);
    const block = blockRows(plan);
    const sums = gradStatsRowsOf(backend, vecs, relu);
    const mask = relu ? { scale: per.at[1], shift: per.at[2] } : undefined;
    const base = w.byteOffset;
    for (let r = 0; r < rows; r += block) {
      const n = Math.min(block, rows - r);
      const offset = 4 * r * width;
      sums(
        gs.byteOffset + offset,
        xs.byteOffset + offset,
        per.at[0],
        base,
        base + 4 * width,
        n,
        mask,
      );
      fold(sdy, w, 0, period);
      fold(sdyx, w, width, period);
    }
    const [sv, bv] = relu ? [scale, shift].map((t) => backend.typedArrayFromHeap(t)) : [];
    for (let i = plan.tailFrom * c; i < xs.length; i++) {
      const k = i % c;
      const g = relu ? gs[i] * passes(Math.fround((xs[i] - mv[k]) * sv[k] + bv[k])) : gs[i];
      sdy[k] += g;
      sdyx[k] += g * (xs[i] - mv[k]);
    }
    (backend.typedArrayFromHeap(sdyInfo) as Float32Array).set(sdy);
    (backend.typedArrayFromHeap(sdyxInfo) as Float32Array).set(sdyx);
  } finally {
    work.free();
    per.free();
  }
  return [sdyInfo, sdyxInfo];
}

function gradInputWasm(args: Parameters<tf.KernelFunc>[0], relu = false): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, x, mean, a, b, d, shift } = args.inputs as Record<string, tf.TensorInfo>;
  const plan = planOf(x);
  const out = backend.makeOutput(x.shape, "float32");
  const per = channelRows(backend, plan, relu ? [mean, a, b, d, shift] : [mean, a, b, d]);
  try {
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const gs = backend.typedArrayFromHeap(dy) as Float32Array;
    const os = backend.typedArrayFromHeap(out) as Float32Array;
    const [m, av, bv, dv, sv] = per.at;
    gradInputRows(
      backend,
      gs.byteOffset,
      xs.byteOffset,
      { mean: m, a: av, b: bv, d: dv, ...(relu ? { shift: sv } : {}) },
      os.byteOffset,
      plan.rows,
      plan.vecs,
    );
    const [mt, at, bt, dt] = [mean, a, b, d].map((t) => backend.typedArrayFromHeap(t));
    const st = relu ? backend.typedArrayFromHeap(shift) : undefined;
    for (let i = plan.tailFrom * plan.c; i < xs.length; i++) {
      const k = i % plan.c;
      const g = st ? gs[i] * passes(Math.fround((xs[i] - mt[k]) * at[k] + st[k])) : gs[i];
      os[i] = at[k] * g + (bt[k] * (xs[i] - mt[k]) + dt[k]);
    }
  } finally {
    per.free();
  }
  return out;
}

type Args = Parameters<tf.KernelFunc>[0];

/** The kernels' registrations (wasm), for `tf.registerKernel`. */
export const batchNormWasmKernels: tf.KernelConfig[] = [
  [CHANNEL_MOMENTS, momentsWasm],
  [CHANNEL_AFFINE, (args: Args) => affineWasm(args)],
  [CHANNEL_GRAD_SUMS, (args: Args) => gradSumsWasm(args)],
  [CHANNEL_GRAD_INPUT, (args: Args) => gradInputWasm(args)],
  [CHANNEL_AFFINE_RELU, (args: Args) => affineWasm(args, true)],
  [CHANNEL_AFFINE_ADD_RELU, (args: Args) => affineWasm(args, true)],
  [CHANNEL_GRAD_SUMS_RELU, (args: Args) => gradSumsWasm(args, true)],
  [CHANNEL_GRAD_INPUT_RELU, (args: Args) => gradInputWasm(args, true)],
].map(([kernelName, kernelFunc]) => ({
  kernelName: kernelName as string,
  backendName: "wasm",
  kernelFunc: kernelFunc as unknown as tf.KernelFunc,
}));
