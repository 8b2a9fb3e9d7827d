/**
 * The filter gradient of a 3x3 stride-1 convolution by Winograd's F(4x4, 3x3) on WebAssembly
 * SIMD: 36 multiplies per 4x4 block of output pixels and channel pair, where F(2x2, 3x3)
 * (`conv2d_backprop_filter_winograd_wasm.ts`) takes 64 for the same pixels. The path
 * `conv2d_backprop_filter_wasm.ts` takes for the ResNet's 3x3 layers (outputs of 32, 16 and 8
 * pixels a side).
 *
 * With the forward pass `Y = Aᵀ·[U ⊙ V]·A` of `conv2d_winograd_f4_wasm.ts` (`V = Bᵀ·d·B` the 6x6
 * input block, `U = G·g·Gᵀ`), the filter gradient is `dg = Gᵀ·dU·G` with
 * `dU[ξ] = Σ_blocks V[ξ]ᵀ·Ŷ[ξ]`, `Ŷ = A·dY·Aᵀ` the 4x4 block of the output gradient spread to 6x6.
 * A chunk at a time (a few rows of blocks of one image, or several small images), the input and
 * the output gradient are transformed into scratch buffers, and for each of the 36 positions the
 * product `V[ξ]ᵀ·Ŷ[ξ]` is added into `dU[ξ]` (the product kernel of the F(2x2, 3x3) path, its
 * accumulators in registers over all of the chunk's blocks). `dg` comes out of `dU` in float64.
 * The sums run over every block of the batch, as in the F(2x2, 3x3) path; the transforms' larger
 * constants (`A` has 8s) give a relative error of about 1e-5 against a direct sum.
 *
 * {@linkcode winograd4FilterGradComputes}: a 3x3 filter, stride 1, dilation 1, input and output
 * channels multiples of 4, an output that `winograd4Fits` (sides multiples of 4, or odd sizes
 * whose blocks are mostly output: the blocks past the edge read zeros);
 * {@linkcode winograd4FilterGradApplies}: the path takes outputs of 4k pixels a side only.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { filterGradWinograd4 } from "./conv2d_backprop_filter_winograd4_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.ones([1, 6, 6, 4]);
 * const dy = tf.ones([1, 4, 4, 4]); // a 3x3 valid conv, 4 → 4 channels
 * const info = tf.backend_util.computeConv2DInfo([1, 6, 6, 4], [3, 3, 4, 4], 1, 1, "valid");
 * const dw = filterGradWinograd4(backend, x, dy, info);
 * // dw: [3, 3, 4, 4], every entry 16 (sixteen output pixels, each reading a 1)
 * backend.disposeData(dw.dataId);
 * tf.dispose([x, dy]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { atbBody } from "./conv2d_backprop_filter_winograd_wasm.ts";
import {
  chunk4Rows,
  directInputApplies,
  INPUT_TRANSFORMS,
  inputTransform4Body,
  type InputTransforms,
  lastBlockSize,
  transformInputRows,
  winograd4Fits,
  type Winograd4Shape,
} from "./conv2d_winograd_f4_wasm.ts";
import { planeBytes } from "./conv2d_winograd_wasm.ts";
import { PaddedRows } from "./padded_rows_wasm.ts";
import {
  filterFromSums4Simd,
  G4,
  WINOGRAD4_FILTER_SIMD,
} from "./winograd4_filter_transforms_wasm.ts";
import { fusedAvailable } from "./simd_at_b_wasm.ts";
import {
  advanceBy,
  functionBody,
  I32,
  instantiateOnHeap,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
} from "./wasm_simd_builder.ts";

/**
 * Whether {@linkcode filterGradWinograd4} can compute this filter gradient: a 3x3 filter, stride
 * 1, dilation 1, 4k input and output channels, an output that `winograd4Fits`.
 */
export function winograd4FilterGradComputes(
  info: tf.backend_util.Conv2DInfo,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
): boolean {
  const { top, left } = info.padInfo;
  const [, height, width] = x.shape;
  const bottom = info.outHeight + 2 - height - top;
  const right = info.outWidth + 2 - width - left;
  return info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 &&
    info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.inChannels % 4 === 0 && info.outChannels % 4 === 0 &&
    winograd4Fits(info.outHeight, info.outWidth) && Math.min(top, left, bottom, right) >= 0 &&
    x.dtype === "float32" && dy.dtype === "float32";
}

