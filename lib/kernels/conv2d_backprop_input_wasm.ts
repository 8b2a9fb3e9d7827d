/**
 * A faster gradient of a 2-D convolution with respect to its input
 * (`Conv2DBackpropInput`) for tfjs's `wasm` backend.
 *
 * The wasm backend's own kernel is a scalar loop (about 1 GFLOP/s). For stride
 * 1 the input gradient is a plain convolution, which XNNPACK runs many times
 * faster: pad `dy` by `k - 1 - pad` on each side and convolve it with the
 * filter rotated by 180 degrees and with its in/out channels swapped,
 *
 *   dx[b, r, c, ci] = Σ_{kh, kw, co} dyPad[b, r + kh, c + kw, co] · W[K-1-kh, K-1-kw, ci, co].
 *
 * Strided convolutions keep the backend's original kernel.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // wraps the backend's Conv2DBackpropInput with this kernel
 * const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
 * const gradX = tf.grad((x) => tf.conv2d(x as tf.Tensor4D, w, 1, "same").sum());
 * const dx = gradX(tf.ones([1, 5, 5, 1]));
 * // dx: [1, 5, 5, 1]; 9 in the middle, 4 in the corners
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { callKernel, type ConvBackpropAttrs, requireNhwc, Scratch } from "./call_kernel.ts";
import { CONV_PATHS, fastStride1Conv } from "./conv2d_paths_wasm.ts";

/**
 * Builds the kernel config; `original` is the backend's own kernel, used for
 * the cases the fast path does not cover (strides above 1).
 */
export function conv2dBackpropInputWasmConfig(original: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (
    args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
  ): tf.TensorInfo => {
    const backend = args.backend as BackendWasm;
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvBackpropAttrs & {
      inputShape: [number, number, number, number];
    };
    requireNhwc("Conv2DBackpropInput", attrs.dataFormat);
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const { filterHeight: kh, filterWidth: kw, inHeight, inWidth } = info;
    const [, outH, outW] = dy.shape;
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = inHeight + kh - 1 - outH - top;
    const right = inWidth + kw - 1 - outW - left;
    const fast = info.strideHeight === 1 && info.strideWidth === 1 &&
      Math.min(top, left, bottom, right) >= 0;
    if (!fast) {
      return original(
        { ...args, backend: backend } as Parameters<tf.KernelFunc>[0],
      ) as tf.TensorInfo;
    }
    const scratch = new Scratch(backend);
    try {
      const flipped = scratch.keep(callKernel("Reverse", backend, { x: filter }, { dims: [0, 1] }));
      const swapped = scratch.keep(
        callKernel("Transpose", backend, { x: flipped }, { perm: [0, 1, 3, 2] }),
      );
      const fast = CONV_PATHS.inputGrad
        ? fastStride1Conv(backend, dy, swapped, { top, bottom, left, right })
        : undefined;
      if (fast !== undefined) return fast;
      return callKernel("Conv2D", backend, { x: dy, filter: swapped }, {
        strides: [1, 1],
        pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
        dataFormat: "NHWC",
        dilations: [1, 1],
      });
    } finally {
      scratch.free();
    }
  };
  return {
    kernelName: "Conv2DBackpropInput",
    backendName: "wasm",
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  };
}
