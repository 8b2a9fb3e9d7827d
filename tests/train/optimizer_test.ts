import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { learningRateAt, makeOptimizer, optimizerStep } from "../../lib/train/optimizer.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

Deno.test("learning-rate schedules: constant, cosine to zero, exponential per epoch, warm-up", () => {
  const lr = 0.1;
  assertEquals(learningRateAt({ learningRate: lr }, 50, 100, 10), lr);
  const cos = (s: number) => learningRateAt({ learningRate: lr, schedule: "cosine" }, s, 100, 10);
  assertAlmostEquals(cos(0), lr, 1e-12);
  assertAlmostEquals(cos(50), lr / 2, 1e-12);
  assertAlmostEquals(cos(100), 0, 1e-12);
  assert(cos(20) > cos(21), "cosine falls");
  const exp = (s: number) => learningRateAt({ learningRate: lr, lrDecay: 0.5 }, s, 100, 10);
  assertEquals([exp(0), exp(9), exp(10), exp(25)], [lr, lr, lr / 2, lr / 4]);
  const warm = (s: number) =>
    learningRateAt({ learningRate: lr, schedule: "cosine", warmupSteps: 4 }, s, 104, 10);
  assertAlmostEquals(warm(0), lr / 5, 1e-12);
  assertAlmostEquals(warm(3), (4 * lr) / 5, 1e-12);
  assertAlmostEquals(warm(4), lr, 1e-12);
  assertAlmostEquals(warm(104), 0, 1e-12);
  assertThrows(() => makeOptimizer({ optimizer: "adam", learningRate: 0 }), "learningRate");
  assertThrows(
    () => makeOptimizer({ optimizer: "rmsprop" as "adam", learningRate: 1 }),
    'unknown optimizer "rmsprop"',
  );
});

Deno.test("AdamW: the weights shrink by lr·decay before the Adam update (PyTorch's order)", async () => {
  await initBackend("cpu");
  const start = [1, -2, 3];
  const grad = [0.5, 0.5, -1];
  const run = (optimizer: "adam" | "adamw", weightDecay: number) => {
    const w = tf.variable(tf.tensor1d(start));
    const opt = makeOptimizer({ optimizer, learningRate: 0.01, weightDecay });
    for (let s = 0; s < 3; s++) {
      optimizerStep(opt, { [w.name]: tf.tensor1d(grad) }, [w], 0.01, { optimizer, weightDecay });
    }
    const out = Array.from(w.dataSync());
    opt.dispose();
    w.dispose();
    return out;
  };
  const adam = run("adam", 0.5);
  const adamw = run("adamw", 0.5);
  // Adam's step on these constant gradients is -lr·sign(g) each step (m/√v = sign(g)).
  start.forEach((w0, i) => {
    let w = w0;
    for (let s = 0; s < 3; s++) w = w * (1 - 0.01 * 0.5) - 0.01 * Math.sign(grad[i]);
    assertAlmostEquals(adamw[i], w, 1e-5);
    assertAlmostEquals(adam[i], w0 - 3 * 0.01 * Math.sign(grad[i]), 1e-5);
  });
});
