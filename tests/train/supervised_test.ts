import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { articleBackbone } from "../../lib/models/article_cnn.ts";
import { modernCnn } from "../../lib/models/modern_cnn.ts";
import { articleHead, classifierHead } from "../../lib/models/heads/projection_heads.ts";
import { Rng } from "../../lib/rng.ts";
import { evaluateLoss, trainSupervised } from "../../lib/train/supervised.ts";
import { loadModel, saveModel } from "../../lib/train/checkpoint.ts";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";
import { barImages } from "./train_helpers.ts";

const data = barImages(96, 2);
const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
/** Loss and accuracy of backbone + head on the validation images 64..95 of `data`. */
const validationScore = (backbone: tf.LayersModel, head: tf.LayersModel) =>
  evaluateLoss(backbone, head, data.images, [28, 28, 1], data.labels, range(64, 96), 10);

Deno.test("supervised training learns a separable task and keeps the best validation epoch", async () => {
  await initBackend();
  const backbone = articleBackbone([28, 28, 1], [16, 16, 32], 1);
  const head = articleHead(32, 10, 1);
  const before = tf.memory().numTensors;
  const r = await trainSupervised({
    backbone,
    head,
    images: data.images,
    shape: [28, 28, 1],
    labels: data.labels,
    train: range(0, 64),
    validation: range(64, 96),
    rng: new Rng(3),
    config: { epochs: 15, batchSize: 16, optimizer: "adam", learningRate: 3e-3 },
  });
  assertEquals(tf.memory().numTensors, before, "no tensor leak");
  assertEquals(r.selectedBy, "validation");
  const accs = r.history.map((e) => e.validationAccuracy!);
  assertEquals(accs[r.selectedEpoch], Math.max(...accs), "selected epoch has the best accuracy");
  const now = await validationScore(backbone, head);
  assertEquals(now.accuracy, accs[r.selectedEpoch], "the selected weights were restored");
  assert(now.accuracy >= 0.9, `validation accuracy ${now.accuracy}`);
});

Deno.test("labels outside the classes are refused with the image's index", async () => {
  await initBackend();
  const labels = Int32Array.from(data.labels);
  labels[5] = -1;
  await assertRejects(
    () =>
      trainSupervised({
        backbone: articleBackbone(),
        head: articleHead(),
        images: data.images,
        shape: [28, 28, 1],
        labels,
        train: range(0, 10),
        rng: new Rng(1),
        config: { epochs: 1, batchSize: 4, optimizer: "adam", learningRate: 1e-3 },
      }),
    "training image 5",
    "label -1",
  );
});

