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
 * That convolution's "filter" is the whole transposed `dy`, which XNNPACK
 * repacks on every call: 44 MB for the article CNN's first layer. So when the
 * output channels are a multiple of 4, the kernel takes another path instead,
 * `dW = Pᵀ·dy` over the patches `P` read in place on WebAssembly SIMD
 * (`conv2d_backprop_filter_patches_wasm.ts`), which never copies `dy`. The
 * rule ({@linkcode filterGradPath}) is measured: `deno run -A
 * bench/conv_filter_grad.ts` times both paths alternately in one process
 * (2026-12-01, the 2-core machine with one core busy elsewhere):
 *
 * | layer (batch), filter                          | convolution | patches | ratio |
 * | ---------------------------------------------- | ----------- | ------- | ----- |
 * | article conv1 `[1024, 28, 28, 1]`, 3x3, 1→16   | 176 ms      | 15 ms   | x11.4 |
 * | article conv2 `[1024, 13, 13, 16]`, 3x3, 16→16 | 107 ms      | 43 ms   | x2.5  |
 * | article conv3 `[1024, 5, 5, 16]`, 3x3, 16→32   | 12.5 ms     | 7.8 ms  | x1.6  |
 * | ResNet stem `[256, 32, 32, 3]`, 3x3 same, 3→16 | 87 ms       | 19 ms   | x4.7  |
 * | ResNet `[256, 32, 32, 16]`, 3x3 same, 16→16    | 267 ms      | 87 ms   | x3.1  |
 * | ResNet `[256, 32, 32, 16]`, 3x3 stride 2, →32  | 251 ms      | 62 ms   | x4.1  |
 * | ResNet `[256, 32, 32, 16]`, 1x1 stride 2, →32  | 145 ms      | 11 ms   | x12.9 |
 * | ResNet `[256, 16, 16, 32]`, 3x3 same, 32→32    | 170 ms      | 93 ms   | x1.8  |
 * | ResNet `[256, 16, 16, 32]`, 3x3 stride 2, →64  | 100 ms      | 64 ms   | x1.6  |
 * | ResNet `[256, 8, 8, 64]`, 3x3 same, 64→64      | 139 ms      | 116 ms  | x1.2  |
 *
 * On a grid of 3x3 "same" convs (`H = W` from 2 to 28, `Ci` from 1 to 256,
 * `Co` from 16 to 128) patches won everywhere (x1.05 to x6.2) but for two
 * near-ties (x0.91 at 2x2, 32→32; x0.99 at 8x8, 256→64) and where `Ci ≥ 64`
 * meets an output of at most 16 pixels (4x4, 2x2): there the convolution
 * won (patches x0.65 to x0.96, with two x1.2 outliers), so it keeps those.
 * The article's whole training step (`ssl_step wasm`, 512 pairs, same
 * conditions, old and new kernel alternating twice): 1,357 → 2,145 views/s,
 * the filter gradients 242-347 → 45-65 ms a step; the ResNet's step: 115 →
 * 174 views/s.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * import { conv2dBackpropFilterWasmConfig, filterGradPath } from "./conv2d_backprop_filter_wasm.ts";
 * await initBackend("wasm"); // registers conv2dBackpropFilterWasmConfig, among others
 * const kernel = tf.getKernel("Conv2DBackpropFilter", "wasm");
 * kernel?.kernelFunc === conv2dBackpropFilterWasmConfig.kernelFunc; // true
 * const x = tf.ones([1, 5, 5, 1]) as tf.Tensor4D;
 * const gradW = tf.grad((w) => tf.conv2d(x, w as tf.Tensor4D, 1, "valid").sum());
 * const dw = gradW(tf.ones([3, 3, 1, 1]));
 * // dw: [3, 3, 1, 1], every entry 9 (nine output pixels, each reading a 1)
 * filterGradPath(1, 9, 1); // "convolution", this one; filterGradPath(1, 9, 16) is "patches"
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { callKernel, type ConvBackpropAttrs, requireNhwc, Scratch } from "./call_kernel.ts";
import { filterGradByPatches, patchesSupported } from "./conv2d_backprop_filter_patches_wasm.ts";
import { directFilterGradApplies, filterGradDirect } from "./conv2d_backprop_filter_direct_wasm.ts";
import {
  filterGradWinograd,
  winogradFilterGradApplies,
} from "./conv2d_backprop_filter_winograd_wasm.ts";
import {
  filterGradWinograd4,
  winograd4FilterGradApplies,
} from "./conv2d_backprop_filter_winograd4_wasm.ts";
import { CONV_PATHS } from "./conv2d_paths_wasm.ts";
import { pointwiseApplies, pointwiseFilterGrad } from "./conv2d_pointwise_wasm.ts";

