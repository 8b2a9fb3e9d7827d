/**
 * Batch normalisation over the last (channel) axis as one fused op with its own gradient,
 * {@linkcode batchNormTraining}, and the inference-mode formula {@linkcode batchNormInference},
 * built from four per-channel passes over channels-last data:
 *
 * - {@linkcode channelMoments}: the per-channel mean and (biased) variance;
 * - {@linkcode channelAffine}: `(x - mean) · scale + shift`;
 * - {@linkcode channelGradSums}: `Σ dy` and `Σ dy · (x - mean)` per channel;
 * - {@linkcode channelGradInput}: `a · dy + b · (x - mean) + d`.
 *
 * On `wasm` each is one kernel of ours (`SslChannelMoments`, `SslChannelAffine`,
 * `SslChannelGradSums`, `SslChannelGradInput`, in `batch_norm_kernels_wasm.ts`) that reads the
 * data once where it lies on the backend's heap, on WebAssembly SIMD; channels need not be a
 * multiple of 4. Sums are float32 over blocks of pixels, the blocks added in float64, and the
 * variance is taken of `x` less a shift near the mean (no cancellation when the mean is large
 * against the spread). On every other backend (cpu, webgpu) the same math runs as plain tfjs
 * ops (the variance in two passes), with no synchronous read, so it works on WebGPU.
 *
 * The training op's forward pass computes the batch's mean and variance and
 * `y = gamma · (x - mean) / sqrt(var + eps) + beta`; its gradient is the standard one,
 * `dx = gamma · invstd / N · (N·dy - Σdy - x̂ · Σ(dy·x̂))`, `dgamma = Σ dy·x̂`, `dbeta = Σ dy`
 * (N the pixels per channel, x̂ the normalised input): two passes over the data on wasm. With
 * `relu`, the op is BN + ReLU in the same passes (the `SslChannel*Relu` kernels): `dy` counts
 * only where the ReLU let the output through. With a `residual` too (a ResNet block's end,
 * `relu(BN(x) + residual)`), the residual is added in the normalising pass
 * (`SslChannelAffineAddRelu`: the separate add and ReLU passes saved) and the backward pass
 * masks `dy` by the output once (`dz`, the residual's gradient too), then runs BN's two passes on
 * it; {@linkcode BN_RESIDUAL_FUSED} switches this off (then BN, `tf.add`, `tf.relu`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * import { batchNormTraining } from "./batch_norm_wasm.ts";
 * await initBackend("wasm");
 * const x = tf.randomNormal([8, 5, 5, 6], 3, 2, "float32", 1);
 * const gamma = tf.ones([6]);
 * const beta = tf.zeros([6]);
 * const y = batchNormTraining(x, gamma, beta, 1e-5, (mean, variance) => {
 *   console.log(mean.shape, variance.shape); // [6] [6]: the batch's statistics
 * });
 * const dx = tf.grad((t) => tf.sum(tf.square(batchNormTraining(t, gamma, beta, 1e-5))))(x);
 * tf.dispose([x, gamma, beta, y, dx]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { reluGrad, reluGradWasmConfig } from "./relu_grad_wasm.ts";
import {
  batchNormWasmKernels,
  CHANNEL_AFFINE,
  CHANNEL_AFFINE_ADD_RELU,
  CHANNEL_AFFINE_RELU,
  CHANNEL_GRAD_INPUT,
  CHANNEL_GRAD_INPUT_RELU,
  CHANNEL_GRAD_SUMS,
  CHANNEL_GRAD_SUMS_RELU,
  CHANNEL_MOMENTS,
} from "./batch_norm_kernels_wasm.ts";

export {
  BLOCK_ROWS,
  CHANNEL_AFFINE,
  CHANNEL_AFFINE_ADD_RELU,
  CHANNEL_AFFINE_RELU,
  CHANNEL_GRAD_INPUT,
  CHANNEL_GRAD_INPUT_RELU,
  CHANNEL_GRAD_SUMS,
  CHANNEL_GRAD_SUMS_RELU,
  CHANNEL_MOMENTS,
} from "./batch_norm_kernels_wasm.ts";

let registered = false;

/** The switch benchmarks turn off to time BN, the residual's add and its ReLU as three passes. */
export const BN_RESIDUAL_FUSED: { enabled: boolean } = { enabled: true };

