/**
 * A dev holdout carved out of a run's unlabelled images: the first `dev` of them (at most all
 * but one), scored with their labels when a setting of the recipe is chosen
 * (`tools/self_training_sweep.ts`, `bin/tune_supervised.ts --dev`), and the rest, left as the
 * run's unlabelled images, so that a dev image is scored and never trained on. Forty validation
 * images cannot tell models at 93-96% apart (one image is 2.5 points); thousands can. The test set
 * is a different split and plays no part.
 *
 * {@linkcode devScorer} scores a classifier on them.
 *
 * @example
 * ```ts
 * import { devHoldout } from "./dev_holdout.ts";
 * const { dev, unlabelled } = devHoldout(Int32Array.from([9, 4, 7, 1, 3]), 2);
 * console.log(Array.from(dev), Array.from(unlabelled)); // [9, 4] [7, 1, 3]
 * ```
 *
 * @module
 */
import { type ImageDataset, imageSize } from "../data/dataset.ts";
import { accuracy } from "../eval/metrics.ts";
import type { ImageClassifier } from "../pipeline/classifier.ts";
import { gatherImages, gatherLabels } from "../train/batches.ts";

/** The dev holdout of `unlabelled` and what is left of it (see the module doc). */
export function devHoldout(
  unlabelled: Int32Array,
  dev: number,
): { dev: Int32Array; unlabelled: Int32Array } {
  const n = Math.max(0, Math.min(dev, unlabelled.length - 1));
  return { dev: unlabelled.subarray(0, n), unlabelled: unlabelled.subarray(n) };
}

/**
 * The dev holdout of `unlabelled` in `data`, gathered once: what is left for training, and the
 * accuracy of a classifier on the dev images.
 */
export function devScorer(
  data: ImageDataset,
  unlabelled: Int32Array,
  dev: number,
): { unlabelled: Int32Array; score: (model: ImageClassifier) => Promise<number> } {
  const held = devHoldout(unlabelled, dev);
  const images = gatherImages(data.images, imageSize(data), held.dev);
  const labels = gatherLabels(data.labels, held.dev);
  return {
    unlabelled: held.unlabelled,
    score: async (model) => accuracy(await model.predict(images, held.dev.length), labels),
  };
}
