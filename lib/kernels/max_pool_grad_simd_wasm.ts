/**
 * The gradient of a 2x2, stride-2 max pool on WebAssembly SIMD, for
 * `max_pool_grad_wasm.ts`: every window's four inputs are compared four
 * channels at a time (`f32x4.gt`, `v128.bitselect`), and each output gradient
 * goes to the window's first maximum in row-major order (as on tfjs's `cpu`
 * backend; a NaN never wins), the other three get 0. Windows do not overlap,
 * so every element of a full window is written exactly once. It reads the
 * pool's input and output gradient where they lie on the backend's heap.
 *
 * On the article CNN's first pool (`[1024, 26, 26, 16]`) it takes about a
 * fifth of the time of the JavaScript loop it replaces. Requires `c % 4 === 0`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { pool2x2GradRows } from "./max_pool_grad_simd_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * // One window of 4 channels: channel k's four inputs are x[k], x[4 + k], x[8 + k], x[12 + k].
 * const x = tf.tensor4d([1, 9, 3, 4, 2, 8, 3, 0, 0, 7, 5, 4, 0, 6, 5, 4], [1, 2, 2, 4]);
 * const dy = tf.tensor4d([10, 20, 30, 40], [1, 1, 1, 4]);
 * const dx = tf.zeros([1, 2, 2, 4]);
 * const heap = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
 * pool2x2GradRows(backend, heap(x), heap(dy), heap(dx), 1, 1, 2, 4);
 * // channel 0: the max 2 is second; 1: 9 first; 2: 5 third (first of the ties); 3: 4 first
 * console.log(await dx.data()); // [0,20,0,40, 10,0,0,0, 0,0,30,0, 0,0,0,0]
 * tf.dispose([x, dy, dx]);
 * ```
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  advance,
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

// Parameters: byte addresses and strides.
const X = 0; // &x[window's top-left, channel 0]
const G = 1; // &dy[output pixel, channel 0]
const DX = 2; // &dx[window's top-left, channel 0]
const PIXELS = 3; // output pixels in this run (one output row, or several rows back to back)
const VECS = 4; // c / 4
const ROW = 5; // bytes from one input row to the next
const CB = 6; // bytes of one pixel's channels (4·c)
const SKIP = 7; // bytes from the end of a window pair of columns to the next window (CB)
const PARAMS = 8;
// Locals.
const [A, B, C, D, GV, M, MB, MC, MD] = [8, 9, 10, 11, 12, 13, 14, 15, 16];
const LEFT = 17; // vectors left in this pixel

const at = (base: number, ...steps: number[]) => [
  ...op.localGet(base),
  ...steps.flatMap((s) => [...op.localGet(s), ...op.i32Add]),
];

function body(): number[] {
  const code: number[] = [
    ...blockUnlessAnyZero(PIXELS, VECS),
    ...op.loop, // pixels
    ...op.localGet(VECS),
    ...op.localSet(LEFT),
    ...op.loop, // vectors of channels
    ...at(X),
    ...op.v128Load(0),
    ...op.localSet(A),
    ...at(X, CB),
    ...op.v128Load(0),
    ...op.localSet(B),
    ...at(X, ROW),
    ...op.v128Load(0),
    ...op.localSet(C),
    ...at(X, ROW, CB),
    ...op.v128Load(0),
    ...op.localSet(D),
    ...at(G),
    ...op.v128Load(0),
    ...op.localSet(GV),
    // mb = b > a; m = mb ? b : a; mc = c > m; m = mc ? c : m; md = d > m
    ...op.localGet(B),
    ...op.localGet(A),
    ...op.f32x4Gt,
    ...op.localSet(MB),
    ...op.localGet(B),
    ...op.localGet(A),
    ...op.localGet(MB),
    ...op.v128Bitselect,
    ...op.localSet(M),
    ...op.localGet(C),
    ...op.localGet(M),
    ...op.f32x4Gt,
    ...op.localSet(MC),
    ...op.localGet(C),
    ...op.localGet(M),
    ...op.localGet(MC),
    ...op.v128Bitselect,
    ...op.localSet(M),
    ...op.localGet(D),
    ...op.localGet(M),
    ...op.f32x4Gt,
    ...op.localSet(MD),
    // d wins where md; c where mc and not md; b where mb and neither; a elsewhere.
    ...at(DX, ROW, CB),
    ...op.localGet(GV),
    ...op.localGet(MD),
    ...op.v128And,
    ...op.v128Store(0),
    ...at(DX, ROW),
    ...op.localGet(GV),
    ...op.localGet(MC),
    ...op.localGet(MD),
    ...op.v128AndNot,
    ...op.v128And,
    ...op.v128Store(0),
    ...at(DX, CB),
    ...op.localGet(GV),
    ...op.localGet(MB),
    ...op.localGet(MC),
    ...op.v128AndNot,
    ...op.localGet(MD),
    ...op.v128AndNot,
    ...op.v128And,
    ...op.v128Store(0),
    ...at(DX),
    ...op.localGet(GV),
    ...op.localGet(MB),
    ...op.localGet(MC),
    ...op.v128Or,
    ...op.localGet(MD),
    ...op.v128Or,
    ...op.v128AndNot,
    ...op.v128Store(0),
    ...advanceBy(X, 16),
    ...advanceBy(DX, 16),
    ...advanceBy(G, 16),
    ...loopWhileCountingDown(LEFT),
    ...op.end, // vectors
    ...advance(X, SKIP),
    ...advance(DX, SKIP),
    ...loopWhileCountingDown(PIXELS),
    ...op.end, // pixels
    ...op.end, // block
  ];
  return functionBody([[9, V128], [1, I32]], code);
}

/** The module's bytes; its memory is imported as `env.memory` (`shared` as the backend's is). */
export function maxPoolGradModuleBytes(shared: boolean): Uint8Array {
  return moduleBytes(shared, PARAMS, [{ name: "pool2x2", body: body() }]);
}

type Pool2x2Fn = (
  x: number,
  g: number,
  dx: number,
  pixels: number,
  vecs: number,
  row: number,
  cb: number,
  skip: number,
) => void;

/** Whether {@linkcode pool2x2GradRows} handles `c` channels. */
export function pool2x2SimdSupported(c: number): boolean {
  return c > 0 && c % 4 === 0;
}

/**
 * Writes `dx` for `rows` output rows of `outW` full 2x2 windows each, starting at heap byte
 * addresses `x` / `dx` (the first window's top-left, channel 0) and `g` (its output gradient):
 * input rows are `width` pixels of `c` channels, output rows are read back to back. Only the
 * windows' elements are written; a trailing odd row or column is the caller's.
 */
export function pool2x2GradRows(
  backend: BackendWasm,
  x: number,
  g: number,
  dx: number,
  rows: number,
  outW: number,
  width: number,
  c: number,
): void {
  if (!pool2x2SimdSupported(c)) throw new Error(`pool2x2GradRows needs c % 4 === 0, got ${c}`);
  const { pool2x2 } = instantiateOnHeap<{ pool2x2: Pool2x2Fn }>(
    backend,
    "maxPoolGrad2x2",
    maxPoolGradModuleBytes,
  );
  const rowBytes = 4 * width * c;
  for (let i = 0; i < rows; i++) {
    const o = 2 * i * rowBytes;
    pool2x2(x + o, g + 4 * i * outW * c, dx + o, outW, c / 4, rowBytes, 4 * c, 4 * c);
  }
}
