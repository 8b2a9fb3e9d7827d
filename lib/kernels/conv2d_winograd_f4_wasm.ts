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
 * kernel of `conv2d_winograd_wasm.ts`, tiles of 3 blocks x 16 channels) and the outputs are
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
import { planeBytes, productBody, type WinogradShape } from "./conv2d_winograd_wasm.ts";
import { PaddedRows } from "./padded_rows_wasm.ts";
import { OutputMoments } from "./conv_output_moments_wasm.ts";
import {
  G4,
  transformFilter4Simd,
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

const get = (local: number) => op.localGet(local);
const add = (a: number[], b: number[]) => [...a, ...b, ...op.f32x4Add];
const sub = (a: number[], b: number[]) => [...a, ...b, ...op.f32x4Sub];
const mul = (a: number[], b: number[]) => [...a, ...b, ...op.f32x4Mul];

/**
 * `Bᵀ·d` of six values `d(0..5)` (each an expression), with four scratch locals `t` and a local
 * holding 4 in each lane; `emit(k, value)` places output `k`.
 */
function inputTransform6(
  d: (k: number) => number[],
  t: [number, number, number, number],
  four: number,
  emit: (k: number, value: number[]) => number[],
): number[] {
  const [t1, t2, t3, t4] = t;
  return [
    ...sub(d(4), d(2)),
    ...op.localSet(t3), // d4 - d2
    ...sub(d(4), mul(d(2), get(four))),
    ...op.localSet(t1), // d4 - 4·d2
    ...sub(d(3), mul(d(1), get(four))),
    ...op.localSet(t2), // d3 - 4·d1
    ...sub(d(3), d(1)),
    ...op.localTee(t4),
    ...get(t4),
    ...op.f32x4Add,
    ...op.localSet(t4), // 2·(d3 - d1)
    ...emit(0, add(mul(sub(d(0), d(2)), get(four)), get(t3))), // 4·d0 - 5·d2 + d4
    ...emit(1, add(get(t1), get(t2))), // -4·d1 - 4·d2 + d3 + d4
    ...emit(2, sub(get(t1), get(t2))), // 4·d1 - 4·d2 - d3 + d4
    ...emit(3, add(get(t3), get(t4))), // -2·d1 - d2 + 2·d3 + d4
    ...emit(4, sub(get(t3), get(t4))), // 2·d1 - d2 - 2·d3 + d4
    ...emit(5, add(mul(sub(d(1), d(3)), get(four)), sub(d(5), d(3)))), // 4·d1 - 5·d3 + d5
  ];
}

/**
 * `Aᵀ·m` of six values `m(0..5)`, with four scratch locals `t` and locals holding 4 and 8;
 * `emit(k, value)` places output `k` (0..3).
 */
function outputTransform6(
  m: (k: number) => number[],
  t: [number, number, number, number],
  four: number,
  eight: number,
  emit: (k: number, value: number[]) => number[],
): number[] {
  const [a, b, c, d] = t;
  return [
    ...add(m(1), m(2)),
    ...op.localSet(a),
    ...sub(m(1), m(2)),
    ...op.localSet(b),
    ...add(m(3), m(4)),
    ...op.localSet(c),
    ...sub(m(3), m(4)),
    ...op.localSet(d),
    ...emit(0, add(add(m(0), get(a)), get(c))),
    ...emit(1, add(add(get(b), get(d)), get(d))),
    ...emit(2, add(get(a), mul(get(c), get(four)))),
    ...emit(3, add(add(get(b), mul(get(d), get(eight))), m(5))),
  ];
}

/** Sets a v128 local to `value` in every lane. */
const splatConst = (local: number, value: number) => [
  ...op.f32Const(value),
  ...op.f32x4Splat,
  ...op.localSet(local),
];

/**
 * Which rows of every 6x6 window a direct input transform reads as zeros (the padding row above
 * the image, the one below it).
 */
export interface RowEdges {
  top: boolean;
  bottom: boolean;
}

/**
 * `inT(x, v, rows)`: the input transform of `rows` rows of 4x4 blocks into `v` (36 planes of
 * `[blocks][ci]`, {@linkcode planeBytes} apart). Without `edges`, from the zero-padded input `x`
 * (`&xPadded[b, 4·r0, 0, 0]`, rows of `padW·ci`). With `edges`, straight from the unpadded image
 * (padding 1 on every side; rows of `(padW - 2)·ci`): `x` is where its padded row `4·r0` and
 * column 0 would be (`&x[b, 4·r0 - 1, -1, 0]`, never read there), the columns left and right of
 * the image and the rows `edges` names are zeros in the code, not loads.
 */
export function inputTransform4Body(s: WinogradShape, edges?: RowEdges): number[] {
  const { ci, padW, blocksW } = s;
  const rowFloats = (edges ? padW - 2 : padW) * ci;
  const P = 3;
  const d = (j: number) => P + j; // one row of the block
  const r = (i: number, j: number) => P + 6 + i * 6 + j; // the rows transformed
  const t: [number, number, number, number] = [P + 42, P + 43, P + 44, P + 45];
  const four = P + 46;
  const zero = P + 47;
  const V128S = 48;
  let next = P + V128S;
  const rowsLeft = next++;
  const xRow = next++;
  const vRow = next++;
  const xb = next++;
  const vb = next++;
  const bLeft = next++;
  const xc = next++;
  const vc = next++;
  const cLeft = next++;
  const plane = planeBytes(s, ci);
  /** One block, 4 channels a trip; `isZero(i, j)`: the window's element is padding. */
  const block = (isZero: (i: number, j: number) => boolean): number[] => {
    const code: number[] = [
      ...get(xb),
      ...op.localSet(xc),
      ...get(vb),
      ...op.localSet(vc),
      ...op.i32Const(ci / 4),
      ...op.localSet(cLeft),
      ...op.loop, // 4 channels at a time
    ];
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        code.push(
          ...(isZero(i, j)
            ? get(zero)
            : [...get(xc), ...op.v128Load(4 * (i * rowFloats + j * ci))]),
          ...op.localSet(d(j)),
        );
      }
      code.push(
        ...inputTransform6((k) => get(d(k)), t, four, (k, value) => [
          ...value,
          ...op.localSet(r(i, k)),
        ]),
      );
    }
    for (let j = 0; j < 6; j++) {
      code.push(
        ...inputTransform6((k) => get(r(k, j)), t, four, (k, value) => [
          ...get(vc),
          ...value,
          ...op.v128Store((k * 6 + j) * plane),
        ]),
      );
    }
    code.push(
      ...advanceBy(xc, 16),
      ...advanceBy(vc, 16),
      ...loopWhileCountingDown(cLeft),
      ...op.end, // channels
      ...advanceBy(xb, 4 * 4 * ci),
      ...advanceBy(vb, 4 * ci),
    );
    return code;
  };
  const blocksLoop = (count: number, isZero: (i: number, j: number) => boolean) =>
    count <= 0 ? [] : count === 1 ? block(isZero) : [
      ...op.i32Const(count),
      ...op.localSet(bLeft),
      ...op.loop, // blocks
      ...block(isZero),
      ...loopWhileCountingDown(bLeft),
      ...op.end,
    ];
  const row = (i: number) => (edges?.top && i === 0) || (edges?.bottom === true && i === 5);
  const rowCode = edges === undefined
    ? blocksLoop(blocksW, () => false)
    : blocksW === 1
    ? block((i, j) => row(i) || j === 0 || j === 5)
    : [
      ...block((i, j) => row(i) || j === 0),
      ...blocksLoop(blocksW - 2, (i) => row(i)),
      ...block((i, j) => row(i) || j === 5),
    ];
  const code: number[] = [
    ...splatConst(four, 4),
    ...splatConst(zero, 0),
    ...get(0),
    ...op.localSet(xRow),
    ...get(1),
    ...op.localSet(vRow),
    ...get(2),
    ...op.localSet(rowsLeft),
    ...op.loop, // rows of blocks
    ...get(xRow),
    ...op.localSet(xb),
    ...get(vRow),
    ...op.localSet(vb),
    ...rowCode,
    ...advanceBy(xRow, 4 * 4 * rowFloats),
    ...advanceBy(vRow, 4 * blocksW * ci),
    ...loopWhileCountingDown(rowsLeft),
    ...op.end, // rows
  ];
  return functionBody([[V128S, V128], [next - P - V128S, I32]], code);
}

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

