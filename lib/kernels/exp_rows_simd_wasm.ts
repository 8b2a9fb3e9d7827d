/**
 * The three passes of a softmax row on WebAssembly SIMD, for NT-Xent's fused
 * cross-entropy on wasm (`lib/loss/ntxent.ts`), where `Math.exp` over the
 * `2N x 2N` logits was most of the loss's time (about 35 ms a step for 1,024
 * views): `dst = exp(src - shift)`, the sum of a row, and `row *= scale`,
 * four lanes at a time, on rows where they lie on the backend's heap.
 *
 * The exponential is `2^k · p(f)` with `t = x·log2(e)`, `k = nearest(t)`,
 * `f = t - k` in [-1/2, 1/2] and `p` the degree-7 Taylor polynomial of `2^f`,
 * `2^k` built in the exponent bits. Its relative error is about `|x|·1e-7`
 * (float32's rounding of `t`): below 1e-6 for |x| < 10, 4e-6 near -84. `t` is clamped at -126, so inputs below about -87 give a
 * tiny positive number instead of their (smaller still) exponential: callers
 * keep `src - shift` above that (NT-Xent does for τ > 2/80).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { expRowVectors, scaleRowVectors, sumRowVectors } from "./exp_rows_simd_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.tensor1d([0, 1, 2, 3]);
 * const e = tf.zeros([4]);
 * const heap = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
 * expRowVectors(backend, heap(x), heap(e), 1, 3); // exp(x - 3)
 * const sum = sumRowVectors(backend, heap(e), 1);
 * scaleRowVectors(backend, heap(e), 1, 1 / sum); // softmax(x)
 * console.log(await e.data()); // [0.032, 0.087, 0.237, 0.644]
 * tf.dispose([x, e]);
 * ```
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  advanceBy,
  blockUnlessAnyZero,
  F32,
  functionBody,
  I32,
  instantiateOnHeap,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
} from "./wasm_simd_builder.ts";

const SRC = 0;
const DST = 1;
const COUNT = 2; // vectors
const VALUE = 3; // f32: the shift (exp) or the scale
// Locals of exp.
const T = 4;
const P = 5;
const F = 6;

/** 2^f ≈ Σ_{i ≤ 7} (f·ln 2)^i / i!, highest power first (Horner). */
const COEFFS = Array.from({ length: 8 }, (_, i) => {
  let c = Math.LN2 ** i;
  for (let j = 2; j <= i; j++) c /= j;
  return c;
}).reverse();

const skipIfNone = blockUnlessAnyZero(COUNT);

function expBody(): number[] {
  const code: number[] = [
    ...skipIfNone,
    ...op.loop,
    // t = max((x - shift) · log2 e, -126); k = nearest(t); f = t - k
    ...op.localGet(SRC),
    ...op.v128Load(0),
    ...op.localGet(VALUE),
    ...op.f32x4Splat,
    ...op.f32x4Sub,
    ...op.f32Const(Math.LOG2E),
    ...op.f32x4Splat,
    ...op.f32x4Mul,
    ...op.f32Const(-126),
    ...op.f32x4Splat,
    ...op.f32x4Max,
    ...op.localTee(T),
    ...op.f32x4Nearest,
    ...op.localSet(P), // P = k for now
    ...op.localGet(T),
    ...op.localGet(P),
    ...op.f32x4Sub,
    ...op.localSet(F),
    // the address, then 2^k as bits: (int(k) + 127) << 23
    ...op.localGet(DST),
    ...op.localGet(P),
    ...op.i32x4TruncSatF32x4S,
    ...op.i32Const(127),
    ...op.i32x4Splat,
    ...op.i32x4Add,
    ...op.i32Const(23),
    ...op.i32x4Shl,
    ...op.localSet(T), // T = 2^k
    // p(f), Horner
    ...op.f32Const(COEFFS[0]),
    ...op.f32x4Splat,
  ];
  for (const c of COEFFS.slice(1)) {
    code.push(
      ...op.localGet(F),
      ...op.f32x4Mul,
      ...op.f32Const(c),
      ...op.f32x4Splat,
      ...op.f32x4Add,
    );
  }
  code.push(
    ...op.localGet(T),
    ...op.f32x4Mul,
    ...op.v128Store(0),
    ...advanceBy(SRC, 16),
    ...advanceBy(DST, 16),
    ...loopWhileCountingDown(COUNT),
    ...op.end,
    ...op.end,
  );
  return functionBody([[3, V128]], code);
}

function sumBody(): number[] {
  // params: SRC, DST (unused), COUNT, VALUE (unused); returns the f32 sum.
  return functionBody([[3, V128]], [
    ...skipIfNone,
    ...op.loop,
    ...op.localGet(T),
    ...op.localGet(SRC),
    ...op.v128Load(0),
    ...op.f32x4Add,
    ...op.localSet(T),
    ...advanceBy(SRC, 16),
    ...loopWhileCountingDown(COUNT),
    ...op.end,
    ...op.end,
    ...op.localGet(T),
    ...op.f32x4ExtractLane(0),
    ...op.localGet(T),
    ...op.f32x4ExtractLane(1),
    ...op.f32Add,
    ...op.localGet(T),
    ...op.f32x4ExtractLane(2),
    ...op.localGet(T),
    ...op.f32x4ExtractLane(3),
    ...op.f32Add,
    ...op.f32Add,
  ]);
}

function scaleBody(): number[] {
  // params: SRC (the row, scaled in place), DST (unused), COUNT, VALUE (the scale).
  return functionBody([[3, V128]], [
    ...skipIfNone,
    ...op.loop,
    ...op.localGet(SRC),
    ...op.localGet(SRC),
    ...op.v128Load(0),
    ...op.localGet(VALUE),
    ...op.f32x4Splat,
    ...op.f32x4Mul,
    ...op.v128Store(0),
    ...advanceBy(SRC, 16),
    ...loopWhileCountingDown(COUNT),
    ...op.end,
    ...op.end,
  ]);
}

/** The module's bytes; its memory is imported as `env.memory` (`shared` as the backend's is). */
export function expRowsModuleBytes(shared: boolean): Uint8Array {
  const params = [I32, I32, I32, F32];
  return moduleBytes(shared, 0, [
    { name: "exp", body: expBody(), params },
    { name: "sum", body: sumBody(), params, results: [F32] },
    { name: "scale", body: scaleBody(), params },
  ]);
}

type Fns = {
  exp: (src: number, dst: number, count: number, shift: number) => void;
  sum: (src: number, dst: number, count: number, unused: number) => number;
  scale: (src: number, dst: number, count: number, scale: number) => void;
};

function fns(backend: BackendWasm): Fns {
  return instantiateOnHeap<Fns>(backend, "expRows", expRowsModuleBytes);
}

/** `dst = exp(src - shift)` over `vectors` vectors of 4 floats (heap byte addresses). */
export function expRowVectors(
  backend: BackendWasm,
  src: number,
  dst: number,
  vectors: number,
  shift: number,
): void {
  fns(backend).exp(src, dst, vectors, shift);
}

/** The float32 sum of `vectors` vectors of 4 floats at heap byte address `src`. */
export function sumRowVectors(backend: BackendWasm, src: number, vectors: number): number {
  return fns(backend).sum(src, 0, vectors, 0);
}

/** `row *= scale` over `vectors` vectors of 4 floats at heap byte address `row`. */
export function scaleRowVectors(
  backend: BackendWasm,
  row: number,
  vectors: number,
  scale: number,
): void {
  fns(backend).scale(row, 0, vectors, scale);
}
