/**
 * The WebAssembly module behind `batch_norm_simd_wasm.ts`: batch normalisation's passes over
 * channels-last float32 rows, assembled instruction by instruction ({@linkcode batchNormModuleBytes};
 * what each pass computes and how it is called: that module's doc). Every pass is one function
 * over `rows` rows of `vecs` vectors (a shared row walker, four channels a vector); the summing
 * passes come in column groups of 1 to {@linkcode GROUP} vectors ({@linkcode RELU_GROUP} with the
 * ReLU's mask, whose operands take registers too), their sums kept in locals over the rows.
 *
 * @example
 * ```ts
 * import { batchNormModuleBytes } from "./batch_norm_simd_module_wasm.ts";
 * const bytes = batchNormModuleBytes(false);
 * const names = WebAssembly.Module.exports(new WebAssembly.Module(new Uint8Array(bytes))).map((e) => e.name);
 * console.log(names.includes("affineAddRelu"), names.includes("gradStats4")); // true true
 * ```
 *
 * @module
 */
import {
  advance,
  advanceBy,
  blockUnlessAnyZero,
  functionBody,
  I32,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
} from "./wasm_simd_builder.ts";

/**
 * One function over `rows` rows of `vecs` vectors. Parameters: the data pointers `streams`
 * (advanced 16 bytes per vector, row after row), the per-channel row pointers `perChannel`
 * (read, or accumulated into, at the same offset within their one row), then `rows` and `vecs`.
 * `inner` is the work on one vector; it reads a per-channel operand with `at(p)` (its address)
 * and the local `OFF` (the byte offset of the vector within its row); its `v128Locals` scratch
 * vectors are the locals from `scratch` on.
 */
function rowsFunction(
  streams: number,
  perChannel: number,
  inner: (at: (param: number) => number[], scratch: number) => number[],
  v128Locals = 0,
): { body: number[]; params: number[] } {
  const count = streams + perChannel;
  const ROWS = count;
  const VECS = count + 1;
  const OFF = count + 2;
  const LEFT = count + 3;
  const at = (p: number) => [...op.localGet(p), ...op.localGet(OFF), ...op.i32Add];
  const locals: [number, number][] = v128Locals > 0 ? [[2, I32], [v128Locals, V128]] : [[2, I32]];
  const body = functionBody(locals, [
    ...blockUnlessAnyZero(ROWS, VECS),
    ...op.loop, // rows
    ...op.i32Const(0),
    ...op.localSet(OFF),
    ...op.localGet(VECS),
    ...op.localSet(LEFT),
    ...op.loop, // vectors
    ...inner(at, count + 4),
    ...Array.from({ length: streams }, (_, s) => advanceBy(s, 16)).flat(),
    ...advanceBy(OFF, 16),
    ...loopWhileCountingDown(LEFT),
    ...op.end,
    ...loopWhileCountingDown(ROWS),
    ...op.end,
    ...op.end,
  ]);
  return { body, params: new Array(count + 2).fill(I32) };
}

/** Vectors of a row whose sums one call keeps in registers (locals): a column group. */
export const GROUP = 4;
/**
 * The same with the ReLU's mask, whose scale and shift rows take registers too (5 per vector: 4
 * vectors would spill; 2 measured x1.15 faster on the ResNet's 16 channels).
 */
export const RELU_GROUP = 2;

/**
 * stats`g`(x, shift, sum, sq, rows, stride), for a group of `g` vectors of each row (rows
 * `stride` bytes apart): sum += x - shift; sq += (x - shift)², the sums kept in locals over the
 * rows (no store-to-load chain through memory), read before and written after.
 */
function statsGroupFunction(g: number) {
  const [X, SHIFT, SUM, SQ, ROWS, STRIDE] = [0, 1, 2, 3, 4, 5];
  const k = (j: number) => 6 + j;
  const s = (j: number) => 6 + g + j;
  const q = (j: number) => 6 + 2 * g + j;
  const D = 6 + 3 * g;
  const each = (f: (j: number) => number[]) => Array.from({ length: g }, (_, j) => f(j)).flat();
  const body = functionBody([[3 * g + 1, V128]], [
    ...each((j) => [
      ...op.localGet(SHIFT),
      ...op.v128Load(16 * j),
      ...op.localSet(k(j)),
      ...op.localGet(SUM),
      ...op.v128Load(16 * j),
      ...op.localSet(s(j)),
      ...op.localGet(SQ),
      ...op.v128Load(16 * j),
      ...op.localSet(q(j)),
    ]),
    ...blockUnlessAnyZero(ROWS),
    ...op.loop,
    ...each((j) => [
      ...op.localGet(X),
      ...op.v128Load(16 * j),
      ...op.localGet(k(j)),
      ...op.f32x4Sub,
      ...op.localTee(D),
      ...op.localGet(s(j)),
      ...op.f32x4Add,
      ...op.localSet(s(j)),
      ...op.localGet(D),
      ...op.localGet(D),
      ...op.localGet(q(j)),
      ...op.f32x4RelaxedMadd,
      ...op.localSet(q(j)),
    ]),
    ...advance(X, STRIDE),
    ...loopWhileCountingDown(ROWS),
    ...op.end,
    ...op.end,
    ...each((j) => [
      ...op.localGet(SUM),
      ...op.localGet(s(j)),
      ...op.v128Store(16 * j),
      ...op.localGet(SQ),
      ...op.localGet(q(j)),
      ...op.v128Store(16 * j),
    ]),
  ]);
  return { body, params: new Array(6).fill(I32) };
}