/**
 * The sizes of an F(4x4, 3x3) module: {@linkcode WinogradShape}'s and the output's height and
 * width (`outH`, `outW`: up to 3 pixels fewer than the blocks cover; the blocks past the edge
 * compute on zeros and their extra pixels are not stored).
 */
export interface Winograd4Shape extends WinogradShape {
  outH: number;
  outW: number;
}

/** Rows and columns of the output in the last row and column of 4x4 blocks (1 to 4). */
export function lastBlockSize(s: Winograd4Shape): { rows: number; cols: number } {
  const blocksH = Math.ceil(s.outH / 4);
  return { rows: s.outH - 4 * (blocksH - 1), cols: s.outW - 4 * (s.blocksW - 1) };
}

/**
 * `outT(m, out, rows)`: the output transform of `rows` rows of blocks, from `m` (36 planes of
 * `[blocks][co]`) into `out` (`&out[b, 4·r0, 0, 0]`); `last`: `outTLast`, the last row of blocks,
 * whose rows past the output are not stored.
 */
function outputTransform4Body(s: Winograd4Shape, last: boolean): number[] {
  const { co, blocksW, outW } = s;
  const size = lastBlockSize(s);
  const rowsValid = last ? size.rows : 4;
  const P = 3;
  const m = (j: number) => P + j;
  const tr = (i: number, j: number) => P + 6 + i * 4 + j; // rows transformed: 6 x 4
  const t: [number, number, number, number] = [P + 30, P + 31, P + 32, P + 33];
  const four = P + 34;
  const eight = P + 35;
  const V128S = 36;
  let next = P + V128S;
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
  /** One block of `cols` columns (the last of a row may have fewer than 4). */
  const block = (cols: number): number[] => {
    const code: number[] = [
      ...get(mb),
      ...op.localSet(mc),
      ...get(ob),
      ...op.localSet(oc),
      ...op.i32Const(co / 4),
      ...op.localSet(cLeft),
      ...op.loop,
    ];
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        code.push(...get(mc), ...op.v128Load((i * 6 + j) * plane), ...op.localSet(m(j)));
      }
      code.push(
        ...outputTransform6(
          (k) => get(m(k)),
          t,
          four,
          eight,
          (k, value) => k < cols ? [...value, ...op.localSet(tr(i, k))] : [],
        ),
      );
    }
    for (let j = 0; j < cols; j++) {
      code.push(
        ...outputTransform6(
          (k) => get(tr(k, j)),
          t,
          four,
          eight,
          (k, value) =>
            k < rowsValid ? [...get(oc), ...value, ...op.v128Store(4 * (k * outW + j) * co)] : [],
        ),
      );
    }
    code.push(
      ...advanceBy(mc, 16),
      ...advanceBy(oc, 16),
      ...loopWhileCountingDown(cLeft),
      ...op.end,
      ...advanceBy(mb, 4 * co),
      ...advanceBy(ob, 4 * 4 * co),
    );
    return code;
  };
  const full = size.cols === 4 ? blocksW : blocksW - 1; // blocks of 4 columns
  const code: number[] = [
    ...splatConst(four, 4),
    ...splatConst(eight, 8),
    ...get(0),
    ...op.localSet(mRow),
    ...get(1),
    ...op.localSet(oRow),
    ...get(2),
    ...op.localSet(rowsLeft),
    ...op.loop,
    ...get(mRow),
    ...op.localSet(mb),
    ...get(oRow),
    ...op.localSet(ob),
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
    ...advanceBy(mRow, 4 * blocksW * co),
    ...advanceBy(oRow, 4 * 4 * outW * co),
    ...loopWhileCountingDown(rowsLeft),
    ...op.end,
  ];
  return functionBody([[V128S, V128], [next - P - V128S, I32]], code);
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