/**
 * Whether {@linkcode filterGradWinograd4} is the path: it computes this gradient and the output's
 * sides are multiples of 4 (the ResNet's layers). On odd outputs (the article CNN's 11x11 layer)
 * it was only x1.03 on the step, and its rounding, larger than the direct kernel's (the
 * transforms' cancellations), moved weights after two Adam steps on 8 views a worker by 2.7e-4
 * relative against one thread on 16 (`tests/train/parallel_test.ts` allows 1e-4), so those keep
 * the direct kernel.
 */
export function winograd4FilterGradApplies(
  info: tf.backend_util.Conv2DInfo,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
): boolean {
  return winograd4FilterGradComputes(info, x, dy) && info.outHeight % 4 === 0 &&
    info.outWidth % 4 === 0;
}

/**
 * The sizes {@linkcode filterGradWinograd4} works in: `bytes` of one chunk's transformed input
 * (its transformed dy as many again), `sumBlocks` blocks (terms) summed in float32 before they
 * join the float64 sum.
 */
export const FILTER_GRAD4_SIZES = { bytes: 384 * 1024, sumBlocks: 1024 };

const get = (local: number) => op.localGet(local);
const add = (a: number[], b: number[]) => [...a, ...b, ...op.f32x4Add];
const sub = (a: number[], b: number[]) => [...a, ...b, ...op.f32x4Sub];
const mul = (a: number[], b: number[]) => [...a, ...b, ...op.f32x4Mul];

/**
 * `A·y` of four values `y(0..3)`, `A` = rows [1 0 0 0], [1 1 1 1], [1 -1 1 -1], [1 2 4 8],
 * [1 -2 4 -8], [0 0 0 1]; four scratch locals `t`, a local holding 4; `emit(k, value)` places
 * output `k` (0..5).
 */
function gradTransform4(
  y: (k: number) => number[],
  t: [number, number, number, number],
  four: number,
  emit: (k: number, value: number[]) => number[],
): number[] {
  const [e, o, e2, o2] = t;
  return [
    ...add(y(0), y(2)),
    ...op.localSet(e), // y0 + y2
    ...add(y(1), y(3)),
    ...op.localSet(o), // y1 + y3
    ...add(y(0), mul(y(2), get(four))),
    ...op.localSet(e2), // y0 + 4·y2
    ...add(y(1), mul(y(3), get(four))),
    ...op.localTee(o2),
    ...get(o2),
    ...op.f32x4Add,
    ...op.localSet(o2), // 2·y1 + 8·y3
    ...emit(0, y(0)),
    ...emit(1, add(get(e), get(o))),
    ...emit(2, sub(get(e), get(o))),
    ...emit(3, add(get(e2), get(o2))),
    ...emit(4, sub(get(e2), get(o2))),
    ...emit(5, y(3)),
  ];
}

/**
 * `dyT(dy, y, rows)`: `Ŷ = A·dY·Aᵀ` of `rows` rows of 4x4 blocks of `dy` (`&dy[b, 4·r0, 0, 0]`)
 * into `y` (36 planes of `[blocks][co]`); `last`: `dyTLast`, the last row of blocks. Pixels of
 * the blocks past the output's edge are zeros.
 */