/**
 * affine(x, out, mean, scale, shift, rows, vecs): out = (x - mean) · scale + shift; with `relu`,
 * `that < 0 ? 0 : that` (NaN stays NaN, as tfjs's ReLU).
 */
function affineFunction(relu: boolean) {
  const [X, OUT, MEAN, SCALE, SHIFT] = [0, 1, 2, 3, 4];
  // `zero`: a v128 local never set (wasm zeroes locals), the ReLU's 0 without a splat a vector.
  return rowsFunction(2, 3, (at, zero) => [
    ...op.localGet(OUT),
    ...affineOf(X, at, [MEAN, SCALE, SHIFT]),
    // pmax(z, 0) = z < 0 ? 0 : z (tfjs's ReLU: NaN stays NaN, -0 stays -0), one instruction
    ...(relu ? [...op.localGet(zero), ...op.f32x4Pmax] : []),
    ...op.v128Store(0),
  ], relu ? 1 : 0);
}

/**
 * The instructions that leave `(x - mean) · scale + shift` of the vector at parameter `x` on the
 * stack; `at(p)` addresses the channel vector of parameter `p` (mean, scale, shift).
 */
function affineOf(
  x: number,
  at: (param: number) => number[],
  [mean, scale, shift]: readonly [number, number, number],
): number[] {
  return [
    ...op.localGet(x),
    ...op.v128Load(0),
    ...at(mean),
    ...op.v128Load(0),
    ...op.f32x4Sub,
    ...at(scale),
    ...op.v128Load(0),
    ...at(shift),
    ...op.v128Load(0),
    ...op.f32x4RelaxedMadd,
  ];
}

/**
 * affineAddRelu(x, r, out, mean, scale, shift, rows, vecs): out = pmax((x - mean) · scale + shift
 * + r, 0), the affine pass's own instructions, then the residual's add and the ReLU.
 */
function affineAddReluFunction() {
  const [X, R, OUT, MEAN, SCALE, SHIFT] = [0, 1, 2, 3, 4, 5];
  return rowsFunction(3, 3, (at, zero) => [
    ...op.localGet(OUT),
    ...affineOf(X, at, [MEAN, SCALE, SHIFT]),
    ...op.localGet(R),
    ...op.v128Load(0),
    ...op.f32x4Add,
    ...op.localGet(zero),
    ...op.f32x4Pmax,
    ...op.v128Store(0),
  ], 1);
}

/**
 * gradStats`g`(dy, x, mean, sdy, sdyx, rows, stride), for a group of `g` vectors of each row:
 * sdy += dy; sdyx += dy · (x - mean), the sums kept in locals over the rows. With `relu`, two more
 * parameters, scale and shift, and dy counts only where the ReLU let its input through:
 * `dy · [(x - mean) · scale + shift > 0]` (the forward pass's `affine` recomputed, same bits).
 */
