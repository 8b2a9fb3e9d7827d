/**
 * A direct stride-1 convolution on WebAssembly SIMD for tfjs's `wasm` backend, for the
 * 16-64-channel 3x3 layers of the ResNet and the modern CNN: their forward pass and, with the
 * filter turned round, their input gradient (`conv2d_backprop_input_wasm.ts`).
 *
 * XNNPACK, as tfjs 4.22 builds it, multiplies and adds in two instructions (no fused
 * multiply-add) and ran the ResNet's `[256, 32, 32, 16]` 3x3 16→16 layer at about 7 GMAC/s on
 * the 2-core Xeon. Here one small module is assembled per layer shape (every size a constant, so
 * every address is a constant offset from a few pointers) and computes, for each output row,
 * tiles of `P` neighbouring output pixels x `4·V` output channels (3 x 16: twelve accumulators,
 * three splats and one filter vector, the 16 SIMD registers of x86-64): per filter row, the
 * `Kw·Ci` inputs a pixel reads are contiguous in the zero-padded NHWC input, so the inner loop
 * walks one pointer through the input and one through the filter `[Kh·Kw·Ci, Co]`, with
 * `f32x4.relaxed_madd` where the engine has relaxed SIMD (fused on a CPU with FMA; the results
 * then differ from the unfused variant in the last bits, as in `simd_at_b_wasm.ts`). The input is
 * padded once, by a copy with zero borders.
 *
 * {@linkcode directConvApplies} says which convolutions it can take: stride 1, dilation 1, NHWC,
 * float32, output channels a multiple of 4; `conv2d_paths_wasm.ts` says which it does take (where
 * it measured faster than XNNPACK and Winograd's kernel does not apply).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { directConv2d } from "./conv2d_direct_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.ones([1, 4, 4, 2]);
 * const w = tf.ones([3, 3, 2, 4]);
 * const out = directConv2d(backend, x, w, { top: 1, bottom: 1, left: 1, right: 1 });
 * // out: [1, 4, 4, 4]: 18 inside, 12 on the edges, 8 in the corners
 * backend.disposeData(out.dataId);
 * tf.dispose([x, w]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { fusedAvailable } from "./simd_at_b_wasm.ts";
import { PaddedRows } from "./padded_rows_wasm.ts";
import { OutputMoments } from "./conv_output_moments_wasm.ts";
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

/** Output pixels per tile. */
export const TILE_PIXELS = 3;
/** f32x4 vectors of output channels per tile (16 channels). */
export const TILE_VECTORS = 4;

/** The sizes one module is assembled for. */
export interface DirectConvShape {
  /** Input channels. */
  ci: number;
  /** Output channels (a multiple of 4). */
  co: number;
  kh: number;
  kw: number;
  /** Width of the padded input. */
  padW: number;
  /** Output rows and columns per image. */
  outH: number;
  outW: number;
}

/** Explicit padding of the input, in pixels. */
export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

// Parameters (i32 byte addresses).
const X = 0; // &xPadded[b, 0, 0, 0]
const WP = 1; // &filter[0, 0, 0, 0]
const OUT = 2; // &out[b, 0, 0, 0]
const PARAMS = 3;

