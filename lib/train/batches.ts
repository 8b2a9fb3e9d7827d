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
