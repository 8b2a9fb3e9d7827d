/**
 * The Barlow Twins loss (Zbontar, Jing, Misra, LeCun & Deny 2021, "Barlow Twins: Self-Supervised
 * Learning via Redundancy Reduction", eq. 1): the cross-correlation matrix of the two views'
 * embeddings should be the identity.
 *
 * Every column (feature) of `z1` and of `z2` is standardised over the batch, as an affine-free
 * batch normalisation: `(z - mean) / sqrt(var + 1e-5)` with the biased variance (the paper's
 * code uses `nn.BatchNorm1d(affine=False)`, whose epsilon is 1e-5). Then
 *
 *   C = z1nᵀ z2n / N,   L = Σ_i (1 - C_ii)² + λ Σ_{i≠j} C_ij²,
 *
 * N the batch size and d the width: the first sum pulls each feature to agree across views
 * (invariance), the second decorrelates different features (redundancy reduction). λ is
 * 5e-3 by default, the paper's value for d = 8192. The loss is 0 only when C is the identity;
 * d when the views are uncorrelated or the embeddings constant (every standardised column is
 * then 0), and λ·d(d - 1) when all d features carry one and the same signal.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { barlowTwinsLoss } from "./barlow_twins.ts";
 * const z1 = tf.tensor2d([[1, 0], [-1, 0.5], [0.5, -1], [-0.5, 0.5]]);
 * const z2 = tf.tensor2d([[0.9, 0.1], [-1, 0.4], [0.6, -0.9], [-0.4, 0.6]]);
 * const loss = barlowTwinsLoss(z1, z2); // small: matching features, little cross-talk
 * tf.dispose([z1, z2, loss]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Epsilon of the per-feature standardisation (that of PyTorch's batch normalisation). */
const EPSILON = 1e-5;

/** Columns of `z` standardised over the rows (biased variance, epsilon {@linkcode EPSILON}). */
function standardiseColumns(z: tf.Tensor2D): tf.Tensor2D {
  const { mean, variance } = tf.moments(z, 0, true);
  return tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, EPSILON)));
}

/**
 * Barlow Twins' loss on the embeddings `z1`, `z2` of two views (rows are images, row i of each
 * the same image), with the off-diagonal weight `lambda` (default 5e-3).
 *
 * Throws an `Error` unless `z1` and `z2` are 2-D with the same shape and at least 2 rows (the
 * standardisation needs a batch), and a `RangeError` unless `lambda` is finite and >= 0.
 */
export function barlowTwinsLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, lambda = 5e-3): tf.Scalar {
  if (
    z1.rank !== 2 || z2.rank !== 2 || z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]
  ) {
    throw new Error(
      `barlowTwinsLoss: z1 and z2 must be 2-D with the same shape, got [${z1.shape}] and [${z2.shape}]`,
    );
  }
  if (z1.shape[0] < 2 || z1.shape[1] < 1) {
    throw new Error(`barlowTwinsLoss: need at least 2 rows and 1 column, got [${z1.shape}]`);
  }
  if (!(lambda >= 0) || !Number.isFinite(lambda)) {
    throw new RangeError(`barlowTwinsLoss: lambda must be a finite number >= 0, got ${lambda}`);
  }
  const n = z1.shape[0];
  return tf.tidy(() => {
    const a = standardiseColumns(z1);
    const b = standardiseColumns(z2);
    const c = tf.div(tf.matMul(a, b, true, false), n);
    // The diagonal C_ii straight from the columns, without a d x d mask.
    const diagonal = tf.div(tf.sum(tf.mul(a, b), 0), n);
    const onDiagonal = tf.sum(tf.square(tf.sub(1, diagonal)));
    const offDiagonal = tf.sub(tf.sum(tf.square(c)), tf.sum(tf.square(diagonal)));
    return tf.add(onDiagonal, tf.mul(offDiagonal, lambda)) as tf.Scalar;
  });
}