/** The body of `image(x, w, out)`: one image, every output row, pixel and channel. */
function imageBody(
  s: DirectConvShape,
  fused: boolean,
  pixels: number,
  vmax = TILE_VECTORS,
  holdFilter = false,
): number[] {
  const { ci, co, kh, kw, padW, outH, outW } = s;
  // v128 locals, then i32 locals.
  const acc = (t: number, v: number) => PARAMS + t * vmax + v;
  // Held: the pixels' splats and one filter vector, or the filter vectors and one splat.
  const splat = (t: number) => PARAMS + pixels * vmax + (holdFilter ? 0 : t);
  const wvec = (v: number) => PARAMS + pixels * vmax + (holdFilter ? 1 + v : pixels);
  const v128s = pixels * vmax + 1 + (holdFilter ? vmax : pixels);
  let next = PARAMS + v128s;
  const rowsLeft = next++;
  const xRow = next++;
  const oRow = next++;
  const xP = next++;
  const oP = next++;
  const jLeft = next++;
  const xK = next++;
  const wK = next++;
  const khLeft = next++;
  const mLeft = next++;
  const xm = next++;
  const wm = next++;
  const i32s = next - PARAMS - v128s;

  const run = kw * ci; // contiguous inputs per filter row
  const unroll = [3, 4, 2, 1].find((u) => run % u === 0)!;
  const madd = (t: number, v: number) =>
    fused
      ? [
        ...op.localGet(splat(t)),
        ...op.localGet(wvec(v)),
        ...op.localGet(acc(t, v)),
        ...op.f32x4RelaxedMadd,
      ]
      : [
        ...op.localGet(acc(t, v)),
        ...op.localGet(splat(t)),
        ...op.localGet(wvec(v)),
        ...op.f32x4Mul,
        ...op.f32x4Add,
      ];

  /** One tile of `p` pixels x `vectors` vectors at channel `c0`, from `xP` into `oP`. */
  const tile = (p: number, vectors: number, c0: number): number[] => {
    const code: number[] = [];
    for (let t = 0; t < p; t++) {
      for (let v = 0; v < vectors; v++) {
        code.push(...op.f32Const(0), ...op.f32x4Splat, ...op.localSet(acc(t, v)));
      }
    }
    code.push(
      ...op.localGet(xP),
      ...op.localSet(xK),
      ...op.localGet(WP),
      ...op.localSet(wK),
      ...op.i32Const(kh),
      ...op.localSet(khLeft),
      ...op.loop, // filter rows
      ...op.localGet(xK),
      ...op.localSet(xm),
      ...op.localGet(wK),
      ...op.localSet(wm),
      ...op.i32Const(run / unroll),
      ...op.localSet(mLeft),
      ...op.loop, // the row's inputs
    );
    const loadSplat = (u: number, t: number) => [
      ...op.localGet(xm),
      ...op.v128Load32Splat(4 * u + 4 * ci * t),
      ...op.localSet(splat(t)),
    ];
    const loadFilter = (u: number, v: number) => [
      ...op.localGet(wm),
      ...op.v128Load(4 * (u * co + c0) + 16 * v),
      ...op.localSet(wvec(v)),
    ];
    for (let u = 0; u < unroll; u++) {
      if (holdFilter) {
        for (let v = 0; v < vectors; v++) code.push(...loadFilter(u, v));
        for (let t = 0; t < p; t++) {
          code.push(...loadSplat(u, t));
          for (let v = 0; v < vectors; v++) code.push(...madd(t, v), ...op.localSet(acc(t, v)));
        }
      } else {
        for (let t = 0; t < p; t++) code.push(...loadSplat(u, t));
        for (let v = 0; v < vectors; v++) {
          code.push(...loadFilter(u, v));
          for (let t = 0; t < p; t++) code.push(...madd(t, v), ...op.localSet(acc(t, v)));
        }
      }
    }
    code.push(
      ...advanceBy(xm, 4 * unroll),
      ...advanceBy(wm, 4 * unroll * co),
      ...loopWhileCountingDown(mLeft),
      ...op.end, // the row's inputs
      ...advanceBy(xK, 4 * padW * ci),
      ...advanceBy(wK, 4 * run * co),
      ...loopWhileCountingDown(khLeft),
      ...op.end, // filter rows
    );
    for (let t = 0; t < p; t++) {
      for (let v = 0; v < vectors; v++) {
        code.push(
          ...op.localGet(oP),
          ...op.localGet(acc(t, v)),
          ...op.v128Store(4 * (t * co + c0) + 16 * v),
        );
      }
    }
    return code;
  };

  const full = Math.floor(outW / pixels);
  const rest = outW % pixels;
  const code: number[] = [
    ...op.localGet(X),
    ...op.localSet(xRow),
    ...op.localGet(OUT),
    ...op.localSet(oRow),
    ...op.i32Const(outH),
    ...op.localSet(rowsLeft),
    ...op.loop, // output rows
  ];
  for (let c0 = 0; c0 < co; c0 += 4 * vmax) {
    const vectors = Math.min(vmax, (co - c0) / 4);
    code.push(...op.localGet(xRow), ...op.localSet(xP), ...op.localGet(oRow), ...op.localSet(oP));
    if (full > 0) {
      code.push(
        ...op.i32Const(full),
        ...op.localSet(jLeft),
        ...op.loop, // tiles
        ...tile(pixels, vectors, c0),
        ...advanceBy(xP, 4 * pixels * ci),
        ...advanceBy(oP, 4 * pixels * co),
        ...loopWhileCountingDown(jLeft),
        ...op.end,
      );
    }
    if (rest > 0) code.push(...tile(rest, vectors, c0));
  }
  code.push(
    ...advanceBy(xRow, 4 * padW * ci),
    ...advanceBy(oRow, 4 * outW * co),
    ...loopWhileCountingDown(rowsLeft),
    ...op.end, // output rows
  );
  return functionBody([[v128s, V128], [i32s, I32]], code);
}

/** The module's bytes for one shape; its memory is imported as `env.memory`. */
export function directConvModuleBytes(
  shared: boolean,
  shape: DirectConvShape,
  fused: boolean,
  pixels = TILE_PIXELS,
  vectors = TILE_VECTORS,
  holdFilter = false,
): Uint8Array {
  return moduleBytes(shared, PARAMS, [{
    name: "image",
    body: imageBody(shape, fused, pixels, vectors, holdFilter),
  }]);
}

