/**
 * The output gradient's transform of Winograd's F(4x4, 3x3) filter gradient on WebAssembly SIMD,
 * a function body for the module of `conv2d_backprop_filter_winograd4_wasm.ts`: each 4x4 block of
 * `dy` becomes `Ŷ = A·dY·Aᵀ` (6x6; `A` is the transpose of the forward pass's output transform
 * `Aᵀ`), whose 36 positions then meet the transformed input blocks in the products of
 * `winograd_products_wasm.ts` (`atbBody`). Blocks past the output's edge read zeros
 * ({@linkcode gradTransform4Body} with `last`).
 *
 * @example
 * ```ts
 * import { moduleBytes } from "./wasm_simd_builder.ts";
 * import { gradTransform4Body } from "./winograd4_grad_transform_wasm.ts";
 * const shape = { ci: 4, co: 4, padW: 10, blocksW: 2, chunk: 1, outH: 7, outW: 7 };
 * const bytes = moduleBytes(false, 3, [
 *   { name: "dyT", body: gradTransform4Body(shape, false) },
 *   { name: "dyTLast", body: gradTransform4Body(shape, true) },
 * ]);
 * console.log(WebAssembly.validate(new Uint8Array(bytes))); // true
 * ```
 *
 * @module
 */
import { functionBody, I32, op, V128 } from "./wasm_simd_builder.ts";
import { planeBytes } from "./winograd_products_wasm.ts";
import {
  add,
  BLOCK_ROWS_LOCALS,
  blockRowsLocals,
  blockRowsLoop,
  get,
  lastBlockSize,
  mul,
  sub,
  type Winograd4Shape,
} from "./winograd4_transforms_wasm.ts";

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
export function gradTransform4Body(s: Winograd4Shape, last: boolean): number[] {
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
  const at = blockRowsLocals(P + V128S);
  const dc = at.fromC;
  const yc = at.toC;
  const plane = planeBytes(s, co);
  /** Four channels of one block of `cols` columns of dy (the rest of the 4x4 block are zeros). */
  const block = (cols: number): number[] => {
    const code: number[] = [];
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
    return code;
  };
  const code: number[] = [
    ...op.f32Const(4),
    ...op.f32x4Splat,
    ...op.localSet(four),
    ...op.f32Const(0),
    ...op.f32x4Splat,
    ...op.localSet(zero),
    ...blockRowsLoop(s, at, [4 * 4 * outW * co, 4 * blocksW * co], [4 * 4 * co, 4 * co], block),
  ];
  return functionBody([[V128S, V128], [BLOCK_ROWS_LOCALS, I32]], code);
}
