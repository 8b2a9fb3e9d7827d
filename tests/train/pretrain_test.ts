import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { articleBackbone } from "../../lib/models/article_cnn.ts";
import { articleHead } from "../../lib/models/heads/projection_heads.ts";
import { batchNorm, convBnRelu } from "../../lib/models/batch_norm.ts";
import { Rng } from "../../lib/rng.ts";
import { type PretrainConfig, pretrainContrastive } from "../../lib/train/pretrain.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { barImages, noisyViews } from "./train_helpers.ts";

const config: PretrainConfig = {
  epochs: 4,
  batchSize: 16,
  learningRate: 3e-3,
  lrDecay: 0.9,
  temperature: 0.5,
};
const data = barImages(64, 1);
const indices = Int32Array.from({ length: 64 }, (_, i) => i);

function models(seed = 7) {
  return {
    backbone: articleBackbone([28, 28, 1], [16, 16, 32], seed),
    head: articleHead(32, 10, seed),
  };
}

async function run(
  dir: string | undefined,
  epochs = config.epochs,
  extra: Partial<PretrainConfig> = {},
) {
  const m = models();
  const result = await pretrainContrastive({
    ...m,
    images: data.images,
    shape: [28, 28, 1],
    indices,
    makeViews: noisyViews,
    rng: new Rng(5),
    config: { ...config, ...extra, epochs },
    checkpointDir: dir,
  });
  const weights = m.backbone.getWeights().map((w) => Array.from(w.dataSync()));
  m.backbone.dispose();
  m.head.dispose();
  return { result, weights };
}

Deno.test("pre-training lowers the NT-Xent loss, decays the rate, and leaks no tensors", async () => {
  await initBackend();
  await run(undefined, 1); // warm-up: kernels and optimizer slots
  const before = tf.memory().numTensors;
  const { result } = await run(undefined);
  assertEquals(tf.memory().numTensors, before, "tensors alive after pre-training");
  const h = result.history;
  assertEquals(h.length, 4);
  assertEquals(h.map((e) => e.steps), [4, 4, 4, 4]);
  assert(h[3].loss < h[0].loss, `loss went from ${h[0].loss} to ${h[3].loss}`);
  assert(Math.abs(h[2].learningRate - 3e-3 * 0.81) < 1e-12, "lr of epoch 3 is lr0 * 0.9^2");
});

Deno.test("same seed, same result; an interrupted run resumes to the same weights", async () => {
  await initBackend();
  const a = await run(undefined);
  const b = await run(undefined);
  assertEquals(a.weights, b.weights, "two uninterrupted runs");
  const dir = await Deno.makeTempDir();
  try {
    await run(dir, 2); // "killed" after epoch 2 (its checkpoint is on disk)
    const resumed = await run(dir, 4);
    assertEquals(resumed.result.resumedAt, 2);
    assertEquals(resumed.result.history.length, 4);
    assertEquals(resumed.weights, a.weights, "resumed run vs uninterrupted run");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("early stopping ends pre-training when the loss stops improving", async () => {
  await initBackend();
  const { result } = await run(undefined, 20, {
    learningRate: 0, // nothing changes: no progress after the first epoch
    earlyStop: { minRelativeImprovement: 0.001, patience: 2 },
  });
  assert(result.stoppedEarly);
  assertEquals(result.history.length, 4); // 1 + (patience + 1) epochs without progress
});

Deno.test("a NaN loss stops pre-training with a clear message", async () => {
  await initBackend();
  const m = models();
  await assertRejects(
    () =>
      pretrainContrastive({
        ...m,
        images: data.images,
        shape: [28, 28, 1],
        indices,
        makeViews: (b) => [b.map(() => NaN), b],
        rng: new Rng(1),
        config,
      }),
    "pre-training stopped",
    "NaN",
    "epoch 1, step",
  );
});

Deno.test("a checkpoint made with another configuration is refused, not silently mixed", async () => {
  await initBackend();
  const dir = await Deno.makeTempDir();
  try {
    await run(dir, 1);
    await assertRejects(
      () => run(dir, 2, { temperature: 0.1 }),
      `checkpoint in ${dir} was made with temperature 0.5, this run uses temperature 0.1`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resume is bit-exact whatever the step count (Adam's beta powers are kept)", async () => {
  await initBackend();
  // 2 steps per epoch: tfjs's own optimizer.setWeights rebuilds Adam's beta powers with
  // pow(), which differs in the last bit here; the checkpoint keeps the exact values.
  const extra = { batchSize: 32 };
  const a = await run(undefined, 3, extra);
  const dir = await Deno.makeTempDir();
  try {
    await run(dir, 1, extra);
    const resumed = await run(dir, 3, extra);
    assertEquals(resumed.result.resumedAt, 1);
    assertEquals(resumed.weights, a.weights);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A small backbone and head with batch normalisation (conv → BN → ReLU blocks; SimCLR's head). */
function bnModels(seed = 7) {
  const backbone = tf.sequential({
    layers: [
      ...convBnRelu(8, { inputShape: [28, 28, 1], name: "b1", seed }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      ...convBnRelu(8, { name: "b2", seed: seed + 1 }),
      tf.layers.globalAveragePooling2d({}),
    ],
  });
  const head = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [8],
        units: 8,
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      batchNorm({ name: "head_bn1" }),
      tf.layers.reLU({}),
      tf.layers.dense({
        units: 4,
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
      // SimCLR's last head layer: BN without beta. (A zero row of z, which a ReLU then a
      // zero-initialised bias can give, has a NaN NT-Xent gradient.)
      batchNorm({ name: "head_bn2", center: false }),
    ],
  });
  return { backbone, head };
}

Deno.test("pre-training runs in training mode: batch norm's moving statistics move, and resume exactly", async () => {
  await initBackend();
  const train = async (epochs: number, dir?: string) => {
    const m = bnModels();
    await pretrainContrastive({
      ...m,
      images: data.images,
      shape: [28, 28, 1],
      indices,
      makeViews: noisyViews,
      rng: new Rng(5),
      config: { ...config, epochs },
      checkpointDir: dir,
    });
    const all = [...m.backbone.getWeights(), ...m.head.getWeights()];
    const weights = all.map((w) => Array.from(w.dataSync()));
    m.backbone.dispose();
    m.head.dispose();
    return weights;
  };
  const fresh = bnModels();
  const names = [...fresh.backbone.weights, ...fresh.head.weights].map((w) => w.name);
  const initial = [...fresh.backbone.getWeights(), ...fresh.head.getWeights()].map((w) =>
    Array.from(w.dataSync())
  );
  fresh.backbone.dispose();
  fresh.head.dispose();
  const before = tf.memory().numTensors;
  const a = await train(2);
  assertEquals(tf.memory().numTensors, before, "tensors alive after pre-training");
  const moving = names.flatMap((name, i) => /moving_(mean|variance)(_\d+)?$/.test(name) ? [i] : []);
  assertEquals(moving.length, 8, "four BN layers, two moving statistics each");
  for (const i of moving) {
    assert(a[i].some((v, j) => Math.abs(v - initial[i][j]) > 1e-4), `${names[i]} never moved`);
  }
  const dir = await Deno.makeTempDir();
  try {
    await train(1, dir);
    const resumed = await train(2, dir);
    assertEquals(resumed, a, "resumed run vs uninterrupted run (moving statistics included)");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
