/**
 * Why the projection head helps, layer by layer: for a backbone + head, the features at h and
 * after every block of the head up to z (`layer_features.ts`), and for each
 *
 * - its **effective rank** (RankMe, `rank.ts`): how many directions the features really use,
 *   read without labels — SimCLR's h keeps a high rank where the contrastive loss squeezes z
 *   (Jing et al. 2022 on dimensional collapse; Garrido et al. 2023, RankMe);
 * - its **spectrum**: the singular values divided by the largest, for a log-scale chart;
 * - its **linear-probe accuracy** (`linear_probe.ts`): a probe trained on the `train` images'
 *   features and labels, scored on the `test` images'.
 *
 * The rank and the spectrum are computed on the `train` images' features unless `rankImages`
 * (unlabelled images) are given: they read no label either way. The answer is a plain
 * JSON-able table, one row a layer, h first.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { layerDiagnostics } from "./layer_diagnostics.ts";
 * const f = articleBackbone([28, 28, 1], [16, 16, 32], 0);
 * const g = articleHead(32, 10, 0);
 * const images = new Float32Array(40 * 784).map((_, i) => (i % 97) / 97);
 * const labels = Int32Array.from({ length: 40 }, (_, i) => i % 2);
 * const rows = await layerDiagnostics(f, g, {
 *   train: { images: images.subarray(0, 30 * 784), labels: labels.subarray(0, 30) },
 *   test: { images: images.subarray(30 * 784), labels: labels.subarray(30) },
 * }, { shape: [28, 28, 1], probe: { epochs: 20 } });
 * rows.map((r) => `${r.layer}: rank ${r.effectiveRank.toFixed(1)} of ${r.dim}`);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { type LayerFeatureMatrix, layerFeatures } from "./layer_features.ts";
import { linearProbeAccuracy, type LinearProbeOptions } from "./linear_probe.ts";
import { rankMe, singularValues } from "./rank.ts";

/** Images (row-major NHWC) and their class labels. */
export interface LabelledImages {
  images: Float32Array;
  labels: Int32Array;
}

/** Options of {@linkcode layerDiagnostics}. */
export interface LayerDiagnosticsOptions {
  /** Image shape [height, width, channels]. */
  shape: [number, number, number];
  /** Classes of the labels (default: the largest label + 1, at least 2). */
  numClasses?: number;
  /** The linear probe's settings (its defaults otherwise; `seed` makes it reproducible). */
  probe?: LinearProbeOptions;
  /** Unlabelled images to compute the rank and spectrum on (default: the train images). */
  rankImages?: Float32Array;
  /** Centre the features before the rank and spectrum (default true, `rank.ts`). */
  centre?: boolean;
  /** Images through the model at a time (default `features.ts`'s). */
  batchSize?: number;
}

/** One layer's row of the table. */
export interface LayerDiagnosticsRow {
  /** `"h"`, `"block 1"`, ..., `"z"`. */
  layer: string;
  /** 0 for h, k after the head's k-th block. */
  depth: number;
  /** The layer in words. */
  description: string;
  /** Width of the features. */
  dim: number;
  /** RankMe of the features: between 1 and min(images, dim); 0 when they are all the same. */
  effectiveRank: number;
  /** `effectiveRank / min(images, dim)`: 1 when every available direction is used evenly. */
  rankShare: number;
  /** Singular values divided by the largest, descending (min(images, dim) of them). */
  spectrum: number[];
  /** Linear-probe accuracy on the test images' features. */
  probeAccuracy: number;
}

function countOf(fn: string, what: string, images: Float32Array, per: number): number {
  if (images.length % per !== 0 || images.length === 0) {
    throw new RangeError(
      `${fn}: ${what} has ${images.length} values, not a positive multiple of one image (${per})`,
    );
  }
  return images.length / per;
}

/**
 * The per-layer table of `backbone` + `head` (module notes): one row for h and one for each
 * block of the head, in order. Leaks no tensors.
 *
 * Throws a `RangeError` with one line when the images and labels disagree in number.
 */
export async function layerDiagnostics(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
  data: { train: LabelledImages; test: LabelledImages },
  options: LayerDiagnosticsOptions,
): Promise<LayerDiagnosticsRow[]> {
  const fn = "layerDiagnostics";
  const { shape } = options;
  const per = shape[0] * shape[1] * shape[2];
  const nTrain = countOf(fn, "train.images", data.train.images, per);
  const nTest = countOf(fn, "test.images", data.test.images, per);
  for (
    const [what, n, labels] of [["train", nTrain, data.train.labels], [
      "test",
      nTest,
      data.test.labels,
    ]] as const
  ) {
    if (labels.length !== n) {
      throw new RangeError(`${fn}: ${what} has ${n} images but ${labels.length} labels`);
    }
  }
  let numClasses = options.numClasses;
  if (numClasses === undefined) {
    numClasses = 2;
    for (const l of data.train.labels) numClasses = Math.max(numClasses, l + 1);
    for (const l of data.test.labels) numClasses = Math.max(numClasses, l + 1);
  }
  const extract = (images: Float32Array, count: number) =>
    layerFeatures(backbone, head, images, count, shape, options.batchSize);
  const train = await extract(data.train.images, nTrain);
  const test = await extract(data.test.images, nTest);
  const forRank: LayerFeatureMatrix[] = options.rankImages
    ? await extract(options.rankImages, countOf(fn, "rankImages", options.rankImages, per))
    : train;
  return train.map((layer, i) => {
    const r = forRank[i];
    const sigma = singularValues(r.features, r.count, r.dim, { centre: options.centre ?? true });
    const effectiveRank = rankMe(sigma);
    const top = sigma[0];
    return {
      layer: layer.layer,
      depth: layer.depth,
      description: layer.description,
      dim: layer.dim,
      effectiveRank,
      rankShare: effectiveRank / sigma.length,
      spectrum: Array.from(sigma, (s) => (top > 0 ? s / top : 0)),
      probeAccuracy: linearProbeAccuracy(
        layer.features,
        data.train.labels,
        test[i].features,
        data.test.labels,
        layer.dim,
        numClasses,
        options.probe,
      ),
    };
  });
}
