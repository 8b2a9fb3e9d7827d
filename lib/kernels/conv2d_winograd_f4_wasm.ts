/**
 * 3x3 stride-1 convolutions by Winograd's F(4x4, 3x3) (Lavin & Gray 2016, interpolation points
 * 0, ±1, ±2 and ∞) on WebAssembly SIMD: each 4x4 block of output pixels comes from the 6x6 block
 * of (zero-padded) input around it with 36 multiplies per channel pair, where F(2x2, 3x3)
 * (`conv2d_winograd_wasm.ts`) takes 64 for the same 16 pixels and a direct convolution 144. The
 * ResNet's 3x3 layers (outputs of 32, 16 and 8 pixels a side) take it for the forward pass and the
 * input gradient.
 *
 * The input block `d` becomes `V = Bᵀ·d·B`, the filter `g` becomes `U = G·g·Gᵀ` (both 6x6), the
 * 36 positions `ξ` are 36 matrix products `M[ξ] = V[ξ]·U[ξ]` over the channels (the product
 * kernel of `winograd_products_wasm.ts`, tiles of 3 blocks x 16 channels) and the outputs are
 * `Aᵀ·M·A`:
 *
 * ```text
 * Bᵀ = [4  0 -5  0  1  0]    G = [ 1/4     0     0]    Aᵀ = [1  1  1  1  1  0]
 *      [0 -4 -4  1  1  0]        [-1/6 -1/6  -1/6]         [0  1 -1  2 -2  0]
 *      [0  4 -4 -1  1  0]        [-1/6  1/6  -1/6]         [0  1  1  4  4  0]
 *      [0 -2 -1  2  1  0]        [1/24  1/12  1/6]         [0  1 -1  8 -8  1]
 *      [0  2 -1 -2  1  0]        [1/24 -1/12  1/6]
 *      [0  4  0 -5  0  1]        [   0     0     1]
 * ```
 *
 * The transformed blocks of a chunk stay in cache: a few rows of blocks of one image, or, on
 * small images (the 8x8 layers: 4 blocks an image), several whole images, whose blocks the
 * products take as one matrix. The results differ from a direct convolution's by about 1e-6
 * relative (the transforms' constants are small, the filter's transform is computed in float64).
 *
 * {@linkcode winograd4Applies}: a 3x3 filter, stride 1, input and output channels multiples of 4,
 * output height and width multiples of 4.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { winograd4Conv2d } from "./conv2d_winograd_f4_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.ones([1, 4, 4, 4]);
 * const w = tf.ones([3, 3, 4, 4]);
 * const out = winograd4Conv2d(backend, x, w, { top: 1, bottom: 1, left: 1, right: 1 });
 * // out: [1, 4, 4, 4]: 36 inside, 24 on the edges, 16 in the corners
 * backend.disposeData(out.dataId);
 * tf.dispose([x, w]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { Padding } from "./conv2d_direct_wasm.ts";
import { planeBytes, productBody, type WinogradShape } from "./winograd_products_wasm.ts";
import { PaddedRows } from "./padded_rows_wasm.ts";
import { OutputMoments } from "./conv_output_moments_wasm.ts";
import {
  G4,
  transformFilter4Simd,
  WINOGRAD4_FILTER_SIMD,
} from "./winograd4_filter_transforms_wasm.ts";
import { fusedAvailable } from "./simd_at_b_wasm.ts";
import {
  inputTransform4Body,
  outputTransform4Body,
  type RowEdges,
  type Winograd4Shape,
} from "./winograd4_transforms_wasm.ts";
import { I32, instantiateOnHeap, moduleBytes } from "./wasm_simd_builder.ts";

/** Bytes one chunk's transformed input may take (it and the products stay in L2). */
export const CHUNK4_BYTES = 128 * 1024;

/**
 * Rows of 4x4 blocks per chunk: as many as `bytes` ({@linkcode CHUNK4_BYTES} by default) allow
 * for the transformed blocks of `max(ci, co)` channels, at least 1; when a whole image fits, a
 * whole number of images (at most `batch`).
 */
