/**
 * Gathering mini-batches of images out of a flat `Float32Array` dataset.
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