/** Whether {@linkcode directConv2d} computes a convolution with these settings. */
export function directConvApplies(
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  strides: unknown,
  dilations: unknown,
  dataFormat: unknown,
): boolean {
  const one = (v: unknown) =>
    v === 1 || v === undefined || (Array.isArray(v) && v.every((d) => d === 1));
  return x.shape.length === 4 && filter.shape.length === 4 && filter.shape[3] % 4 === 0 &&
    x.shape[3] === filter.shape[2] && x.dtype === "float32" && filter.dtype === "float32" &&
    one(strides) && one(dilations) && dataFormat !== "NCHW";
}

/**
 * Copies `x` (`[B, H, W, C]`) into a new `[B, H + top + bottom, W + left + right, C]` tensor on
 * the heap with zero borders (the caller frees it).
 */
export function padOnHeap(backend: BackendWasm, x: tf.TensorInfo, pad: Padding): tf.TensorInfo {
  const [batch, h, w, c] = x.shape;
  const ph = h + pad.top + pad.bottom;
  const pw = w + pad.left + pad.right;
  const out = backend.makeOutput([batch, ph, pw, c], "float32");
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const rowIn = w * c;
  const rowOut = pw * c;
  for (let b = 0; b < batch; b++) {
    const image = b * ph * rowOut;
    dst.fill(0, image, image + pad.top * rowOut);
    dst.fill(0, image + (pad.top + h) * rowOut, image + ph * rowOut);
    for (let i = 0; i < h; i++) {
      const o = image + (pad.top + i) * rowOut;
      if (pad.left > 0) dst.fill(0, o, o + pad.left * c);
      dst.set(src.subarray((b * h + i) * rowIn, (b * h + i + 1) * rowIn), o + pad.left * c);
      if (pad.right > 0) dst.fill(0, o + (pad.left + w) * c, o + rowOut);
    }
  }
  return out;
}

type ImageFn = (x: number, w: number, out: number) => void;

/**
 * The stride-1 convolution of `x` (`[B, H, W, Ci]`) with `filter` (`[Kh, Kw, Ci, Co]`, `Co` a
 * multiple of 4), zero-padded by `pad`: a new `[B, H + top + bottom - Kh + 1, ..., Co]` tensor.
 * `fused` (default: where relaxed SIMD exists) picks the multiply-add variant. With `moments`,
 * the output's per-channel moments are taken image by image as it is stored, for the batch norm
 * that follows (`conv_output_moments_wasm.ts`).
 */
export function directConv2d(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  pad: Padding,
  fused = fusedAvailable(),
  pixels = TILE_PIXELS,
  vectors = TILE_VECTORS,
  holdFilter = false,
  moments = false,
): tf.TensorInfo {
  const [batch, h, w, ci] = x.shape;
  const [kh, kw, , co] = filter.shape;
  const padH = h + pad.top + pad.bottom;
  const padW = w + pad.left + pad.right;
  const shape: DirectConvShape = { ci, co, kh, kw, padW, outH: padH - kh + 1, outW: padW - kw + 1 };
  const unpadded = pad.top === 0 && pad.bottom === 0 && pad.left === 0 && pad.right === 0;
  // Padded, one image at a time into a small buffer that stays in cache.
  const source = unpadded ? undefined : new PaddedRows(backend, x, pad, padH);
  const stats = moments ? new OutputMoments(backend, co) : undefined;
  try {
    const out = backend.makeOutput([batch, shape.outH, shape.outW, co], "float32");
    const { image } = instantiateOnHeap<{ image: ImageFn }>(
      backend,
      `directConv-${JSON.stringify(shape)}-${fused}-${pixels}-${vectors}-${holdFilter}`,
      (shared) => directConvModuleBytes(shared, shape, fused, pixels, vectors, holdFilter),
    );
    const xAt = backend.typedArrayFromHeap(x).byteOffset;
    const wAt = backend.typedArrayFromHeap(filter).byteOffset;
    const oAt = backend.typedArrayFromHeap(out).byteOffset;
    const xImage = 4 * padH * padW * ci;
    const oImage = 4 * shape.outH * shape.outW * co;
    for (let b = 0; b < batch; b++) {
      image(source ? source.at(b, 0, padH) : xAt + b * xImage, wAt, oAt + b * oImage);
      stats?.add(oAt + b * oImage, shape.outH * shape.outW);
    }
    stats?.finish(out);
    return out;
  } finally {
    stats?.free();
    source?.free();
  }
}
