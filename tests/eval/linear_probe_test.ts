import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { linearProbeAccuracy, trainLinearProbe } from "../../lib/eval/linear_probe.ts";
import { accuracy } from "../../lib/eval/metrics.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

await initBackend();

const DIM = 8;
const CLASSES = 3;

/**
 * A linearly separable problem: the label is the arg-max of a fixed random linear map of a
 * standard normal point, with points too close to a class boundary dropped (margin 0.5).
 */
function separable(count: number, seed: number, scale = 1, offset = 0) {
  const truth = new Rng(99);
  const w = Array.from({ length: CLASSES * DIM }, () => truth.normal());
  const rng = new Rng(seed);
  const features = new Float32Array(count * DIM);
  const labels = new Int32Array(count);
  for (let i = 0; i < count;) {
    const x = Array.from({ length: DIM }, () => rng.normal());
    const scores = Array.from(
      { length: CLASSES },
      (_, c) => x.reduce((s, v, j) => s + v * w[c * DIM + j], 0),
    );
    const sorted = [...scores].sort((a, b) => b - a);
    if (sorted[0] - sorted[1] < 0.5) continue;
    labels[i] = scores.indexOf(sorted[0]);
    x.forEach((v, j) => features[i * DIM + j] = v * scale + offset);
    i++;
  }
  return { features, labels };
}

const train = separable(600, 1);
const test = separable(400, 2);

Deno.test("linear probe separates a linearly separable problem (> 95%), minibatch and full", () => {
  const before = tf.memory().numTensors;
  const mini = trainLinearProbe(train.features, train.labels, DIM, CLASSES, {
    epochs: 60,
    learningRate: 0.05,
    batchSize: 64,
    seed: 1,
  });
  const accMini = accuracy(mini.predict(test.features), test.labels);
  assert(accMini > 0.95, `minibatch probe accuracy ${accMini}`);
  assertEquals(mini.lossHistory.length, 60);
  assert(mini.lossHistory[59] < 0.5 * mini.lossHistory[0], `loss ${mini.lossHistory}`);
  mini.dispose();
  const accFull = linearProbeAccuracy(
    train.features,
    train.labels,
    test.features,
    test.labels,
    DIM,
    CLASSES,
    { epochs: 300, learningRate: 0.05, batchSize: Infinity, seed: 1 },
  );
  assert(accFull > 0.95, `full-batch probe accuracy ${accFull}`);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("linear probe is deterministic for a seed", () => {
  const opts = { epochs: 10, learningRate: 0.05, batchSize: 50, seed: 7 };
  const a = trainLinearProbe(train.features, train.labels, DIM, CLASSES, opts);
  const b = trainLinearProbe(train.features, train.labels, DIM, CLASSES, opts);
  const c = trainLinearProbe(train.features, train.labels, DIM, CLASSES, { ...opts, seed: 8 });
  assertEquals(a.weights(), b.weights());
  assertEquals(a.lossHistory, b.lossHistory);
  assertEquals(a.logits(test.features), b.logits(test.features));
  assert(a.weights().kernel.some((v, i) => v !== c.weights().kernel[i]), "seed 8 = seed 7?");
  for (const p of [a, b, c]) p.dispose();
});

Deno.test("standardisation copes with features of huge scale and offset", () => {
  const bigTrain = separable(600, 1, 1000, 5000);
  const bigTest = separable(400, 2, 1000, 5000);
  const opts = { epochs: 60, learningRate: 0.05, batchSize: 64, seed: 1 };
  const probe = trainLinearProbe(bigTrain.features, bigTrain.labels, DIM, CLASSES, opts);
  const acc = accuracy(probe.predict(bigTest.features), bigTest.labels);
  assert(acc > 0.95, `standardised probe accuracy ${acc}`);
  const { mean, std } = probe.standardization!;
  assert(Math.abs(mean[0] - 5000) < 200 && Math.abs(std[0] - 1000) < 200, `${mean[0]} ${std[0]}`);
  probe.dispose();
  const raw = trainLinearProbe(bigTrain.features, bigTrain.labels, DIM, CLASSES, {
    ...opts,
    standardize: false,
  });
  assertEquals(raw.standardization, null);
  // Without it, Adam's steps of ~lr are tiny next to features of ~5,000: far from separated.
  const rawAcc = accuracy(raw.predict(bigTest.features), bigTest.labels);
  assert(rawAcc < 0.9, `unstandardised probe accuracy ${rawAcc}`);
  raw.dispose();
});

Deno.test("weight decay shrinks the weights", () => {
  const norm = (weightDecay: number) => {
    const p = trainLinearProbe(train.features, train.labels, DIM, CLASSES, {
      epochs: 40,
      learningRate: 0.05,
      batchSize: Infinity,
      weightDecay,
      seed: 3,
    });
    const n = p.weights().kernel.reduce((s, v) => s + v * v, 0);
    p.dispose();
    return n;
  };
  const free = norm(0);
  const decayed = norm(1);
  assert(decayed < 0.5 * free, `|W|^2 ${decayed} with decay vs ${free} without`);
});

Deno.test("linear probe: predict in chunks, dispose, errors", () => {
  const before = tf.memory().numTensors;
  const probe = trainLinearProbe(train.features, train.labels, DIM, CLASSES, { epochs: 1 });
  const many = new Float32Array(20000 * DIM).map((_, i) => test.features[i % test.features.length]);
  const pred = probe.predict(many); // 3 chunks of at most 8,192 rows
  assertEquals(pred.length, 20000);
  assertEquals(pred.subarray(400, 800), pred.subarray(0, 400));
  assertThrows(() => probe.predict(new Float32Array(DIM + 1)), "features has 9 values");
  probe.dispose();
  probe.dispose(); // twice is harmless
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  assertThrows(() => probe.predict(test.features), "after dispose");
  assertThrows(
    () => trainLinearProbe(train.features, train.labels.subarray(1), DIM, CLASSES),
    "trainFeatures has 600 rows",
    "trainLabels has 599",
  );
  assertThrows(
    () => trainLinearProbe(train.features, train.labels, DIM, 2),
    "is not a class in [0, 2)",
  );
  assertThrows(
    () => linearProbeAccuracy(train.features, train.labels, test.features, train.labels, DIM, 3),
    "testFeatures has 400 rows",
    "testLabels has 600",
  );
  assertEquals(tf.memory().numTensors, before, "tensors leaked on errors");
});
