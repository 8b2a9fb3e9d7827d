import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { ADAM_FUSED } from "../../lib/kernels/adam_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, sizeOf } from "../numeric.ts";

// Shapes of the ResNet's variables (a 3x3 filter, a BN's gamma) and tails of 1-3 floats.
const shapes = [[3, 3, 16, 32], [16], [10], [7, 3], [1], [2, 3]];

/**
 * `steps` Adam updates (learning rate 0.01) of variables of `shapes` from seeded values with
 * seeded gradients (one of them null in the third step, which leaves that variable as it is),
 * on `backend`; the variables' values, then the optimiser's weights (moments) and iteration count.
 */
async function adamSteps(
  backend: "cpu" | "wasm",
  steps: number,
): Promise<{ values: Float32Array[]; moments: Float32Array[]; iterations: number }> {
  await tf.setBackend(backend);
  const vars = shapes.map((s, i) => tf.variable(tf.tensor(randomArray(sizeOf(s), 50 + i), s)));
  const opt = tf.train.adam(0.01);
  for (let t = 0; t < steps; t++) {
    // As a list on odd steps, as a map (what `minimize` passes) on even ones.
    const grads = vars.map((v, i) => ({
      name: v.name,
      tensor: tf.tensor(randomArray(v.size, 100 * t + i), v.shape),
    }));
    const map = Object.fromEntries(
      grads.map((g, i) => [g.name, t === 2 && i === 2 ? null : g.tensor]),
    );
    opt.applyGradients(t % 2 === 1 ? grads : map as never);
    tf.dispose(grads.map((g) => g.tensor));
  }
  const values = await Promise.all(vars.map((v) => v.data() as Promise<Float32Array>));
  const weights = await opt.getWeights();
  const iterations = (await weights[0].tensor.data())[0];
  const moments = await Promise.all(
    weights.slice(1).map((w) => w.tensor.data() as Promise<Float32Array>),
  );
  tf.dispose(weights.map((w) => w.tensor));
  opt.dispose();
  tf.dispose(vars);
  return { values, moments, iterations };
}

Deno.test("fused Adam on wasm matches cpu and tfjs's own update, moments included", async () => {
  await initBackend("wasm");
  const ref = await adamSteps("cpu", 3);
  // tfjs's optimiser leaves a few tensors behind after dispose(): the fused update leaves no more.
  const left: number[] = [];
  for (const enabled of [true, false]) {
    ADAM_FUSED.enabled = enabled;
    const before = tf.memory().numTensors;
    const got = await adamSteps("wasm", 3).finally(() => {
      ADAM_FUSED.enabled = true;
    });
    left.push(tf.memory().numTensors - before);
    assertEquals(got.iterations, ref.iterations, "iterations");
    assertEquals(got.moments.length, 2 * shapes.length, "moments");
    for (const [i, r] of [...ref.values, ...ref.moments].entries()) {
      const e = relativeError(r, [...got.values, ...got.moments][i]);
      assert(e < 1e-6, `fused ${enabled}: tensor ${i} relative error ${e}`);
    }
  }
  assertEquals(left[0], left[1], "tensors left behind, fused and tfjs's");
});

Deno.test("fused Adam: no tensor more after each step, the variable left out unchanged", async () => {
  await initBackend("wasm");
  const w = tf.variable(tf.tensor1d([1, 2, 3, 4, 5]));
  const u = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
  const opt = tf.train.adam(0.1);
  const counts: number[] = [];
  for (let t = 0; t < 3; t++) {
    const g = tf.tensor1d([1, -1, 1, -1, 0.5]);
    opt.applyGradients({ [w.name]: g, [u.name]: null } as never);
    g.dispose();
    counts.push(tf.memory().numTensors);
  }
  assertEquals(counts[2], counts[0], "tensors after each step");
  assertEquals([...await u.data()], [1, 2, 3, 4], "no gradient, no update");
  const got = await w.data();
  // Three steps of a constant-sign gradient move a weight by about 3 · 0.1.
  assert(Math.abs(got[0] - 0.7) < 1e-5 && Math.abs(got[1] - 2.3) < 1e-5, `${got}`);
  opt.dispose();
  tf.dispose([w, u]);
});

Deno.test("fused Adam: bit for bit tfjs's own update on wasm, four steps", async () => {
  await initBackend("wasm");
  const fused = await adamSteps("wasm", 4);
  ADAM_FUSED.enabled = false;
  const tfjs = await adamSteps("wasm", 4).finally(() => {
    ADAM_FUSED.enabled = true;
  });
  const all = (r: typeof fused) => [...r.values, ...r.moments];
  all(tfjs).forEach((a, i) => {
    const b = all(fused)[i];
    const differ = a.findIndex((v, j) => !Object.is(v, b[j]));
    assertEquals(differ, -1, `tensor ${i}: element ${differ} is ${b[differ]}, tfjs's ${a[differ]}`);
  });
});
