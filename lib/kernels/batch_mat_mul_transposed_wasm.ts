/**
 * A faster `BatchMatMul` for the wasm backend when an operand is transposed.
 * The backend sends `transposeA` / `transposeB` products to a slow scalar
 * loop (XNNPACK only takes the plain product), and every gradient of a matrix
 * product is one of them: a dense layer's `dx = dy · Wᵀ` and `dW = xᵀ · dy`,
 * NT-Xent's similarity matrix `z · zᵀ` and its gradients. Transposing the
 * operand first (the backend's `Transpose`, one pass over it) and then taking
 * the plain product is about ten times faster: on 1,024 x 10 projections
 * `z · zᵀ` took 31 ms on the slow path and 3.4 ms this way. Products whose
 * right operand has at most 16 columns (NT-Xent's gradients `G·z` and `Gᵀ·z`,
 * the smaller dense layers' filter gradients) take `mat_mul_narrow_wasm.ts`,
 * one pass over the left operand, transposed or not; other plain products go
 * to the original kernel unchanged.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // wraps the backend's BatchMatMul with this kernel
 * const z = tf.randomNormal([1024, 10]);
 * const similarities = tf.matMul(z, z, false, true); // transpose, then XNNPACK's product
 * tf.dispose([z, similarities]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { callKernel, Scratch } from "./call_kernel.ts";
import { matMulNarrow, matMulNarrowApplies } from "./mat_mul_narrow_wasm.ts";

/** Whether products with a narrow right operand take `matMulNarrow` (benchmarks switch it off). */
export const NARROW_MAT_MUL = { enabled: true };

/** `x` of shape `[1, r, c]` seen as `[r, c]`; other shapes as they are. */
function dropUnitBatch(x: tf.TensorInfo): tf.TensorInfo {
  return x.shape.length === 3 && x.shape[0] === 1 ? { ...x, shape: x.shape.slice(1) } : x;
}

/** The attributes tfjs passes to `BatchMatMul`. */
interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** `x` with its last two axes swapped, by the backend's own `Transpose`. */
function swapLastAxes(backend: BackendWasm, x: tf.TensorInfo): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return callKernel("Transpose", backend, { x }, { perm });
}

/** Builds the kernel config around `original`, the backend's own `BatchMatMul`. */
export function batchMatMulTransposedWasmConfig(original: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: Parameters<tf.KernelFunc>[0]) => {
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    // Empty operands stay with the original (XNNPACK rejects an inner size of 0).
    const plain = a.dtype === "float32" && b.dtype === "float32" &&
      a.shape.length >= 2 && b.shape.length >= 2 && !a.shape.includes(0) && !b.shape.includes(0);
    if (plain && NARROW_MAT_MUL.enabled) {
      const a2 = dropUnitBatch(a);
      const b2 = dropUnitBatch(b);
      if (matMulNarrowApplies(a2, b2, transposeA, transposeB)) {
        const m = transposeA ? a2.shape[1] : a2.shape[0];
        const outShape = a.shape.length === 3 ? [1, m, b2.shape[1]] : [m, b2.shape[1]];
        return matMulNarrow(backend, a2, b2, transposeA, undefined, outShape);
      }
    }
    if (!(transposeA || transposeB) || !plain) return original(args);
    const scratch = new Scratch(backend);
    try {
      const aa = transposeA ? scratch.keep(swapLastAxes(backend, a)) : a;
      const bb = transposeB ? scratch.keep(swapLastAxes(backend, b)) : b;
      return original({
        ...args,
        inputs: { a: aa, b: bb },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
    } finally {
      scratch.free();
    }
  };
  return { kernelName: "BatchMatMul", backendName: "wasm", kernelFunc };
}
