import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { extractFeatures, predictClasses, predictLogits } from "../../lib/eval/features.ts";
import { argmaxRows } from "../../lib/eval/metrics.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";

await initBackend();

const SHAPE: [number, number, number] = [6, 6, 2];
const PER = 6 * 6 * 2;

function tinyModel(seed: number): tf.Sequential {
  const init = tf.initializers.randomNormal({ seed });
  const model = tf.sequential();
  model.add(tf.layers.conv2d({
    inputShape: SHAPE,
    filters: 3,
    kernelSize: 3,
    activation: "relu",
    kernelInitializer: init,
  }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 5, kernelInitializer: init }));
  return model;
}

function randomImages(count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return new Float32Array(count * PER).map(() => rng.next());
}

Deno.test("extractFeatures: chunks of 3 give the same features as one chunk", async () => {
  const model = tinyModel(1);
  const images = randomImages(17, 2);
  const before = tf.memory().numTensors;
  const small = await extractFeatures(model, images, 17, SHAPE, 3);
  const big = await extractFeatures(model, images, 17, SHAPE, 1000);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  assertEquals([small.dim, small.count, small.features.length], [5, 17, 85]);
  assertEquals([big.dim, big.count], [5, 17]);
  for (let i = 0; i < big.features.length; i++) {
    assertAlmostEquals(small.features[i], big.features[i], 1e-5, `feature ${i}`);
  }
  // Row i is the model's output for image i alone.
  const one = tf.tidy(() =>
    (model.predict(tf.tensor4d(images.subarray(9 * PER, 10 * PER), [1, ...SHAPE])) as tf.Tensor)
      .dataSync()
  );
  for (let j = 0; j < 5; j++) assertAlmostEquals(small.features[9 * 5 + j], one[j], 1e-5);
  model.dispose();
});

Deno.test("extractFeatures accepts a function and flattens outputs of rank > 2", async () => {
  const images = randomImages(7, 3);
  const before = tf.memory().numTensors;
  // Mean over the image: one row of 2 channel means per image.
  const means = await extractFeatures((x) => x.mean([1, 2]) as tf.Tensor2D, images, 7, SHAPE, 2);
  assertEquals(means.dim, 2);
  let expected = 0;
  for (let p = 0; p < 36; p++) expected += images[4 * PER + 2 * p + 1];
  assertAlmostEquals(means.features[4 * 2 + 1], expected / 36, 1e-5);
  // The identity on [n, 6, 6, 2] gives the flattened images back.
  const flat = await extractFeatures((x) => x.mul(1), images, 7, SHAPE, 4);
  assertEquals(flat.dim, PER);
  assertEquals(flat.features, images);
  // Never more than batchSize images at once.
  const seen: number[] = [];
  await extractFeatures(
    (x) => {
      seen.push(x.shape[0]);
      return x.mean([1, 2]) as tf.Tensor2D;
    },
    images,
    7,
    SHAPE,
    3,
  );
  assertEquals(seen, [3, 3, 1]);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("predictLogits and predictClasses agree with argmax, in chunks", async () => {
  const model = tinyModel(4);
  const images = randomImages(23, 5);
  const before = tf.memory().numTensors;
  const { logits, numClasses, count } = await predictLogits(model, images, 23, SHAPE, 5);
  assertEquals([numClasses, count, logits.length], [5, 23, 115]);
  const classes = await predictClasses(model, images, 23, SHAPE, 4);
  assertEquals(classes, argmaxRows(logits, 5));
  assert(new Set(classes).size > 1, "a random model should predict several classes");
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  model.dispose();
});

Deno.test("extractFeatures: empty input, and clear errors without leaks", async () => {
  const model = tinyModel(6);
  const before = tf.memory().numTensors;
  const empty = await extractFeatures(model, new Float32Array(0), 0, SHAPE);
  assertEquals([empty.dim, empty.count, empty.features.length], [5, 0, 0]);
  await assertRejects(
    () => extractFeatures(model, new Float32Array(PER * 3 - 1), 3, SHAPE),
    "images has 215 values",
    "216",
  );
  await assertRejects(() => extractFeatures(model, randomImages(2, 0), 2, SHAPE, 0), "batchSize");
  await assertRejects(
    () => extractFeatures((x) => x.sum(), randomImages(2, 0), 2, SHAPE),
    "one row per image",
  );
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  model.dispose();
});
