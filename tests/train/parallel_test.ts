import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { ntXentLoss, ntXentLossRows } from "../../lib/loss/ntxent.ts";
import { articleBackbone } from "../../lib/models/article_cnn.ts";
import { articleHead } from "../../lib/models/heads/projection_heads.ts";
import { batchNorm, convBnRelu } from "../../lib/models/batch_norm.ts";
import { Rng } from "../../lib/rng.ts";
import { MAIN_PHASES, PARALLEL_STEP, SslWorkers } from "../../lib/train/parallel/ssl_workers.ts";
import { WORKER_PHASES } from "../../lib/train/parallel/protocol.ts";
import { type PretrainConfig, pretrainContrastive } from "../../lib/train/pretrain.ts";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../assert.ts";
import { barImages, noisyViews } from "./train_helpers.ts";

const SHAPE: [number, number, number] = [28, 28, 1];

function models(seed = 7) {
  return {
    backbone: articleBackbone(SHAPE, [16, 16, 32], seed),
    head: articleHead(32, 10, seed),
  };
}

/** 2n views: n images, then each with a little noise (their twins). */
function someViews(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const { images } = barImages(n, seed);
  const twins = images.map((v) => Math.min(1, Math.max(0, v + 0.2 * (rng.next() - 0.5))));
  const views = new Float32Array(2 * n * 784);
  views.set(images, 0);
  views.set(twins, n * 784);
  return views;
}

/** OS threads of this process (Linux), or undefined elsewhere. */
function threads(): number | undefined {
  try {
    return Array.from(Deno.readDirSync("/proc/self/task")).length;
  } catch {
    return undefined;
  }
}

/** Every worker terminated, and (on Linux) their threads gone: each worker runs ~10 of them. */
async function assertNoWorkersLeft(baseline: number | undefined): Promise<void> {
  assertEquals(SslWorkers.running, 0, "workers not terminated");
  if (baseline === undefined) return;
  let now = threads()!;
  for (let i = 0; i < 100 && now > baseline + 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    now = threads()!;
  }
  assert(now <= baseline + 3, `${now} threads alive, ${baseline} before the workers started`);
}

/** Largest |a - b| over a tensor, relative to the tensor's largest |b|. */
function worstRelative(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((w, i) => {
    let diff = 0;
    let scale = 0;
    for (let j = 0; j < w.length; j++) {
      diff = Math.max(diff, Math.abs(w[j] - b[i][j]));
      scale = Math.max(scale, Math.abs(b[i][j]));
    }
    worst = Math.max(worst, diff / Math.max(scale, 1e-12));
  });
  return worst;
}

function weightsOf(m: { backbone: tf.LayersModel; head: tf.LayersModel }): Float32Array[] {
  return [...m.backbone.getWeights(), ...m.head.getWeights()].map((t) =>
    (t.dataSync() as Float32Array).slice()
  );
}

Deno.test("NT-Xent split by anchors: the parts add up to the loss and to its gradient", async () => {
  await initBackend();
  const n = 6;
  const z = tf.randomNormal([2 * n, 5], 0, 1, "float32", 3) as tf.Tensor2D;
  const whole = (t: tf.Tensor) => {
    const [a, b] = tf.split(t as tf.Tensor2D, 2, 0) as tf.Tensor2D[];
    return ntXentLoss(a, b, 0.3);
  };
  const cuts = [0, 5, 6, 11, 12]; // uneven parts, one of them a single anchor
  const expected = tf.valueAndGrad(whole)(z);
  let loss = 0;
  const grad = new Float32Array(2 * n * 5);
  for (let p = 0; p + 1 < cuts.length; p++) {
    const part = tf.valueAndGrad((t: tf.Tensor) =>
      ntXentLossRows(t as tf.Tensor2D, cuts[p], cuts[p + 1], 0.3)
    )(z);
    loss += part.value.dataSync()[0];
    part.grad.dataSync().forEach((g, i) => grad[i] += g);
    tf.dispose([part.value, part.grad]);
  }
  assertAlmostEquals(loss, expected.value.dataSync()[0], 1e-5);
  assert(worstRelative([grad], [expected.grad.dataSync() as Float32Array]) < 1e-5, "gradient");
  assertThrows(() => ntXentLossRows(z, 3, 3, 0.3), "start < end");
  assertThrows(() => ntXentLossRows(z, 0, 4, 0), "temperature");
  tf.dispose([z, expected.value, expected.grad]);
});

