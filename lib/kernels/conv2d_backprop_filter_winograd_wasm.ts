/**
 * The filter gradient of a 3x3 stride-1 convolution by Winograd's F(2x2, 3x3) on WebAssembly
 * SIMD: the path `conv2d_backprop_filter_wasm.ts` takes for the ResNet's and the modern CNN's 3x3
 * layers of 16-64 channels, with 2.25 times fewer multiply-adds than the direct kernel
 * (`conv2d_backprop_filter_direct_wasm.ts`).
 *
 * With the forward pass `Y = Aᵀ·[U ⊙ V]·A` of `conv2d_winograd_wasm.ts` (`V = Bᵀ·d·B` the 4x4
 * input block, `U = G·g·Gᵀ` the filter), the filter gradient is `dg = Gᵀ·dU·G` with
 * `dU[ξ] = Σ_blocks V[ξ]ᵀ · Ŷ[ξ]`, `Ŷ = A·dY·Aᵀ` the 2x2 block of the output gradient spread to
 * 4x4. So, a few rows of blocks at a time (the chunks of the forward kernel), the input and the
 * output gradient are transformed into scratch buffers, and for each of the 16 positions `ξ` the
 * product `V[ξ]ᵀ·Ŷ[ξ]` is added into `dU[ξ]` (`[ci, co]`, in L2): tiles of 3 input channels x 16
 * output channels, twelve accumulators, three splats of `V` and four vectors of `Ŷ` per block,
 * `f32x4.relaxed_madd` where the engine has relaxed SIMD. `dg` comes out of `dU` in JavaScript
 * (16 numbers per channel pair).
 *
 * {@linkcode winogradFilterGradApplies}: a 3x3 filter, stride 1, dilation 1, input and output
 * channels multiples of 4, an even output size.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { filterGradWinograd } from "./conv2d_backprop_filter_winograd_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.ones([1, 4, 4, 4]);
 * const dy = tf.ones([1, 2, 2, 4]); // a 3x3 valid conv, 4 → 4 channels
 * const info = tf.backend_util.computeConv2DInfo([1, 4, 4, 4], [3, 3, 4, 4], 1, 1, "valid");
 * const dw = filterGradWinograd(backend, x, dy, info);
 * // dw: [3, 3, 4, 4], every entry 4 (four output pixels, each reading a 1)
 * backend.disposeData(dw.dataId);
 * tf.dispose([x, dy]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { PaddedRows } from "./padded_rows_wasm.ts";
import { add, chunkRows, inputTransformBody, sub } from "./conv2d_winograd_wasm.ts";
import { atbBody, planeBytes, type WinogradShape } from "./winograd_products_wasm.ts";
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

/** Whether {@linkcode filterGradWinograd} computes this filter gradient. */
export function winogradFilterGradApplies(
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
    info.inChannels % 4 === 0 && info.outChannels % 4 === 0 && info.outHeight % 2 === 0 &&
    info.outWidth % 2 === 0 && Math.min(top, left, bottom, right) >= 0 &&
    x.dtype === "float32" && dy.dtype === "float32";
}

/**
 * `dyT(dy, y, rows)`: `Ŷ = A·dY·Aᵀ` of `rows` rows of 2x2 blocks of `dy` (`&dy[b, 2·r0, 0, 0]`)
 * into `y` (`[16][chunk·blocksW][co]`).
 */
function gradTransformBody(s: WinogradShape): number[] {
  const { co, blocksW } = s;
  const outW = 2 * blocksW;
  const P = 3;
  const y = (p: number, q: number) => P + p * 2 + q; // the 2x2 block
  const z = (i: number, q: number) => P + 4 + i * 2 + q; // A·dY: 4x2
  let next = P + 12;
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
  const code: number[] = [
    ...op.localGet(0),
    ...op.localSet(dRow),
    ...op.localGet(1),
    ...op.localSet(yRow),
    ...op.localGet(2),
    ...op.localSet(rowsLeft),
    ...op.loop,
    ...op.localGet(dRow),
    ...op.localSet(db),
    ...op.localGet(yRow),
    ...op.localSet(yb),
    ...op.i32Const(blocksW),
    ...op.localSet(bLeft),
    ...op.loop,
    ...op.localGet(db),
    ...op.localSet(dc),
    ...op.localGet(yb),
    ...op.localSet(yc),
    ...op.i32Const(co / 4),
    ...op.localSet(cLeft),
    ...op.loop,
  ];
  for (let p = 0; p < 2; p++) {
    for (let q = 0; q < 2; q++) {
      code.push(
        ...op.localGet(dc),
        ...op.v128Load(4 * (p * outW + q) * co),
        ...op.localSet(y(p, q)),
      );
    }
  }
  // z = A·dY, A = [[1, 0], [1, 1], [1, -1], [0, -1]].
  for (let q = 0; q < 2; q++) {
    code.push(...op.localGet(y(0, q)), ...op.localSet(z(0, q)));
    code.push(...add(y(0, q), y(1, q)), ...op.localSet(z(1, q)));
    code.push(...sub(y(0, q), y(1, q)), ...op.localSet(z(2, q)));
    code.push(...op.localGet(y(1, q)), ...op.f32x4Neg, ...op.localSet(z(3, q)));
  }
  // Ŷ = z·Aᵀ, stored at ξ = 4·i + j.
  const store = (i: number, j: number, value: number[]) =>
    code.push(...op.localGet(yc), ...value, ...op.v128Store((i * 4 + j) * plane));
  for (let i = 0; i < 4; i++) {
    store(i, 0, op.localGet(z(i, 0)));
    store(i, 1, add(z(i, 0), z(i, 1)));
    store(i, 2, sub(z(i, 0), z(i, 1)));
    store(i, 3, [...op.localGet(z(i, 1)), ...op.f32x4Neg]);
  }
  code.push(
    ...advanceBy(dc, 16),
    ...advanceBy(yc, 16),
    ...loopWhileCountingDown(cLeft),
    ...op.end,
    ...advanceBy(db, 4 * 2 * co),
    ...advanceBy(yb, 4 * co),
    ...loopWhileCountingDown(bLeft),
    ...op.end,
    ...advanceBy(dRow, 4 * 2 * outW * co),
    ...advanceBy(yRow, 4 * blocksW * co),
    ...loopWhileCountingDown(rowsLeft),
    ...op.end,
  );
  return functionBody([[12, V128], [next - P - 12, I32]], code);
}