function gradTransform4Body(s: Winograd4Shape, last: boolean): number[] {
  const { co, blocksW, outW } = s;
  const size = lastBlockSize(s);
  const rowsValid = last ? size.rows : 4;
  const P = 3;
  const y = (q: number) => P + q; // one row of the block
  const z = (p: number, j: number) => P + 4 + p * 6 + j; // rows transformed: 4 x 6
  const t: [number, number, number, number] = [P + 28, P + 29, P + 30, P + 31];
  const four = P + 32;
  const zero = P + 33;
  const V128S = 34;
  let next = P + V128S;
  const rowsLeft = next++;
  const dRow = next++;
  const yRow = next++;
  const db = next++;
  const yb = next++;
  const bLeft = next++;
  const dc = next++;
  const yc = next++;
  const cLeft = next++;
  const plane = planeBytes(s, co);
  /** One block of `cols` columns of dy (the rest of the 4x4 block are zeros). */
  const block = (cols: number): number[] => {
    const code: number[] = [
      ...get(db),
      ...op.localSet(dc),
      ...get(yb),
      ...op.localSet(yc),
      ...op.i32Const(co / 4),
      ...op.localSet(cLeft),
      ...op.loop,
    ];
    for (let p = 0; p < 4; p++) {
      for (let q = 0; q < 4; q++) {
        code.push(
          ...(p < rowsValid && q < cols
            ? [...get(dc), ...op.v128Load(4 * (p * outW + q) * co)]
            : get(zero)),
          ...op.localSet(y(q)),
        );
      }
      code.push(
        ...gradTransform4((k) => get(y(k)), t, four, (k, value) => [
          ...value,
          ...op.localSet(z(p, k)),
        ]),
      );
    }
    for (let j = 0; j < 6; j++) {
      code.push(
        ...gradTransform4((k) => get(z(k, j)), t, four, (k, value) => [
          ...get(yc),
          ...value,
          ...op.v128Store((k * 6 + j) * plane),
        ]),
      );
    }
    code.push(
      ...advanceBy(dc, 16),
      ...advanceBy(yc, 16),
      ...loopWhileCountingDown(cLeft),
      ...op.end,
      ...advanceBy(db, 4 * 4 * co),
      ...advanceBy(yb, 4 * co),
    );
    return code;
  };
  const full = size.cols === 4 ? blocksW : blocksW - 1; // blocks of 4 columns
  const code: number[] = [
    ...op.f32Const(4),
    ...op.f32x4Splat,
    ...op.localSet(four),
    ...op.f32Const(0),
    ...op.f32x4Splat,
    ...op.localSet(zero),
    ...get(0),
    ...op.localSet(dRow),
    ...get(1),
    ...op.localSet(yRow),
    ...get(2),
    ...op.localSet(rowsLeft),
    ...op.loop,
    ...get(dRow),
    ...op.localSet(db),
    ...get(yRow),
    ...op.localSet(yb),
    ...(full > 0
      ? [
        ...op.i32Const(full),
        ...op.localSet(bLeft),
        ...op.loop,
        ...block(4),
        ...loopWhileCountingDown(bLeft),
        ...op.end,
      ]
      : []),
    ...(full < blocksW ? block(size.cols) : []),
    ...advanceBy(dRow, 4 * 4 * outW * co),
    ...advanceBy(yRow, 4 * blocksW * co),
    ...loopWhileCountingDown(rowsLeft),
    ...op.end,
  ];
  return functionBody([[V128S, V128], [next - P - V128S, I32]], code);
}

/** The module's bytes for one shape: the input transforms, `dyT[Last]`, `atb` (36 positions). */
export function winograd4FilterGradModuleBytes(
  shared: boolean,
  shape: Winograd4Shape,
  fused: boolean,
): Uint8Array {
  return moduleBytes(shared, 3, [
    ...INPUT_TRANSFORMS.map(({ name, edges }) => ({
      name,
      body: inputTransform4Body(shape, edges),
    })),
    { name: "dyT", body: gradTransform4Body(shape, false) },
    { name: "dyTLast", body: gradTransform4Body(shape, true) },
    { name: "atb", body: atbBody(shape, fused, 36), params: [I32, I32, I32, I32] },
  ]);
}

const G = G4;

/**
 * `dg = Gᵀ·dU·G` for every channel pair: `dU` `[36][n]` into `dw` `[3, 3, n]` (float64 sums), in
 * JavaScript: what `filterFromSums4Simd` (`winograd4_filter_transforms_wasm.ts`) computes, kept for
 * comparisons ({@linkcode WINOGRAD4_FILTER_SIMD} off).
 */
export function filterFromTransformed4(
  du: ArrayLike<number>,
  n: number,
  dw: Float32Array,
): void {
  const t = new Float64Array(18); // Gᵀ·dU, 3x6
  for (let k = 0; k < n; k++) {
    for (let a = 0; a < 3; a++) {
      for (let j = 0; j < 6; j++) {
        let sum = 0;
        for (let i = 0; i < 6; i++) sum += G[i][a] * du[(i * 6 + j) * n + k];
        t[a * 6 + j] = sum;
      }
    }
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let sum = 0;
        for (let j = 0; j < 6; j++) sum += t[a * 6 + j] * G[j][b];
        dw[(a * 3 + b) * n + k] = sum;
      }
    }
  }
}

type Fns = InputTransforms & {
  dyT: (dy: number, y: number, rows: number) => void;
  dyTLast: (dy: number, y: number, rows: number) => void;
  atb: (v: number, y: number, du: number, blocks: number) => void;
};

/**
 * `dW` (`[3, 3, Ci, Co]`) of a 3x3 stride-1 convolution from `x` and `dy` by Winograd's
 * F(4x4, 3x3); `info` is `computeConv2DInfo` of the forward conv
 * ({@linkcode winograd4FilterGradApplies}). `fused` picks the multiply-add variant.
 */
