/**
 * The products of Winograd's convolutions on WebAssembly SIMD, shared by F(2x2, 3x3)
 * (`conv2d_winograd_wasm.ts`, `conv2d_backprop_filter_winograd_wasm.ts`), F(4x4, 3x3)
 * (`conv2d_winograd_f4_wasm.ts`, `conv2d_backprop_filter_winograd4_wasm.ts`) and the 1x1
 * convolutions (`conv2d_pointwise_wasm.ts`, one position): after the transforms, a convolution is
 * one matrix product per position ξ of the transformed blocks. {@linkcode productBody} assembles
 * the forward one, `M[ξ] = V[ξ]·U[ξ]`, {@linkcode atbBody} the filter gradient's,
 * `dU[ξ] += V[ξ]ᵀ·Ŷ[ξ]`, both in register tiles (`f32x4.relaxed_madd` when `fused`); the planes of
 * a chunk's transformed blocks lie {@linkcode planeBytes} apart.
 *
 * @example
 * ```ts
 * import { moduleBytes } from "./wasm_simd_builder.ts";
 * import { atbBody, productBody, type WinogradShape } from "./winograd_products_wasm.ts";
 * const shape: WinogradShape = { ci: 4, co: 8, padW: 0, blocksW: 1, chunk: 1 };
 * const bytes = moduleBytes(false, 4, [
 *   { name: "mm", body: productBody(shape, false, 1) },
 *   { name: "atb", body: atbBody(shape, false, 1) },
 * ]);
 * console.log(WebAssembly.validate(new Uint8Array(bytes))); // true
 * ```
 *
 * @module
 */
import {
  advanceBy,
  functionBody,
  I32,
  loopWhileCountingDown,
  op,
  V128,
} from "./wasm_simd_builder.ts";

/** The sizes one module is assembled for. */
export interface WinogradShape {
  ci: number;
  co: number;
  /** Width of the padded input (`2·blocksW + 2`). */
  padW: number;
  /** 2x2 output blocks per row and rows of blocks per chunk. */
  blocksW: number;
  chunk: number;
}

/**
 * Bytes from one position ξ's plane (`[chunk·blocksW][channels]`) of a chunk's transformed blocks
 * to the next: the plane's size, 64 bytes more when that is a multiple of 1 KB. The transforms
 * read or write all 16 planes at once; planes a multiple of 4 KB apart (the 8x8x64 layers: 4 KB
 * exactly) fall in one set of the L1 cache and alias in the store buffer (the 8x8x64 input
 * transform ran 2.7 times slower than the 16x16x32 one on as many numbers).
 */
export function planeBytes(s: WinogradShape, channels: number): number {
  const bytes = 4 * s.chunk * s.blocksW * channels;
  return bytes % 1024 === 0 ? bytes + 64 : bytes;
}

/**
 * `mm(v, u, m, blocks)`: `M[ξ] = V[ξ]·U[ξ]` for the 16 positions (`positions`: 36 for F(4x4, 3x3)), `blocks` rows each (`V[ξ]`:
 * `[blocks, ci]` at `v + ξ·plane`, `U[ξ]`: `[ci, co]`, `M[ξ]`: `[blocks, co]`), in tiles of 3 rows
 * x 16 columns (a tail of 1 row, and of 4 to 12 columns).
 */
