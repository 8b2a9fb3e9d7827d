/**
 * What the projection head throws away, measured without class labels: apply a known
 * transformation to images — one of the four quarter-turns (0°, 90°, 180°, 270°) or a
 * left-right mirror — and ask a linear probe to tell, from the features at each layer of
 * backbone + head (`layer_features.ts`), which one was applied. SimCLR (Chen et al. 2020,
 * section 4.2 and table 3) found that h predicts the transformation far better than z = g(h):
 * the contrastive loss makes z invariant to what the views differ by, and the head is where
 * that information is dropped, so h keeps it for downstream tasks.
 *
 * The target is the transformation, never the class, so any unlabelled images serve. Every
 * image is used in every transformation (a balanced problem, chance = 1 / classes); the probe
 * is trained on the `train` images' copies and scored on the `test` images'. A quarter-turn
 * needs square images. The probe is `linear_probe.ts`'s, seeded by `probe.seed`.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { transformProbe } from "./transform_probe.ts";
 * const f = articleBackbone([28, 28, 1], [16, 16, 32], 0);
 * const g = articleHead(32, 10, 0);
 * const images = new Float32Array(20 * 784).map((_, i) => (i % 97) / 97);
 * const result = await transformProbe(f, g, {
 *   train: images.subarray(0, 15 * 784),
 *   test: images.subarray(15 * 784),
 * }, { shape: [28, 28, 1], transformation: "rotation", probe: { epochs: 20 } });
 * result.rows.map((r) => `${r.layer}: ${r.accuracy}`); // h, block 1, block 2, z; chance 0.25
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { randomHorizontalFlip } from "../augment/crop_flip.ts";
import { batchOf } from "../augment/types.ts";
import { Rng } from "../rng.ts";
import { layerFeatures } from "./layer_features.ts";
import { linearProbeAccuracy, type LinearProbeOptions } from "./linear_probe.ts";

/** A family of deterministic transformations, one a class; class 0 is the identity. */
export interface ImageTransformation {
  /** E.g. `"rotation"`. */
  name: string;
  /** One name a class, e.g. `["0°", "90°", "180°", "270°"]`. */
  classes: string[];
  /** The `k`-th transformation of every one of `count` images (a new array). */
  apply(
    images: Float32Array,
    count: number,
    shape: [number, number, number],
    k: number,
  ): Float32Array;
}

/** Quarter-turns counter-clockwise: 0°, 90°, 180°, 270° (square images only). */
export const ROTATIONS: ImageTransformation = {
  name: "rotation",
  classes: ["0°", "90°", "180°", "270°"],
  apply(images, count, [height, width, channels], k) {
    if (height !== width) {
      throw new RangeError(
        `rotation: quarter-turns need square images, got ${height} x ${width}`,
      );
    }
    const n = height;
    const per = n * n * channels;
    const out = new Float32Array(count * per);
    for (let img = 0; img < count; img++) {
      const o = img * per;
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          // Output pixel (y, x) reads the input pixel that a k quarter-turn brings there.
          const [sy, sx] = k === 0
            ? [y, x]
            : k === 1
            ? [x, n - 1 - y]
            : k === 2
            ? [n - 1 - y, n - 1 - x]
            : [n - 1 - x, y];
          const to = o + (y * n + x) * channels;
          const from = o + (sy * n + sx) * channels;
          for (let c = 0; c < channels; c++) out[to + c] = images[from + c];
        }
      }
    }
    return out;
  },
};

/** No change, or a left-right mirror (`lib/augment/crop_flip.ts`'s flip, always applied). */
export const MIRROR: ImageTransformation = {
  name: "mirror",
  classes: ["as is", "mirrored"],
  apply(images, count, [height, width, channels], k) {
    if (k === 0) return images.slice(0, count * height * width * channels);
    const batch = batchOf(images, count, height, width, channels);
    return randomHorizontalFlip({ p: 1 }).apply(batch, new Rng(0)).data;
  },
};

/** The built-in transformations by name. */
export const TRANSFORMATIONS: Record<"rotation" | "mirror", ImageTransformation> = {
  rotation: ROTATIONS,
  mirror: MIRROR,
};

