/**
 * A zero-copy `Identity` for the wasm backend. The engine clones every tensor
 * a gradient needs (`saveTensorsForBackwardMode`), and the backend's Identity
 * copies the data each time (tens of MB per training step for a CNN). Tensor
 * data is never modified in place, so, as tfjs's `cpu` backend does, the clone
 * can share the buffer and just take a reference.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // registers this Identity in place of the backend's
 * const x = tf.ones([1000, 1000]);
 * const y = tf.clone(x); // no copy: y shares x's data
 * x.dispose(); // y keeps the data alive until it is disposed too
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** Kernel registration for `tf.registerKernel`. */
export const identitySharedWasmConfig: tf.KernelConfig = {
  kernelName: "Identity",
  backendName: "wasm",
  kernelFunc: (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};
