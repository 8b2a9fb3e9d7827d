/**
 * The transforms of Winograd's F(4x4, 3x3) on WebAssembly SIMD, as function bodies for the
 * modules of `conv2d_winograd_f4_wasm.ts` (forward pass and input gradient) and
 * `conv2d_backprop_filter_winograd4_wasm.ts` (filter gradient): the input transform `V = Bᵀ·d·B`
 * of 6x6 blocks ({@linkcode inputTransform4Body}: from zero-padded rows, or straight from a
 * "same" image with the padding as zeros in the code, {@linkcode RowEdges}) and the output
 * transform `Aᵀ·M·A` into 4x4 blocks ({@linkcode outputTransform4Body}: the last row and column of
 * blocks store only the pixels inside the output, {@linkcode lastBlockSize}). Each 2-D transform
 * is the 1-D six-point one applied to rows, then columns, four channels a vector.
 *
 * @example
 * ```ts
 * import { moduleBytes } from "./wasm_simd_builder.ts";
 * import {
 *   inputTransform4Body,
 *   outputTransform4Body,
 *   type Winograd4Shape,
 * } from "./winograd4_transforms_wasm.ts";
 * const shape: Winograd4Shape = { ci: 4, co: 4, padW: 10, blocksW: 2, chunk: 1, outH: 8, outW: 8 };
 * const bytes = moduleBytes(false, 3, [
 *   { name: "inT", body: inputTransform4Body(shape) },
 *   { name: "outT", body: outputTransform4Body(shape, false) },
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
import { planeBytes, type WinogradShape } from "./winograd_products_wasm.ts";

/** A v128 local's value, left on the stack. */
export const get = (local: number) => op.localGet(local);
/** `a + b`, `a - b`, `a · b` of two vector expressions, left on the stack. */
export const add = (a: number[], b: number[]) => [...a, ...b, ...op.f32x4Add];
export const sub = (a: number[], b: number[]) => [...a, ...b, ...op.f32x4Sub];
export const mul = (a: number[], b: number[]) => [...a, ...b, ...op.f32x4Mul];

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
export function outputTransform4Body(s: Winograd4Shape, last: boolean): number[] {
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
  const at = blockRowsLocals(P + V128S);
  const mc = at.fromC;
  const oc = at.toC;
  const plane = planeBytes(s, co);
  /** Four channels of one block of `cols` columns (the last of a row may have fewer than 4). */
  const block = (cols: number): number[] => {
    const code: number[] = [];
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
    return code;
  };
  const code: number[] = [
    ...splatConst(four, 4),
    ...splatConst(eight, 8),
    ...blockRowsLoop(s, at, [4 * blocksW * co, 4 * 4 * outW * co], [4 * co, 4 * 4 * co], block),
  ];
  return functionBody([[V128S, V128], [BLOCK_ROWS_LOCALS, I32]], code);
}

/** The i32 locals of {@linkcode blockRowsLoop}: counters and the two pointers of each level. */
const BLOCK_ROWS_NAMES = [
  "rowsLeft",
  "fromRow",
  "toRow",
  "from",
  "to",
  "blocksLeft",
  "fromC",
  "toC",
  "channelsLeft",
] as const;
/** The locals by name (`fromC`, `toC`: what a block's code reads and writes). */
export type BlockRowsLocals = Record<(typeof BLOCK_ROWS_NAMES)[number], number>;
/** How many i32 locals {@linkcode blockRowsLocals} takes. */
export const BLOCK_ROWS_LOCALS = BLOCK_ROWS_NAMES.length;

/** The locals of {@linkcode blockRowsLoop}, numbered from `first` on. */
export function blockRowsLocals(first: number): BlockRowsLocals {
  return Object.fromEntries(
    BLOCK_ROWS_NAMES.map((name, i) => [name, first + i]),
  ) as BlockRowsLocals;
}

/**
 * The loop of a transform over rows of 4x4 blocks, the function's parameters being `from`, `to`
 * and the number of rows: each row starts the two pointers `from` and `to` where the row's
 * pointers are; each block of 4 output columns (and a last narrower one, `cols` < 4) runs
 * `block(cols)` on every four channels, its pointers `fromC` and `toC` moving 16 bytes a time,
 * then moves on by `blockSteps` bytes; each row ends moving the row's pointers by `rowSteps`.
 */
export function blockRowsLoop(
  s: Winograd4Shape,
  at: BlockRowsLocals,
  rowSteps: [number, number],
  blockSteps: [number, number],
  block: (cols: number) => number[],
): number[] {
  const channels = (cols: number) => [
    ...get(at.from),
    ...op.localSet(at.fromC),
    ...get(at.to),
    ...op.localSet(at.toC),
    ...op.i32Const(s.co / 4),
    ...op.localSet(at.channelsLeft),
    ...op.loop,
    ...block(cols),
    ...advanceBy(at.fromC, 16),
    ...advanceBy(at.toC, 16),
    ...loopWhileCountingDown(at.channelsLeft),
    ...op.end,
    ...advanceBy(at.from, blockSteps[0]),
    ...advanceBy(at.to, blockSteps[1]),
  ];
  const size = lastBlockSize(s);
  const full = size.cols === 4 ? s.blocksW : s.blocksW - 1; // blocks of 4 columns
  return [
    ...get(0),
    ...op.localSet(at.fromRow),
    ...get(1),
    ...op.localSet(at.toRow),
    ...get(2),
    ...op.localSet(at.rowsLeft),
    ...op.loop,
    ...get(at.fromRow),
    ...op.localSet(at.from),
    ...get(at.toRow),
    ...op.localSet(at.to),
    ...(full > 0
      ? [
        ...op.i32Const(full),
        ...op.localSet(at.blocksLeft),
        ...op.loop,
        ...channels(4),
        ...loopWhileCountingDown(at.blocksLeft),
        ...op.end,
      ]
      : []),
    ...(full < s.blocksW ? channels(size.cols) : []),
    ...advanceBy(at.fromRow, rowSteps[0]),
    ...advanceBy(at.toRow, rowSteps[1]),
    ...loopWhileCountingDown(at.rowsLeft),
    ...op.end,
  ];
}