export function filterGradWinograd4(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  fused = fusedAvailable(),
): tf.TensorInfo {
  if (!winograd4FilterGradComputes(info, x, dy)) {
    throw new Error(
      "filterGradWinograd4: takes 3x3 stride-1 filters, 4k channels, outputs of 4k pixels a side",
    );
  }
  const { inChannels: ci, outChannels: co, outHeight: outH, outWidth: outW } = info;
  const [batch, height, width] = x.shape;
  const { top, left } = info.padInfo;
  const pad = { top, left, bottom: outH + 2 - height - top, right: outW + 2 - width - left };
  const blocksW = Math.ceil(outW / 4);
  const blocksH = Math.ceil(outH / 4);
  const chunk = chunk4Rows(blocksW, blocksH, ci, co, batch, FILTER_GRAD4_SIZES.bytes);
  const rowsPer = Math.min(chunk, blocksH);
  const shape: Winograd4Shape = { ci, co, padW: 4 * blocksW + 2, blocksW, chunk, outH, outW };
  const xAt = backend.typedArrayFromHeap(x).byteOffset;
  // Blocks past the output's edge read zeros: padding below and right to whole blocks.
  const extra = { bottom: 4 * blocksH - outH, right: 4 * blocksW - outW };
  const source = extra.bottom === 0 && extra.right === 0 &&
      directInputApplies(pad, xAt, width, ci)
    ? { xAt }
    : new PaddedRows(
      backend,
      x,
      { ...pad, bottom: pad.bottom + extra.bottom, right: pad.right + extra.right },
      4 * rowsPer + 2,
    );
  const temps: tf.TensorInfo[] = [];
  try {
    // 36 planes of transformed input, of transformed dy, and dU.
    for (const s of [[9 * planeBytes(shape, ci)], [9 * planeBytes(shape, co)], [36, ci, co]]) {
      temps.push(backend.makeOutput(s, "float32"));
    }
    const [v, y, du] = temps;
    const dw = backend.makeOutput([3, 3, ci, co], "float32");
    const fns = instantiateOnHeap<Fns>(
      backend,
      `winograd4FilterGrad-${JSON.stringify(shape)}-${fused}`,
      (shared) => winograd4FilterGradModuleBytes(shared, shape, fused),
    );
    (backend.typedArrayFromHeap(du) as Float32Array).fill(0);
    const dyAt = backend.typedArrayFromHeap(dy).byteOffset;
    const vAt = backend.typedArrayFromHeap(v).byteOffset;
    const yAt = backend.typedArrayFromHeap(y).byteOffset;
    const duAt = backend.typedArrayFromHeap(du).byteOffset;
    const duF32 = () => backend.typedArrayFromHeap(du) as Float32Array;
    // The float64 sums, on the heap where the SIMD transform reads them (8-byte aligned).
    const sumInfo = backend.makeOutput([2 * 36 * ci * co], "float32");
    temps.push(sumInfo);
    const sumAt = backend.typedArrayFromHeap(sumInfo).byteOffset;
    const sums = () => new Float64Array(duF32().buffer, sumAt, 36 * ci * co);
    sums().fill(0);
    let filled = 0;
    let summed = 0; // blocks in du
    const multiply = () => {
      if (filled > 0) fns.atb(vAt, yAt, duAt, filled * blocksW);
      filled = 0;
    };
    for (let b = 0; b < batch; b++) {
      for (let r0 = 0; r0 < blocksH; r0 += rowsPer) {
        const rows = Math.min(rowsPer, blocksH - r0);
        if (filled + rows > chunk) multiply();
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
        const dyFrom = dyAt + 4 * ((b * outH + 4 * r0) * outW) * co;
        const yFrom = yAt + 4 * filled * blocksW * co;
        // The last row of blocks reads only the output's rows.
        const full = r0 + rows === blocksH ? rows - 1 : rows;
        if (full > 0) fns.dyT(dyFrom, yFrom, full);
        if (full < rows) {
          fns.dyTLast(dyFrom + 4 * 4 * full * outW * co, yFrom + 4 * full * blocksW * co, 1);
        }
        filled += rows;
      }
      summed += blocksH * blocksW;
      if (summed + blocksH * blocksW > FILTER_GRAD4_SIZES.sumBlocks || b === batch - 1) {
        // Float32 sums of a few images into float64 (the error of one float32 sum over the batch
        // grew as the square root of its terms: 7e-5 relative at 256 images of 32x32x16).
        summed = 0;
        multiply();
        const part = duF32();
        const sum = sums();
        for (let k = 0; k < sum.length; k++) sum[k] += part[k];
        part.fill(0);
      }
    }
    const dwView = backend.typedArrayFromHeap(dw) as Float32Array;
    if (WINOGRAD4_FILTER_SIMD.enabled) {
      filterFromSums4Simd(backend, sumAt, dwView.byteOffset, ci * co);
    } else filterFromTransformed4(sums(), ci * co, dwView);
    return dw;
  } finally {
    if (source instanceof PaddedRows) source.free();
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
