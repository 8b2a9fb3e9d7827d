/**
 * How the study scores one pre-trained model: a linear probe and a kNN vote
 * on its frozen features h (backbone) and z (head), trained on the labelled
 * images, measured on the dev holdout (which chooses) and on the test set
 * (which is only reported); plus the share of test images whose h is all
 * zeros (collapsed features). And the SSL papers' linear evaluation
 * ({@linkcode linearEvaluation}): the probe trained on many labelled images of
 * the unlabelled pool (their labels only ever train this probe), the
 * representation's quality apart from how few labels the study has.
 *
 * @example
 * ```ts
 * import { describeScores } from "./scores.ts";
 * const s = { probe: { dev: 0.8, test: 0.79 }, knn: { dev: 0.7, test: 0.71 } };
 * describeScores(s); // "probe h 79.0%, kNN h 71.0% (test); probe h 80.0% (dev)"
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "../data/dataset.ts";
import { gatherImages, gatherLabels } from "../train/batches.ts";
import { extractFeatures } from "../eval/features.ts";
import { knnAccuracy } from "../eval/knn.ts";
import { trainLinearProbe } from "../eval/linear_probe.ts";
import { accuracy } from "../eval/metrics.ts";
import type { ExperimentConfig } from "../experiment/recipe.ts";
import type { SeedSplit } from "./splits.ts";
import type { FeatureScores, RunSummary } from "./report.ts";

/** Probe and kNN accuracies of one seed's features (h or z), on dev and test. */
export interface SeedFeatureScores {
  probe: { dev: number; test: number };
  knn: { dev: number; test: number };
}

/** One pre-training run (head, temperature, seed) as scored. */
export interface SeedScores {
  h: SeedFeatureScores;
  z: SeedFeatureScores;
  loss: number[];
  seconds: number;
  /** Fraction of test images whose h is all zeros (a collapse of the features). */
  zeroH: number;
}

