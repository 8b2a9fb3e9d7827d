import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { ntXentLoss, ntXentLossRows } from "../../lib/loss/ntxent.ts";
import { articleBackbone } from "../../lib/models/article_cnn.ts";
import { articleHead } from "../../lib/models/heads/projection_heads.ts";
import { Rng } from "../../lib/rng.ts";
import { SslWorkers } from "../../lib/train/parallel/ssl_workers.ts";
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

Deno.test("workers are stopped cleanly: dispose mid-step, twice, after a failed start; batch norm refused", async () => {
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
  // Batch normalisation couples the rows of a batch: refused before any worker starts.
  const normed = tf.sequential({
    layers: [tf.layers.batchNormalization({ inputShape: [32] }), tf.layers.dense({ units: 4 })],
  });
  await assertRejects(
    () => SslWorkers.create({ ...m, head: normed, shape: SHAPE, temperature: 0.5, optimizer }),
    "BatchNormalization mixes the rows",
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
