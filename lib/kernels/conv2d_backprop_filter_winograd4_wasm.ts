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
import {
  chunk4Rows,
  directInputApplies,
  INPUT_TRANSFORMS,
  type InputTransforms,
  transformInputRows,
  winograd4Fits,
} from "./conv2d_winograd_f4_wasm.ts";
import { inputTransform4Body, type Winograd4Shape } from "./winograd4_transforms_wasm.ts";
import { gradTransform4Body } from "./winograd4_grad_transform_wasm.ts";
import { atbBody, planeBytes } from "./winograd_products_wasm.ts";
import { PaddedRows } from "./padded_rows_wasm.ts";
import {
  filterFromSums4Simd,
  G4,
  WINOGRAD4_FILTER_SIMD,
} from "./winograd4_filter_transforms_wasm.ts";
import { fusedAvailable } from "./simd_at_b_wasm.ts";
import { I32, instantiateOnHeap, moduleBytes } from "./wasm_simd_builder.ts";

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