/** What scoring needs besides the model. */
export interface ScoreData {
  train: ImageDataset;
  /** The test images scored (all, or the first `maxTest`). */
  testImages: Float32Array;
  testLabels: Int32Array;
  /** The probe and kNN settings (the experiment recipe's). */
  base: Pick<ExperimentConfig, "probe" | "knnK">;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** One log line of scores. */
export function describeScores(h: SeedFeatureScores, z?: SeedFeatureScores): string {
  return `probe h ${pct(h.probe.test)}${z ? ` z ${pct(z.probe.test)}` : ""}, kNN h ${
    pct(h.knn.test)
  }${z ? ` z ${pct(z.knn.test)}` : ""} (test); probe h ${pct(h.probe.dev)} (dev)`;
}

/** Linear probe and kNN on h (and on z when a head is given), dev and test. */
export async function scoreModel(
  backbone: tf.LayersModel,
  g: tf.LayersModel | undefined,
  s: SeedSplit,
  d: ScoreData,
): Promise<{ h: SeedFeatureScores; z: SeedFeatureScores; zeroH: number }> {
  const { train, testImages, testLabels, base } = d;
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  const size = shape[0] * shape[1] * shape[2];
  const testCount = testLabels.length;
  const numClasses = train.classNames.length;
  const featuresOf = async (model: (x: tf.Tensor4D) => tf.Tensor) => {
    const run = async (images: Float32Array, n: number) =>
      (await extractFeatures(model, images, n, shape)).features;
    return {
      labelled: await run(gatherImages(train.images, size, s.labelled), s.labelled.length),
      dev: await run(gatherImages(train.images, size, s.dev), s.dev.length),
      test: await run(testImages, testCount),
    };
  };
  const yLabelled = gatherLabels(train.labels, s.labelled);
  const yDev = gatherLabels(train.labels, s.dev);
  const score = (f: { labelled: Float32Array; dev: Float32Array; test: Float32Array }) => {
    const dim = f.labelled.length / s.labelled.length;
    const probe = trainLinearProbe(f.labelled, yLabelled, dim, numClasses, {
      epochs: base.probe.epochs,
      learningRate: base.probe.learningRate,
      weightDecay: base.probe.weightDecay,
      seed: s.seed,
      batchSize: Infinity,
    });
    const probeDev = accuracy(probe.predict(f.dev), yDev);
    const probeTest = accuracy(probe.predict(f.test), testLabels);
    probe.dispose();
    const knnOpts = { k: base.knnK, numClasses };
    return {
      probe: { dev: probeDev, test: probeTest },
      knn: {
        dev: knnAccuracy(f.labelled, yLabelled, f.dev, yDev, dim, knnOpts),
        test: knnAccuracy(f.labelled, yLabelled, f.test, testLabels, dim, knnOpts),
      },
    };
  };
  const fh = await featuresOf((x) => backbone.apply(x) as tf.Tensor);
  const h = score(fh);
  const dim = fh.test.length / testCount;
  let zero = 0;
  for (let i = 0; i < testCount; i++) {
    if (fh.test.subarray(i * dim, (i + 1) * dim).every((v) => v === 0)) zero++;
  }
  const z = g ? score(await featuresOf((x) => g.apply(backbone.apply(x)) as tf.Tensor)) : h;
  return { h, z, zeroH: zero / testCount };
}

/** Labelled pool images the linear evaluation trains on (the full study's). */
export const LINEAR_EVALUATION_IMAGES = 20_000;

/**
 * The SSL papers' linear evaluation of frozen features: a linear classifier trained on the
 * first `images` images of the seed's unlabelled pool with their labels (minibatches of 1,024,
 * the recipe's probe epochs, learning rate and weight decay), scored on the dev holdout and
 * the test set. `model` maps images to features (h, or z through the head).
 */
export async function linearEvaluation(
  model: (x: tf.Tensor4D) => tf.Tensor,
  s: SeedSplit,
  d: ScoreData,
  images = LINEAR_EVALUATION_IMAGES,
): Promise<{ dev: number; test: number; images: number }> {
  const { train, testImages, testLabels, base } = d;
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  const size = shape[0] * shape[1] * shape[2];
  const idx = s.pool.subarray(0, Math.min(images, s.pool.length));
  const run = async (x: Float32Array, n: number) =>
    (await extractFeatures(model, x, n, shape)).features;
  const fTrain = await run(gatherImages(train.images, size, idx), idx.length);
  const dim = fTrain.length / idx.length;
  const probe = trainLinearProbe(
    fTrain,
    gatherLabels(train.labels, idx),
    dim,
    train.classNames.length,
    {
      epochs: Math.min(base.probe.epochs, 100),
      learningRate: base.probe.learningRate,
      weightDecay: base.probe.weightDecay,
      seed: s.seed,
      batchSize: 1024,
    },
  );
  try {
    const dev = accuracy(
      probe.predict(await run(gatherImages(train.images, size, s.dev), s.dev.length)),
      gatherLabels(train.labels, s.dev),
    );
    const test = accuracy(probe.predict(await run(testImages, testLabels.length)), testLabels);
    return { dev, test, images: idx.length };
  } finally {
    probe.dispose();
  }
}

/** Averages a list of per-seed runs into the JSON summary. */
export function summarise(runs: SeedScores[]): RunSummary {
  const feature = (f: "h" | "z"): FeatureScores => ({
    linear_probe: {
      test: runs.map((r) => r[f].probe.test),
      dev: runs.map((r) => r[f].probe.dev),
    },
    knn: { test: runs.map((r) => r[f].knn.test), dev: runs.map((r) => r[f].knn.dev) },
  });
  return {
    h: feature("h"),
    z: feature("z"),
    pretrain_loss: runs.map((r) => r.loss),
    pretrain_s: runs.map((r) => r.seconds),
    zero_h_fraction: runs.map((r) => r.zeroH),
  };
}