/**
 * Registers, once, the four wasm kernels and the gradient of `SslChannelAffine` (so that the
 * inference-mode formula can be trained through, e.g. when fine-tuning with frozen statistics).
 * The ops below call it; calling it again does nothing.
 */
export function registerBatchNormWasmKernels(): void {
  if (registered) return;
  for (const config of [...batchNormWasmKernels, reluGradWasmConfig]) {
    if (tf.getKernel(config.kernelName, "wasm") === undefined) tf.registerKernel(config);
  }
  tf.registerGradient({
    kernelName: CHANNEL_AFFINE,
    inputsToSave: ["x", "mean", "scale"],
    gradFunc: (dy, saved) => {
      const [x, mean, scale] = saved;
      const g = dy as tf.Tensor;
      const [sdy, sdyx] = channelGradSums(g, x, mean);
      const zeros = tf.zerosLike(scale);
      return {
        x: () => channelGradInput(g, x, mean, scale, zeros, zeros),
        mean: () => tf.neg(tf.mul(scale, sdy)),
        scale: () => sdyx,
        shift: () => sdy,
      };
    },
  });
  tf.registerGradient({
    kernelName: CHANNEL_AFFINE_RELU,
    inputsToSave: ["x", "mean", "scale", "shift"],
    gradFunc: (dy, saved) => {
      const [x, mean, scale, shift] = saved;
      const g = dy as tf.Tensor;
      const [sdy, sdyx] = channelGradSums(g, x, mean, { scale, shift });
      const zeros = tf.zerosLike(scale);
      return {
        x: () => channelGradInput(g, x, mean, scale, zeros, zeros, shift),
        mean: () => tf.neg(tf.mul(scale, sdy)),
        scale: () => sdyx,
        shift: () => sdy,
      };
    },
  });
  registered = true;
}

/** True when the fused kernels run: the wasm backend and float32 data with a channel axis. */
function onWasm(x: tf.Tensor): boolean {
  if (tf.getBackend() !== "wasm" || x.dtype !== "float32" || x.rank < 1) return false;
  registerBatchNormWasmKernels();
  return true;
}

/** Every axis but the last. */
const leadingAxes = (x: tf.Tensor) => Array.from({ length: x.rank - 1 }, (_, i) => i);

function run(name: string, inputs: Record<string, tf.Tensor>): tf.Tensor | tf.Tensor[] {
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap) as
    | tf.Tensor
    | tf.Tensor[];
}

/** The per-channel (last axis) mean and biased variance of `x`, each of shape `[c]`. */
export function channelMoments(x: tf.Tensor): [tf.Tensor1D, tf.Tensor1D] {
  if (onWasm(x)) return run(CHANNEL_MOMENTS, { x }) as [tf.Tensor1D, tf.Tensor1D];
  return tf.tidy(() => {
    const axes = leadingAxes(x);
    const mean = tf.mean(x, axes);
    const variance = tf.mean(tf.square(tf.sub(x, mean)), axes);
    return [mean, variance] as [tf.Tensor1D, tf.Tensor1D];
  });
}

/**
 * `(x - mean) · scale + shift`, the `[c]` operands broadcast along the last axis; with `relu`,
 * `relu` of that in the same pass (differentiable on wasm: the kernel has its gradient).
 */