/**
 * Every one of `images` (row-major, `shape` each) under every transformation of `t`: copy `k`
 * of all the images, then copy `k + 1`, with the class `k` as the label.
 */
export function transformedCopies(
  images: Float32Array,
  shape: [number, number, number],
  t: ImageTransformation,
): { images: Float32Array; labels: Int32Array; count: number } {
  const per = shape[0] * shape[1] * shape[2];
  if (!shape.every((s) => Number.isInteger(s) && s > 0) || images.length % per !== 0) {
    throw new RangeError(
      `transformedCopies: ${images.length} values are not whole images of shape [${shape}]`,
    );
  }
  const count = images.length / per;
  const k = t.classes.length;
  const out = new Float32Array(k * count * per);
  const labels = new Int32Array(k * count);
  for (let c = 0; c < k; c++) {
    out.set(t.apply(images, count, shape, c), c * count * per);
    labels.fill(c, c * count, (c + 1) * count);
  }
  return { images: out, labels, count: k * count };
}

/** Options of {@linkcode transformProbe}. */
export interface TransformProbeOptions {
  /** Image shape [height, width, channels]. */
  shape: [number, number, number];
  /** What to predict (default `"rotation"`). */
  transformation?: "rotation" | "mirror" | ImageTransformation;
  /** The linear probe's settings. */
  probe?: LinearProbeOptions;
  /** Images through the model at a time. */
  batchSize?: number;
}

/** How well one layer's features tell the transformation. */
export interface TransformProbeRow {
  /** `"h"`, `"block 1"`, ..., `"z"`. */
  layer: string;
  /** 0 for h, k after the head's k-th block. */
  depth: number;
  /** Width of the features. */
  dim: number;
  /** Share of the test copies whose transformation the probe names. */
  accuracy: number;
}

/** The probe's answer, plain JSON. */
export interface TransformProbeResult {
  transformation: string;
  classes: string[];
  /** 1 / classes: the accuracy of a guess. */
  chance: number;
  /** Train and test images used (each in every transformation). */
  trainImages: number;
  testImages: number;
  /** One row a layer, h first. */
  rows: TransformProbeRow[];
}

/**
 * Trains a linear probe on every layer of `backbone` + `head` to name the transformation
 * applied to the `train` images, and scores it on the `test` images (module notes). Leaks no
 * tensors.
 *
 * Throws a `RangeError` with one line when the images are not whole images of `shape`, or a
 * quarter-turn is asked of non-square images.
 */
export async function transformProbe(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
  images: { train: Float32Array; test: Float32Array },
  options: TransformProbeOptions,
): Promise<TransformProbeResult> {
  const { shape } = options;
  const choice = options.transformation ?? "rotation";
  const t = typeof choice === "string" ? TRANSFORMATIONS[choice] : choice;
  if (!t || t.classes.length < 2) {
    throw new RangeError(
      `transformProbe: the transformation must be "rotation", "mirror" or one with >= 2 classes, ` +
        `got ${typeof choice === "string" ? JSON.stringify(choice) : choice.name}`,
    );
  }
  const per = shape[0] * shape[1] * shape[2];
  for (const [what, x] of [["train", images.train], ["test", images.test]] as const) {
    if (x.length === 0 || x.length % per !== 0) {
      throw new RangeError(
        `transformProbe: ${what} has ${x.length} values, not a positive number of [${shape}] images`,
      );
    }
  }
  const train = transformedCopies(images.train, shape, t);
  const test = transformedCopies(images.test, shape, t);
  const trainLayers = await layerFeatures(
    backbone,
    head,
    train.images,
    train.count,
    shape,
    options.batchSize,
  );
  const testLayers = await layerFeatures(
    backbone,
    head,
    test.images,
    test.count,
    shape,
    options.batchSize,
  );
  const k = t.classes.length;
  return {
    transformation: t.name,
    classes: [...t.classes],
    chance: 1 / k,
    trainImages: train.count / k,
    testImages: test.count / k,
    rows: trainLayers.map((layer, i) => ({
      layer: layer.layer,
      depth: layer.depth,
      dim: layer.dim,
      accuracy: linearProbeAccuracy(
        layer.features,
        train.labels,
        testLayers[i].features,
        test.labels,
        layer.dim,
        k,
        options.probe,
      ),
    })),
  };
}
