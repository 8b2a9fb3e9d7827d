/**
 * Convolutions whose gradient computes only what is asked for, on wasm: the image's gradient of
 * a model's first convolution is never computed.
 *
 * tfjs's layers run every convolution through `tf.fused.conv2d`. Under a gradient tape, with no
 * activation, tfjs-core runs it as a `customGrad` op whose gradient function computes the input
 * gradient and the filter gradient together, before the engine looks at which it needs: the first
 * convolution of a model (the ResNet's stem, 3 → 16 channels on 32x32 views: about 4% of an SSL
 * step) computes the gradient of the images, which nothing uses. tfjs's plain `tf.conv2d` has a
 * registered gradient with one function per input, and the engine calls only those of inputs
 * that lead from what is differentiated (a variable, or an input passed to `tf.grad`), so an
 * image's gradient is computed only when asked for (a saliency map still gets it).
 *
 * {@linkcode useLazyConvGradients} replaces `tf.fused.conv2d` (a plain object in the tfjs build
 * Deno loads; where it cannot be replaced, nothing changes) by a function that runs the plain
 * `tf.conv2d` instead when the call has nothing to fuse (no bias, no activation, no PReLU
 * weights, NHWC), the backend is wasm and a gradient tape is recording; every other call goes to
 * tfjs's own. The result is the same convolution: on wasm `Conv2D` and `FusedConv2D` take the
 * same kernels of ours (`conv2d_paths_wasm.ts`), except single-channel inputs, which take the
 * SIMD kernel of `conv2d_single_channel_wasm.ts` (equal within float32 rounding). Inference,
 * other backends and convolutions with other activations are as they were. A convolution with a
 * bias and a ReLU (the article CNN's layers) runs as the plain `tf.conv2d` and `biasRelu`
 * (`bias_relu_wasm.ts`: bias and ReLU in one pass, their gradients in one pass); with a bias and no
 * activation, as tfjs's own.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // calls useLazyConvGradients()
 * const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
 * const w = tf.variable(tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D);
 * // Only the filter gradient runs: no Conv2DBackpropInput for the image.
 * const { grads } = tf.variableGrads(() =>
 *   tf.sum(tf.fused.conv2d({ x, filter: w, strides: 1, pad: "same" }))
 * );
 * tf.dispose([x, w, grads[w.name]]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { BIAS_RELU_FUSED, biasRelu, biasReluApplies } from "./bias_relu_wasm.ts";

type FusedConv2d = typeof tf.fused.conv2d;
type FusedArgs = Parameters<FusedConv2d>[0];

let installed = false;

/** The switch benchmarks turn off to time tfjs's fused path (on by default). */
export const LAZY_CONV_GRADIENTS: { enabled: boolean } = { enabled: true };

/** Whether a gradient tape is recording (tfjs's own test before it fuses an op). */
function recording(): boolean {
  const state = tf.engine().state as unknown as { gradientDepth?: number };
  return (state.gradientDepth ?? 0) > 0;
}

/**
 * True when `args` fuses a bias (a float32 vector of the output's channels, a multiple of 4 of
 * them, at most 64) and a ReLU, NHWC, no PReLU weights (`biasRelu` takes them).
 */
export function biasAndRelu(args: FusedArgs): boolean {
  const { bias, filter } = args;
  if (!BIAS_RELU_FUSED.enabled || !(bias instanceof tf.Tensor) || args.activation !== "relu") {
    return false;
  }
  if (args.preluActivationWeights != null || (args.dataFormat ?? "NHWC") !== "NHWC") return false;
  if (!(filter instanceof tf.Tensor) || filter.rank !== 4) return false;
  const z = { shape: [filter.shape[3]], dtype: filter.dtype } as unknown as tf.TensorInfo;
  return biasReluApplies(z, bias);
}

/** True when `args` has nothing to fuse: no bias, no activation, no PReLU weights, NHWC. */
export function nothingToFuse(args: FusedArgs): boolean {
  return args.bias == null && args.preluActivationWeights == null &&
    (args.activation ?? "linear") === "linear" && (args.dataFormat ?? "NHWC") === "NHWC";
}

/**
 * Installs, once, the `tf.fused.conv2d` of the module documentation; true when it is in place
 * (false where tfjs's `fused` object cannot be changed).
 */
export function useLazyConvGradients(): boolean {
  if (installed) return true;
  const fused = tf.fused as { conv2d: FusedConv2d };
  const original = fused.conv2d;
  const lazy = ((args: FusedArgs) => {
    if (!LAZY_CONV_GRADIENTS.enabled || tf.getBackend() !== "wasm" || !recording()) {
      return original(args);
    }
    const plain = () =>
      tf.conv2d(
        args.x,
        args.filter,
        args.strides,
        args.pad,
        "NHWC",
        args.dilations,
        args.dimRoundingMode,
      );
    if (nothingToFuse(args)) return plain();
    if (biasAndRelu(args)) return biasRelu(plain(), args.bias as tf.Tensor1D) as tf.Tensor4D;
    return original(args);
  }) as FusedConv2d;
  try {
    fused.conv2d = lazy;
  } catch {
    return false; // a frozen module namespace: tfjs's own stays
  }
  installed = fused.conv2d === lazy;
  return installed;
}
