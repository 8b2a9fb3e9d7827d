/**
 * A faster `Sum` for the wasm backend in one frequent case: summing a float32
 * tensor over every axis but the last (the bias gradient of a convolution or
 * dense layer, `[B, H, W, C] -> [C]`). The backend's kernel first transposes
 * the whole tensor so the reduced axes come last; this reads it once, in
 * order: on WebAssembly SIMD in blocks of 256 rows (float32) when the channels
 * are a multiple of 4, the blocks' sums accumulated in float64. Every other case goes to the original kernel.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // wraps the backend's Sum with this fast path
 * const bias = tf.ones([8, 4, 4, 16]).sum([0, 1, 2]); // [16], every entry 128: the fast path
 * const rows = tf.ones([8, 16]).sum(1); // another axis: the backend's own kernel
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { sumRowsVectors } from "./elementwise_simd_wasm.ts";

/** Rows summed in float32 before their sum joins the float64 total. */
const BLOCK_ROWS = 256;

/** Builds the kernel config around `original`, the backend's own `Sum`. */
export function sumLeadingAxesWasmConfig(original: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: Parameters<tf.KernelFunc>[0]) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== "float32") return original(args);
    const c = x.shape[rank - 1];
    const shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), c] : [c];
    const out = backend.makeOutput(shape, "float32");
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    const acc = new Float64Array(c);
    if (c % 4 === 0) {
      // Blocks of rows summed on SIMD in float32 (into `out`), the blocks' sums in float64.
      const rows = src.length / c;
      for (let r = 0; r < rows; r += BLOCK_ROWS) {
        dst.fill(0);
        const n = Math.min(BLOCK_ROWS, rows - r);
        sumRowsVectors(backend, src.byteOffset + 4 * r * c, dst.byteOffset, n, c / 4);
        for (let k = 0; k < c; k++) acc[k] += dst[k];
      }
    } else {
      for (let i = 0; i < src.length; i += c) {
        for (let k = 0; k < c; k++) acc[k] += src[i + k];
      }
    }
    dst.set(acc);
    return out;
  };
  return { kernelName: "Sum", backendName: "wasm", kernelFunc };
}
