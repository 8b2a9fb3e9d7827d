/**
 * The benchmark case of the foundation issue: one SSL training step of the
 * article's model (backbone + head, NT-Xent on two views, Adam) on 28x28x1
 * inputs, timed after warm-up, with a breakdown of where the time goes; or
 * the same step of the small ResNet (width 16, 3 stages) on 32x32x3 inputs;
 * or of the article CNN's widths as modern blocks with batch normalisation
 * ("article-bn": conv 3x3 same, no bias → BatchNorm → ReLU → max-pool 2, three
 * blocks of 16, 16, 32 channels, then global average pooling), whose breakdown
 * also gives batch normalisation's forward + backward and its share of the step.
 * The models run in training mode, as pre-training runs them.
 * Every read is awaited (`await data()`), so it runs on webgpu too (which has
 * no synchronous read in Deno).
 *
 * @example
 * ```ts
 * import { benchSslStep } from "./ssl_step.ts";
 * const r = await benchSslStep(512, 2, 8, "article-bn");
 * console.log(r.breakdown["batch norm (fwd+bwd)"] / r.msPerStep); // BN's share of the step
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { articleBackbone } from "../lib/models/article_cnn.ts";
import { articleHead } from "../lib/models/heads/projection_heads.ts";
import { resnetBackbone } from "../lib/models/resnet.ts";
import { ntXentLoss } from "../lib/loss/ntxent.ts";
import { convBnRelu } from "../lib/models/batch_norm.ts";
import {
  CHANNEL_AFFINE,
  CHANNEL_AFFINE_RELU,
  CHANNEL_GRAD_INPUT,
  CHANNEL_GRAD_INPUT_RELU,
  CHANNEL_GRAD_SUMS,
  CHANNEL_GRAD_SUMS_RELU,
  CHANNEL_MOMENTS,
} from "../lib/kernels/batch_norm_wasm.ts";

/** Result of `benchSslStep`. */
export interface SslStepResult {
  backend: string;
  /**
   * "article" (the article's CNN + head, 28x28x1), "article-bn" (its widths as conv → BN → ReLU
   * blocks, 28x28x1) or "resnet" (ResNet + head, 32x32x3).
   */
  model: SslStepModel;
  /** Input shape of one view. */
  shape: [number, number, number];
  pairs: number;
  msPerStep: number;
  viewsPerSecond: number;
  /** Milliseconds per step spent in each part (sums to about msPerStep). */
  breakdown: Record<string, number>;
}

/** The models `benchSslStep` times. */
export type SslStepModel = "article" | "article-bn" | "resnet";

/** Positive pairs per step of each model's benchmark case (twice as many views). */
export const SSL_STEP_PAIRS: Readonly<Record<SslStepModel, number>> = {
  article: 512,
  "article-bn": 512,
  resnet: 128,
};

/**
 * The article CNN's widths (16, 16, 32) as modern blocks on 28x28x1 views: conv 3x3 (same, no
 * bias) → BatchNorm → ReLU → max-pool 2, three times (28 → 14 → 7 → 3), then global average
 * pooling to 32 features. With `tfjsBatchNorm`, tfjs's own `BatchNormalization` (momentum 0.9,
 * epsilon 1e-5: the same moving averages) in place of ours, for comparisons.
 */
export function articleBnBackbone(tfjsBatchNorm = false): tf.Sequential {
  const model = tf.sequential({ name: "backbone_bn" });
  [16, 16, 32].forEach((filters, i) => {
    const name = `block${i + 1}`;
    const [conv, bn, relu] = convBnRelu(filters, {
      name,
      seed: i,
      ...(i === 0 ? { inputShape: [28, 28, 1] as [number, number, number] } : {}),
    });
    model.add(conv);
    model.add(
      tfjsBatchNorm
        ? tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: `${name}_tfjs_bn` })
        : bn,
    );
    model.add(relu);
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }));
  });
  model.add(tf.layers.globalAveragePooling2d({ name: "gap" }));
  return model;
}

/** The backbone, head and view shape of a benchmark model (the caller disposes the models). */
export function sslStepModels(model: SslStepModel): {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  shape: [number, number, number];
} {
  const shape: [number, number, number] = model === "resnet" ? [32, 32, 3] : [28, 28, 1];
  const backbone = model === "article"
    ? articleBackbone()
    : model === "article-bn"
    ? articleBnBackbone()
    : resnetBackbone({ inputShape: shape, width: 16, depth: 3 });
  const head = articleHead(backbone.outputs[0].shape[1] as number);
  return { backbone, head, shape };
}