export function chunk4Rows(
  blocksW: number,
  blocksH: number,
  ci: number,
  co: number,
  batch: number,
  bytes = CHUNK4_BYTES,
): number {
  const perRow = 36 * blocksW * Math.max(ci, co) * 4;
  const rows = Math.max(1, Math.floor(bytes / perRow));
  if (rows < blocksH) return rows;
  return blocksH * Math.max(1, Math.min(batch, Math.floor(rows / blocksH)));
}

/**
 * Whether {@linkcode winograd4Conv2d} can compute a convolution of `x` and `filter` (stride 1):
 * a 3x3 filter, input and output channels multiples of 4, float32.
 */
export function winograd4Computes(
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  outH: number,
  outW: number,
): boolean {
  const [kh, kw, ci, co] = filter.shape;
  return kh === 3 && kw === 3 && ci % 4 === 0 && co % 4 === 0 && x.shape[3] === ci &&
    outH > 0 && outW > 0 && x.dtype === "float32" && filter.dtype === "float32";
}

/**
 * Whether {@linkcode winograd4Conv2d} is the path for an output of `outH` x `outW` pixels: sides
 * multiples of 4, or odd sizes whose 4x4 blocks are mostly output (at least 60% of the pixels
 * computed: 11x11, 84%, and its input gradient's 13x13, 66%, in the article CNN; 3x3 and 5x5
 * not). Even sizes that are not multiples of 4 take F(2x2, 3x3), exactly.
 */
export function winograd4Fits(outH: number, outW: number): boolean {
  if (outH % 4 === 0 && outW % 4 === 0) return true;
  if (outH % 2 === 0 && outW % 2 === 0) return false;
  return (outH * outW) / (16 * Math.ceil(outH / 4) * Math.ceil(outW / 4)) >= 0.6;
}

/** Whether {@linkcode winograd4Conv2d} computes and fits this convolution (stride 1). */
export function winograd4Applies(
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  outH: number,
  outW: number,
): boolean {
  return winograd4Computes(x, filter, outH, outW) && winograd4Fits(outH, outW);
}

// ---- the module ----------------------------------------------------------------------------

/** The input transforms of a module: from padded rows, or straight from the image by its edges. */
export const INPUT_TRANSFORMS: readonly { name: string; edges?: RowEdges }[] = [
  { name: "inT" },
  { name: "inTop", edges: { top: true, bottom: false } },
  { name: "inMid", edges: { top: false, bottom: false } },
  { name: "inBottom", edges: { top: false, bottom: true } },
  { name: "inOne", edges: { top: true, bottom: true } },
];

/** The input transforms' exports. */
export type InputTransforms = Record<
  "inT" | "inTop" | "inMid" | "inBottom" | "inOne",
  (x: number, v: number, rows: number) => void
>;

/**
 * The input transform of `rows` rows of blocks of image `b` from row `r0` into `v`: from
 * `padded` when given (zero-padded rows), else straight from the image at `xAt` (padding 1 on every
 * side, {@linkcode directInputApplies}).
 */
export function transformInputRows(
  fns: InputTransforms,
  s: WinogradShape,
  blocksH: number,
  source: PaddedRows | { xAt: number },
  b: number,
  r0: number,
  rows: number,
  v: number,
): void {
  if (source instanceof PaddedRows) {
    fns.inT(source.at(b, 4 * r0, 4 * rows + 2), v, rows);
    return;
  }
  const { ci, padW, blocksW } = s;
  const w = padW - 2;
  const h = 4 * blocksH;
  const at = (row: number) => source.xAt + 4 * ((b * h + 4 * row - 1) * w - 1) * ci;
  const rowBytes = 4 * blocksW * ci;
  if (blocksH === 1) return fns.inOne(at(0), v, 1);
  let row = r0;
  const end = r0 + rows;
  if (row === 0) {
    fns.inTop(at(0), v, 1);
    row++;
    v += rowBytes;
  }
  const midEnd = Math.min(end, blocksH - 1);
  if (midEnd > row) {
    fns.inMid(at(row), v, midEnd - row);
    v += (midEnd - row) * rowBytes;
    row = midEnd;
  }
  if (row < end) fns.inBottom(at(row), v, 1);
}

