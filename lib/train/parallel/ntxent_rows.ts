/**
 * NT-Xent split by anchors, so that several workers can share the loss of one
 * batch.
 *
 * NT-Xent (`lib/loss/ntxent.ts`) is the mean over the 2N anchors of a softmax
 * cross-entropy, one row of the 2N x 2N similarity matrix each. The rows are
 * independent once every z is known, so the loss is a sum of parts: the part
 * of anchors `[start, end)` is `Σ_{i ∈ [start, end)} loss_i / 2N`, and the
 * parts of a partition of `[0, 2N)` add up to `ntXentLoss(z1, z2)`. The
 * gradient of each part with respect to the *whole* z (every row appears as a
 * negative or positive of every anchor) adds up the same way, so W workers
 * each computing an `m x 2N` block cost 1/W of the loss's work instead of one
 * thread computing all of it.
 *
 * Same arithmetic as `ntXentLoss` (L2-normalise, cosine / τ, self-similarity
 * masked out, softmax cross-entropy with the twin as target): the sum of the
 * parts equals the whole up to float summation order.
 *
 * @example
 * ```ts
 * const z = tf.concat([z1, z2]); // 2N rows: first views, then second views
 * const whole = tf.add(ntXentLossRows(z, 0, n, 0.5), ntXentLossRows(z, n, 2 * n, 0.5));
 * // whole ≈ ntXentLoss(z1, z2, 0.5)
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Same mask as `ntXentLoss`: exp(-MASK) is exactly 0 in float32. */
const MASK = 1e9;

/**
 * The part of NT-Xent contributed by anchors `start..end-1`: the sum of their
 * losses divided by 2N. `z` holds all 2N projections, the first views in rows
 * `0..N-1` and their twins in rows `N..2N-1`.
 */
export function ntXentLossRows(
  z: tf.Tensor2D,
  start: number,
  end: number,
  temperature = 0.5,
): tf.Scalar {
  const rows = z.shape[0];
  if (z.rank !== 2 || rows < 2 || rows % 2 !== 0) {
    throw new Error(`ntXentLossRows: z must be 2-D with an even number of rows, got [${z.shape}]`);
  }
  if (
    !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > rows || start >= end
  ) {
    throw new Error(`ntXentLossRows: need 0 <= start < end <= ${rows}, got ${start}..${end}`);
  }
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`ntXentLossRows: temperature must be a positive number, got ${temperature}`);
  }
  return tf.tidy(() => {
    const n = rows / 2;
    const m = end - start;
    const zn = tf.div(z, tf.add(tf.norm(z, 2, 1, true), 1e-12));
    const anchors = tf.slice(zn, [start, 0], [m, -1]);
    const logits = tf.div(tf.matMul(anchors, zn, false, true), temperature);
    const self = tf.oneHot(tf.range(start, end, 1, "int32"), rows).toFloat();
    const masked = tf.sub(logits, tf.mul(self, MASK));
    const twin = Int32Array.from({ length: m }, (_, k) => (start + k + n) % rows);
    const targets = tf.oneHot(tf.tensor1d(twin, "int32"), rows);
    const sum = tf.losses.softmaxCrossEntropy(targets, masked, undefined, 0, tf.Reduction.SUM);
    return tf.div(sum, rows) as tf.Scalar;
  });
}
