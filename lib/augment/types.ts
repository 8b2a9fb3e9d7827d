/**
 * The two shapes every augmentation in `lib/augment/` shares: a batch of
 * images ({@linkcode ImageBatch}) and a random transform of such a batch
 * ({@linkcode Transform}).
 *
 * Images are `Float32Array`s, channels last (N x H x W x C), values in [0, 1],
 * the layout of the datasets in `lib/data/`. A transform draws its random
 * parameters from an {@linkcode Rng} *independently for every image* of the
 * batch (see `compose.ts` for why that matters in contrastive learning) and
 * returns a new batch; it never mutates its input.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { batchOf, type Transform } from "./types.ts";
 * const invert: Transform = {
 *   name: "invert",
 *   apply: (b) => ({ ...b, data: b.data.map((v) => 1 - v) }),
 * };
 * const out = invert.apply(batchOf(new Float32Array(2 * 28 * 28), 2, 28, 28, 1), new Rng(0));
 * ```
 *
 * @module
 */
import type { Rng } from "../rng.ts";

/**
 * A batch of same-sized images: `count * height * width * channels` values,
 * channels last, in [0, 1].
 *
 * @example
 * ```ts
 * import type { ImageBatch } from "./types.ts";
 * const batch: ImageBatch = { data: new Float32Array(4 * 28 * 28), count: 4, height: 28, width: 28, channels: 1 };
 * ```
 */
export interface ImageBatch {
  /** The pixel values, image after image, row after row, channels last. */
  data: Float32Array;
  /** The number of images. */
  count: number;
  /** Rows per image. */
  height: number;
  /** Columns per image. */
  width: number;
  /** Channels per pixel (1 = grey, 3 = RGB). */
  channels: number;
}

/**
 * A random augmentation of a batch. `apply` draws fresh, independent
 * parameters for every image from `rng` (so calling it twice with the same
 * `Rng` object gives two different augmentations, and the same seed gives the
 * same ones) and returns a new batch of the same shape; the input is never
 * modified.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { randomGaussianBlur } from "./blur.ts";
 * import { batchOf } from "./types.ts";
 * const batch = batchOf(new Float32Array(2 * 28 * 28), 2, 28, 28, 1);
 * const rng = new Rng(0);
 * const out = randomGaussianBlur({ kernelSize: 3, sigma: [0.1, 2], p: 0.5 }).apply(batch, rng);
 * ```
 */
export interface Transform {
  /** A short human-readable name, e.g. `"gaussianBlur(k=3, p=0.25)"`. */
  name: string;
  /** The settings the transform was built from (a plain JSON-able object), for display. */
  config?: unknown;
  /** Returns a new, augmented batch; `batch` is left untouched. */
  apply(batch: ImageBatch, rng: Rng): ImageBatch;
}

/**
 * Builds an {@linkcode ImageBatch} and checks that the shape fields are
 * positive integers (count may be 0) agreeing with `data.length`; throws
 * otherwise.
 *
 * @example
 * ```ts
 * import { batchOf } from "./types.ts";
 * const images = new Float32Array(512 * 28 * 28);
 * const batch = batchOf(images, 512, 28, 28, 1);
 * ```
 */
export function batchOf(
  data: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
): ImageBatch {
  const batch = { data, count, height, width, channels };
  checkBatch(batch);
  return batch;
}

/**
 * Throws an `Error` if the batch's fields disagree: non-integer or
 * non-positive sizes, or `data.length !== count * height * width * channels`.
 *
 * @example
 * ```ts
 * import { checkBatch } from "./types.ts";
 * checkBatch({ data: new Float32Array(10), count: 1, height: 2, width: 5, channels: 1 }); // ok
 * ```
 */
export function checkBatch(batch: ImageBatch): void {
  const { data, count, height, width, channels } = batch;
  if (!(data instanceof Float32Array)) {
    throw new Error("ImageBatch: data must be a Float32Array");
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`ImageBatch: count must be a non-negative integer, got ${count}`);
  }
  for (const [k, v] of [["height", height], ["width", width], ["channels", channels]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`ImageBatch: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (data.length !== count * height * width * channels) {
    throw new Error(
      `ImageBatch: data has ${data.length} values, expected count x height x width x channels` +
        ` = ${count} x ${height} x ${width} x ${channels}`,
    );
  }
}

/**
 * Checks a `[lo, hi]` range option (finite, `lo <= hi`, optionally within
 * `[min, max]`) and throws an `Error` naming the transform and field if not.
 *
 * @example
 * ```ts
 * import { checkRange } from "./types.ts";
 * checkRange("gaussianBlur", "sigma", [0.1, 2], 0); // ok
 * ```
 */
export function checkRange(
  where: string,
  field: string,
  range: readonly [number, number],
  min = -Infinity,
  max = Infinity,
): void {
  if (
    !Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) ||
    !Number.isFinite(range[1]) || range[0] > range[1] || range[0] < min || range[1] > max
  ) {
    throw new Error(
      `${where}: ${field} must be a range [lo, hi] with ${min} <= lo <= hi <= ${max}, got ${
        JSON.stringify(range)
      }`,
    );
  }
}

/**
 * Checks a probability option (a number in [0, 1]) and throws an `Error`
 * naming the transform and field if not.
 *
 * @example
 * ```ts
 * import { checkProbability } from "./types.ts";
 * checkProbability("randomGreyscale", "p", 0.2); // ok
 * ```
 */
export function checkProbability(where: string, field: string, p: number): void {
  if (!(p >= 0 && p <= 1)) {
    throw new Error(`${where}: ${field} must be a probability in [0, 1], got ${p}`);
  }
}