Deno.test("a model saved in tfjs format loads back with the same weights and outputs", async () => {
  await initBackend();
  const dir = await Deno.makeTempDir();
  try {
    const m = articleBackbone([28, 28, 1], [16, 16, 32], 9);
    await saveModel(m, dir);
    assert(
      (await Deno.stat(`${dir}/model.json`)).isFile &&
        (await Deno.stat(`${dir}/weights.bin`)).isFile,
    );
    const back = await loadModel(dir);
    const x = tf.tensor4d(data.images.subarray(0, 2 * 784), [2, 28, 28, 1]);
    assertEquals(
      Array.from((back.predict(x) as tf.Tensor).dataSync()),
      Array.from((m.predict(x) as tf.Tensor).dataSync()),
    );
    await assertRejects(() => loadModel(`${dir}/nothing`), "no checkpoint", "nothing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("self-training: pseudo-labels count only above the threshold, and they teach", async () => {
  await initBackend();
  const run = async (threshold: number | undefined) => {
    const backbone = articleBackbone([28, 28, 1], [8, 8, 16], 5);
    const head = classifierHead(16, 10, 5);
    const r = await trainSupervised({
      backbone,
      head,
      images: data.images,
      shape: [28, 28, 1],
      labels: data.labels,
      train: range(0, 8),
      rng: new Rng(6),
      config: {
        epochs: 0,
        steps: 12,
        evalEvery: 4,
        batchSize: 8,
        optimizer: "adamw",
        weightDecay: 5e-4,
        learningRate: 3e-3,
        schedule: "cosine",
        labelSmoothing: 0.1,
      },
      selfTrain: threshold === undefined ? undefined : {
        indices: range(8, 96),
        batchSize: 16,
        threshold,
        weight: 1,
        strong: (b) => b.map((v) => v * 0.9),
      },
    });
    const weights = [...backbone.getWeights(), ...head.getWeights()].map((w) =>
      Array.from(w.dataSync())
    );
    backbone.dispose();
    head.dispose();
    return { r, weights };
  };
  const plain = await run(undefined);
  const never = await run(1); // no probability exceeds 1: no pseudo-label is ever used
  const always = await run(0);
  assertEquals(plain.r.history.map((e) => e.step), [4, 8, 12]);
  assertEquals(plain.r.history[0].maskRate, undefined);
  assertEquals(never.r.history.map((e) => e.maskRate), [0, 0, 0]);
  assertEquals(never.weights, plain.weights, "a masked pseudo-label adds no gradient");
  assertEquals(always.r.history.map((e) => e.maskRate), [1, 1, 1]);
  assert(
    always.weights.some((w, i) => w.some((v, j) => v !== plain.weights[i][j])),
    "used pseudo-labels change the training",
  );
  const last = (3e-3 * (1 + Math.cos((Math.PI * 11) / 12))) / 2; // step 12 of 12 runs at step index 11
  assertAlmostEquals(plain.r.history.at(-1)!.learningRate, last, 1e-12, "cosine");
});

Deno.test("averaged weights: the model kept is the moving average of every weight, batch statistics included", async () => {
  await initBackend();
  const m = 0.3; // below the warm-up's (1 + k) / (10 + k) from the third update
  const config = {
    epochs: 0,
    steps: 5,
    evalEvery: 1,
    batchSize: 8,
    optimizer: "adamw" as const,
    weightDecay: 5e-4,
    learningRate: 1e-2,
  };
  const run = async (averageWeights: number | undefined) => {
    const backbone = modernCnn({ inputShape: [28, 28, 1], channels: [4, 4, 8], seed: 2 });
    const head = classifierHead(8, 10, 2);
    const all = () => [...backbone.getWeights(), ...head.getWeights()].map((w) => w.dataSync());
    const trained = [all().map((w) => Float32Array.from(w))];
    const before = tf.memory().numTensors;
    const r = await trainSupervised({
      backbone,
      head,
      images: data.images,
      shape: [28, 28, 1],
      labels: data.labels,
      train: range(0, 32),
      validation: range(64, 96),
      select: "final",
      rng: new Rng(4),
      config: { ...config, averageWeights },
      // The student's own weights after every step (the callback sees the models training).
      onEpoch: () => void trained.push(all().map((w) => Float32Array.from(w))),
    });
    assertEquals(tf.memory().numTensors, before, "no tensor leak");
    const kept = all();
    const v = await validationScore(backbone, head);
    backbone.dispose();
    head.dispose();
    return { r, trained, kept, v };
  };
  const plain = await run(undefined);
  const avg = await run(m);
  assertEquals(avg.trained.length, 6);
  // Averaging does not change how the student trains.
  assertEquals(avg.trained.at(-1), plain.trained.at(-1));
  // The kept model is the EMA of the student's weights, a_k = m_k a_(k-1) + (1 - m_k) w_k,
  // its momentum warming up as m_k = min(m, (1 + k) / (10 + k)).
  const expected = avg.trained[0].map((w, i) =>
    avg.trained.slice(1).reduce((a, step, k) => {
      const mk = Math.min(m, (2 + k) / (11 + k));
      return a.map((v, j) => mk * v + (1 - mk) * step[i][j]);
    }, w)
  );
  let movingStats = 0;
  for (let i = 0; i < expected.length; i++) {
    for (let j = 0; j < expected[i].length; j++) {
      assertAlmostEquals(avg.kept[i][j], expected[i][j], 1e-5, `weight ${i}[${j}]`);
    }
    // A batch-norm moving statistic moved by training, and is averaged too.
    if (plain.trained[0][i].some((v, j) => v !== plain.trained[1][i][j])) movingStats++;
  }
  assert(movingStats > 0);
  assert(
    avg.kept.some((w, i) => w.some((v, j) => v !== plain.kept[i][j])),
    "the averaged model differs from the final one",
  );
  // The records score the averaged model: the last one is what the kept model scores.
  assertAlmostEquals(avg.r.history.at(-1)!.validationLoss!, avg.v.loss, 1e-5);
  assertAlmostEquals(plain.r.history.at(-1)!.validationLoss!, plain.v.loss, 1e-5);
});

Deno.test("averaged weights: a momentum outside [0, 1) or unlike the mean teacher's is refused", async () => {
  await initBackend();
  const train = (averageWeights: number, emaMomentum?: number) =>
    trainSupervised({
      backbone: articleBackbone([28, 28, 1], [4, 4, 8], 1),
      head: classifierHead(8, 10, 1),
      images: data.images,
      shape: [28, 28, 1],
      labels: data.labels,
      train: range(0, 8),
      rng: new Rng(1),
      config: { steps: 1, batchSize: 8, optimizer: "adam", learningRate: 1e-3, averageWeights },
      selfTrain: emaMomentum === undefined ? undefined : {
        indices: range(8, 16),
        batchSize: 4,
        threshold: 0.5,
        weight: 1,
        emaMomentum,
        strong: (b) => b,
      },
    });
  await assertRejects(() => train(1), "averageWeights must be in [0, 1), got 1");
  await assertRejects(() => train(0.99, 0.9), "emaMomentum 0.9 and averageWeights 0.99");
});
