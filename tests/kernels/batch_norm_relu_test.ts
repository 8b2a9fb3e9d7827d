/**
 * Batch normalisation with its ReLU fused (`relu` of `batchNormTraining` and
 * `batchNormInference`, the `SslChannel*Relu` wasm kernels) against tfjs's own ops on `cpu`:
 * `tf.relu(tf.batchNorm(...))` and its autodiff, relative error < 1e-4, with many values at the
 * ReLU's edge (beta chosen so that about half the outputs are cut), and no tensor left behind.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { batchNormInference, batchNormTraining } from "../../lib/kernels/batch_norm_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError } from "../numeric.ts";

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function inputs(shape: number[], seed: number) {
  const c = shape[shape.length - 1];
  return {
    x: randomArray(size(shape), seed).map((v, i) => 3 + 2 * v + 0.5 * (i % c)),
    gamma: randomArray(c, seed + 1).map((v) => 1 + 0.5 * v),
    beta: randomArray(c, seed + 2).map((v) => 0.3 * v), // about half of each channel cut
    mean: randomArray(c, seed + 4).map((v) => 3 + v),
    variance: randomArray(c, seed + 5).map((v) => 4 + v),
    w: randomArray(size(shape), seed + 3),
  };
}

type Case = ReturnType<typeof inputs>;

/** y and the gradients of Σ w·y to x, gamma, beta, in training mode then in inference mode. */
function run(shape: number[], v: Case, op: "ours" | "tfjs"): tf.Tensor[] {
  const axes = shape.slice(0, -1).map((_, i) => i);
  return tf.tidy(() => {
    const [x, w] = [tf.tensor(v.x, shape), tf.tensor(v.w, shape)];
    const [gamma, beta, mean, variance] = [v.gamma, v.beta, v.mean, v.variance].map((a) =>
      tf.tensor1d(a)
    );
    const train = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      if (op === "ours") return batchNormTraining(a, g, b, 1e-5, undefined, true);
      const m = tf.moments(a, axes);
      return tf.relu(tf.batchNorm(a, m.mean, m.variance, b, g, 1e-5));
    };
    const infer = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      op === "ours"
        ? batchNormInference(a, mean, variance, g, b, 1e-5, true)
        : tf.relu(tf.batchNorm(a, mean, variance, b, g, 1e-5));
    const out: tf.Tensor[] = [];
    for (const f of [train, infer]) {
      const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), w));
      out.push(
        f(x, gamma, beta),
        ...tf.grads(loss as (...t: tf.Tensor[]) => tf.Tensor)([x, gamma, beta]),
      );
    }
    return out;
  });
}

async function values(backend: "cpu" | "wasm", shape: number[], v: Case, op: "ours" | "tfjs") {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const outs = run(shape, v, op);
  const data = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  assertEquals(tf.memory().numTensors, before, `${backend} ${op}: no tensor left behind`);
  return data;
}

const NAMES = ["y", "dx", "dgamma", "dbeta"].flatMap((n) => [`train ${n}`, `infer ${n}`]);
const ORDER = [0, 4, 1, 5, 2, 6, 3, 7]; // NAMES' order in run's output

const SHAPES = [
  [4, 5, 5, 16], // channels a multiple of 4: one vector a channel group
  [2, 6, 6, 32], // two groups of 4 vectors
  [2, 4, 4, 24], // a group of 4 vectors and one of 2
  [3, 5, 7, 3], // odd channels: 4 pixels a SIMD row, a tail of 1 pixel
  [2, 3, 3, 10], // 2 pixels a SIMD row, a tail of 1
  [3, 15, 15, 5], // more pixels than a float32 block (675 > 512), a tail of 3
  [7, 6], // 2-D rows
];

for (const shape of SHAPES) {
  Deno.test(`BN + ReLU fused on wasm matches cpu and tf.relu(tf.batchNorm): [${shape}]`, async () => {
    await initBackend("wasm");
    const v = inputs(shape, 7 * shape.length + shape[shape.length - 1]);
    const wasm = await values("wasm", shape, v, "ours");
    const cpu = await values("cpu", shape, v, "ours");
    const ref = await values("cpu", shape, v, "tfjs");
    await tf.setBackend("wasm");
    ORDER.forEach((at, i) => {
      const name = NAMES[i];
      assert(relativeError(ref[at], wasm[at]) < 1e-4, `${name}: wasm vs tfjs's ops`);
      assert(relativeError(ref[at], cpu[at]) < 1e-4, `${name}: cpu vs tfjs's ops`);
    });
    // The ReLU cut a good share of the outputs, so the masks were tested.
    const zeros = wasm[0].filter((y) => y === 0).length;
    assert(zeros > wasm[0].length / 5 && zeros < (4 * wasm[0].length) / 5, `${zeros} cut`);
  });
}
