/**
 * The VICReg loss (Bardes, Ponce & LeCun 2022, "VICReg: Variance-Invariance-Covariance
 * Regularization for Self-Supervised Learning", eq. 1-6 and Algorithm 1): three terms on the
 * embeddings `z1`, `z2` (N rows, d columns) of two views.
 *
 * - **invariance** s: the mean squared difference of the two views, over all N·d entries
 *   (Algorithm 1's `mse_loss`; eq. 5 writes the sum over the d features, d times this);
 * - **variance** v: for each branch, the mean over the d features of the hinge
 *   `max(0, 1 - sqrt(Var(z_j) + 1e-4))` (unbiased variance), summed over the two branches: it
 *   keeps every feature's standard deviation up at 1 and so forbids collapse. It is at most
 *   `2·(1 - sqrt(1e-4)) = 1.98`, reached when every row is the same;
 * - **covariance** c: for each branch, the sum of the squared off-diagonal entries of the
 *   unbiased covariance matrix divided by d, summed over the two branches: it decorrelates
 *   the features.
 *
 * The loss is `λ·s + μ·v + ν·c` with the paper's weights λ = μ = 25, ν = 1. (The authors'
 * released code halves the variance term, averaging the two branches instead of adding them;
 * we follow the paper's equation 6 and Algorithm 1.) {@linkcode vicregTerms} gives the three
 * terms apart, for monitoring.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { vicregLoss, vicregTerms } from "./vicreg.ts";
 * const z1 = tf.tensor2d([[1, 0], [-1, 0.5], [0.5, -1], [-0.5, 0.5]]);
 * const z2 = tf.tensor2d([[0.9, 0.1], [-1, 0.4], [0.6, -0.9], [-0.4, 0.6]]);
 * const loss = vicregLoss(z1, z2);
 * const { invariance, variance, covariance } = vicregTerms(z1, z2);
 * tf.dispose([z1, z2, loss, invariance, variance, covariance]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Added to each feature's variance before the square root (the paper's epsilon). */
const EPSILON = 1e-4;

/** The weights of VICReg's three terms; the paper's by default. */
export interface VicregWeights {
  /** λ, the weight of the invariance term (default 25). */
  invariance?: number;
  /** μ, the weight of the variance term (default 25). */
  variance?: number;
  /** ν, the weight of the covariance term (default 1). */
  covariance?: number;
}

/** VICReg's three terms, each a scalar (unweighted). */
export interface VicregTerms {
  /** Mean squared difference of the two views. */
  invariance: tf.Scalar;
  /** The standard-deviation hinge, summed over both branches: 0 to 1.98. */
  variance: tf.Scalar;
  /** Off-diagonal covariance squares over d, summed over both branches. */
  covariance: tf.Scalar;
}

function checkViews(where: string, z1: tf.Tensor2D, z2: tf.Tensor2D): void {
  if (
    z1.rank !== 2 || z2.rank !== 2 || z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]
  ) {
    throw new Error(
      `${where}: z1 and z2 must be 2-D with the same shape, got [${z1.shape}] and [${z2.shape}]`,
    );
  }
  if (z1.shape[0] < 2 || z1.shape[1] < 1) {
    throw new Error(
      `${where}: need at least 2 rows (an unbiased variance) and 1 column, got [${z1.shape}]`,
    );
  }
}

/** One branch's variance hinge and covariance penalty. */
function branchTerms(z: tf.Tensor2D): [tf.Scalar, tf.Scalar] {
  const [n, d] = z.shape;
  const centred = tf.sub(z, tf.mean(z, 0, true));
  const varianceJ = tf.div(tf.sum(tf.square(centred), 0), n - 1);
  const std = tf.sqrt(tf.add(varianceJ, EPSILON));
  const hinge = tf.mean(tf.relu(tf.sub(1, std))) as tf.Scalar;
  const cov = tf.div(tf.matMul(centred, centred, true, false), n - 1);
  // Off-diagonal squares: all squares less the diagonal's (the variances), no d x d mask.
  const off = tf.sub(tf.sum(tf.square(cov)), tf.sum(tf.square(varianceJ)));
  return [hinge, tf.div(off, d) as tf.Scalar];
}

/**
 * VICReg's invariance, variance and covariance terms on `z1`, `z2` (unweighted; module notes).
 * The caller disposes the three scalars.
 *
 * Throws an `Error` unless `z1` and `z2` are 2-D with the same shape and at least 2 rows.
 */
export function vicregTerms(z1: tf.Tensor2D, z2: tf.Tensor2D): VicregTerms {
  checkViews("vicregTerms", z1, z2);
  const [invariance, variance, covariance] = tf.tidy(() => {
    const s = tf.mean(tf.square(tf.sub(z1, z2))) as tf.Scalar;
    const [v1, c1] = branchTerms(z1);
    const [v2, c2] = branchTerms(z2);
    return [s, tf.add(v1, v2) as tf.Scalar, tf.add(c1, c2) as tf.Scalar];
  });
  return { invariance, variance, covariance };
}

/**
 * The VICReg loss `λ·s + μ·v + ν·c` on the embeddings `z1`, `z2` of two views, with the
 * paper's weights (25, 25, 1) unless `weights` says otherwise.
 *
 * Throws an `Error` unless `z1` and `z2` are 2-D with the same shape and at least 2 rows, and a
 * `RangeError` unless every weight is a finite number >= 0.
 */
export function vicregLoss(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  weights: VicregWeights = {},
): tf.Scalar {
  checkViews("vicregLoss", z1, z2);
  const w = {
    invariance: weights.invariance ?? 25,
    variance: weights.variance ?? 25,
    covariance: weights.covariance ?? 1,
  };
  for (const [name, value] of Object.entries(w)) {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new RangeError(
        `vicregLoss: the ${name} weight must be a finite number >= 0, got ${value}`,
      );
    }
  }
  return tf.tidy(() => {
    const t = vicregTerms(z1, z2);
    return tf.addN([
      tf.mul(t.invariance, w.invariance),
      tf.mul(t.variance, w.variance),
      tf.mul(t.covariance, w.covariance),
    ]) as tf.Scalar;
  });
}
