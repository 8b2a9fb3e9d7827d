/**
 * A zero-copy `Cast` to the tensor's own dtype for the wasm backend. tfjs's gradient of
 * `Identity` (every `clone` recorded on a tape, e.g. the first input of tfjs's `add` layer, the
 * ResNet's residual sums) is `cast(dy, "float32")`, which the backend's Cast runs as a copy of
 * `dy` even when it is float32 already: a pass over a feature map per residual block. As tfjs's
 * `cpu` backend does, a cast to the same dtype shares the buffer and takes a reference (tensor
 * data is never modified in place); other casts run the backend's kernel.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // wraps the backend's Cast with this one
 * const x = tf.ones([1000, 1000]);
 * const y = tf.cast(x, "float32"); // no copy: y shares x's data
 * const z = tf.cast(x, "int32"); // the backend's conversion
 * tf.dispose([x, y, z]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** The kernel registration: `original` (the backend's Cast) for casts that change the dtype. */
export function castSharedWasmConfig(original: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: "Cast",
    backendName: "wasm",
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { dtype } = args.attrs as { dtype: tf.DataType };
      if (dtype !== x.dtype) return original(args);
      const backend = args.backend as BackendWasm;
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
}