/** The module's bytes for one shape: `inT`, `dyT` and `atb`. */
export function winogradFilterGradModuleBytes(
  shared: boolean,
  shape: WinogradShape,
  fused: boolean,
): Uint8Array {
  return moduleBytes(shared, 3, [
    { name: "inT", body: inputTransformBody(shape) },
    { name: "dyT", body: gradTransformBody(shape) },
    { name: "atb", body: atbBody(shape, fused), params: [I32, I32, I32, I32] },
  ]);
}

/** `dg = Gᵀ·dU·G` for every channel pair: `dU` `[16][ci·co]` into `dw` `[3, 3, ci, co]`. */
export function filterFromTransformed(du: Float32Array, n: number, dw: Float32Array): void {
  // Gᵀ = [[1, ½, ½, 0], [0, ½, -½, 0], [0, ½, ½, 1]].
  const g = [[1, 0.5, 0.5, 0], [0, 0.5, -0.5, 0], [0, 0.5, 0.5, 1]];
  const t = new Float64Array(12);
  for (let k = 0; k < n; k++) {
    for (let a = 0; a < 3; a++) {
      for (let j = 0; j < 4; j++) {
        let sum = 0;
        for (let i = 0; i < 4; i++) sum += g[a][i] * du[(i * 4 + j) * n + k];
        t[a * 4 + j] = sum;
      }
    }
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let sum = 0;
        for (let j = 0; j < 4; j++) sum += t[a * 4 + j] * g[b][j];
        dw[(a * 3 + b) * n + k] = sum;
      }
    }
  }
}

type Fns = {
  inT: (x: number, v: number, rows: number) => void;
  dyT: (dy: number, y: number, rows: number) => void;
  atb: (v: number, y: number, du: number, blocks: number) => void;
};

/**
 * `dW` (`[3, 3, Ci, Co]`) of a 3x3 stride-1 convolution from `x` and `dy` by Winograd's
 * F(2x2, 3x3); `info` is `computeConv2DInfo` of the forward conv
 * ({@linkcode winogradFilterGradApplies}). `fused` picks the multiply-add variant.
 */
export function filterGradWinograd(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  fused = fusedAvailable(),
): tf.TensorInfo {
  if (!winogradFilterGradApplies(info, x, dy)) {
    throw new Error("filterGradWinograd: takes 3x3 stride-1 filters, 4k channels, even outputs");
  }
  const { inChannels: ci, outChannels: co, outHeight: outH, outWidth: outW } = info;
  const [batch, height, width] = x.shape;
  const { top, left } = info.padInfo;
  const padH = outH + 2;
  const padW = outW + 2;
  const pad = { top, left, bottom: padH - height - top, right: padW - width - left };
  const blocksW = outW / 2;
  const blocksH = outH / 2;
  const chunk = chunkRows(blocksW, blocksH, ci, co);
  const shape: WinogradShape = { ci, co, padW, blocksW, chunk };
  // The padded input, a chunk's rows at a time (in cache; no padded copy of the whole tensor).
  const source = new PaddedRows(backend, x, pad, 2 * chunk + 2);
  const temps: tf.TensorInfo[] = [];
  try {
    // 16 planes of transformed input, of transformed dy, and dU.
    for (const s of [[4 * planeBytes(shape, ci)], [4 * planeBytes(shape, co)], [16, ci, co]]) {
      temps.push(backend.makeOutput(s, "float32"));
    }
    const [v, y, du] = temps;
    const dw = backend.makeOutput([3, 3, ci, co], "float32");
    const fns = instantiateOnHeap<Fns>(
      backend,
      `winogradFilterGrad-${JSON.stringify(shape)}-${fused}`,
      (shared) => winogradFilterGradModuleBytes(shared, shape, fused),
    );
    (backend.typedArrayFromHeap(du) as Float32Array).fill(0);
    const dyAt = backend.typedArrayFromHeap(dy).byteOffset;
    const vAt = backend.typedArrayFromHeap(v).byteOffset;
    const yAt = backend.typedArrayFromHeap(y).byteOffset;
    const duAt = backend.typedArrayFromHeap(du).byteOffset;
    for (let b = 0; b < batch; b++) {
      for (let r0 = 0; r0 < blocksH; r0 += chunk) {
        const rows = Math.min(chunk, blocksH - r0);
        fns.inT(source.at(b, 2 * r0, 2 * rows + 2), vAt, rows);
        fns.dyT(dyAt + 4 * ((b * outH + 2 * r0) * outW) * co, yAt, rows);
        fns.atb(vAt, yAt, duAt, rows * blocksW);
      }
    }
    filterFromTransformed(
      backend.typedArrayFromHeap(du) as Float32Array,
      ci * co,
      backend.typedArrayFromHeap(dw) as Float32Array,
    );
    return dw;
  } finally {
    source.free();
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
