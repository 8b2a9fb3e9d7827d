/**
 * 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2016) on
 * WebAssembly SIMD, for the forward pass and the input gradient of the ResNet's and the modern
 * CNN's 3x3 layers of 16-64 channels on tfjs's `wasm` backend.
 *
 * Each 2x2 block of output pixels is computed from the 4x4 block of (zero-padded) input around it
 * with 16 multiplies per channel pair instead of 36: the input block `d` becomes `V = Bᵀ·d·B`, the
 * filter `g` becomes `U = G·g·Gᵀ` (both 4x4, adds and subtractions only for `V`), the 16
 * positions `ξ` are 16 matrix products `M[ξ] = V[ξ]·U[ξ]` over the channels, and the outputs are
 * `Aᵀ·M·A`. XNNPACK, as tfjs 4.22 builds it, runs these layers as direct products at about
 * 14 GMAC/s on the 2-core Xeon; the products here are the same SIMD work (tiles of 3 blocks x 16
 * channels, `f32x4.relaxed_madd` where the engine has relaxed SIMD) on 2.25 times fewer
 * multiply-adds. To keep the transformed blocks in cache, the image is taken a few rows of blocks
 * at a time ({@linkcode chunkRows}): transform them into a scratch buffer, multiply, transform
 * back into the output, and on to the next rows. One module is assembled per layer shape, every
 * size a constant. The rounding differs from a direct convolution's by a few units in the last
 * place (relative error about 1e-6).
 *
 * {@linkcode winogradApplies}: a 3x3 filter, stride 1, dilation 1, input and output channels
 * multiples of 4, an even output size.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { winogradConv2d } from "./conv2d_winograd_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.ones([1, 4, 4, 4]);
 * const w = tf.ones([3, 3, 4, 4]);
 * const out = winogradConv2d(backend, x, w, { top: 1, bottom: 1, left: 1, right: 1 });
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
import { PaddedRows } from "./padded_rows_wasm.ts";
import { fusedAvailable } from "./simd_at_b_wasm.ts";
import { planeBytes, productBody, type WinogradShape } from "./winograd_products_wasm.ts";
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

/** Bytes one chunk's transformed input may take (it and the products stay in L2). */
export const CHUNK_BYTES = 96 * 1024;

/** Rows of 2x2 blocks per chunk: as many as {@linkcode CHUNK_BYTES} allow, at least 1. */
export function chunkRows(blocksW: number, blocksH: number, ci: number, co: number): number {
  const perRow = 16 * blocksW * Math.max(ci, co) * 4;
  return Math.max(1, Math.min(blocksH, Math.floor(CHUNK_BYTES / perRow)));
}

/** Whether {@linkcode winogradConv2d} computes a convolution of `x` and `filter` (stride 1). */
export function winogradApplies(
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  outH: number,
  outW: number,
): boolean {
  const [kh, kw, ci, co] = filter.shape;
  return kh === 3 && kw === 3 && ci % 4 === 0 && co % 4 === 0 && x.shape[3] === ci &&
    outH % 2 === 0 && outW % 2 === 0 && outH > 0 && outW > 0 && x.dtype === "float32" &&
    filter.dtype === "float32";
}

// ---- the module ----------------------------------------------------------------------------

/** `a + b`, `a - b` of two v128 locals, left on the stack. */
export const add = (a: number, b: number) => [...op.localGet(a), ...op.localGet(b), ...op.f32x4Add];
export const sub = (a: number, b: number) => [...op.localGet(a), ...op.localGet(b), ...op.f32x4Sub];

/**
 * `inT(x, v, rows)`: the input transform of `rows` rows of blocks, from `x` (`&xPadded[b, 2·r0,
 * 0, 0]`) into `v` (`[16][chunk·blocksW][ci]`).
 */