/**
 * The ways this kernel computes `dW`: "pointwise" (1x1, stride 1, no padding, 4k channels:
 * `conv2d_pointwise_wasm.ts`), else "winograd4" (3x3 stride 1, 4k channels, outputs of 4k
 * pixels a side: `conv2d_backprop_filter_winograd4_wasm.ts`), else "winograd" (even outputs:
 * `conv2d_backprop_filter_winograd_wasm.ts`), else "direct" (stride 1,
 * `conv2d_backprop_filter_direct_wasm.ts`), else "patches" or "convolution" as
 * {@linkcode filterGradPath} chooses.
 */
export type FilterGradPath =
  | "pointwise"
  | "winograd4"
  | "winograd"
  | "direct"
  | "patches"
  | "convolution";

/**
 * The path for a conv with `inChannels` input channels, `outPixels` output
 * pixels per image (`Ho·Wo`) and `outChannels` output channels: patches,
 * unless they are unsupported (output channels not a multiple of 4) or many
 * input channels meet a tiny output (`Ci ≥ 64` and `Ho·Wo ≤ 16`, where the
 * walk's rows are too short and XNNPACK's packing is cheap).
 */
export function filterGradPath(
  inChannels: number,
  outPixels: number,
  outChannels: number,
): FilterGradPath {
  if (!patchesSupported(outChannels)) return "convolution";
  return inChannels >= 64 && outPixels <= 16 ? "convolution" : "patches";
}

/**
 * Kernel function: `dW` from `x` and `dy`, shaped like `attrs.filterShape`.
 * `path` forces one path (benchmarks and tests; the engine never passes it).
 */
export function conv2dBackpropFilterWasm(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
  path?: FilterGradPath,
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
  const winograd = winogradFilterGradApplies(info, x, dy);
  const winograd4 = winograd4FilterGradApplies(info, x, dy);
  const direct = directFilterGradApplies(info, x, dy);
  const { top, bottom, left, right } = info.padInfo;
  const pointwise = info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && top + bottom + left + right === 0 &&
    pointwiseApplies(
      x,
      { shape: attrs.filterShape, dtype: dy.dtype } as unknown as tf.TensorInfo,
    ) &&
    dy.dtype === "float32" && info.outHeight === x.shape[1] && info.outWidth === x.shape[2];
  const chosen = path ??
    (CONV_PATHS.filterGrad && CONV_PATHS.pointwise && pointwise
      ? "pointwise"
      : CONV_PATHS.filterGrad && CONV_PATHS.winograd && CONV_PATHS.winograd4FilterGrad && winograd4
      ? "winograd4"
      : CONV_PATHS.filterGrad && CONV_PATHS.winograd && winograd
      ? "winograd"
      : CONV_PATHS.filterGrad && direct
      ? "direct"
      : filterGradPath(x.shape[3], dy.shape[1] * dy.shape[2], dy.shape[3]));
  if (chosen === "pointwise" && pointwise) return pointwiseFilterGrad(backend, x, dy);
  if (chosen === "winograd4" && winograd4) return filterGradWinograd4(backend, x, dy, info);
  if (chosen === "winograd" && winograd) return filterGradWinograd(backend, x, dy, info);
  if (chosen === "direct" && direct) return filterGradDirect(backend, x, dy, info);
  if (chosen === "patches" && x.dtype === "float32" && dy.dtype === "float32") {
    return filterGradByPatches(backend, x, dy, info);
  }
  return filterGradByConvolution(backend, x, dy, info);
}

/**
 * `dW` as a dilated convolution of the transposed `x` and `dy` on XNNPACK
 * (the module's first path); `info` is `computeConv2DInfo` of the forward conv.
 */
export function filterGradByConvolution(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
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