Deno.test("one parallel step equals a single-thread step (loss and updated weights)", async () => {
  await initBackend();
  for (
    const { workers, n, softmax } of [
      { workers: 2, n: 8, softmax: false },
      { workers: 3, n: 5, softmax: true }, // 10 views over 3 workers: 3, 3 and 4 rows
    ]
  ) {
    const views = someViews(n, workers);
    const single = models();
    const optimizer = tf.train.adam(1e-2);
    const x = tf.tensor4d(views, [2 * n, ...SHAPE]);
    const losses: number[] = [];
    for (let s = 0; s < 2; s++) { // two steps: Adam's moments are used, not only created
      const lossT = optimizer.minimize(() => {
        let z = single.head.apply(single.backbone.apply(x)) as tf.Tensor2D;
        if (softmax) z = tf.softmax(z);
        const [a, b] = tf.split(z, 2, 0) as tf.Tensor2D[];
        return ntXentLoss(a, b, 0.5);
      }, true)!;
      losses.push(lossT.dataSync()[0]);
      lossT.dispose();
    }
    x.dispose();

    const replica = models();
    const parOptimizer = tf.train.adam(1e-2);
    const par = await SslWorkers.create({
      ...replica,
      shape: SHAPE,
      temperature: 0.5,
      softmaxBeforeLoss: softmax,
      optimizer: parOptimizer,
      workers,
    });
    try {
      for (let s = 0; s < 2; s++) {
        const loss = await par.step(views, n);
        assert(
          Math.abs(loss - losses[s]) <= 1e-4 * Math.abs(losses[s]),
          `${workers} workers, step ${s + 1}: loss ${loss} vs ${losses[s]}`,
        );
      }
      const rel = worstRelative(par.getWeights(), weightsOf(single));
      assert(rel < 1e-4, `${workers} workers: weights differ by ${rel} (relative)`);
      assertEquals(par.timings.steps, 2);
    } finally {
      par.dispose();
    }
    [single.backbone, single.head, replica.backbone, replica.head].forEach((m) => m.dispose());
    optimizer.dispose();
    parOptimizer.dispose();
  }
});

Deno.test("workers are stopped cleanly: dispose mid-step, twice, after a failed start; tfjs's batch norm refused", async () => {
  await initBackend();
  const baseline = threads();
  const m = models();
  const optimizer = tf.train.adam(1e-3);
  const par = await SslWorkers.create({ ...m, shape: SHAPE, temperature: 0.5, optimizer });
  assertEquals(par.workers, 2);
  assertEquals(SslWorkers.running, 2);
  await assertRejects(() => par.step(new Float32Array(10), 4), "expected 2 x 4 views");
  const running = par.step(someViews(4, 1), 4);
  par.dispose(); // while the workers are inside the step
  par.dispose();
  await assertRejects(() => running, "disposed while a step was running");
  await assertRejects(() => par.step(someViews(4, 1), 4), "already disposed");
  await assertNoWorkersLeft(baseline);

  // A layer the workers do not know: the start fails with the worker's message, and no worker is left.
  class Doubler extends tf.layers.Layer {
    static className = "ParallelTestDoubler";
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
    }
  }
  tf.serialization.registerClass(Doubler);
  const odd = tf.sequential({ layers: [m.head, new Doubler({})] });
  await assertRejects(
    () => SslWorkers.create({ ...m, head: odd, shape: SHAPE, temperature: 0.5, optimizer }),
    "failed while starting",
    "ParallelTestDoubler",
  );
  await assertNoWorkersLeft(baseline);
  // tfjs's own batch normalisation: refused before any worker starts, pointing to ours.
  const normed = tf.sequential({
    layers: [tf.layers.batchNormalization({ inputShape: [32] }), tf.layers.dense({ units: 4 })],
  });
  await assertRejects(
    () => SslWorkers.create({ ...m, head: normed, shape: SHAPE, temperature: 0.5, optimizer }),
    "tfjs's BatchNormalization layer is not supported by the workers",
    "batchNorm() from lib/models/batch_norm.ts",
  );
  assertEquals(SslWorkers.running, 0);
  normed.dispose();
  m.backbone.dispose();
  m.head.dispose();
  optimizer.dispose();
});

const config: PretrainConfig = {
  epochs: 2,
  batchSize: 8,
  learningRate: 3e-3,
  lrDecay: 0.9,
  temperature: 0.5,
  workers: 2,
};
// 4 steps per epoch, as in pretrain_test.ts: tfjs's Adam restores its beta powers with pow(),
// which matches the repeated products of an uninterrupted run bit for bit at this step count.
const data = barImages(32, 1);
const indices = Int32Array.from({ length: 32 }, (_, i) => i);

async function pretrain(extra: Partial<PretrainConfig>, dir?: string) {
  const m = models();
  const result = await pretrainContrastive({
    ...m,
    images: data.images,
    shape: SHAPE,
    indices,
    makeViews: noisyViews,
    rng: new Rng(5),
    config: { ...config, ...extra },
    checkpointDir: dir,
  });
  const weights = weightsOf(m);
  m.backbone.dispose();
  m.head.dispose();
  return { result, weights };
}