export function productBody(s: WinogradShape, fused: boolean, positions = 16): number[] {
  const { ci, co } = s;
  const P = 4;
  const ROWS = 3;
  const VEC = 4;
  const UNROLL = 4; // channels per trip of the inner loop (ci is a multiple of 4)
  const acc = (r: number, v: number) => P + r * VEC + v;
  const splat = (r: number) => P + ROWS * VEC + r;
  const wv = P + ROWS * VEC + ROWS;
  let next = wv + 1;
  const xi = next++; // ξ counter
  const vX = next++;
  const uX = next++;
  const mX = next++;
  const vt = next++;
  const mt = next++;
  const tLeft = next++;
  const vk = next++;
  const uk = next++;
  const kLeft = next++;
  const rest = next++;
  const vPlane = planeBytes(s, ci);
  const mPlane = planeBytes(s, co);
  const madd = (r: number, v: number) =>
    fused
      ? [
        ...op.localGet(splat(r)),
        ...op.localGet(wv),
        ...op.localGet(acc(r, v)),
        ...op.f32x4RelaxedMadd,
      ]
      : [
        ...op.localGet(acc(r, v)),
        ...op.localGet(splat(r)),
        ...op.localGet(wv),
        ...op.f32x4Mul,
        ...op.f32x4Add,
      ];
  /** One tile of `rows` rows x `vectors` vectors at column `c0`, from `vt` into `mt`. */
  const tile = (rows: number, vectors: number, c0: number): number[] => {
    const code: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vectors; v++) {
        code.push(...op.f32Const(0), ...op.f32x4Splat, ...op.localSet(acc(r, v)));
      }
    }
    code.push(
      ...op.localGet(vt),
      ...op.localSet(vk),
      ...op.localGet(uX),
      ...op.localSet(uk),
      ...op.i32Const(ci / UNROLL),
      ...op.localSet(kLeft),
      ...op.loop,
    );
    for (let u = 0; u < UNROLL; u++) {
      for (let r = 0; r < rows; r++) {
        code.push(
          ...op.localGet(vk),
          ...op.v128Load32Splat(4 * (r * ci + u)),
          ...op.localSet(splat(r)),
        );
      }
      for (let v = 0; v < vectors; v++) {
        code.push(
          ...op.localGet(uk),
          ...op.v128Load(4 * (u * co + c0) + 16 * v),
          ...op.localSet(wv),
        );
        for (let r = 0; r < rows; r++) code.push(...madd(r, v), ...op.localSet(acc(r, v)));
      }
    }
    code.push(
      ...advanceBy(vk, 4 * UNROLL),
      ...advanceBy(uk, 4 * UNROLL * co),
      ...loopWhileCountingDown(kLeft),
      ...op.end,
    );
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vectors; v++) {
        code.push(
          ...op.localGet(mt),
          ...op.localGet(acc(r, v)),
          ...op.v128Store(4 * (r * co + c0) + 16 * v),
        );
      }
    }
    return code;
  };
  const code: number[] = [
    ...op.localGet(0),
    ...op.localSet(vX),
    ...op.localGet(1),
    ...op.localSet(uX),
    ...op.localGet(2),
    ...op.localSet(mX),
    ...op.i32Const(positions),
    ...op.localSet(xi),
    ...op.loop, // ξ
  ];
  for (let c0 = 0; c0 < co; c0 += 4 * VEC) {
    const vectors = Math.min(VEC, (co - c0) / 4);
    code.push(
      ...op.localGet(vX),
      ...op.localSet(vt),
      ...op.localGet(mX),
      ...op.localSet(mt),
      // Full tiles: blocks / 3 of them, then the rest one row at a time.
      ...op.localGet(3),
      ...op.i32Const(ROWS),
      0x6e, // i32.div_u
      ...op.localTee(tLeft),
      0x04, // if (any full tile)
      0x40,
      ...op.loop,
      ...tile(ROWS, vectors, c0),
      ...advanceBy(vt, 4 * ROWS * ci),
      ...advanceBy(mt, 4 * ROWS * co),
      ...loopWhileCountingDown(tLeft),
      ...op.end, // loop
      ...op.end, // if
      ...op.localGet(3),
      ...op.i32Const(ROWS),
      0x70, // i32.rem_u
      ...op.localTee(rest),
      0x04, // if (any row left)
      0x40,
      ...op.loop,
      ...tile(1, vectors, c0),
      ...advanceBy(vt, 4 * ci),
      ...advanceBy(mt, 4 * co),
      ...loopWhileCountingDown(rest),
      ...op.end, // loop
      ...op.end, // if
    );
  }
  code.push(
    ...advanceBy(vX, vPlane),
    ...advanceBy(uX, 4 * ci * co),
    ...advanceBy(mX, mPlane),
    ...loopWhileCountingDown(xi),
    ...op.end, // ξ
  );
  return functionBody([[ROWS * VEC + ROWS + 1, V128], [next - wv - 1, I32]], code);
}