export function inputTransformBody(s: WinogradShape): number[] {
  const { ci, padW, blocksW } = s;
  const P = 3;
  const d = (i: number, j: number) => P + i * 4 + j; // 16 v128 locals: d, then rows transformed
  const r = (i: number, j: number) => P + 16 + i * 4 + j;
  let next = P + 32;
  const rowsLeft = next++;
  const xRow = next++;
  const vRow = next++;
  const xb = next++;
  const vb = next++;
  const bLeft = next++;
  const xc = next++;
  const vc = next++;
  const cLeft = next++;
  const plane = planeBytes(s, ci); // bytes from one ξ to the next
  const code: number[] = [
    ...op.localGet(0),
    ...op.localSet(xRow),
    ...op.localGet(1),
    ...op.localSet(vRow),
    ...op.localGet(2),
    ...op.localSet(rowsLeft),
    ...op.loop, // rows of blocks
    ...op.localGet(xRow),
    ...op.localSet(xb),
    ...op.localGet(vRow),
    ...op.localSet(vb),
    ...op.i32Const(blocksW),
    ...op.localSet(bLeft),
    ...op.loop, // blocks
    ...op.localGet(xb),
    ...op.localSet(xc),
    ...op.localGet(vb),
    ...op.localSet(vc),
    ...op.i32Const(ci / 4),
    ...op.localSet(cLeft),
    ...op.loop, // 4 channels at a time
  ];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      code.push(
        ...op.localGet(xc),
        ...op.v128Load(4 * (i * padW + j) * ci),
        ...op.localSet(d(i, j)),
      );
    }
    // Along the row: (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
    code.push(...sub(d(i, 0), d(i, 2)), ...op.localSet(r(i, 0)));
    code.push(...add(d(i, 1), d(i, 2)), ...op.localSet(r(i, 1)));
    code.push(...sub(d(i, 2), d(i, 1)), ...op.localSet(r(i, 2)));
    code.push(...sub(d(i, 1), d(i, 3)), ...op.localSet(r(i, 3)));
  }
  // Down the columns, stored at ξ = 4·i + j.
  const store = (i: number, j: number, value: number[]) =>
    code.push(...op.localGet(vc), ...value, ...op.v128Store((i * 4 + j) * plane));
  for (let j = 0; j < 4; j++) {
    store(0, j, sub(r(0, j), r(2, j)));
    store(1, j, add(r(1, j), r(2, j)));
    store(2, j, sub(r(2, j), r(1, j)));
    store(3, j, sub(r(1, j), r(3, j)));
  }
  code.push(
    ...advanceBy(xc, 16),
    ...advanceBy(vc, 16),
    ...loopWhileCountingDown(cLeft),
    ...op.end, // channels
    ...advanceBy(xb, 4 * 2 * ci),
    ...advanceBy(vb, 4 * ci),
    ...loopWhileCountingDown(bLeft),
    ...op.end, // blocks
    ...advanceBy(xRow, 4 * 2 * padW * ci),
    ...advanceBy(vRow, 4 * blocksW * ci),
    ...loopWhileCountingDown(rowsLeft),
    ...op.end, // rows
  );
  return functionBody([[32, V128], [next - P - 32, I32]], code);
}

/**
 * `outT(m, out, rows)`: the output transform of `rows` rows of blocks, from `m`
 * (`[16][chunk·blocksW][co]`) into `out` (`&out[b, 2·r0, 0, 0]`).
 */
function outputTransformBody(s: WinogradShape): number[] {
  const { co, blocksW } = s;
  const outW = 2 * blocksW;
  const P = 3;
  const m = (i: number, j: number) => P + i * 4 + j;
  const t = (i: number, j: number) => P + 16 + i * 2 + j; // rows transformed: 4 x 2
  let next = P + 24;
  const rowsLeft = next++;
  const mRow = next++;
  const oRow = next++;
  const mb = next++;
  const ob = next++;
  const bLeft = next++;
  const mc = next++;
  const oc = next++;
  const cLeft = next++;
  const plane = planeBytes(s, co);
  const code: number[] = [
    ...op.localGet(0),
    ...op.localSet(mRow),
    ...op.localGet(1),
    ...op.localSet(oRow),
    ...op.localGet(2),
    ...op.localSet(rowsLeft),
    ...op.loop,
    ...op.localGet(mRow),
    ...op.localSet(mb),
    ...op.localGet(oRow),
    ...op.localSet(ob),
    ...op.i32Const(blocksW),
    ...op.localSet(bLeft),
    ...op.loop,
    ...op.localGet(mb),
    ...op.localSet(mc),
    ...op.localGet(ob),
    ...op.localSet(oc),
    ...op.i32Const(co / 4),
    ...op.localSet(cLeft),
    ...op.loop,
  ];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      code.push(...op.localGet(mc), ...op.v128Load((i * 4 + j) * plane), ...op.localSet(m(i, j)));
    }
    // Along the row: (m0 + m1 + m2, m1 - m2 - m3).
    code.push(...add(m(i, 0), m(i, 1)), ...op.localGet(m(i, 2)), ...op.f32x4Add);
    code.push(...op.localSet(t(i, 0)));
    code.push(...sub(m(i, 1), m(i, 2)), ...op.localGet(m(i, 3)), ...op.f32x4Sub);
    code.push(...op.localSet(t(i, 1)));
  }
  for (let j = 0; j < 2; j++) {
    code.push(
      ...op.localGet(oc),
      ...add(t(0, j), t(1, j)),
      ...op.localGet(t(2, j)),
      ...op.f32x4Add,
      ...op.v128Store(4 * j * co),
      ...op.localGet(oc),
      ...sub(t(1, j), t(2, j)),
      ...op.localGet(t(3, j)),
      ...op.f32x4Sub,
      ...op.v128Store(4 * (outW + j) * co),
    );
  }
  code.push(
    ...advanceBy(mc, 16),
    ...advanceBy(oc, 16),
    ...loopWhileCountingDown(cLeft),
    ...op.end,
    ...advanceBy(mb, 4 * co),
    ...advanceBy(ob, 4 * 2 * co),
    ...loopWhileCountingDown(bLeft),
    ...op.end,
    ...advanceBy(mRow, 4 * blocksW * co),
    ...advanceBy(oRow, 4 * 2 * outW * co),
    ...loopWhileCountingDown(rowsLeft),
    ...op.end,
  );
  return functionBody([[24, V128], [next - P - 24, I32]], code);
}

