/**
 * The benchmark case of the foundation issue: one SSL training step of the
 * article's model (backbone + head, NT-Xent on two views, Adam) on 28x28x1
 * inputs, timed after warm-up, with a breakdown of where the time goes.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { articleBackbone } from "../lib/models/article_cnn.ts";
import { articleHead } from "../lib/models/heads/projection_heads.ts";
import { ntXentLoss } from "../lib/loss/ntxent.ts";

/** Result of `benchSslStep`. */
export interface SslStepResult {
  backend: string;
  pairs: number;
  msPerStep: number;
  viewsPerSecond: number;
  /** Milliseconds per step spent in each part (sums to about msPerStep). */
  breakdown: Record<string, number>;
}

/** Mean wall time of `f` over `reps` runs, in ms. */
function timeMs(f: () => void, reps: number): number {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

/** Times one SSL step with `pairs` positive pairs on the current backend. */
export async function benchSslStep(
  pairs: number,
  warmup: number,
  reps: number,
): Promise<SslStepResult> {
  const backbone = articleBackbone();
  const head = articleHead();
  const optimizer = tf.train.adam(1e-3);
  const views = tf.randomUniform([2 * pairs, 28, 28, 1], 0, 1, "float32", 7);
  const embed = () => head.apply(backbone.apply(views)) as tf.Tensor2D;
  const loss = (z: tf.Tensor2D) => {
    const [a, b] = tf.split(z, 2, 0) as tf.Tensor2D[];
    return ntXentLoss(a, b, 0.5);
  };
  const step = () => {
    const value = optimizer.minimize(() => loss(embed()), true)!;
    value.dataSync(); // wait for the step, as training does when it logs the loss
    value.dispose();
  };
  for (let i = 0; i < warmup; i++) step();
  const msPerStep = timeMs(step, reps);

  // Parts: forward pass; loss forward + backward; optimizer update; kernels of
  // the backward pass (filter and input gradients of the convolutions).
  const forward = timeMs(() => tf.tidy(() => embed().dataSync()), reps);
  const z = tf.tidy(embed);
  const lossMs = timeMs(
    () => tf.tidy(() => tf.grad((t) => loss(t as tf.Tensor2D))(z).dataSync()),
    reps,
  );
  const { grads } = tf.variableGrads(() => loss(embed()));
  const optimizerMs = timeMs(() => {
    optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
    backbone.getWeights()[0].dataSync(); // wait for the update
  }, reps);
  tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false);
  const profile = await tf.profile(step);
  const kernelMs = (name: string) =>
    profile.kernels.filter((k) => k.name === name).reduce(
      (s, k) => s + (k.kernelTimeMs as number),
      0,
    );
  const filterGrad = kernelMs("Conv2DBackpropFilter");
  const inputGrad = kernelMs("Conv2DBackpropInput");
  const poolGrad = kernelMs("MaxPoolGrad");
  const backwardOther = Math.max(
    0,
    msPerStep - forward - lossMs - optimizerMs - filterGrad - inputGrad - poolGrad,
  );
  tf.dispose([views, z, ...Object.values(grads)]);
  backbone.dispose();
  head.dispose();
  optimizer.dispose();
  return {
    backend: tf.getBackend(),
    pairs,
    msPerStep,
    viewsPerSecond: (2 * pairs) / (msPerStep / 1000),
    breakdown: {
      forward,
      "loss (fwd+bwd)": lossMs,
      "filter gradient": filterGrad,
      "input gradient": inputGrad,
      "max-pool gradient": poolGrad,
      "other backward (relu, bias, dense)": backwardOther,
      optimizer: optimizerMs,
    },
  };
}
