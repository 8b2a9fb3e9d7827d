/**
 * Which kernel computes a convolution on the wasm backend: the choice between XNNPACK (the
 * backend's own `Conv2D`), Winograd's F(4x4, 3x3) (`conv2d_winograd_f4_wasm.ts`: outputs of 4k
 * pixels a side) and F(2x2, 3x3) (`conv2d_winograd_wasm.ts`, and for filter
 * gradients `conv2d_backprop_filter_winograd_wasm.ts`), the direct SIMD convolution
 * (`conv2d_direct_wasm.ts`) and, for filter gradients, the tiled direct kernel
 * (`conv2d_backprop_filter_direct_wasm.ts`), with the switches benchmarks use to time each path
 * against the one it replaced ({@linkcode CONV_PATHS}).
 *
 * Measured in the ResNet's SSL step (width 16, 3 stages, 128 pairs of 32x32x3 views;
 * `bench/conv_direct.ts`, 2026-12-07, the 2-core machine shared with other jobs), each kernel
 * against the path it replaced, best of four profiled steps: Winograd x1.3 to x1.9 on the 3x3
 * layers of 16-64 channels (forward and input gradient); the direct convolution x1.4 on the
 * 3-channel stem and a tie (x0.9 to x1.07) on 16-64 channels, so it takes few-channel inputs only.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * import { CONV_PATHS } from "./conv2d_paths_wasm.ts";
 * await initBackend("wasm"); // registers fastConv2dConfig for Conv2D and FusedConv2D
 * CONV_PATHS.winograd = false; // time the step without Winograd's kernel
 * const y = tf.conv2d(tf.ones([1, 4, 4, 4]) as tf.Tensor4D, tf.ones([3, 3, 4, 4]) as tf.Tensor4D, 1, "same");
 * CONV_PATHS.winograd = true;
 * y.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { directConv2d, directConvApplies, type Padding } from "./conv2d_direct_wasm.ts";
import { winogradApplies, winogradConv2d } from "./conv2d_winograd_wasm.ts";
import { winograd4Applies, winograd4Conv2d } from "./conv2d_winograd_f4_wasm.ts";
import { pointwiseApplies, pointwiseConv2d } from "./conv2d_pointwise_wasm.ts";
import { CONV_OUTPUT_MOMENTS } from "./conv_output_moments_wasm.ts";

/**
 * Which fast paths are on (all, by default): `forward` (`Conv2D`, and `FusedConv2D` without bias
 * or activation), `inputGrad` (stride-1 `Conv2DBackpropInput`), `filterGrad` (stride-1
 * `Conv2DBackpropFilter` by the tiled direct kernel), `winograd` (3x3 forward, input and filter
 * gradients by Winograd's kernels; else the direct kernels or XNNPACK), `winograd4` (Winograd's
 * F(4x4, 3x3) for the forward pass and input gradient of 3x3 layers whose output sides are
 * multiples of 4, `conv2d_winograd_f4_wasm.ts`; else F(2x2, 3x3)), `winograd4FilterGrad` (the same
 * for filter gradients, `conv2d_backprop_filter_winograd4_wasm.ts`), `pointwise` (1x1 stride-1
 * convolutions without padding, their input and filter gradients as matrix products:
 * `conv2d_pointwise_wasm.ts`), `everyShape` (the direct kernel
 * on every shape it supports, not only where it won: tests).
 */
export const CONV_PATHS: {
  forward: boolean;
  inputGrad: boolean;
  filterGrad: boolean;
  winograd: boolean;
  winograd4: boolean;
  winograd4FilterGrad: boolean;
  pointwise: boolean;
  everyShape: boolean;
} = {
  forward: true,
  inputGrad: true,
  filterGrad: true,
  winograd: true,
  winograd4: true,
  winograd4FilterGrad: true,
  pointwise: true,
  everyShape: false,
};

/**
 * Whether the direct kernel is the faster path for a convolution of `inChannels` input channels
 * (Winograd's not applying): it won on the ResNet's stem (3 channels: 13.0 → 9.2 ms) and tied
 * XNNPACK on 16-64 channels, so it takes few-channel inputs only.
 */
export function directConvFaster(inChannels: number): boolean {
  return inChannels <= 4;
}

/**
 * The stride-1 convolution of `x` with `filter` padded by `pad` on the fastest kernel of ours that
 * takes it, or `undefined` when XNNPACK should run it (`x` of one channel has its own kernel).
 */
export function fastStride1Conv(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  pad: Padding,
  moments = false,
): tf.TensorInfo | undefined {
  if (Math.min(pad.top, pad.bottom, pad.left, pad.right) < 0 || x.shape[3] === 1) return undefined;
  if (!directConvApplies(x, filter, 1, 1, "NHWC")) return undefined;
  const outH = x.shape[1] + pad.top + pad.bottom - filter.shape[0] + 1;
  const outW = x.shape[2] + pad.left + pad.right - filter.shape[1] + 1;
  const unpadded = pad.top === 0 && pad.bottom === 0 && pad.left === 0 && pad.right === 0;
  if (CONV_PATHS.pointwise && !CONV_PATHS.everyShape && unpadded && pointwiseApplies(x, filter)) {
    return pointwiseConv2d(backend, x, filter);
  }
  const winograd = CONV_PATHS.winograd && !CONV_PATHS.everyShape;
  if (winograd && CONV_PATHS.winograd4 && winograd4Applies(x, filter, outH, outW)) {
    return winograd4Conv2d(backend, x, filter, pad, undefined, moments);
  }
  if (winograd && winogradApplies(x, filter, outH, outW)) {
    return winogradConv2d(backend, x, filter, pad);
  }
  if (CONV_PATHS.everyShape || directConvFaster(x.shape[3])) {
    const [pixels, vectors, hold] = [undefined, undefined, undefined];
    return directConv2d(backend, x, filter, pad, undefined, pixels, vectors, hold, moments);
  }
  return undefined;
}

/** The `Conv2D` or `FusedConv2D` kernel config around `original`, the backend's (wrapped) kernel. */
export function fastConv2dConfig(name: string, original: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: Parameters<tf.KernelFunc>[0]) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<
      string,
      tf.TensorInfo | undefined
    >;
    const attrs = (args.attrs ?? {}) as Record<string, unknown>;
    const plain = bias == null && preluActivationWeights == null &&
      (attrs.activation === undefined || attrs.activation === "linear");
    if (
      !CONV_PATHS.forward || !plain || x === undefined || filter === undefined ||
      !directConvApplies(x, filter, attrs.strides, attrs.dilations, attrs.dataFormat)
    ) {
      return original(args);
    }
    const { padInfo } = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      1,
      1,
      attrs.pad as "valid",
      attrs.dimRoundingMode as "floor" | undefined,
    );
    // A plain convolution's output is what a batch norm follows: in a training step (a gradient
    // tape records the forward pass), its moments are taken as it is stored
    // (conv_output_moments_wasm.ts); inference normalises with the moving statistics.
    const training = (tf.engine() as unknown as { state: { gradientDepth: number } }).state
      .gradientDepth > 0;
    const moments = name === "Conv2D" && CONV_OUTPUT_MOMENTS.enabled && training;
    return fastStride1Conv(args.backend as BackendWasm, x, filter, padInfo, moments) ??
      original(args);
  };
  return { kernelName: name, backendName: "wasm", kernelFunc };
}
