/**
 * ReLU's gradient in one pass on the wasm backend. tfjs computes it as
 * `mul(dy, cast(step(x), "float32"))`: three kernels, three full passes over
 * the layer's output (44 MB each on the article CNN's first layer for 1,024
 * views, 26 ms a step). This registers, for wasm, the kernel `SslReluGrad`
 * (`elementwise_simd_wasm.ts`: `dy · step(x)` four lanes at a time, NaN where
 * `x` is NaN, exactly as the three kernels give) and makes ReLU's gradient use
 * it on wasm; every other backend keeps tfjs's formula. The gradient is
 * registered globally (`tf.registerGradient`), by {@linkcode useReluGradWasm}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // registers the kernel and ReLU's gradient
 * const dx = tf.grad((x) => tf.relu(x).sum())(tf.tensor1d([-1, 2, 0, 3, 5]));
 * console.log(await dx.data()); // [0, 1, 0, 1, 1]
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { reluGradVectors } from "./elementwise_simd_wasm.ts";

/** The kernel's name. */
export const RELU_GRAD = "SslReluGrad";

/** `dy · step(x)` for float32 `dy` and `x` of one shape. */
function reluGradWasm(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const out = backend.makeOutput(x.shape, "float32");
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const v = backend.typedArrayFromHeap(x) as Float32Array;
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const vectors = Math.floor(v.length / 4);
  reluGradVectors(backend, g.byteOffset, v.byteOffset, o.byteOffset, vectors);
  for (let i = 4 * vectors; i < v.length; i++) {
    o[i] = g[i] * (Number.isNaN(v[i]) ? Number.NaN : v[i] > 0 ? 1 : 0);
  }
  return out;
}

/** Kernel registration for `tf.registerKernel`. */
export const reluGradWasmConfig: tf.KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: "wasm",
  kernelFunc: reluGradWasm as unknown as tf.KernelFunc,
};

/** `dy · step(x)`: the one-pass kernel on wasm (float32), tfjs's formula elsewhere. */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const fast = tf.getBackend() === "wasm" && dy.dtype === "float32" && x.dtype === "float32" &&
    tf.util.arraysEqual(dy.shape, x.shape);
  if (!fast) return tf.mul(dy, tf.cast(tf.step(x), "float32"));
  return tf.engine().runKernel(RELU_GRAD, { dy, x } as unknown as tf.NamedTensorMap) as tf.Tensor;
}

/**
 * Makes ReLU's gradient {@linkcode reluGrad} (registers the wasm kernel first, and its own
 * gradient, so that second derivatives still work: linear in `dy`, zero in `x`).
 */
export function useReluGradWasm(): void {
  if (tf.getKernel(RELU_GRAD, "wasm") === undefined) tf.registerKernel(reluGradWasmConfig);
  tf.registerGradient({
    kernelName: RELU_GRAD,
    inputsToSave: ["x"],
    gradFunc: (ddx, saved) => {
      const [x] = saved;
      return { dy: () => reluGrad(ddx as tf.Tensor, x), x: () => tf.zerosLike(x) };
    },
  });
  tf.registerGradient({
    kernelName: "Relu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return { x: () => reluGrad(dy as tf.Tensor, x) };
    },
  });
}