function gradStatsGroupFunction(g: number, relu: boolean) {
  const [DY, X, MEAN, SDY, SDYX, ROWS, STRIDE, SCALE, SHIFT] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const first = relu ? 9 : 7;
  const m = (j: number) => first + j;
  const a = (j: number) => first + g + j;
  const b = (j: number) => first + 2 * g + j;
  const G = first + 3 * g;
  const sc = (j: number) => G + 1 + j;
  const sh = (j: number) => G + 1 + g + j;
  const D = G + 1 + 2 * g;
  const ZERO = D + 1;
  const each = (f: (j: number) => number[]) => Array.from({ length: g }, (_, j) => f(j)).flat();
  const load = (from: number, j: number, into: number) => [
    ...op.localGet(from),
    ...op.v128Load(16 * j),
    ...op.localSet(into),
  ];
  const plain = (j: number) => [
    ...op.localGet(DY),
    ...op.v128Load(16 * j),
    ...op.localTee(G),
    ...op.localGet(a(j)),
    ...op.f32x4Add,
    ...op.localSet(a(j)),
    ...op.localGet(G),
    ...op.localGet(X),
    ...op.v128Load(16 * j),
    ...op.localGet(m(j)),
    ...op.f32x4Sub,
    ...op.localGet(b(j)),
    ...op.f32x4RelaxedMadd,
    ...op.localSet(b(j)),
  ];
  const masked = (j: number) => [
    // D = x - mean; G = dy & ((D · scale + shift) > 0)
    ...op.localGet(X),
    ...op.v128Load(16 * j),
    ...op.localGet(m(j)),
    ...op.f32x4Sub,
    ...op.localTee(D),
    ...op.localGet(DY),
    ...op.v128Load(16 * j),
    ...op.localGet(D),
    ...op.localGet(sc(j)),
    ...op.localGet(sh(j)),
    ...op.f32x4RelaxedMadd,
    ...op.localGet(ZERO),
    ...op.f32x4Gt,
    ...op.v128And,
    ...op.localTee(G),
    ...op.localGet(a(j)),
    ...op.f32x4Add,
    ...op.localSet(a(j)),
    // stack: D; b = G · D + b
    ...op.localGet(G),
    ...op.localGet(b(j)),
    ...op.f32x4RelaxedMadd,
    ...op.localSet(b(j)),
  ];
  const body = functionBody([[relu ? 5 * g + 3 : 3 * g + 1, V128]], [
    ...each((j) => [
      ...load(MEAN, j, m(j)),
      ...load(SDY, j, a(j)),
      ...load(SDYX, j, b(j)),
      ...(relu ? [...load(SCALE, j, sc(j)), ...load(SHIFT, j, sh(j))] : []),
    ]),
    ...(relu ? [...op.f32Const(0), ...op.f32x4Splat, ...op.localSet(ZERO)] : []),
    ...blockUnlessAnyZero(ROWS),
    ...op.loop,
    ...each(relu ? masked : plain),
    ...advance(DY, STRIDE),
    ...advance(X, STRIDE),
    ...loopWhileCountingDown(ROWS),
    ...op.end,
    ...op.end,
    ...each((j) => [
      ...op.localGet(SDY),
      ...op.localGet(a(j)),
      ...op.v128Store(16 * j),
      ...op.localGet(SDYX),
      ...op.localGet(b(j)),
      ...op.v128Store(16 * j),
    ]),
  ]);
  return { body, params: new Array(relu ? 9 : 7).fill(I32) };
}

/**
 * gradInput(dy, x, out, mean, a, b, d, rows, vecs): out = a · dy + (b · (x - mean) + d). With
 * `relu`, one more per-channel operand, shift (after d), and dy counts only where
 * `(x - mean) · a + shift > 0` (`a` is the forward pass's scale: its `affine` recomputed).
 */
function gradInputFunction(relu: boolean) {
  const [DY, X, OUT, MEAN, A, B, D, SHIFT] = [0, 1, 2, 3, 4, 5, 6, 7];
  const load = (p: number, at: (p: number) => number[]) => [...at(p), ...op.v128Load(0)];
  if (relu) {
    return rowsFunction(3, 5, (at, scratch) => [
      ...op.localGet(OUT),
      ...load(A, at),
      ...op.localGet(DY),
      ...op.v128Load(0),
      ...op.localGet(X),
      ...op.v128Load(0),
      ...load(MEAN, at),
      ...op.f32x4Sub,
      ...op.localTee(scratch),
      ...load(A, at),
      ...load(SHIFT, at),
      ...op.f32x4RelaxedMadd,
      ...op.localGet(scratch + 1), // never set: zero
      ...op.f32x4Gt,
      ...op.v128And,
      ...load(B, at),
      ...op.localGet(scratch),
      ...load(D, at),
      ...op.f32x4RelaxedMadd,
      ...op.f32x4RelaxedMadd,
      ...op.v128Store(0),
    ], 2);
  }
  return rowsFunction(3, 4, (at) => [
    ...op.localGet(OUT),
    ...load(A, at),
    ...op.localGet(DY),
    ...op.v128Load(0),
    ...load(B, at),
    ...op.localGet(X),
    ...op.v128Load(0),
    ...load(MEAN, at),
    ...op.f32x4Sub,
    ...load(D, at),
    ...op.f32x4RelaxedMadd,
    ...op.f32x4RelaxedMadd,
    ...op.v128Store(0),
  ]);
}

/** The module's bytes; its memory is imported as `env.memory` (`shared` as the backend's is). */
export function batchNormModuleBytes(shared: boolean): Uint8Array {
  const groups = Array.from({ length: GROUP }, (_, i) => i + 1);
  return moduleBytes(shared, 0, [
    ...groups.map((g) => ({ name: `stats${g}`, ...statsGroupFunction(g) })),
    { name: "affine", ...affineFunction(false) },
    { name: "affineRelu", ...affineFunction(true) },
    { name: "affineAddRelu", ...affineAddReluFunction() },
    ...groups.map((g) => ({ name: `gradStats${g}`, ...gradStatsGroupFunction(g, false) })),
    ...groups.map((g) => ({ name: `gradStatsRelu${g}`, ...gradStatsGroupFunction(g, true) })),
    { name: "gradInput", ...gradInputFunction(false) },
    { name: "gradInputRelu", ...gradInputFunction(true) },
  ]);
}