/** Mean wall time of `f` over `reps` runs, in ms. */
async function timeMs(f: () => Promise<unknown>, reps: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - t0) / reps;
}

/** Waits for `t` (reads it), then disposes it. */
async function settle(t: tf.Tensor): Promise<void> {
  await t.data();
  t.dispose();
}

/** Times one SSL step of `model` with `pairs` positive pairs on the current backend. */
export async function benchSslStep(
  pairs: number,
  warmup: number,
  reps: number,
  model: SslStepModel = "article",
): Promise<SslStepResult> {
  const { backbone, head, shape } = sslStepModels(model);
  const optimizer = tf.train.adam(1e-3);
  const views = tf.randomUniform([2 * pairs, ...shape], 0, 1, "float32", 7);
  const embed = () =>
    head.apply(backbone.apply(views, { training: true }), { training: true }) as tf.Tensor2D;
  const loss = (z: tf.Tensor2D) => {
    const [a, b] = tf.split(z, 2, 0) as tf.Tensor2D[];
    return ntXentLoss(a, b, 0.5);
  };
  // Wait for the step, as training does when it logs the loss.
  const step = () => settle(optimizer.minimize(() => loss(embed()), true)!);
  for (let i = 0; i < warmup; i++) await step();
  const msPerStep = await timeMs(step, reps);

  // Parts: forward pass; loss forward + backward; optimizer update; kernels of
  // the backward pass (filter and input gradients of the convolutions).
  const forward = await timeMs(() => settle(tf.tidy(embed)), reps);
  const z = tf.tidy(embed);
  const lossMs = await timeMs(
    () => settle(tf.tidy(() => tf.grad((t) => loss(t as tf.Tensor2D))(z))),
    reps,
  );
  const { grads } = tf.variableGrads(() => loss(embed()));
  const optimizerMs = await timeMs(async () => {
    optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
    await backbone.weights[0].read().data(); // wait for the update
  }, reps);
  tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false);
  const profile = await tf.profile(step);
  const kernelMs = (name: string) =>
    profile.kernels.filter((k) => k.name === name).reduce(
      (s, k) => s + (typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0),
      0,
    );
  const filterGrad = kernelMs("Conv2DBackpropFilter");
  const inputGrad = kernelMs("Conv2DBackpropInput");
  const poolGrad = kernelMs("MaxPoolGrad");
  // Batch normalisation's own kernels (wasm): its forward passes and its backward passes (with
  // the ReLU fused into them in the ResNet's BN + ReLU layers).
  const bnForward = kernelMs(CHANNEL_MOMENTS) + kernelMs(CHANNEL_AFFINE) +
    kernelMs(CHANNEL_AFFINE_RELU);
  const bnBackward = kernelMs(CHANNEL_GRAD_SUMS) + kernelMs(CHANNEL_GRAD_INPUT) +
    kernelMs(CHANNEL_GRAD_SUMS_RELU) + kernelMs(CHANNEL_GRAD_INPUT_RELU);
  const backwardOther = Math.max(
    0,
    msPerStep - forward - lossMs - optimizerMs - filterGrad - inputGrad - poolGrad - bnBackward,
  );
  tf.dispose([views, z, ...Object.values(grads)]);
  backbone.dispose();
  head.dispose();
  optimizer.dispose();
  return {
    backend: tf.getBackend(),
    model,
    shape,
    pairs,
    msPerStep,
    viewsPerSecond: (2 * pairs) / (msPerStep / 1000),
    breakdown: {
      ...(bnForward + bnBackward > 0
        ? {
          "forward (without batch norm)": Math.max(0, forward - bnForward),
          "batch norm (fwd+bwd)": bnForward + bnBackward,
        }
        : { forward }),
      "loss (fwd+bwd)": lossMs,
      "filter gradient": filterGrad,
      "input gradient": inputGrad,
      "max-pool gradient": poolGrad,
      "other backward (relu, bias, dense)": backwardOther,
      optimizer: optimizerMs,
    },
  };
}
