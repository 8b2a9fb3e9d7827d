/**
 * Gathering mini-batches of images out of a flat `Float32Array` dataset.
 *
 * @example
 * ```ts
 * import { batchesOf, gatherImages, gatherLabels } from "./batches.ts";
 * const images = new Float32Array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]); // five images of 2 floats
 * const labels = new Int32Array([0, 1, 2, 3, 4]);
 * const order = new Int32Array([4, 2, 0, 3, 1]); // a shuffled index list
 * for (const b of batchesOf(order, 2, true)) { // [4, 2], [0, 3]; the partial [1] is dropped
 *   const x = gatherImages(images, 2, b); // [4, 4, 2, 2], then [0, 0, 3, 3]
 *   const y = gatherLabels(labels, b); // [4, 2], then [0, 3]
 * }
 * ```
 *
 * @module
 */

/** Copies the images at `indices` (each `size` floats) into one contiguous batch. */
export function gatherImages(
  images: Float32Array,
  size: number,
  indices: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) {
    const at = indices[i] * size;
    out.set(images.subarray(at, at + size), i * size);
  }
  return out;
}

/** The labels at `indices`. */
export function gatherLabels(labels: Int32Array, indices: ArrayLike<number>): Int32Array {
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = labels[indices[i]];
  return out;
}

/**
 * Splits a shuffled index list into batches of `batchSize`; with `dropLast`
 * the final partial batch is skipped (contrastive steps want full batches).
 */
export function batchesOf(order: Int32Array, batchSize: number, dropLast: boolean): Int32Array[] {
  const out: Int32Array[] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const b = order.subarray(i, Math.min(i + batchSize, order.length));
    if (dropLast && b.length < batchSize) break;
    out.push(b);
  }
  return out;
}

/** One mini-batch of {@linkcode imageBatches}: its images (flat NHWC), labels and indices. */
export interface ImageBatch {
  /** `count` images, flat NHWC, copied out of the dataset. */
  images: Float32Array;
  /** Their labels (-1 for unlabelled images). */
  labels: Int32Array;
  /** Their indices in the dataset. */
  indices: Int32Array;
  count: number;
}

/** Options of {@linkcode imageBatches}. */
export interface ImageBatchOptions {
  /** Images per batch. */
  batchSize: number;
  /** Which images (default: all of them). */
  indices?: Int32Array;
  /** Passes over them (default 1). */
  epochs?: number;
  /** Skip the last, smaller batch of each pass (default true: contrastive steps want full ones). */
  dropLast?: boolean;
  /** Shuffles every pass (seeded: `rng.fork("epoch-<k>")`). */
  rng: { fork(label: string): { shuffle(a: Int32Array): Int32Array } };
}

/**
 * Shuffled mini-batches of a dataset's images, pass after pass: the batch iterator of a
 * custom training loop (`for (const b of imageBatches(train, { batchSize: 256, rng }))`).
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { imageBatches } from "./batches.ts";
 * const data = { images: new Float32Array(10 * 4), labels: new Int32Array(10), height: 2, width: 2, channels: 1, count: 10 };
 * for (const b of imageBatches(data, { batchSize: 4, rng: new Rng(0) })) {
 *   console.log(b.count, b.images.length); // 4 16, twice (the last 2 images are dropped)
 * }
 * ```
 */
export function* imageBatches(
  data: {
    images: Float32Array;
    labels: Int32Array;
    height: number;
    width: number;
    channels: number;
    count: number;
  },
  options: ImageBatchOptions,
): Generator<ImageBatch> {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`imageBatches: batchSize must be a positive integer, got ${batchSize}`);
  }
  const size = data.height * data.width * data.channels;
  const pool = options.indices ?? Int32Array.from({ length: data.count }, (_, i) => i);
  for (let epoch = 0; epoch < (options.epochs ?? 1); epoch++) {
    const order = options.rng.fork(`epoch-${epoch}`).shuffle(Int32Array.from(pool));
    for (const indices of batchesOf(order, batchSize, options.dropLast ?? true)) {
      yield {
        images: gatherImages(data.images, size, indices),
        labels: gatherLabels(data.labels, indices),
        indices,
        count: indices.length,
      };
    }
  }
}
