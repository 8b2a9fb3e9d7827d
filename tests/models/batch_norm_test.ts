import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import {
  batchNormInference,
  batchNormTraining,
  channelMoments,
} from "../../lib/kernels/batch_norm_wasm.ts";
import { BatchNorm, batchNorm, convBnRelu } from "../../lib/models/batch_norm.ts";
import { loadModel, saveModel } from "../../lib/train/checkpoint.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";
import { randomArray, relativeError } from "../numeric.ts";

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Inputs of one case: x (mean 3, spread 2 and a per-channel offset), gamma, beta, and w for the loss Σ w·y. */
function inputs(shape: number[], seed: number) {
  const c = shape[shape.length - 1];
  const x = randomArray(size(shape), seed).map((v, i) => 3 + 2 * v + 0.5 * (i % c));
  return {
    x,
    gamma: randomArray(c, seed + 1).map((v) => 1 + 0.5 * v),
    beta: randomArray(c, seed + 2),
    w: randomArray(size(shape), seed + 3),
  };
}

type Case = ReturnType<typeof inputs>;

/** y, dx, dgamma, dbeta, batch mean, batch variance of our op on `backend`. */
async function ours(backend: "cpu" | "wasm", shape: number[], v: Case): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const c = shape[shape.length - 1];
  const stats: Float32Array[] = [];
  const outs = tf.tidy(() => {
    const x = tf.tensor(v.x, shape);
    const gamma = tf.tensor1d(v.gamma);
    const beta = tf.tensor1d(v.beta);
    const w = tf.tensor(v.w, shape);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(
        batchNormTraining(a, g, b, 1e-5, (mean, variance) => {
          stats.push(mean.dataSync() as Float32Array, variance.dataSync() as Float32Array);
        }),
        w,
      ));
    const y = batchNormTraining(x, gamma, beta, 1e-5);
    const grads = tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)([x, gamma, beta]);
    return [y, ...grads];
  });
  const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  assertEquals(stats.length, 2, "onStats called once per forward pass");
  assertEquals(stats[0].length, c);
  return [...values, ...stats];
}

/** The same six from tfjs's own ops on cpu: tf.moments, tf.batchNorm, and their autodiff. */
async function reference(shape: number[], v: Case): Promise<Float32Array[]> {
  await tf.setBackend("cpu");
  const axes = shape.slice(0, -1).map((_, i) => i);
  const outs = tf.tidy(() => {
    const x = tf.tensor(v.x, shape);
    const gamma = tf.tensor1d(v.gamma);
    const beta = tf.tensor1d(v.beta);
    const w = tf.tensor(v.w, shape);
    const bn = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, axes);
      return tf.batchNorm(a, mean, variance, b, g, 1e-5);
    };
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn(a, g, b), w));
    const { mean, variance } = tf.moments(x, axes);
    return [
      bn(x, gamma, beta),
      ...tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)([x, gamma, beta]),
      mean,
      variance,
    ];
  });
  const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  return values;
}

const NAMES = ["y", "dx", "dgamma", "dbeta", "mean", "variance"];

const SHAPES = [
  [4, 5, 5, 16], // channels a multiple of 4
  [2, 6, 6, 32], // two groups of 4 vectors
  [3, 5, 7, 3], // odd channels: 4 pixels a SIMD row, a tail of 1 pixel
  [2, 3, 3, 10], // 2 pixels a SIMD row
  [3, 15, 15, 5], // more pixels than a float32 block (675 > 512), a tail of 3
  [1, 3, 1, 8], // 3 pixels only
  [7, 6], // 2-D rows, as in a projection head
  [5, 13],
  [3, 4],
];

for (const shape of SHAPES) {
  Deno.test(`batch norm on wasm matches cpu and tf.moments + tf.batchNorm: [${shape}]`, async () => {
    await initBackend("wasm");
    const v = inputs(shape, shape.length * 100 + shape[shape.length - 1]);
    const wasm = await ours("wasm", shape, v);
    const cpu = await ours("cpu", shape, v);
    const ref = await reference(shape, v);
    await tf.setBackend("wasm");
    NAMES.forEach((name, i) => {
      const vsCpu = relativeError(cpu[i], wasm[i]);
      const vsRef = relativeError(ref[i], wasm[i]);
      assert(vsCpu < 1e-4, `${name}: wasm vs cpu relative error ${vsCpu}`);
      assert(vsRef < 1e-4, `${name}: wasm vs tfjs's ops relative error ${vsRef}`);
      assert(relativeError(ref[i], cpu[i]) < 1e-4, `${name}: cpu vs tfjs's ops`);
    });
  });
}