export function channelAffine(
  x: tf.Tensor,
  mean: tf.Tensor,
  scale: tf.Tensor,
  shift: tf.Tensor,
  relu = false,
): tf.Tensor {
  if (onWasm(x)) {
    return run(relu ? CHANNEL_AFFINE_RELU : CHANNEL_AFFINE, { x, mean, scale, shift }) as tf.Tensor;
  }
  return tf.tidy(() => {
    const z = tf.add(tf.mul(tf.sub(x, mean), scale), shift);
    return relu ? tf.relu(z) : z;
  });
}

/**
 * `dy` where the ReLU after `(x - mean) · scale + shift` let it through, 0 elsewhere (tfjs ops: the
 * other backends' path of the masked passes).
 */
function maskedByRelu(
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor,
  scale: tf.Tensor,
  shift: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const z = tf.add(tf.mul(tf.sub(x, mean), scale), shift);
    return tf.mul(dy, tf.cast(tf.greater(z, 0), "float32"));
  });
}

/**
 * Per channel, `Σ dy` and `Σ dy · (x - mean)`, each of shape `[c]`. With `relu` (the scale and
 * shift of a forward pass `relu((x - mean) · scale + shift)`), of `dy` where that ReLU let it
 * through.
 */
export function channelGradSums(
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor,
  relu?: { scale: tf.Tensor; shift: tf.Tensor },
): [tf.Tensor1D, tf.Tensor1D] {
  if (onWasm(x) && dy.dtype === "float32") {
    return (relu
      ? run(CHANNEL_GRAD_SUMS_RELU, { dy, x, mean, scale: relu.scale, shift: relu.shift })
      : run(CHANNEL_GRAD_SUMS, { dy, x, mean })) as [tf.Tensor1D, tf.Tensor1D];
  }
  return tf.tidy(() => {
    const axes = leadingAxes(x);
    const g = relu ? maskedByRelu(dy, x, mean, relu.scale, relu.shift) : dy;
    return [tf.sum(g, axes), tf.sum(tf.mul(g, tf.sub(x, mean)), axes)] as [
      tf.Tensor1D,
      tf.Tensor1D,
    ];
  });
}

/**
 * `a · dy + (b · (x - mean) + d)`, the `[c]` operands broadcast along the last axis. With `shift`
 * (of a forward pass `relu((x - mean) · a + shift)`), `dy` counts only where that ReLU let it
 * through.
 */
export function channelGradInput(
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  d: tf.Tensor,
  shift?: tf.Tensor,
): tf.Tensor {
  if (onWasm(x) && dy.dtype === "float32") {
    return (shift
      ? run(CHANNEL_GRAD_INPUT_RELU, { dy, x, mean, a, b, d, shift })
      : run(CHANNEL_GRAD_INPUT, { dy, x, mean, a, b, d })) as tf.Tensor;
  }
  return tf.tidy(() => {
    const g = shift ? maskedByRelu(dy, x, mean, a, shift) : dy;
    return tf.add(tf.mul(a, g), tf.add(tf.mul(b, tf.sub(x, mean)), d));
  });
}