/** Whether the input transforms read "same" images straight (benchmarks switch it off). */
export const WINOGRAD4_INPUT = { direct: true };

/**
 * Whether the input transform can read `x` (at heap address `xAt`) straight, without padded
 * rows: padding 1 on every side (a "same" 3x3 convolution), and `x` far enough into the heap for
 * the address of its padded corner.
 */
export function directInputApplies(pad: Padding, xAt: number, w: number, ci: number): boolean {
  return WINOGRAD4_INPUT.direct && pad.top === 1 && pad.bottom === 1 && pad.left === 1 &&
    pad.right === 1 &&
    xAt >= 4 * (w + 1) * ci;
}

/** The module's bytes for one shape: the input transforms, `mm` (36 positions), `outT[Last]`. */
export function winograd4ModuleBytes(
  shared: boolean,
  shape: Winograd4Shape,
  fused: boolean,
): Uint8Array {
  return moduleBytes(shared, 3, [
    ...INPUT_TRANSFORMS.map(({ name, edges }) => ({
      name,
      body: inputTransform4Body(shape, edges),
    })),
    { name: "mm", body: productBody(shape, fused, 36), params: [I32, I32, I32, I32] },
    { name: "outT", body: outputTransform4Body(shape, false) },
    { name: "outTLast", body: outputTransform4Body(shape, true) },
  ]);
}

// ---- the driver ----------------------------------------------------------------------------

const G = G4;

/**
 * `U = G·g·Gᵀ` of every filter `[3, 3, ci, co]`, as `[36][ci][co]` (in float64, then rounded), in
 * JavaScript: what `transformFilter4Simd` (`winograd4_filter_transforms_wasm.ts`) computes in
 * float32, kept for comparisons (`WINOGRAD4_FILTER_SIMD` off).
 */
export function transformFilter4(w: Float32Array, ci: number, co: number, out: Float32Array): void {
  const n = ci * co;
  const t = new Float64Array(18); // G·g, 6x3
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 3; j++) {
        t[i * 3 + j] = G[i][0] * w[j * n + k] + G[i][1] * w[(3 + j) * n + k] +
          G[i][2] * w[(6 + j) * n + k];
      }
    }
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        out[(i * 6 + j) * n + k] = t[i * 3] * G[j][0] + t[i * 3 + 1] * G[j][1] +
          t[i * 3 + 2] * G[j][2];
      }
    }
  }
}

type Fns = InputTransforms & {
  mm: (v: number, u: number, m: number, blocks: number) => void;
  outT: (m: number, out: number, rows: number) => void;
  outTLast: (m: number, out: number, rows: number) => void;
};

/**
 * The 3x3 stride-1 convolution of `x` (`[B, H, W, Ci]`) with `filter` (`[3, 3, Ci, Co]`),
 * zero-padded by `pad`, by Winograd's F(4x4, 3x3): a new `[B, outH, outW, Co]` tensor (see
 * {@linkcode winograd4Applies} for what it takes). `fused` picks the multiply-add variant. With
 * `moments`, the output's per-channel moments are taken as it is stored, for the batch norm that
 * follows (`conv_output_moments_wasm.ts`).
 */