Deno.test("the variance keeps its digits when the mean is large against the spread", async () => {
  await initBackend("wasm");
  const shape = [4, 16, 16, 8]; // 1,024 pixels: two float32 blocks
  const x = Float32Array.from(randomArray(size(shape), 5), (v) => 1000 + 0.01 * v);
  const mean = new Float64Array(8);
  const sq = new Float64Array(8);
  x.forEach((v, i) => (mean[i % 8] += v / 1024));
  x.forEach((v, i) => (sq[i % 8] += (v - mean[i % 8]) ** 2 / 1024));
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    const [m, s] = channelMoments(tf.tensor(x, shape));
    const [mv, sv] = [m.dataSync(), s.dataSync()];
    for (let k = 0; k < 8; k++) {
      assertAlmostEquals(mv[k], mean[k], 1e-3, `${backend} mean ${k}`);
      assertAlmostEquals(sv[k] / sq[k], 1, 1e-3, `${backend} variance ${k}`);
    }
    tf.dispose([m, s]);
  }
  await tf.setBackend("wasm");
});

/** A small model with BN after a convolution (4-D) and after a dense layer (2-D). */
function bnModel(momentum = 0.1) {
  return tf.sequential({
    layers: [
      ...convBnRelu(8, {
        inputShape: [6, 6, 3],
        name: "block",
        seed: 1,
        batchNorm: { momentum },
      }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({
        units: 4,
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
      batchNorm({ momentum, center: false, name: "head_bn" }),
      tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
}

/** A batch of `n` 6x6x3 inputs, mean `mean`, standard deviation about `std`, fixed by `seed`. */
function batchOf(n: number, mean: number, std: number, seed: number): tf.Tensor4D {
  return tf.randomNormal([n, 6, 6, 3], mean, std, "float32", seed) as tf.Tensor4D;
}

/** [movingMean, movingVariance] of a BatchNorm layer. */
function moving(layer: tf.layers.Layer): Float32Array[] {
  const w = layer.getWeights();
  return w.slice(-2).map((t) => t.dataSync() as Float32Array);
}

Deno.test("training mode: one step updates the moving statistics by PyTorch's rule, inside minimize", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    await initBackend(backend);
    const model = tf.sequential({
      layers: [batchNorm({ inputShape: [6, 6, 3], momentum: 0.25 }), tf.layers.flatten({})],
    });
    const x = batchOf(4, 3, 2, 11);
    const values = x.dataSync();
    const n = 4 * 36;
    const mean = [0, 0, 0];
    values.forEach((v, i) => (mean[i % 3] += v / n));
    const unbiased = [0, 0, 0];
    values.forEach((v, i) => (unbiased[i % 3] += (v - mean[i % 3]) ** 2 / (n - 1)));
    const optimizer = tf.train.sgd(0.1);
    const loss = optimizer.minimize(
      () => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
      true,
    )!;
    const [mm, mv] = moving(model.layers[0]);
    for (let k = 0; k < 3; k++) {
      assertAlmostEquals(mm[k], 0.25 * mean[k], 1e-4, `${backend} moving mean ${k}`);
      assertAlmostEquals(mv[k], 0.75 + 0.25 * unbiased[k], 1e-4, `${backend} moving variance ${k}`);
    }
    // The moving statistics are not trained: only gamma and beta are the optimizer's.
    assertEquals(model.trainableWeights.map((w) => w.name.split("/").pop()), ["gamma", "beta"]);
    tf.dispose([x, loss]);
    optimizer.dispose();
    model.dispose();
  }
  await initBackend("wasm");
});

Deno.test("training a few steps on data of mean 3, std 2 moves the moving statistics there, without leaks", async () => {
  await initBackend("wasm");
  const model = bnModel(0.3);
  const optimizer = tf.train.adam(1e-3);
  const first = model.layers[1];
  assertEquals(first.getClassName(), "SslBatchNorm");
  let tensors = 0;
  for (let s = 0; s < 25; s++) {
    const x = batchOf(16, 3, 2, 100 + s);
    // tf.variableGrads, as the pre-training workers and supervised training use it.
    const { value, grads } = tf.variableGrads(() => {
      const y = model.apply(x, { training: true }) as tf.Tensor;
      return tf.mean(tf.square(y)) as tf.Scalar;
    }, model.trainableWeights.map((w) => w.read() as tf.Variable));
    optimizer.applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
    tf.dispose([x, value, ...Object.values(grads)]);
    if (s === 1) tensors = tf.memory().numTensors;
    if (s > 1) assertEquals(tf.memory().numTensors, tensors, `tensors alive after step ${s + 1}`);
  }
  // The conv's input has mean 3 and variance 4 per channel; its output feeds the BN: check the
  // BN of the input itself with a one-layer model too.
  const [mm, mv] = moving(first);
  assert(mm.some((v) => Math.abs(v) > 0.1), "the conv BN's moving mean never moved");
  assert(mv.some((v) => Math.abs(v - 1) > 0.1), "the conv BN's moving variance never moved");
  const direct = tf.sequential({ layers: [batchNorm({ inputShape: [6, 6, 3], momentum: 0.3 })] });
  const sgd = tf.train.sgd(0.01);
  for (let s = 0; s < 25; s++) {
    const x = batchOf(16, 3, 2, 200 + s);
    tf.dispose(
      sgd.minimize(
        () => tf.mean(tf.square(direct.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
        true,
        direct.trainableWeights.map((w) => w.read() as tf.Variable),
      )!,
    );
    x.dispose();
  }
  const [dm, dv] = moving(direct.layers[0]);
  for (let k = 0; k < 3; k++) {
    assertAlmostEquals(dm[k], 3, 0.15, `moving mean ${k}`);
    assertAlmostEquals(dv[k], 4, 0.5, `moving variance ${k}`);
  }
  optimizer.dispose();
  sgd.dispose();
  model.dispose();
  direct.dispose();
});

Deno.test("inference mode normalises with the moving statistics; a frozen layer never updates", async () => {
  await initBackend("wasm");
  const model = tf.sequential({
    layers: [batchNorm({ inputShape: [6, 6, 3], momentum: 0.5 })],
  });
  const layer = model.layers[0] as BatchNorm;
  for (let s = 0; s < 6; s++) {
    const x = batchOf(8, 3, 2, 300 + s);
    tf.dispose([x, model.apply(x, { training: true }) as tf.Tensor]);
  }
  layer.setWeights([
    tf.tensor1d([1.5, 0.5, 2]),
    tf.tensor1d([0.1, -0.2, 0.3]),
    ...layer.getWeights().slice(2),
  ]);
  const [gamma, beta, mm, mv] = layer.getWeights().map((t) => t.dataSync() as Float32Array);
  const shifted = batchOf(8, 10, 1, 400); // far from the moving statistics
  const xs = shifted.dataSync() as Float32Array;
  const expected = xs.map((v, i) => {
    const k = i % 3;
    return gamma[k] * (v - mm[k]) / Math.sqrt(mv[k] + 1e-5) + beta[k];
  });
  const inferred = model.apply(shifted) as tf.Tensor;
  const predicted = model.predict(shifted) as tf.Tensor;
  const trained = model.apply(shifted, { training: true }) as tf.Tensor;
  assert(relativeError(expected, inferred.dataSync() as Float32Array) < 1e-5, "apply(x)");
  assert(relativeError(expected, predicted.dataSync() as Float32Array) < 1e-5, "predict(x)");
  assert(
    relativeError(expected, trained.dataSync() as Float32Array) > 0.1,
    "training mode must use the batch's statistics, not the moving ones",
  );
  const after = moving(layer);
  assert(after[0][0] !== mm[0], "the training call updated the moving mean");

  // Frozen: training mode behaves as inference and keeps the statistics.
  layer.trainable = false;
  const frozen = model.apply(shifted, { training: true }) as tf.Tensor;
  const again = moving(layer);
  assertEquals(Array.from(again[0]), Array.from(after[0]), "a frozen layer's moving mean");
  const refs = tf.tidy(() =>
    batchNormInference(
      shifted,
      tf.tensor1d(again[0]),
      tf.tensor1d(again[1]),
      tf.tensor1d(gamma),
      tf.tensor1d(beta),
      1e-5,
    )
  );
  assert(relativeError(refs.dataSync() as Float32Array, frozen.dataSync() as Float32Array) < 1e-6);
  tf.dispose([shifted, inferred, predicted, trained, frozen, refs]);
  model.dispose();
});

Deno.test("inference mode can be trained through: gradients match cpu", async () => {
  const grads: Float32Array[][] = [];
  for (const backend of ["wasm", "cpu"] as const) {
    await initBackend(backend);
    const shape = [3, 4, 4, 6];
    const v = inputs(shape, 9);
    grads.push(tf.tidy(() => {
      const x = tf.tensor(v.x, shape);
      const w = tf.tensor(v.w, shape);
      const f = (a: tf.Tensor, m: tf.Tensor, s: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(batchNormInference(a, m, s, g, b, 1e-5), w));
      const args = [
        x,
        tf.tensor1d(v.beta.map((b) => 3 + b)),
        tf.tensor1d(v.gamma.map((g) => g * g)),
        tf.tensor1d(v.gamma),
        tf.tensor1d(v.beta),
      ];
      return tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)(args).map((t) =>
        t.dataSync() as Float32Array
      );
    }));
  }
  grads[0].forEach((g, i) => assert(relativeError(grads[1][i], g) < 1e-4, `gradient ${i}`));
  await initBackend("wasm");
});

Deno.test("a checkpoint keeps the moving statistics and the layer's settings", async () => {
  await initBackend("wasm");
  const model = bnModel(0.2);
  for (let s = 0; s < 3; s++) {
    const x = batchOf(8, 3, 2, 500 + s);
    tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    x.dispose();
  }
  const json = JSON.stringify(model.toJSON(null, false));
  assert(json.includes('"class_name":"SslBatchNorm"'), "saved under its registered name");
  const dir = await Deno.makeTempDir();
  try {
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    const a = model.getWeights().map((t) => Array.from(t.dataSync()));
    const b = loaded.getWeights().map((t) => Array.from(t.dataSync()));
    assertEquals(b, a, "weights, moving statistics included");
    const bn = loaded.layers.find((l) => l.name === "head_bn") as BatchNorm;
    assert(bn instanceof BatchNorm, "rebuilt as our layer");
    assertEquals([bn.momentum, bn.epsilon, bn.center, bn.scale], [0.2, 1e-5, false, true]);
    const moved = moving(bn);
    assert(moved[1].some((v) => v !== 1), "the saved moving variance is the trained one");
    const x = batchOf(4, 3, 2, 600);
    const p = model.predict(x) as tf.Tensor;
    const q = loaded.predict(x) as tf.Tensor;
    assertEquals(Array.from(q.dataSync()), Array.from(p.dataSync()), "same predictions");
    // tfjs's own JSON round trip too.
    const rebuilt = await tf.models.modelFromJSON({ modelTopology: JSON.parse(json) });
    assertEquals(
      rebuilt.layers.map((l) => l.getClassName()),
      model.layers.map((l) => l.getClassName()),
    );
    tf.dispose([x, p, q]);
    loaded.dispose();
    rebuilt.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  model.dispose();
});

Deno.test("the conv block and the layer's errors", async () => {
  await initBackend("wasm");
  const block = tf.sequential({ layers: convBnRelu(16, { inputShape: [28, 28, 1], seed: 0 }) });
  assertEquals(block.outputs[0].shape, [null, 28, 28, 16]);
  // conv 3x3x1x16 without bias (144), gamma and beta (32), moving statistics (32)
  assertEquals(block.countParams(), 144 + 64);
  assertEquals(block.trainableWeights.length, 3);
  assertEquals(block.layers.map((l) => l.getClassName()), ["Conv2D", "SslBatchNorm", "ReLU"]);
  block.dispose();
  assertThrows(() => batchNorm({ momentum: 1.5 }), "momentum must be in [0, 1]", "1.5");
  assertThrows(() => batchNorm({ epsilon: 0 }), "epsilon must be a finite number > 0");
  assertThrows(() => convBnRelu(0), "filters must be a positive integer");
  const layer = batchNorm({});
  const one = tf.ones([1, 5]);
  assertThrows(
    () => layer.apply(one, { training: true }),
    "needs more than one value per channel",
    "[1,5]",
  );
  const y = layer.apply(one) as tf.Tensor; // inference mode works on one row
  assertEquals(y.shape, [1, 5]);
  tf.dispose([one, y]);
  assertThrows(() => batchNorm({}).apply(tf.ones([4])), "batchNorm: the input needs");
});