Deno.test("parallel pre-training: deterministic for a seed, resumable, close to one thread", async () => {
  await initBackend();
  const baseline = threads();
  const before = tf.memory().numTensors;
  const a = await pretrain({});
  assertEquals(tf.memory().numTensors, before, "tensors alive after parallel pre-training");
  const b = await pretrain({});
  assertEquals(a.weights, b.weights, "two parallel runs with the same seed (bit-exact)");
  assertEquals(a.result.history.map((e) => e.steps), [4, 4]);

  const dir = await Deno.makeTempDir();
  try {
    await pretrain({ epochs: 1 }, dir); // "killed" after epoch 1
    const resumed = await pretrain({}, dir);
    assertEquals(resumed.result.resumedAt, 1);
    assertEquals(resumed.weights, a.weights, "resumed parallel run vs uninterrupted one");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  await assertNoWorkersLeft(baseline);

  // One thread, same seed: the same training up to float rounding (8 Adam steps apart).
  const one = await pretrain({ workers: 1 });
  const rel = worstRelative(a.weights, one.weights);
  assert(rel < 1e-3, `parallel vs single-thread weights differ by ${rel} (relative)`);
  a.result.history.forEach((e, i) =>
    assertAlmostEquals(e.loss, one.result.history[i].loss, 1e-4 * e.loss, `epoch ${i + 1} loss`)
  );
});

Deno.test("parallel pre-training stops on a NaN loss and rejects a bad worker count", async () => {
  await initBackend();
  const m = models();
  const base = {
    ...m,
    images: data.images,
    shape: SHAPE,
    indices,
    rng: new Rng(1),
  };
  await assertRejects(
    () =>
      pretrainContrastive({
        ...base,
        makeViews: (b) => [b.map(() => NaN), b],
        config,
      }),
    "pre-training stopped",
    "NaN",
  );
  await assertRejects(
    () =>
      pretrainContrastive({ ...base, makeViews: noisyViews, config: { ...config, workers: 0 } }),
    "workers must be a positive integer",
  );
  await assertNoWorkersLeft(undefined);
  m.backbone.dispose();
  m.head.dispose();
});

/** A small backbone and head with batch normalisation (conv → BN → ReLU blocks; SimCLR's head). */
function bnModels(seed = 7) {
  const backbone = tf.sequential({
    layers: [
      ...convBnRelu(8, { inputShape: SHAPE, name: "b1", seed }),
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

/** Indices of the moving statistics among `backbone.weights ++ head.weights`. */
function movingIndices(m: { backbone: tf.LayersModel; head: tf.LayersModel }): number[] {
  return [...m.backbone.weights, ...m.head.weights]
    .flatMap((w, i) => /moving_(mean|variance)(_\d+)?$/.test(w.name) ? [i] : []);
}

Deno.test("batch norm on 2 workers: one step moves main's moving statistics as one thread's step does", async () => {
  await initBackend();
  const n = 32;
  // Two views drawn alike (the halves the two workers normalise are exchangeable).
  const [first, second] = noisyViews(barImages(n, 4).images, n, new Rng(4));
  const views = new Float32Array(2 * n * 784);
  views.set(first, 0);
  views.set(second, n * 784);
  const single = bnModels();
  const initial = weightsOf(single);
  const optimizer = tf.train.adam(1e-2);
  const x = tf.tensor4d(views, [2 * n, ...SHAPE]);
  const lossT = optimizer.minimize(() => {
    const h = single.backbone.apply(x, { training: true }) as tf.Tensor;
    const z = single.head.apply(h, { training: true }) as tf.Tensor2D;
    const [a, b] = tf.split(z, 2, 0) as tf.Tensor2D[];
    return ntXentLoss(a, b, 0.5);
  }, true)!;
  tf.dispose([x, lossT]);
  const one = weightsOf(single);

  const replica = bnModels();
  const names = [...replica.backbone.weights, ...replica.head.weights].map((w) => w.name);
  const parOptimizer = tf.train.adam(1e-2);
  const par = await SslWorkers.create({
    ...replica,
    shape: SHAPE,
    temperature: 0.5,
    optimizer: parOptimizer,
    workers: 2,
  });
  try {
    await par.step(views, n);
    const two = par.getWeights();
    const moving = movingIndices(replica);
    assertEquals(moving.length, 8);
    for (const i of moving) {
      // Both started from the same statistics: compare the moves, (new - old).
      const move = (w: Float32Array[]) => w[i].map((v, j) => v - initial[i][j]);
      assert(move(two).some((v) => Math.abs(v) > 1e-4), `${names[i]}: main's never moved`);
      const rel = worstRelative([move(two)], [move(one)]);
      // Each worker normalises its own half (first views / twins), so the statistics of the BN
      // layers after the first differ a little. The first one's input does not depend on BN:
      // the mean of the halves' means is the batch mean, and the variance differs only by the
      // spread between the halves' means.
      const tolerance = /^b1_bn/.test(names[i]) ? 1e-4 : /^head_bn2/.test(names[i]) ? 0.05 : 1e-2;
      assert(rel < tolerance, `${names[i]}: the 2-worker move differs from one thread's by ${rel}`);
    }
  } finally {
    par.dispose();
  }
  [single.backbone, single.head, replica.backbone, replica.head].forEach((m) => m.dispose());
  optimizer.dispose();
  parOptimizer.dispose();
});

Deno.test("parallel pre-training with batch norm: deterministic, resumable, statistics near one thread's", async () => {
  await initBackend();
  const baseline = threads();
  const run = async (extra: Partial<PretrainConfig>, dir?: string) => {
    const m = bnModels();
    await pretrainContrastive({
      ...m,
      images: data.images,
      shape: SHAPE,
      indices,
      makeViews: noisyViews,
      rng: new Rng(5),
      config: { ...config, ...extra },
      checkpointDir: dir,
    });
    const weights = weightsOf(m);
    const moving = movingIndices(m);
    m.backbone.dispose();
    m.head.dispose();
    return { weights, moving };
  };
  const fresh = bnModels();
  const initial = weightsOf(fresh);
  fresh.backbone.dispose();
  fresh.head.dispose();
  const a = await run({});
  const b = await run({});
  assertEquals(a.weights, b.weights, "two parallel runs with the same seed (bit-exact)");
  const dir = await Deno.makeTempDir();
  try {
    await run({ epochs: 1 }, dir);
    const resumed = await run({}, dir);
    assertEquals(resumed.weights, a.weights, "resumed parallel run vs uninterrupted one");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await assertNoWorkersLeft(baseline);
  const one = await run({ workers: 1 });
  assertEquals(a.moving.length, 8);
  // 8 Adam steps on batches of 8 pairs, each worker normalising 8 views with their own
  // statistics: the runs drift apart a little (measured: up to 0.2 relative).
  for (const i of a.moving) {
    const rel = worstRelative([a.weights[i]], [one.weights[i]]);
    assert(rel < 0.3, `moving statistic ${i}: 2 workers vs one thread differ by ${rel}`);
    assert(
      worstRelative([a.weights[i]], [initial[i]]) > 0.01,
      `moving statistic ${i} never moved in the parallel run`,
    );
  }
});

Deno.test("the step's paths (PARALLEL_STEP) change nothing: the same losses and weights bit for bit; lastStep traces it", async () => {
  await initBackend();
  const n = 8;
  const [first, second] = noisyViews(barImages(n, 3).images, n, new Rng(3));
  const views = new Float32Array(2 * n * 784);
  views.set(first, 0);
  views.set(second, n * 784);
  const saved = { ...PARALLEL_STEP };
  const run = async (on: boolean) => {
    for (const k of Object.keys(PARALLEL_STEP) as (keyof typeof PARALLEL_STEP)[]) {
      PARALLEL_STEP[k] = on;
    }
    const m = bnModels(); // batch norm: state weights go back and forth too
    const optimizer = tf.train.adam(1e-2);
    const par = await SslWorkers.create({ ...m, shape: SHAPE, temperature: 0.5, optimizer });
    try {
      const losses = [await par.step(views, n), await par.step(views, n)];
      const trace = par.lastStep!;
      assertEquals(trace.main.length, MAIN_PHASES.length);
      assertEquals(trace.workers.map((w) => w.length), [
        WORKER_PHASES.length,
        WORKER_PHASES.length,
      ]);
      for (const marks of [trace.main, ...trace.workers]) {
        assert(marks.every((t, i) => i === 0 || t >= marks[i - 1]), `marks out of order: ${marks}`);
      }
      const timings = par.timings;
      assertEquals(timings.steps, 2);
      assert(timings.forward > 0 && timings.backward > 0, JSON.stringify(timings));
      return { losses, weights: par.getWeights() };
    } finally {
      par.dispose();
      Object.assign(PARALLEL_STEP, saved);
      m.backbone.dispose();
      m.head.dispose();
      optimizer.dispose();
    }
  };
  const before = await run(false);
  const now = await run(true);
  assertEquals(now.losses, before.losses);
  now.weights.forEach((w, i) => assertEquals(Array.from(w), Array.from(before.weights[i])));
});
