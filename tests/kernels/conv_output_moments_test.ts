import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { batchNormTraining } from "../../lib/kernels/batch_norm_wasm.ts";
import { cachedMoments, CONV_OUTPUT_MOMENTS } from "../../lib/kernels/conv_output_moments_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, sizeOf, valuesOn } from "../numeric.ts";

type Shape4 = [number, number, number, number];

/**
 * A 3x3 "same" convolution, then batch normalisation in training mode with a ReLU: the output,
 * the batch's mean and variance (as the layer's moving statistics receive them) and the gradients
 * of `sum(y · r)` in x, the filter, gamma and beta.
 */
function convBn(backend: "cpu" | "wasm", xShape: Shape4, co: number): Promise<Float32Array[]> {
  return valuesOn(backend, () => {
    const x = tf.tensor4d(randomArray(sizeOf(xShape), 61), xShape);
    // An offset: the map's mean is large against its spread (the shifted sums' case).
    const w = tf.add(tf.tensor4d(randomArray(9 * xShape[3] * co, 62), [3, 3, xShape[3], co]), 0.5);
    const gamma = tf.tensor1d(randomArray(co, 63));
    const beta = tf.tensor1d(randomArray(co, 64));
    const stats: tf.Tensor[] = [];
    const layer = (xx: tf.Tensor, ww: tf.Tensor, g: tf.Tensor, b: tf.Tensor, keep = false) =>
      batchNormTraining(
        tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, "same"),
        g,
        b,
        1e-5,
        keep
          ? (mean, variance) => stats.push(tf.keep(mean.clone()), tf.keep(variance.clone()))
          : undefined,
        true,
      );
    // One training step's forward pass under the gradient tape, as training runs it.
    const r = tf.tensor(randomArray(xShape[0] * xShape[1] * xShape[2] * co, 65), [
      ...xShape.slice(0, 3),
      co,
    ]);
    let y: tf.Tensor | undefined;
    const grads = tf.grads((a, b, c, d) => {
      const out = layer(a, b, c, d, true);
      y = tf.keep(out.clone());
      return tf.sum(tf.mul(out, r));
    })([x, w, gamma, beta]);
    return [y!, ...stats, ...grads];
  });
}

// Winograd's F(4x4): the ResNet's 32x32x16 layer (several chunks an image), 8x8x64 (several images
// a chunk), an output whose last blocks cover fewer rows than 4 (the article CNN's 11x11); the
// direct kernel: a 3-channel stem.
const cases: [Shape4, number][] = [
  [[2, 12, 12, 3], 16],
  [[2, 32, 32, 16], 16],
  [[5, 8, 8, 32], 64],
  [[3, 11, 11, 8], 12],
];

for (const [xShape, co] of cases) {
  const label = `x[${xShape}] → ${co} channels`;
  Deno.test(`conv → BN + ReLU with the moments taken by the convolution matches cpu: ${label}`, async () => {
    await initBackend("wasm");
    const ref = await convBn("cpu", xShape, co);
    const before = tf.memory().numTensors;
    for (const enabled of [true, false]) {
      CONV_OUTPUT_MOMENTS.enabled = enabled;
      const got = await convBn("wasm", xShape, co).finally(() => {
        CONV_OUTPUT_MOMENTS.enabled = true;
      });
      const names = ["y", "mean", "variance", "dx", "dw", "dgamma", "dbeta"];
      for (const [i, name] of names.entries()) {
        const e = relativeError(ref[i], got[i]);
        assert(e < 1e-4, `${label} (on: ${enabled}): ${name} relative error ${e}`);
      }
    }
    assertEquals(tf.memory().numTensors, before, "tensors alive");
  });
}

Deno.test("the moments are recorded for plain convolutions in training steps only", async () => {
  await initBackend("wasm");
  const x = tf.tensor4d(randomArray(2 * 8 * 8 * 16, 71), [2, 8, 8, 16]);
  const w = tf.tensor4d(randomArray(9 * 16 * 16, 72), [3, 3, 16, 16]);
  // Under a gradient tape (a training step): the plain convolution's output has them.
  let y: tf.Tensor | undefined;
  const dx = tf.grad((t) => tf.sum(y = tf.keep(tf.conv2d(t as tf.Tensor4D, w, 1, "same"))))(x);
  const outside = tf.conv2d(x, w, 1, "same"); // inference: no tape
  const fused = tf.grad((t) =>
    tf.sum(
      tf.fused.conv2d({
        x: t as tf.Tensor4D,
        filter: w,
        strides: 1,
        pad: "same",
        bias: tf.zeros([16]),
      }),
    )
  )(x);
  assert(cachedMoments(y!) !== undefined, "plain convolution under a tape");
  assertEquals(cachedMoments(outside), undefined, "outside a tape");
  assertEquals(cachedMoments(dx), undefined, "input gradient");
  const mean = tf.mean(y!, [0, 1, 2]);
  assert(relativeError(await mean.data() as Float32Array, cachedMoments(y!)!.mean) < 1e-5, "mean");
  tf.dispose([x, w, y!, dx, outside, fused, mean]);
});