/**
 * `atb(v, y, du, blocks)`: `dU[ξ] += V[ξ]ᵀ·Ŷ[ξ]` for the 16 positions (`positions`: 36 for
 * F(4x4, 3x3)) over `blocks` blocks, in tiles of 3 (a tail of 1 or 2) input channels x 16 (a tail
 * of 4 to 12) output channels.
 */
export function atbBody(s: WinogradShape, fused: boolean, positions = 16): number[] {
  const { ci, co } = s;
  const P = 4;
  const ROWS = 3;
  const VEC = 4;
  const acc = (r: number, v: number) => P + r * VEC + v;
  const splat = (r: number) => P + ROWS * VEC + r;
  const yv = P + ROWS * VEC + ROWS;
  let next = yv + 1;
  const xi = next++;
  const vX = next++;
  const yX = next++;
  const uX = next++;
  const vq = next++;
  const yq = next++;
  const tLeft = next++;
  const vPlane = planeBytes(s, ci);
  const yPlane = planeBytes(s, co);
  const madd = (r: number, v: number) =>
    fused
      ? [
        ...op.localGet(splat(r)),
        ...op.localGet(yv),
        ...op.localGet(acc(r, v)),
        ...op.f32x4RelaxedMadd,
      ]
      : [
        ...op.localGet(acc(r, v)),
        ...op.localGet(splat(r)),
        ...op.localGet(yv),
        ...op.f32x4Mul,
        ...op.f32x4Add,
      ];
  /** The tile of `rows` input channels from `i0` x `vectors` vectors of output channels at `c0`. */
  const tile = (i0: number, rows: number, c0: number, vectors: number): number[] => {
    const code: number[] = [];
    const at = (r: number, v: number) => 4 * ((i0 + r) * co + c0) + 16 * v;
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vectors; v++) {
        code.push(...op.localGet(uX), ...op.v128Load(at(r, v)), ...op.localSet(acc(r, v)));
      }
    }
    code.push(
      ...op.localGet(vX),
      ...op.localSet(vq),
      ...op.localGet(yX),
      ...op.localSet(yq),
      ...op.localGet(3),
      ...op.localSet(tLeft),
      ...op.loop,
    );
    for (let r = 0; r < rows; r++) {
      code.push(...op.localGet(vq), ...op.v128Load32Splat(4 * (i0 + r)), ...op.localSet(splat(r)));
    }
    for (let v = 0; v < vectors; v++) {
      code.push(...op.localGet(yq), ...op.v128Load(4 * c0 + 16 * v), ...op.localSet(yv));
      for (let r = 0; r < rows; r++) code.push(...madd(r, v), ...op.localSet(acc(r, v)));
    }
    code.push(
      ...advanceBy(vq, 4 * ci),
      ...advanceBy(yq, 4 * co),
      ...loopWhileCountingDown(tLeft),
      ...op.end,
    );
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vectors; v++) {
        code.push(...op.localGet(uX), ...op.localGet(acc(r, v)), ...op.v128Store(at(r, v)));
      }
    }
    return code;
  };
  const code: number[] = [
    ...op.localGet(0),
    ...op.localSet(vX),
    ...op.localGet(1),
    ...op.localSet(yX),
    ...op.localGet(2),
    ...op.localSet(uX),
    ...op.i32Const(positions),
    ...op.localSet(xi),
    ...op.loop, // ξ
  ];
  for (let i0 = 0; i0 < ci; i0 += ROWS) {
    for (let c0 = 0; c0 < co; c0 += 4 * VEC) {
      code.push(...tile(i0, Math.min(ROWS, ci - i0), c0, Math.min(VEC, (co - c0) / 4)));
    }
  }
  code.push(
    ...advanceBy(vX, vPlane),
    ...advanceBy(yX, yPlane),
    ...advanceBy(uX, 4 * ci * co),
    ...loopWhileCountingDown(xi),
    ...op.end,
  );
  return functionBody([[ROWS * VEC + ROWS + 1, V128], [next - yv - 1, I32]], code);
}
