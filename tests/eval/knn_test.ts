import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { knnAccuracy, knnClassify, knnNeighbours } from "../../lib/eval/knn.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

await initBackend();

const f32 = (xs: number[]) => Float32Array.from(xs);
const i32 = (xs: number[]) => Int32Array.from(xs);

/**
 * Unit-variance Gaussian blobs around `numClasses` random centres (of norm ~`spread`); the
 * returned sampler draws `perClass * numClasses` points of random classes.
 */
function blobs(numClasses: number, dim: number, spread: number, seed: number) {
  const rng = new Rng(seed);
  const centres = Array.from(
    { length: numClasses },
    () => Array.from({ length: dim }, () => rng.normal(0, spread / Math.sqrt(dim))),
  );
  return (perClass: number, sampleSeed: number) => {
    const r = new Rng(sampleSeed);
    const n = perClass * numClasses;
    const features = new Float32Array(n * dim);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = r.int(numClasses);
      labels[i] = c;
      for (let j = 0; j < dim; j++) features[i * dim + j] = centres[c][j] + r.normal();
    }
    return { features, labels };
  };
}

/** Unit 2-D vector at the angle whose cosine with (1, 0) is `cos`, above the axis. */
const atCos = (cos: number) => [cos, Math.sqrt(1 - cos * cos)];

Deno.test("k = 1 returns the nearest neighbour's label (hand example)", () => {
  const train = f32([1, 0, 0, 1, -1, 0, 0, -1]);
  const labels = i32([0, 1, 2, 3]);
  const test = f32([0.9, 0.2, 0.1, 0.8, -3, -0.4, 0.2, -5, 2, 2.1]);
  assertEquals(knnClassify(train, labels, test, 2, { k: 1 }), i32([0, 1, 2, 3, 1]));
  const nb = knnNeighbours(train, test, 2, 1);
  assertEquals(nb.k, 1);
  assertEquals(nb.indices, i32([0, 1, 2, 3, 1]));
  assertAlmostEquals(nb.similarities[0], 0.9 / Math.hypot(0.9, 0.2), 1e-6);
});

Deno.test("cosine ignores the norm, euclidean does not (hand example)", () => {
  const train = f32([1, 0.1, 10, 0]);
  const labels = i32([0, 1]);
  const test = f32([8, 0.8]); // same direction as row 0, closer to row 1
  assertEquals(knnClassify(train, labels, test, 2, { k: 1 }), i32([0]));
  assertEquals(knnClassify(train, labels, test, 2, { k: 1, metric: "euclidean" }), i32([1]));
  const nb = knnNeighbours(train, test, 2, 2, { metric: "euclidean" });
  assertEquals(nb.indices, i32([1, 0]));
  assertAlmostEquals(nb.similarities[0], -(2 * 2 + 0.8 * 0.8), 1e-4);
  assertAlmostEquals(nb.similarities[1], -(7 * 7 + 0.7 * 0.7), 1e-4);
});

Deno.test("vote ties go to the larger similarity sum; 'distance' weights favour the nearest", () => {
  // Around the query (1, 0): class 0 at cosines 0.9 and 0.1, class 1 at 0.6 and 0.5, and a
  // class-2 point far away that k = 4 leaves out.
  const train = f32([...atCos(0.9), ...atCos(0.1), ...atCos(0.6), ...atCos(0.5), -1, 0]);
  const labels = i32([0, 0, 1, 1, 2]);
  const q = f32([1, 0]);
  // Votes 2 : 2, similarity sums 1.0 < 1.1 -> class 1, although the nearest is class 0.
  assertEquals(knnClassify(train, labels, q, 2, { k: 4 }), i32([1]));
  // exp(s / 0.1): class 0 gets 1 + e^-8, class 1 e^-3 + e^-4.
  assertEquals(knnClassify(train, labels, q, 2, { k: 4, weighting: "distance" }), i32([0]));
  // A huge temperature makes the weights equal again: back to the vote.
  assertEquals(
    knnClassify(train, labels, q, 2, { k: 4, weighting: "distance", temperature: 1e6 }),
    i32([1]),
  );
  // k = 5 brings in class 2 but 2 : 2 : 1 keeps the same winner; k larger than the set clamps.
  assertEquals(knnClassify(train, labels, q, 2, { k: 50 }), i32([1]));
  assertEquals(knnNeighbours(train, q, 2, 50).k, 5);
});