/** The module's bytes for one shape: `inT`, `mm` and `outT`. */
export function winogradModuleBytes(
  shared: boolean,
  shape: WinogradShape,
  fused: boolean,
): Uint8Array {
  return moduleBytes(shared, 3, [
    { name: "inT", body: inputTransformBody(shape) },
    { name: "mm", body: productBody(shape, fused), params: [I32, I32, I32, I32] },
    { name: "outT", body: outputTransformBody(shape) },
  ]);
}

// ---- the driver ----------------------------------------------------------------------------

/** `U = G·g·Gᵀ` of every filter `[3, 3, ci, co]`, as `[16][ci][co]`. */
export function transformFilter(w: Float32Array, ci: number, co: number, out: Float32Array): void {
  const n = ci * co;
  const g = (i: number, j: number, k: number) => w[(i * 3 + j) * n + k];
  for (let k = 0; k < n; k++) {
    // t = G·g (4x3), then U = t·Gᵀ (4x4); G = [[1,0,0],[½,½,½],[½,-½,½],[0,0,1]].
    const t = new Array<number>(12);
    for (let j = 0; j < 3; j++) {
      const a = g(0, j, k), b = g(1, j, k), c = g(2, j, k);
      t[j] = a;
      t[3 + j] = 0.5 * (a + b + c);
      t[6 + j] = 0.5 * (a - b + c);
      t[9 + j] = c;
    }
    for (let i = 0; i < 4; i++) {
      const a = t[3 * i], b = t[3 * i + 1], c = t[3 * i + 2];
      out[(i * 4 + 0) * n + k] = a;
      out[(i * 4 + 1) * n + k] = 0.5 * (a + b + c);
      out[(i * 4 + 2) * n + k] = 0.5 * (a - b + c);
      out[(i * 4 + 3) * n + k] = c;
    }
  }
}

type Fns = {
  inT: (x: number, v: number, rows: number) => void;
  mm: (v: number, u: number, m: number, blocks: number) => void;
  outT: (m: number, out: number, rows: number) => void;
};

/**
 * The 3x3 stride-1 convolution of `x` (`[B, H, W, Ci]`) with `filter` (`[3, 3, Ci, Co]`),
 * zero-padded by `pad`, by Winograd's F(2x2, 3x3): a new `[B, outH, outW, Co]` tensor (see
 * {@linkcode winogradApplies} for what it takes). `fused` picks the multiply-add variant.
 */
export function winogradConv2d(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  pad: Padding,
  fused = fusedAvailable(),
): tf.TensorInfo {
  const [batch, h, w, ci] = x.shape;
  const co = filter.shape[3];
  const padH = h + pad.top + pad.bottom;
  const padW = w + pad.left + pad.right;
  const outH = padH - 2;
  const outW = padW - 2;
  if (!winogradApplies(x, filter, outH, outW)) {
    throw new Error(
      `winogradConv2d: takes 3x3 filters, 4k channels and even outputs; got x [${x.shape}], ` +
        `filter [${filter.shape}], output ${outH}x${outW}`,
    );
  }
  const blocksW = outW / 2;
  const blocksH = outH / 2;
  const chunk = chunkRows(blocksW, blocksH, ci, co);
  const shape: WinogradShape = { ci, co, padW, blocksW, chunk };
  // The padded input, a chunk's rows at a time (in cache; no padded copy of the whole tensor).
  const source = new PaddedRows(backend, x, pad, 2 * chunk + 2);
  const temps: tf.TensorInfo[] = [];
  try {
    const u = backend.makeOutput([16, ci, co], "float32");
    temps.push(u);
    const v = backend.makeOutput([4 * planeBytes(shape, ci)], "float32"); // 16 planes
    temps.push(v);
    const m = backend.makeOutput([4 * planeBytes(shape, co)], "float32");
    temps.push(m);
    const out = backend.makeOutput([batch, outH, outW, co], "float32");
    const fns = instantiateOnHeap<Fns>(
      backend,
      `winograd-${JSON.stringify(shape)}-${fused}`,
      (shared) => winogradModuleBytes(shared, shape, fused),
    );
    transformFilter(
      backend.typedArrayFromHeap(filter) as Float32Array,
      ci,
      co,
      backend.typedArrayFromHeap(u) as Float32Array,
    );
    const uAt = backend.typedArrayFromHeap(u).byteOffset;
    const vAt = backend.typedArrayFromHeap(v).byteOffset;
    const mAt = backend.typedArrayFromHeap(m).byteOffset;
    const oAt = backend.typedArrayFromHeap(out).byteOffset;
    for (let b = 0; b < batch; b++) {
      for (let r0 = 0; r0 < blocksH; r0 += chunk) {
        const rows = Math.min(chunk, blocksH - r0);
        fns.inT(source.at(b, 2 * r0, 2 * rows + 2), vAt, rows);
        fns.mm(vAt, uAt, mAt, rows * blocksW);
        fns.outT(mAt, oAt + 4 * ((b * outH + 2 * r0) * outW) * co, rows);
      }
    }
    return out;
  } finally {
    source.free();
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
