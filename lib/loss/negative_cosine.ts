/**
 * The negative cosine similarity of SimSiam (Chen & He 2021, "Exploring Simple Siamese
 * Representation Learning", eq. 1-2) and BYOL (Grill et al. 2020, "Bootstrap Your Own Latent",
 * eq. 2), where a predictor's outputs p chase targets z that are held fixed by a stop-gradient.
 *
 * With two views of every image, p1 = h(z1), p2 = h(z2) (h the prediction head), the loss is
 * SimSiam's symmetric form
 *
 *   L = D(p1, stopgrad(z2)) / 2 + D(p2, stopgrad(z1)) / 2,  D(p, z) = -mean_i cos(p_i, z_i),
 *
 * in [-1, 1], -1 when every prediction points along its target. We chose SimSiam's -cos form;
 * BYOL writes each direction as the squared distance of the unit vectors, 2 - 2·cos, and adds
 * the two directions, which is `4 + 4·L`: the same minimiser and gradients 4 times larger
 * (a learning-rate factor). In BYOL the targets come from the momentum (EMA) network instead of
 * the online one; that changes what the caller passes as z, not this loss.
 *
 * The stop-gradient. tfjs 4.22 has no `tf.stopGradient`, so {@linkcode stopGradient} makes one
 * with `tf.customGrad`: the identity on values whose gradient is zero. The loss applies it to
 * the targets itself, so inside `optimizer.minimize` or `tf.variableGrads` no gradient flows
 * through z (it still flows through p, and so through z's branch by way of the predictor). A
 * caller may equally compute the targets outside the gradient function (e.g. the EMA network's
 * outputs) and pass them in: a tensor made outside the function carries no gradient either.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { symmetricNegativeCosineLoss } from "./negative_cosine.ts";
 * const z1 = tf.tensor2d([[1, 0], [0, 1]]); // projections of the first views
 * const z2 = tf.tensor2d([[0.9, 0.1], [0.2, 0.8]]); // of the second views
 * const p1 = tf.tensor2d([[0.8, 0.2], [0.1, 0.9]]); // the predictor's outputs on z1
 * const p2 = tf.tensor2d([[1, 0], [0, 1]]); // on z2
 * const loss = symmetricNegativeCosineLoss(p1, p2, z1, z2); // about -0.995: near the minimum -1
 * tf.dispose([z1, z2, p1, p2, loss]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * The identity whose gradient is zero: what `torch.Tensor.detach` and TensorFlow's
 * `tf.stop_gradient` do, for tfjs 4.22 which has neither. Inside `tf.grad`, `tf.variableGrads`
 * or `optimizer.minimize`, nothing upstream of the result is trained through it.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { stopGradient } from "./negative_cosine.ts";
 * const x = tf.scalar(3);
 * const g = tf.grad((v: tf.Tensor) => tf.add(tf.square(v), stopGradient(tf.square(v))))(x);
 * console.log(g.dataSync()[0]); // 6: only the first square is differentiated
 * tf.dispose([x, g]);
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const detached = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    return {
      value: tf.clone(input),
      gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
    };
  });
  return detached(x) as T;
}

function checkPair(where: string, p: tf.Tensor2D, z: tf.Tensor2D): void {
  if (p.rank !== 2 || z.rank !== 2 || p.shape[0] !== z.shape[0] || p.shape[1] !== z.shape[1]) {
    throw new Error(
      `${where}: predictions and targets must be 2-D with the same shape, got [${p.shape}] and [${z.shape}]`,
    );
  }
  if (p.shape[0] < 1 || p.shape[1] < 1) throw new Error(`${where}: the batch is empty`);
}

/**
 * Rows scaled to length 1. The squared norm is floored at 1e-24 (the norm at 1e-12) before the
 * reciprocal square root, so an all-zero row stays zero with a finite gradient.
 */
function unitRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-24)));
}

/**
 * SimSiam's D(p, z): minus the mean over rows of the cosine similarity of each prediction
 * `p_i` with its target `z_i`, the targets behind a {@linkcode stopGradient}. In [-1, 1].
 *
 * Throws an `Error` unless `p` and `z` are 2-D with the same, non-empty shape.
 */
export function negativeCosineSimilarity(p: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar {
  checkPair("negativeCosineSimilarity", p, z);
  return tf.tidy(() => {
    const cos = tf.sum(tf.mul(unitRows(p), unitRows(stopGradient(z))), 1);
    return tf.neg(tf.mean(cos)) as tf.Scalar;
  });
}

/**
 * SimSiam's symmetric loss `D(p1, z2) / 2 + D(p2, z1) / 2`: each view's prediction chases the
 * other view's (stop-gradient) projection. `p1`, `p2` are the prediction head's outputs on the
 * projections `z1`, `z2` of the two views. BYOL's loss is `4 + 4·` this value (module notes).
 *
 * Throws an `Error` unless all four are 2-D with the same, non-empty shape.
 */
export function symmetricNegativeCosineLoss(
  p1: tf.Tensor2D,
  p2: tf.Tensor2D,
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
): tf.Scalar {
  checkPair("symmetricNegativeCosineLoss", p1, z2);
  checkPair("symmetricNegativeCosineLoss", p2, z1);
  checkPair("symmetricNegativeCosineLoss", p1, p2);
  return tf.tidy(() =>
    tf.mul(tf.add(negativeCosineSimilarity(p1, z2), negativeCosineSimilarity(p2, z1)), 0.5)
  );
}
