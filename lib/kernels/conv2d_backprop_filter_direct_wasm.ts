/**
 * The filter gradient of a stride-1 convolution, `dW = Pᵀ·dy`, on WebAssembly SIMD, a tile of
 * output rows at a time: the path `conv2d_backprop_filter_wasm.ts` takes for the 3x3 layers of
 * 16-64 channels of the ResNet and the modern CNN.
 *
 * The patches path (`conv2d_backprop_filter_patches_wasm.ts`) streams every output pixel of the
 * batch through one block of `dW` at a time: for 16 input channels each pixel's patch row is a
 * 64-byte cache line of which a block reads 12 bytes, and `dy` is read again for every block, so
 * that path moves about a gigabyte per layer and step through the caches (6 GMAC/s on the
 * ResNet's `[256, 32, 32, 16]` layer). Here the input, zero-padded once, is cut into tiles of a
 * few output rows of one image whose input rows and `dy` fit in the 48 KB L1 cache together
 * ({@linkcode tileRows}); for each tile, every block of `R = 3` rows x 16 columns of `dW` is
 * loaded into twelve accumulators, the tile's pixels are streamed through it (three splats of
 * the input, four vectors of `dy`, twelve `f32x4.relaxed_madd` where the engine has relaxed SIMD),
 * and the block is stored back. `dW` itself (at most 147 KB, for 64→64) stays in L2. One module is
 * assembled per layer shape, every size a constant.
 *
 * {@linkcode directFilterGradApplies}: stride 1, dilation 1, `Co` a multiple of 4, and `Kw·Ci` a
 * multiple of 2 or 3 (a 3x3 filter always is).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { filterGradDirect } from "./conv2d_backprop_filter_direct_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.ones([1, 5, 5, 2]);
 * const dy = tf.ones([1, 3, 3, 4]); // a 3x3 valid conv, 2 → 4 channels
 * const info = tf.backend_util.computeConv2DInfo([1, 5, 5, 2], [3, 3, 2, 4], 1, 1, "valid");
 * const dw = filterGradDirect(backend, x, dy, info);
 * // dw: [3, 3, 2, 4], every entry 9
 * backend.disposeData(dw.dataId);
 * tf.dispose([x, dy]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { padOnHeap } from "./conv2d_direct_wasm.ts";
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

/** Bytes of input rows and `dy` rows one tile may hold (most of a 48 KB L1 cache). */
export const TILE_BYTES = 32 * 1024;

/** The sizes one module is assembled for. */
export interface FilterGradShape {
  ci: number;
  co: number;
  kh: number;
  kw: number;
  /** Width of the padded input. */
  padW: number;
  /** Output columns. */
  outW: number;
}

// Parameters: &xPadded[b, i0, 0, 0], &dy[b, i0, 0, 0], &dW, output rows in the tile.
const X = 0;
const DY = 1;
const DW = 2;
const ROWS = 3;
const PARAMS = 4;
const VECTORS = 4;

/** Rows of `dW` per block: 3, else 2, else 1, whichever divides `Kw·Ci`. */
export function blockRows(run: number): number {
  return [3, 2, 1].find((r) => run % r === 0)!;
}

function tileBody(s: FilterGradShape, fused: boolean): number[] {
  const { ci, co, kh, kw, padW, outW } = s;
  const run = kw * ci;
  const rows = blockRows(run);
  const acc = (r: number, v: number) => PARAMS + r * VECTORS + v;
  const splat = (r: number) => PARAMS + rows * VECTORS + r;
  const dv = PARAMS + rows * VECTORS + rows;
  const v128s = rows * VECTORS + rows + 1;
  let next = PARAMS + v128s;
  const xK = next++;
  const dwK = next++;
  const khLeft = next++;
  const xM = next++;
  const dwM = next++;
  const mLeft = next++;
  const xr = next++;
  const dr = next++;
  const rLeft = next++;
  const xq = next++;
  const dq = next++;
  const jLeft = next++;
  const i32s = next - PARAMS - v128s;
  const madd = (r: number, v: number) =>
    fused
      ? [
        ...op.localGet(splat(r)),
        ...op.localGet(dv),
        ...op.localGet(acc(r, v)),
        ...op.f32x4RelaxedMadd,
      ]
      : [
        ...op.localGet(acc(r, v)),
        ...op.localGet(splat(r)),
        ...op.localGet(dv),
        ...op.f32x4Mul,
        ...op.f32x4Add,
      ];

  const block = (c0: number, vectors: number): number[] => {
    const code: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vectors; v++) {
        code.push(
          ...op.localGet(dwM),
          ...op.v128Load(4 * (r * co + c0) + 16 * v),
          ...op.localSet(acc(r, v)),
        );
      }
    }
    code.push(
      ...op.localGet(xM),
      ...op.localSet(xr),
      ...op.localGet(DY),
      ...op.localSet(dr),
      ...op.localGet(ROWS),
      ...op.localSet(rLeft),
      ...op.loop, // output rows of the tile
      ...op.localGet(xr),
      ...op.localSet(xq),
      ...op.localGet(dr),
      ...op.localSet(dq),
      ...op.i32Const(outW),
      ...op.localSet(jLeft),
      ...op.loop, // output pixels of the row
    );
    for (let r = 0; r < rows; r++) {
      code.push(...op.localGet(xq), ...op.v128Load32Splat(4 * r), ...op.localSet(splat(r)));
    }
    for (let v = 0; v < vectors; v++) {
      code.push(...op.localGet(dq), ...op.v128Load(4 * c0 + 16 * v), ...op.localSet(dv));
      for (let r = 0; r < rows; r++) code.push(...madd(r, v), ...op.localSet(acc(r, v)));
    }
    code.push(
      ...advanceBy(xq, 4 * ci),
      ...advanceBy(dq, 4 * co),
      ...loopWhileCountingDown(jLeft),
      ...op.end, // pixels
      ...advanceBy(xr, 4 * padW * ci),
      ...advanceBy(dr, 4 * outW * co),
      ...loopWhileCountingDown(rLeft),
      ...op.end, // rows
    );
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vectors; v++) {
        code.push(
          ...op.localGet(dwM),
          ...op.localGet(acc(r, v)),
          ...op.v128Store(4 * (r * co + c0) + 16 * v),
        );
      }
    }
    return code;
  };

  const code: number[] = [
    ...op.localGet(X),
    ...op.localSet(xK),
    ...op.localGet(DW),
    ...op.localSet(dwK),
    ...op.i32Const(kh),
    ...op.localSet(khLeft),
    ...op.loop, // filter rows
    ...op.localGet(xK),
    ...op.localSet(xM),
    ...op.localGet(dwK),
    ...op.localSet(dwM),
    ...op.i32Const(run / rows),
    ...op.localSet(mLeft),
    ...op.loop, // blocks of dW rows
  ];
  for (let c0 = 0; c0 < co; c0 += 4 * VECTORS) {
    code.push(...block(c0, Math.min(VECTORS, (co - c0) / 4)));
  }
  code.push(
    ...advanceBy(xM, 4 * rows),
    ...advanceBy(dwM, 4 * rows * co),
    ...loopWhileCountingDown(mLeft),
    ...op.end, // blocks
    ...advanceBy(xK, 4 * padW * ci),
    ...advanceBy(dwK, 4 * run * co),
    ...loopWhileCountingDown(khLeft),
    ...op.end, // filter rows
  );
  return functionBody([[v128s, V128], [i32s, I32]], code);
}