Deno.test("kNN on well-separated blobs is ~perfect, on random labels ~chance", () => {
  const sample = blobs(10, 16, 12, 1);
  const train = sample(20, 2); // 200 labelled, as in the article
  const test = sample(1000, 3); // 10,000
  const before = tf.memory().numTensors;
  for (const weighting of ["vote", "distance"] as const) {
    const acc = knnAccuracy(train.features, train.labels, test.features, test.labels, 16, {
      k: 20,
      weighting,
    });
    assert(acc > 0.98, `${weighting}: accuracy ${acc} on separated blobs`);
  }
  const rng = new Rng(4);
  const randomLabels = train.labels.map(() => rng.int(10));
  const chance = knnAccuracy(train.features, randomLabels, test.features, test.labels, 16);
  assert(chance > 0.03 && chance < 0.2, `accuracy ${chance} with random labels, chance is 0.1`);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("small similarity blocks give the same neighbours as one block", () => {
  const sample = blobs(5, 8, 3, 5);
  const train = sample(40, 6);
  const test = sample(21, 7);
  const one = knnNeighbours(train.features, test.features, 8, 7);
  const blocks = knnNeighbours(train.features, test.features, 8, 7, {
    maxBlockBytes: 4 * 200 * 4, // 4 test rows per block
  });
  assertEquals(blocks.indices, one.indices);
  assertEquals(blocks.similarities, one.similarities);
  const a = knnClassify(train.features, train.labels, test.features, 8, { maxBlockBytes: 1 });
  assertEquals(a, knnClassify(train.features, train.labels, test.features, 8));
});

Deno.test("10,000 test x 60,000 train rows: matches brute force, no leaks", () => {
  const dim = 32;
  const rng = new Rng(8);
  const train = new Float32Array(60000 * dim).map(() => rng.normal());
  const labels = new Int32Array(60000).map(() => rng.int(10));
  const test = new Float32Array(10000 * dim).map(() => rng.normal());
  const before = tf.memory().numTensors;
  const pred = knnClassify(train, labels, test, dim, { k: 1 });
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  assertEquals(pred.length, 10000);
  const norms = new Float64Array(60000);
  for (let i = 0; i < 60000; i++) {
    for (let j = 0; j < dim; j++) norms[i] += train[i * dim + j] ** 2;
    norms[i] = Math.sqrt(norms[i]);
  }
  for (const t of [0, 1, 4567, 9999]) {
    let best = -Infinity;
    let bestLabel = -1;
    for (let i = 0; i < 60000; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += train[i * dim + j] * test[t * dim + j];
      s /= norms[i];
      if (s > best) [best, bestLabel] = [s, labels[i]];
    }
    assertEquals(pred[t], bestLabel, `test row ${t}`);
  }
});

Deno.test("knn: clear errors on mismatched inputs", () => {
  const train = f32([1, 0, 0, 1]);
  assertThrows(
    () => knnClassify(train, i32([0, 1, 1]), f32([1, 0]), 2),
    "trainFeatures has 2 rows",
    "trainLabels has 3",
  );
  assertThrows(
    () => knnAccuracy(train, i32([0, 1]), f32([1, 0]), i32([0, 1]), 2),
    "testFeatures has 1 rows",
    "testLabels has 2",
  );
  assertThrows(() => knnClassify(train, i32([0, 1]), f32([1, 0, 1]), 2), "testFeatures", "dim = 2");
  assertThrows(() => knnClassify(train, i32([0, 3]), f32([1, 0]), 2, { numClasses: 2 }), "[1] = 3");
  assertThrows(() => knnClassify(train, i32([0, 1]), f32([1, 0]), 2, { k: 0 }), "k must");
  assertThrows(
    () =>
      knnClassify(train, i32([0, 1]), f32([1, 0]), 2, { weighting: "distance", temperature: 0 }),
    "temperature",
  );
});
