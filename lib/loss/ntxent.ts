/**
 * NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR
 * (Chen et al. 2020), also called InfoNCE.
 *
 * Rows `i` of `z1` and `z2` are two augmented views of the same image: a
 * positive pair. Every row is L2-normalised, so dot products are cosine
 * similarities; each of the 2N rows is an anchor whose positive is its twin
 * and whose 2N - 2 negatives are all the other rows of the batch. The loss is
 * a softmax cross-entropy over the 2N - 1 candidates of each anchor (itself
 * excluded), averaged over the 2N anchors:
 *
 *   loss_i = -log( exp(s(i, pos(i)) / τ) / Σ_{k ≠ i} exp(s(i, k) / τ) )
 *
 * It is computed with a log-sum-exp, so large logits (small τ) stay finite.
 *
 * @example
 * ```ts
 * const loss = ntXentLoss(project(view1), project(view2), 0.5);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Large enough that exp(-MASK) is exactly 0 in float32, small enough to stay finite. */
const MASK = 1e9;

/**
 * SimCLR's NT-Xent: rows of `z1` and `z2` are positive pairs; cosine
 * similarity divided by `temperature`; mean over the 2N anchors.
 */
export function ntXentLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature = 0.5): tf.Scalar {
  if (
    z1.rank !== 2 || z2.rank !== 2 || z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]
  ) {
    throw new Error(
      `ntXentLoss: z1 and z2 must be 2-D with the same shape, got [${z1.shape}] and [${z2.shape}]`,
    );
  }
  if (z1.shape[0] < 1) throw new Error("ntXentLoss: the batch is empty");
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`ntXentLoss: temperature must be a positive number, got ${temperature}`);
  }
  return tf.tidy(() => {
    const n = z1.shape[0];
    const z = tf.concat([z1, z2], 0);
    // Normalise; the epsilon keeps an all-zero row finite (its similarities are 0).
    const zn = tf.div(z, tf.add(tf.norm(z, 2, 1, true), 1e-12));
    const logits = tf.div(tf.matMul(zn, zn, false, true), temperature);
    const masked = tf.sub(logits, tf.mul(tf.eye(2 * n), MASK));
    // Anchor i's positive is its twin: i + N in the first half, i - N in the second.
    const twin = tf.concat([tf.range(n, 2 * n, 1, "int32"), tf.range(0, n, 1, "int32")]);
    const targets = tf.oneHot(twin, 2 * n);
    // softmaxCrossEntropy has a fused, log-sum-exp based gradient (softmax - target).
    return tf.losses.softmaxCrossEntropy(
      targets,
      masked,
      undefined,
      0,
      tf.Reduction.MEAN,
    ) as tf.Scalar;
  });
}
