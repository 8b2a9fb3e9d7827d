/**
 * Three passes over large float32 tensors on WebAssembly SIMD, four lanes at a time, for the
 * wasm kernels of a convolution's surroundings in training, where the backend's own kernels
 * take several passes or run scalar: the ReLU gradient `dy · step(x)` in one pass
 * (`relu_grad_wasm.ts`), the bias add `x + b` broadcast over rows (`bias_add_wasm.ts`), and the
 * bias gradient's column sums (`sum_leading_axes_wasm.ts`). Each reads and writes tensors where
 * they lie on the backend's heap; lengths are in vectors of 4 floats, tails are the caller's.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { reluGradVectors } from "./elementwise_simd_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const dy = tf.tensor1d([1, 2, 3, 4]);
 * const x = tf.tensor1d([-1, 0, 0.5, 7]);
 * const dx = tf.zeros([4]);
 * const heap = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
 * reluGradVectors(backend, heap(dy), heap(x), heap(dx), 1);
 * console.log(await dx.data()); // [0, 0, 3, 4]
 * tf.dispose([dy, x, dx]);
 * ```
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  advanceBy,
  blockUnlessAnyZero,
  functionBody,
  I32,
  instantiateOnHeap,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
} from "./wasm_simd_builder.ts";

// Parameters shared by the three functions (unused ones are ignored).
const P0 = 0;
const P1 = 1;
const P2 = 2;
const ROWS = 3; // rows (reluGrad: vectors)
const VECS = 4; // vectors per row
const PARAMS = 5;
// Locals after the parameters.
const LEFT = 5;
const CURSOR = 6; // i32: the bias / sum row being walked
const V0 = 7;
const V1 = 8;
const LOCALS: [number, number][] = [[2, I32], [2, V128]];

/** `out = dy · (x > 0 ? 1 : 0)`, NaN where x is NaN (as `mul(dy, step(x))`): P0 dy, P1 x, P2 out. */
function reluGradBody(): number[] {
  return functionBody(LOCALS, [
    ...blockUnlessAnyZero(ROWS),
    ...op.loop,
    // V0 = x; V1 = (x > 0) & 1.0; where x is NaN, V1 = x
    ...op.localGet(P1),
    ...op.v128Load(0),
    ...op.localTee(V0),
    ...op.f32Const(0),
    ...op.f32x4Splat,
    ...op.f32x4Gt,
    ...op.f32Const(1),
    ...op.f32x4Splat,
    ...op.v128And,
    ...op.localSet(V1),
    ...op.localGet(P2),
    ...op.localGet(V0),
    ...op.localGet(V1),
    ...op.localGet(V0),
    ...op.localGet(V0),
    ...op.f32x4Ne,
    ...op.v128Bitselect,
    ...op.localGet(P0),
    ...op.v128Load(0),
    ...op.f32x4Mul,
    ...op.v128Store(0),
    ...advanceBy(P0, 16),
    ...advanceBy(P1, 16),
    ...advanceBy(P2, 16),
    ...loopWhileCountingDown(ROWS),
    ...op.end,
    ...op.end,
  ]);
}

/**
 * For every row (`ROWS` of them), `CURSOR` restarts at `rowStart` and `inner` runs once per vector
 * (`VECS`), after which the locals in `steps` advance 16 bytes.
 */
function rowsOfVectors(rowStart: number, inner: number[], steps: number[]): number[] {
  return functionBody(LOCALS, [
    ...blockUnlessAnyZero(ROWS, VECS),
    ...op.loop, // rows
    ...op.localGet(rowStart),
    ...op.localSet(CURSOR),
    ...op.localGet(VECS),
    ...op.localSet(LEFT),
    ...op.loop, // vectors
    ...inner,
    ...steps.flatMap((local) => advanceBy(local, 16)),
    ...loopWhileCountingDown(LEFT),
    ...op.end,
    ...loopWhileCountingDown(ROWS),
    ...op.end,
    ...op.end,
  ]);
}

/** `out[r] = x[r] + b` for every row r of `VECS` vectors: P0 x, P1 b, P2 out. */
function addRowsBody(): number[] {
  const inner = [
    ...op.localGet(P2),
    ...op.localGet(P0),
    ...op.v128Load(0),
    ...op.localGet(CURSOR),
    ...op.v128Load(0),
    ...op.f32x4Add,
    ...op.v128Store(0),
  ];
  return rowsOfVectors(P1, inner, [P0, P2, CURSOR]);
}

/** `out += Σ_r x[r]` over rows of `VECS` vectors, accumulated in `out` in float32: P0 x, P2 out. */
function sumRowsBody(): number[] {
  const inner = [
    ...op.localGet(CURSOR),
    ...op.localGet(CURSOR),
    ...op.v128Load(0),
    ...op.localGet(P0),
    ...op.v128Load(0),
    ...op.f32x4Add,
    ...op.v128Store(0),
  ];
  return rowsOfVectors(P2, inner, [P0, CURSOR]);
}

/** The module's bytes; its memory is imported as `env.memory` (`shared` as the backend's is). */
export function elementwiseModuleBytes(shared: boolean): Uint8Array {
  return moduleBytes(shared, PARAMS, [
    { name: "reluGrad", body: reluGradBody() },
    { name: "addRows", body: addRowsBody() },
    { name: "sumRows", body: sumRowsBody() },
  ]);
}

type Fn = (p0: number, p1: number, p2: number, rows: number, vecs: number) => void;
type Fns = { reluGrad: Fn; addRows: Fn; sumRows: Fn };

function fns(backend: BackendWasm): Fns {
  return instantiateOnHeap<Fns>(backend, "elementwise", elementwiseModuleBytes);
}

/** `out = dy · step(x)` over `vectors` vectors of 4 floats (heap byte addresses). */
export function reluGradVectors(
  backend: BackendWasm,
  dy: number,
  x: number,
  out: number,
  vectors: number,
): void {
  fns(backend).reluGrad(dy, x, out, vectors, 0);
}

/** `out[r, :] = x[r, :] + bias` for `rows` rows of `4·vecs` floats (heap byte addresses). */
export function addRowsVectors(
  backend: BackendWasm,
  x: number,
  bias: number,
  out: number,
  rows: number,
  vecs: number,
): void {
  fns(backend).addRows(x, bias, out, rows, vecs);
}

/** `out[:] += Σ_r x[r, :]` for `rows` rows of `4·vecs` floats, in float32 (heap addresses). */
export function sumRowsVectors(
  backend: BackendWasm,
  x: number,
  out: number,
  rows: number,
  vecs: number,
): void {
  fns(backend).sumRows(x, 0, out, rows, vecs);
}