export function winograd4Conv2d(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  pad: Padding,
  fused = fusedAvailable(),
  moments = false,
): tf.TensorInfo {
  const [batch, h, w, ci] = x.shape;
  const co = filter.shape[3];
  const padH = h + pad.top + pad.bottom;
  const padW = w + pad.left + pad.right;
  const outH = padH - 2;
  const outW = padW - 2;
  if (!winograd4Computes(x, filter, outH, outW) || Math.min(pad.top, pad.left) < 0) {
    throw new Error(
      `winograd4Conv2d: takes 3x3 filters and 4k channels; got x [${x.shape}], filter ` +
        `[${filter.shape}], output ${outH}x${outW}`,
    );
  }
  const blocksW = Math.ceil(outW / 4);
  const blocksH = Math.ceil(outH / 4);
  const chunk = chunk4Rows(blocksW, blocksH, ci, co, batch);
  const rowsPer = Math.min(chunk, blocksH); // rows of one image taken at a time
  const shape: Winograd4Shape = { ci, co, padW: 4 * blocksW + 2, blocksW, chunk, outH, outW };
  const xAt = backend.typedArrayFromHeap(x).byteOffset;
  // Blocks past the output's edge read zeros: padding below and right to whole blocks.
  const extra = { bottom: 4 * blocksH - outH, right: 4 * blocksW - outW };
  const source = extra.bottom === 0 && extra.right === 0 && directInputApplies(pad, xAt, w, ci)
    ? { xAt }
    : new PaddedRows(
      backend,
      x,
      { ...pad, bottom: pad.bottom + extra.bottom, right: pad.right + extra.right },
      4 * rowsPer + 2,
    );
  const temps: tf.TensorInfo[] = [];
  const stats = moments ? new OutputMoments(backend, co) : undefined;
  try {
    const u = backend.makeOutput([36, ci, co], "float32");
    temps.push(u);
    const v = backend.makeOutput([36 * planeBytes(shape, ci) / 4], "float32");
    temps.push(v);
    const m = backend.makeOutput([36 * planeBytes(shape, co) / 4], "float32");
    temps.push(m);
    const out = backend.makeOutput([batch, outH, outW, co], "float32");
    const fns = instantiateOnHeap<Fns>(
      backend,
      `winograd4-${JSON.stringify(shape)}-${fused}`,
      (shared) => winograd4ModuleBytes(shared, shape, fused),
    );
    if (WINOGRAD4_FILTER_SIMD.enabled) {
      const at = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;
      transformFilter4Simd(backend, at(filter), at(u), ci * co);
    } else {
      transformFilter4(
        backend.typedArrayFromHeap(filter) as Float32Array,
        ci,
        co,
        backend.typedArrayFromHeap(u) as Float32Array,
      );
    }
    const uAt = backend.typedArrayFromHeap(u).byteOffset;
    const vAt = backend.typedArrayFromHeap(v).byteOffset;
    const mAt = backend.typedArrayFromHeap(m).byteOffset;
    const oAt = backend.typedArrayFromHeap(out).byteOffset;
    // Pieces (rows of blocks of one image) gathered into a chunk, multiplied as one matrix.
    const pieces: { b: number; r0: number; rows: number; at: number }[] = [];
    let filled = 0;
    const flush = () => {
      fns.mm(vAt, uAt, mAt, filled * blocksW);
      for (const p of pieces) {
        const mFrom = mAt + 4 * p.at * blocksW * co;
        const oFrom = oAt + 4 * ((p.b * outH + 4 * p.r0) * outW) * co;
        // The last row of blocks stores only the output's rows.
        const full = p.r0 + p.rows === blocksH ? p.rows - 1 : p.rows;
        if (full > 0) fns.outT(mFrom, oFrom, full);
        if (full < p.rows) {
          fns.outTLast(
            mFrom + 4 * full * blocksW * co,
            oFrom + 4 * 4 * full * outW * co,
            1,
          );
        }
        stats?.add(oFrom, (Math.min(4 * (p.r0 + p.rows), outH) - 4 * p.r0) * outW);
      }
      pieces.length = 0;
      filled = 0;
    };
    for (let b = 0; b < batch; b++) {
      for (let r0 = 0; r0 < blocksH; r0 += rowsPer) {
        const rows = Math.min(rowsPer, blocksH - r0);
        if (filled + rows > chunk) flush();
        transformInputRows(
          fns,
          shape,
          blocksH,
          source,
          b,
          r0,
          rows,
          vAt + 4 * filled * blocksW * ci,
        );
        pieces.push({ b, r0, rows, at: filled });
        filled += rows;
      }
    }
    if (filled > 0) flush();
    stats?.finish(out);
    return out;
  } finally {
    stats?.free();
    if (source instanceof PaddedRows) source.free();
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