/**
 * Batch normalisation with the batch's statistics, over every axis but the last:
 * `gamma · (x - mean) / sqrt(var + epsilon) + beta`, `var` the biased variance, `gamma` and
 * `beta` of shape `[c]`. A fused op with its own gradient (to `x`, `gamma` and `beta`; see the
 * module doc). `onStats(mean, variance)` receives the batch's mean and biased variance inside the
 * forward pass, where nothing is recorded for the gradient (a layer updates its moving
 * statistics there); the tensors are disposed after it returns. Throws when `x` has fewer than
 * two values per channel.
 *
 * With `relu`, the op is `relu(batchNorm(x))`: on wasm the ReLU is applied in the normalising pass
 * and its mask in both backward passes (recomputed from `x`: nothing more is kept), so BN + ReLU
 * cost what BN alone did; elsewhere `tf.relu` follows the plain op.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  onStats?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
  relu = false,
  residual?: tf.Tensor,
): tf.Tensor {
  const c = x.shape[x.rank - 1];
  const pixels = c > 0 ? x.size / c : 0;
  if (x.rank < 2 || pixels < 2) {
    throw new Error(
      `batch normalisation in training mode needs more than one value per channel, got [${x.shape}]`,
    );
  }
  if (residual !== undefined) return withResidual(x, gamma, beta, epsilon, onStats, relu, residual);
  // Off wasm the ReLU is a tfjs op after the plain one (the same math as the masked passes).
  const fused = relu && onWasm(x);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [mean, variance] = channelMoments(xt);
    const invstd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(g, invstd); // gamma · invstd
    const y = channelAffine(xt, mean, scale, b, fused);
    onStats?.(mean, variance);
    save([xt, mean, invstd, scale, b]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sm, si, k, sb] = saved;
          const mask = fused ? { scale: k, shift: sb } : undefined;
          const [sdy, sdyx] = channelGradSums(dy, sx, sm, mask);
          const dgamma = tf.mul(sdyx, si); // Σ dy · x̂
          const bCoef = tf.mul(k, tf.mul(si, tf.div(dgamma, -pixels)));
          const dCoef = tf.mul(k, tf.div(sdy, -pixels));
          return [channelGradInput(dy, sx, sm, k, bCoef, dCoef, mask?.shift), dgamma, sdy];
        }),
    };
  });
  if (!relu || fused) return op(x, gamma, beta);
  return tf.tidy(() => tf.relu(op(x, gamma, beta)));
}

/** {@linkcode batchNormTraining} with a residual: `BN(x) + residual`, then the ReLU if `relu`. */
function withResidual(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  onStats: ((mean: tf.Tensor1D, variance: tf.Tensor1D) => void) | undefined,
  relu: boolean,
  residual: tf.Tensor,
): tf.Tensor {
  if (!tf.util.arraysEqual(residual.shape, x.shape)) {
    throw new Error(
      `batch normalisation: the residual's shape [${residual.shape}] is not the input's [${x.shape}]`,
    );
  }
  const fused = relu && BN_RESIDUAL_FUSED.enabled && residual.dtype === "float32" && onWasm(x);
  if (!fused) {
    return tf.tidy(() => {
      const z = tf.add(batchNormTraining(x, gamma, beta, epsilon, onStats), residual);
      return relu ? tf.relu(z) : z;
    });
  }
  const pixels = x.size / x.shape[x.rank - 1];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, g, b, r] = args as tf.Tensor[];
    const save = args[4] as tf.GradSaveFunc;
    const [mean, variance] = channelMoments(xt);
    const invstd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(g, invstd); // gamma · invstd
    const y = run(CHANNEL_AFFINE_ADD_RELU, { x: xt, mean, scale, shift: b, residual: r });
    onStats?.(mean, variance);
    save([xt, mean, invstd, scale, y as tf.Tensor]);
    return {
      value: y as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sm, si, k, sy] = saved;
          const dz = reluGrad(dy, sy); // dy where the output is positive: the residual's gradient
          const [sdy, sdyx] = channelGradSums(dz, sx, sm);
          const dgamma = tf.mul(sdyx, si); // Σ dz · x̂
          const bCoef = tf.mul(k, tf.mul(si, tf.div(dgamma, -pixels)));
          const dCoef = tf.mul(k, tf.div(sdy, -pixels));
          return [channelGradInput(dz, sx, sm, k, bCoef, dCoef), dgamma, sdy, dz];
        }),
    };
  });
  return op(x, gamma, beta, residual);
}

/**
 * Batch normalisation with given statistics (inference mode):
 * `gamma · (x - mean) / sqrt(variance + epsilon) + beta` over the last axis, differentiable
 * to every input; with `relu`, `relu` of that. One pass over `x` on wasm.
 */
export function batchNormInference(
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  relu = false,
): tf.Tensor {
  return tf.tidy(() =>
    channelAffine(x, mean, tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon))), beta, relu)
  );
}
