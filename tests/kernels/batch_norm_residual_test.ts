/**
 * Batch normalisation with a residual and its ReLU fused (`residual` of `batchNormTraining`, the
 * `SslChannelAffineAddRelu` wasm kernel: a ResNet block's end) against tfjs's own ops on `cpu`:
 * `tf.relu(tf.add(tf.batchNorm(...), r))` and its autodiff, relative error < 1e-4, about half the
 * outputs cut by the ReLU; the batch's moments as a layer's moving statistics receive them; on
 * wasm with the fused kernel and with it switched off; no tensor left behind.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { batchNormTraining, BN_RESIDUAL_FUSED } from "../../lib/kernels/batch_norm_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, sizeOf, valuesOn } from "../numeric.ts";

/** y, the batch's mean and variance, and the gradients of Σ w·y to x, gamma, beta, r. */
function blockEnd(backend: "cpu" | "wasm", shape: number[], op: "ours" | "tfjs") {
  const c = shape[shape.length - 1];
  const axes = shape.slice(0, -1).map((_, i) => i);
  return valuesOn(backend, () => {
    const x = tf.tensor(
      randomArray(sizeOf(shape), 91).map((v, i) => 3 + 2 * v + 0.5 * (i % c)),
      shape,
    );
    const r = tf.tensor(randomArray(sizeOf(shape), 92), shape);
    const w = tf.tensor(randomArray(sizeOf(shape), 93), shape);
    const gamma = tf.tensor1d(randomArray(c, 94).map((v) => 1 + 0.5 * v));
    const beta = tf.tensor1d(randomArray(c, 95).map((v) => 0.3 * v));
    const stats: tf.Tensor[] = [];
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, res: tf.Tensor, keep = false) => {
      if (op === "tfjs") {
        const m = tf.moments(a, axes);
        if (keep) stats.push(tf.keep(m.mean), tf.keep(m.variance));
        return tf.relu(tf.add(tf.batchNorm(a, m.mean, m.variance, b, g, 1e-5), res));
      }
      const onStats = keep
        ? (mean: tf.Tensor, variance: tf.Tensor) =>
          stats.push(tf.keep(mean.clone()), tf.keep(variance.clone()))
        : undefined;
      return batchNormTraining(a, g, b, 1e-5, onStats, true, res);
    };
    const y = f(x, gamma, beta, r, true);
    const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, res: tf.Tensor) =>
      tf.sum(tf.mul(f(a, g, b, res), w));
    return [
      y,
      ...stats,
      ...tf.grads(loss as (...t: tf.Tensor[]) => tf.Tensor)([x, gamma, beta, r]),
    ];
  });
}

const SHAPES = [
  [4, 8, 8, 16], // channels a multiple of 4
  [3, 5, 7, 3], // odd channels: 4 pixels a SIMD row, a tail of 1 pixel
  [2, 3, 3, 10], // 2 pixels a SIMD row, a tail of 1
  [7, 6], // 2-D rows
];

for (const shape of SHAPES) {
  Deno.test(`BN + residual + ReLU in one pass matches cpu, with gradients: [${shape}]`, async () => {
    await initBackend("wasm");
    const ref = await blockEnd("cpu", shape, "tfjs");
    assert(ref[0].some((v) => v === 0) && ref[0].some((v) => v > 0), "the ReLU cuts about half");
    const before = tf.memory().numTensors;
    for (const enabled of [true, false]) {
      BN_RESIDUAL_FUSED.enabled = enabled;
      const got = await blockEnd("wasm", shape, "ours").finally(() => {
        BN_RESIDUAL_FUSED.enabled = true;
      });
      const names = ["y", "mean", "variance", "dx", "dgamma", "dbeta", "dresidual"];
      for (const [i, name] of names.entries()) {
        const e = relativeError(ref[i], got[i]);
        assert(e < 1e-4, `[${shape}] (fused ${enabled}): ${name} relative error ${e}`);
      }
    }
    const onCpu = await blockEnd("cpu", shape, "ours");
    for (const [i, r] of ref.entries()) assert(relativeError(r, onCpu[i]) < 1e-4, `cpu ${i}`);
    assertEquals(tf.memory().numTensors, before, "tensors alive");
  });
}
