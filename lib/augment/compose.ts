/**
 * Augmentation pipelines for contrastive learning: {@linkcode compose} chains
 * transforms, {@linkcode identityAugment} is the pipeline that changes
 * nothing, {@linkcode augmentBatch} runs a pipeline on a raw batch and
 * {@linkcode twoViews} makes the two views of every image that SimCLR
 * compares. The ready-made pipelines (the article's digit augmentation,
 * SimCLR's colour one, crop-flip) are in `presets.ts`.
 *
 * ## Why every image gets its own random parameters
 *
 * The article's notebook calls its torchvision pipeline on a whole batch
 * tensor, and torchvision then draws ONE set of random parameters for the
 * batch: all 512 images of view 1 are turned by the same angle, all of view 2
 * by another. That weakens contrastive learning in two ways:
 * - a positive pair (two views of one image) should differ by its *own*
 *   random nuisance; with one transform per batch, every pair differs by the
 *   same nuisance, so the network sees only one kind of difference per step;
 * - the negatives must not share a transform with the anchor: when every
 *   image of view 1 carries the same rotation and every image of view 2
 *   another, "which view is this" is written identically into all images of a
 *   view, and the network can lower the loss by recognising the shared
 *   transform (and matching within or across views by it) instead of by the
 *   content that makes an image itself.
 *
 * So every transform here draws independent parameters for every image, and
 * the two views draw from two different random streams. Everything is seeded:
 * the same `Rng` seed gives bit-identical views.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { twoViews } from "./compose.ts";
 * import { digitAugment } from "./presets.ts";
 * const rng = new Rng(7).fork("augment");
 * const pipeline = digitAugment({ strength: 0.5 });
 * const images = new Float32Array(8 * 28 * 28).fill(0.5); // 8 grey 28x28 images
 * // each training step: two fresh, independent views of the batch
 * const [v1, v2] = twoViews(images, 8, 28, 28, 1, pipeline, rng);
 * ```
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import { batchOf, checkBatch, type ImageBatch, type Transform } from "./types.ts";

/**
 * Chains transforms: the output of each is the input of the next. Each draws
 * its per-image parameters from the same `rng`, in order. No transforms =
 * identity.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { randomGaussianBlur } from "./blur.ts";
 * import { randomHorizontalFlip } from "./colour.ts";
 * import { compose } from "./compose.ts";
 * import { batchOf } from "./types.ts";
 * const pipeline = compose(
 *   randomHorizontalFlip({ p: 0.5 }),
 *   randomGaussianBlur({ kernelSize: 3, sigma: [0.1, 2], p: 0.25 }),
 * );
 * const batch = batchOf(new Float32Array(2 * 28 * 28), 2, 28, 28, 1);
 * const out = pipeline.apply(batch, new Rng(0));
 * ```
 */
export function compose(...transforms: Transform[]): Transform {
  return {
    name: transforms.length ? transforms.map((t) => t.name).join(" -> ") : "identity",
    config: transforms.map((t) => t.config ?? t.name),
    apply(batch: ImageBatch, rng: Rng): ImageBatch {
      checkBatch(batch);
      if (transforms.length === 0) return { ...batch, data: batch.data.slice() };
      let out: ImageBatch = batch;
      for (const t of transforms) out = t.apply(out, rng);
      return out;
    },
  };
}

/**
 * The pipeline that changes nothing (it returns a copy): the "no
 * augmentation" arm of an experiment.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { identityAugment, twoViews } from "./compose.ts";
 * const images = new Float32Array(3 * 28 * 28).fill(0.25);
 * const [v1, v2] = twoViews(images, 3, 28, 28, 1, identityAugment(), new Rng(0)); // both = images
 * ```
 */
export function identityAugment(): Transform {
  return compose();
}

/**
 * Runs `pipeline` on a raw batch of `count` images (NHWC `Float32Array`,
 * values in [0, 1]) and returns the augmented pixels as a new array, drawing
 * every image's parameters from `rng` (which advances, so the next call
 * augments differently).
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { augmentBatch } from "./compose.ts";
 * import { digitAugment } from "./presets.ts";
 * const images = new Float32Array(4 * 28 * 28).fill(0.5);
 * const out = augmentBatch(images, 4, 28, 28, 1, digitAugment(), new Rng(1));
 * ```
 */
export function augmentBatch(
  images: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  pipeline: Transform,
  rng: Rng,
): Float32Array {
  const batch = batchOf(images, count, height, width, channels);
  const out = pipeline.apply(batch, rng);
  checkBatch(out);
  if (
    out.count !== count || out.height !== height || out.width !== width ||
    out.channels !== channels
  ) {
    throw new Error(`augmentBatch: pipeline "${pipeline.name}" changed the batch shape`);
  }
  return out.data;
}

/**
 * Two independently augmented copies of a batch, `[view1, view2]`: image `i`
 * of `view1` and image `i` of `view2` form SimCLR's positive pair. The views
 * use two different forks of `rng`, keyed by a number drawn from `rng`, so
 * each call (each training step) gets fresh views while the whole sequence
 * is fixed by the seed.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { twoViews } from "./compose.ts";
 * import { digitAugment } from "./presets.ts";
 * const images = new Float32Array(4 * 28 * 28).fill(0.5);
 * const [v1, v2] = twoViews(images, 4, 28, 28, 1, digitAugment(), new Rng(2));
 * ```
 */
export function twoViews(
  images: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  pipeline: Transform,
  rng: Rng,
): [Float32Array, Float32Array] {
  const key = rng.int(0x100000000);
  const rng1 = rng.fork(`twoViews:${key}:1`);
  const rng2 = rng.fork(`twoViews:${key}:2`);
  return [
    augmentBatch(images, count, height, width, channels, pipeline, rng1),
    augmentBatch(images, count, height, width, channels, pipeline, rng2),
  ];
}
