/**
 * The gradient of a 2-D convolution with respect to its filter
 * (`Conv2DBackpropFilter`) for tfjs's `wasm` backend, which ships without it
 * (tfjs issue 8474).
 *
 * The idea: the filter gradient is itself a convolution. For a forward conv
 * `y = conv2d(x, w, stride s)` with `x: [B, H, W, Ci]` and `dy: [B, Ho, Wo, Co]`,
 *
 *   dW[kh, kw, ci, co] = Σ_{b, i, j} x[b, s·i + kh, s·j + kw, ci] · dy[b, i, j, co]
 *
 * Read `x` transposed to `[Ci, H, W, B]` as a batch of `Ci` images with `B`
 * channels, and `dy` transposed to `[Ho, Wo, B, Co]` as a filter with `B` input
 * channels: the sum above is then a stride-1 convolution with dilation `s`,
 * whose output `[Ci, Kh, Kw, Co]` is `dW` up to a transpose. So the whole
 * gradient runs on the backend's own XNNPACK convolution, with two transposes
 * around it, instead of a scalar loop.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * import { conv2dBackpropFilterWasmConfig } from "./conv2d_backprop_filter_wasm.ts";
 * await initBackend("wasm"); // registers conv2dBackpropFilterWasmConfig, among others
 * const kernel = tf.getKernel("Conv2DBackpropFilter", "wasm");
 * kernel?.kernelFunc === conv2dBackpropFilterWasmConfig.kernelFunc; // true
 * const x = tf.ones([1, 5, 5, 1]) as tf.Tensor4D;
 * const gradW = tf.grad((w) => tf.conv2d(x, w as tf.Tensor4D, 1, "valid").sum());
 * const dw = gradW(tf.ones([3, 3, 1, 1]));
 * // dw: [3, 3, 1, 1], every entry 9 (nine output pixels, each reading a 1)
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { callKernel, type ConvBackpropAttrs, requireNhwc, Scratch } from "./call_kernel.ts";

/** Kernel function: `dW` from `x` and `dy`, shaped like `attrs.filterShape`. */
export function conv2dBackpropFilterWasm(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvBackpropAttrs & {
    filterShape: [number, number, number, number];
  };
  requireNhwc("Conv2DBackpropFilter", attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const [, height, width] = x.shape;
  const [, outH, outW] = dy.shape;
  // Rows and columns of the padded input that the forward conv actually read:
  // the result must come out exactly kh x kw.
  const bottom = (outH - 1) * sh + kh - height - top;
  const right = (outW - 1) * sw + kw - width - left;

  const scratch = new Scratch(backend);
  try {
    let xIn = x;
    if (bottom < 0 || right < 0) {
      // A valid conv with a remainder ignored trailing rows/columns: drop them.
      xIn = scratch.keep(callKernel("Slice", backend, { x }, {
        begin: [0, 0, 0, 0],
        size: [x.shape[0], height + Math.min(bottom, 0), width + Math.min(right, 0), x.shape[3]],
      }));
    }
    const xT = scratch.keep(callKernel("Transpose", backend, { x: xIn }, { perm: [3, 1, 2, 0] }));
    const dyT = scratch.keep(callKernel("Transpose", backend, { x: dy }, { perm: [1, 2, 0, 3] }));
    const grad = scratch.keep(callKernel("Conv2D", backend, { x: xT, filter: dyT }, {
      strides: [1, 1],
      pad: [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]],
      dataFormat: "NHWC",
      dilations: [sh, sw],
    }));
    return callKernel("Transpose", backend, { x: grad }, { perm: [1, 2, 0, 3] });
  } finally {
    scratch.free();
  }
}

/** Kernel registration for `tf.registerKernel`. */
export const conv2dBackpropFilterWasmConfig: tf.KernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  backendName: "wasm",
  kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
};
