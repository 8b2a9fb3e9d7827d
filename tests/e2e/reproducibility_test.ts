import { initBackend } from "../../lib/backend.ts";
import type { ImageDataset } from "../../lib/data/dataset.ts";
import { type ExperimentConfig, recipeFor } from "../../lib/experiment/recipe.ts";
import { ARMS, runSeed } from "../../lib/experiment/run_seed.ts";
import { Rng } from "../../lib/rng.ts";
import { assertAlmostEquals, assertEquals } from "../assert.ts";
import { patternImage, PATTERNS } from "../data/image_folder_helpers.ts";

/** `perClass` 16x16 RGB pattern images of each of the 4 classes, in [0, 1]. */
function patterns(perClass: number, seed: number, name: string): ImageDataset {
  const rng = new Rng(seed);
  const size = 16 * 16 * 3;
  const count = perClass * PATTERNS.length;
  const images = new Float32Array(count * size);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % PATTERNS.length;
    const px = patternImage(PATTERNS[labels[i]], 16, 16, rng);
    for (let j = 0; j < size; j++) images[i * size + j] = px[j] / 255;
  }
  return {
    name,
    images,
    labels,
    count,
    height: 16,
    width: 16,
    channels: 3,
    classNames: [...PATTERNS],
  };
}

const data = { train: patterns(24, 1, "patterns train"), test: patterns(6, 2, "patterns test") };

/** The folder recipe, cut down to seconds: a tiny resnet, few epochs. */
function tinyConfig(pretrainEpochs: number): ExperimentConfig {
  const c = recipeFor("folder:patterns", true, data.train);
  return {
    ...c,
    backbone: { kind: "resnet", width: 4, depth: 2 },
    pretrain: {
      ...c.pretrain,
      epochs: pretrainEpochs,
      batchSize: 32,
      earlyStop: undefined,
      lrDecay: 0.9,
    },
    finetune: { ...c.finetune, epochs: 4 },
    probe: { ...c.probe, epochs: 20 },
  };
}

Deno.test("the same seed gives the same split, views and accuracies (same backend)", async () => {
  await initBackend();
  const a = await runSeed(tinyConfig(2), data, 3);
  const b = await runSeed(tinyConfig(2), data, 3);
  assertEquals(a.testAccuracy, b.testAccuracy, "test accuracy of every arm");
  assertEquals(
    a.pretrainHistory.map((e) => e.loss),
    b.pretrainHistory.map((e) => e.loss),
    "pre-training losses",
  );
  for (const arm of ["supervised", "ssl_same_head", "ssl_new_head"] as const) {
    assertEquals(
      a.finetune[arm]!.history.map((e) => [e.loss, e.validationAccuracy]),
      b.finetune[arm]!.history.map((e) => [e.loss, e.validationAccuracy]),
      arm,
    );
  }
});

Deno.test("a pre-training run killed after an epoch resumes from its checkpoint to the same result", async () => {
  await initBackend();
  const straight = await runSeed(tinyConfig(3), data, 4);
  const dir = await Deno.makeTempDir();
  try {
    await runSeed(tinyConfig(1), data, 4, () => {}, dir); // "killed" after epoch 1
    const resumed = await runSeed(tinyConfig(3), data, 4, () => {}, dir);
    assertEquals(resumed.pretrainHistory.length, 3);
    // Equal up to float rounding: on restore tfjs's Adam recomputes its bias correction as
    // pow(beta, t), where training multiplied beta in step by step (last-bit differences).
    resumed.pretrainHistory.forEach((e, i) =>
      assertAlmostEquals(e.loss, straight.pretrainHistory[i].loss, 1e-5, `epoch ${i + 1} loss`)
    );
    assertEquals(resumed.pretrainHistory[0].loss, straight.pretrainHistory[0].loss, "epoch 1");
    // Every arm but the article's (its CNN needs 22x22 images; these are 16x16).
    assertEquals(straight.testAccuracy.supervised_article, undefined);
    for (const arm of ARMS.filter((a) => a !== "supervised_article")) {
      assertAlmostEquals(
        resumed.testAccuracy[arm]!,
        straight.testAccuracy[arm]!,
        1 / data.test.count + 1e-9,
        `${arm}: at most one test image apart`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
