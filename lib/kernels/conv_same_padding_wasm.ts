/**
 * A correctness fix for the wasm backend's `Conv2D` and `FusedConv2D`: with
 * `pad: "same"`, a stride above 1 and a filter smaller than the stride plus
 * padding (for example a 2x3 filter, stride 3, on an 8-wide image), the
 * backend's XNNPACK call computes its own "same" padding and returns zeros.
 * The wrapper below resolves "same" into the explicit padding tfjs itself
 * computes, which XNNPACK handles correctly, and then calls the original kernel.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // wraps the backend's Conv2D and FusedConv2D with this fix
 * const x = tf.ones([1, 8, 8, 1]) as tf.Tensor4D;
 * const w = tf.ones([2, 3, 1, 1]) as tf.Tensor4D;
 * const y = tf.conv2d(x, w, 3, "same"); // [1, 3, 3, 1], no longer all zeros
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Wraps `original` (the backend's kernel called `name`) with explicit padding. */
export function explicitSamePaddingConfig(name: string, original: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: Parameters<tf.KernelFunc>[0]) => {
    const attrs = args.attrs as
      & { pad?: unknown; strides: number | [number, number] }
      & tf.NamedAttrMap;
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    if (attrs?.pad !== "same") return original(args);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      (attrs.dilations as number | [number, number]) ?? 1,
      "same",
    );
    const p = info.padInfo;
    const pad = [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
    return original({ ...args, attrs: { ...attrs, pad } as unknown as tf.NamedAttrMap });
  };
  return { kernelName: name, backendName: "wasm", kernelFunc };
}
