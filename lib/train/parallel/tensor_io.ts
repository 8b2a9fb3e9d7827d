/**
 * Moving float32 values between tfjs tensors and shared memory with as few copies as the backend
 * allows, for the data-parallel SSL step (`ssl_workers.ts`, `ssl_worker.ts`). On the wasm backend
 * a tensor's values lie on the module's heap: {@linkcode readInto} copies them from there straight
 * to their destination (`dataSync` copies them to a new array first), and {@linkcode tensorOf}
 * makes a tensor of values in shared memory without a copy of them in JavaScript first (the
 * backend copies them to its heap). Other backends take tfjs's ordinary path. Variables are
 * never written in place: the wasm backend's XNNPACK operators keep packed copies of their
 * weights, keyed by the tensor, which would go stale; `assign` gives a new tensor. The values are
 * the same either way. {@linkcode TENSOR_IO} switches these paths off, for comparisons.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { readInto, tensorOf } from "./tensor_io.ts";
 * const shared = new Float32Array(new SharedArrayBuffer(16)).fill(2);
 * const t = tensorOf(shared.subarray(1), [3]); // a copy: the tensor never aliases shared memory
 * const out = new Float32Array(4);
 * readInto(t, out, 1); // out = [0, 2, 2, 2]
 * t.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** The switch benchmarks turn off to time tfjs's own copies (on by default). */
export const TENSOR_IO: { direct: boolean } = { direct: true };

/** The wasm backend, when it is the current one and the switch is on. */
function wasmBackend(): BackendWasm | undefined {
  return TENSOR_IO.direct && tf.getBackend() === "wasm" ? tf.backend() as BackendWasm : undefined;
}

/** Copies the values of float32 tensor `t` into `out` from element `offset` on. */
export function readInto(t: tf.Tensor, out: Float32Array, offset = 0): void {
  const backend = wasmBackend();
  if (backend && t.dtype === "float32") {
    out.set(backend.typedArrayFromHeap(t) as Float32Array, offset);
  } else {
    out.set(t.dataSync() as Float32Array, offset);
  }
}

/**
 * A float32 tensor of `shape` holding a copy of `values` (which may lie in shared memory: wasm
 * copies them to its heap; other backends get a copy, so that no tensor aliases shared memory).
 */
export function tensorOf(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(wasmBackend() ? values : values.slice(), shape, "float32");
}