/** The module's bytes for one shape; its memory is imported as `env.memory`. */
export function filterGradModuleBytes(
  shared: boolean,
  shape: FilterGradShape,
  fused: boolean,
): Uint8Array {
  return moduleBytes(shared, PARAMS, [{ name: "tile", body: tileBody(shape, fused) }]);
}

/** Output rows per tile: as many as fit {@linkcode TILE_BYTES} with their input rows, at least 1. */
export function tileRows(shape: FilterGradShape, outH: number): number {
  const xRow = 4 * shape.padW * shape.ci;
  const dyRow = 4 * shape.outW * shape.co;
  const rows = Math.floor((TILE_BYTES - (shape.kh - 1) * xRow) / (xRow + dyRow));
  return Math.max(1, Math.min(outH, rows));
}

/** Whether {@linkcode filterGradDirect} computes this filter gradient. */
export function directFilterGradApplies(
  info: tf.backend_util.Conv2DInfo,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
): boolean {
  const run = info.filterWidth * info.inChannels;
  return info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 &&
    info.dilationWidth === 1 && info.outChannels % 4 === 0 && blockRows(run) > 1 &&
    x.dtype === "float32" && dy.dtype === "float32";
}

type TileFn = (x: number, dy: number, dw: number, rows: number) => void;

/**
 * `dW` (`[Kh, Kw, Ci, Co]`) of a stride-1 convolution from `x` and `dy`; `info` is
 * `computeConv2DInfo` of the forward conv. `fused` (default: where relaxed SIMD exists) picks the
 * multiply-add variant.
 */
export function filterGradDirect(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  fused = fusedAvailable(),
): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = info;
  const [batch, outH, outW] = dy.shape;
  const [, height, width] = x.shape;
  const { top, left } = info.padInfo;
  // Rows and columns of the padded input the forward conv read (a "valid" remainder is dropped).
  const padH = outH + kh - 1;
  const padW = outW + kw - 1;
  const pad = { top, left, bottom: padH - height - top, right: padW - width - left };
  const sliced = pad.bottom < 0 || pad.right < 0;
  const padded = pad.top === 0 && pad.left === 0 && pad.bottom === 0 && pad.right === 0
    ? x
    : sliced
    ? null
    : padOnHeap(backend, x, pad);
  if (padded === null) {
    throw new Error("filterGradDirect: a convolution that drops input rows or columns");
  }
  try {
    const shape: FilterGradShape = { ci, co, kh, kw, padW, outW };
    const dw = backend.makeOutput([kh, kw, ci, co], "float32");
    const { tile } = instantiateOnHeap<{ tile: TileFn }>(
      backend,
      `filterGradDirect-${JSON.stringify(shape)}-${fused}`,
      (shared) => filterGradModuleBytes(shared, shape, fused),
    );
    (backend.typedArrayFromHeap(dw) as Float32Array).fill(0);
    const xAt = backend.typedArrayFromHeap(padded).byteOffset;
    const dyAt = backend.typedArrayFromHeap(dy).byteOffset;
    const dwAt = backend.typedArrayFromHeap(dw).byteOffset;
    const step = tileRows(shape, outH);
    const xRow = 4 * padW * ci;
    const dyRow = 4 * outW * co;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < outH; i += step) {
        tile(
          xAt + (b * padH + i) * xRow,
          dyAt + (b * outH + i) * dyRow,
          dwAt,
          Math.min(step, outH - i),
        );
      }
    }
    return dw;
  } finally {
    if (padded !== x) backend.disposeData(padded.dataId);
  }
}
