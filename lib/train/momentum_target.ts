/**
 * BYOL's momentum (target) network (Grill et al. 2020, "Bootstrap Your Own Latent", section
 * 3.1): a copy ξ of the online backbone and projection head θ, never trained by gradients, moved
 * after every optimiser step by an exponential moving average
 *
 *   ξ ← τ·ξ + (1 − τ)·θ,
 *
 * with τ rising from τ_base to 1 over the run on BYOL's cosine schedule
 * (section 3.2: τ = 1 − (1 − τ_base)·(cos(πk/K) + 1)/2 at step k of K), or held at τ_base
 * (`"fixed"`). The average covers the weights the online network trains (kernels, biases,
 * batch normalisation's gamma and beta); the target's moving statistics of batch normalisation
 * are its own, updated by its forward passes in training mode, as BYOL runs its target
 * (`ssl_objective.ts`, `targetOutputs`).
 *
 * The update is tfjs arithmetic on the main thread's models (no synchronous read, so it runs
 * on webgpu), after the optimiser step, identically in single-thread and data-parallel
 * pre-training.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { emaUpdate, momentumTarget, tauAt } from "./momentum_target.ts";
 * const backbone = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
 * const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
 * const target = await momentumTarget(backbone, head); // copies, same weights
 * // ... an optimiser step on backbone and head, then:
 * emaUpdate(target, { backbone, head }, tauAt(0, 100, 0.99, "cosine")); // τ = 0.99 at step 0
 * target.dispose();
 * backbone.dispose();
 * head.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { cloneModel } from "../models/model_transfer.ts";

/** BYOL's base momentum τ_base: 0.99 (the paper's value for batches below 4096: 0.99 to 0.996). */
export const BYOL_TAU = 0.99;

/** How τ moves over the run: BYOL's cosine rise to 1, or fixed at τ_base. */
export type TauSchedule = "cosine" | "fixed";

/** The momentum network: copies of the online backbone and head. */
export interface MomentumTarget {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  /** Frees both copies. */
  dispose(): void;
}

/**
 * Copies of `backbone` and `head` with the same weights (read asynchronously: webgpu-safe).
 * Their variables stay marked trainable, so that their batch normalisation runs in training
 * mode; they get no gradient because the training loops compute the targets outside the
 * gradient function.
 */
export async function momentumTarget(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
): Promise<MomentumTarget> {
  const b = await cloneModel(backbone);
  let h: tf.LayersModel;
  try {
    h = await cloneModel(head);
  } catch (e) {
    b.dispose();
    throw e;
  }
  return {
    backbone: b,
    head: h,
    dispose: () => {
      b.dispose();
      h.dispose();
    },
  };
}

/**
 * τ after optimiser step `step` (0-based) of `totalSteps`: BYOL's cosine schedule from `base`
 * (step 0) towards 1 (step `totalSteps`), or `base` throughout (`"fixed"`). Throws a
 * `RangeError` unless `base` is in [0, 1].
 */
export function tauAt(
  step: number,
  totalSteps: number,
  base = BYOL_TAU,
  schedule: TauSchedule = "cosine",
): number {
  if (!(base >= 0 && base <= 1)) {
    throw new RangeError(`BYOL's momentum tau must be a number in [0, 1], got ${base}`);
  }
  if (schedule === "fixed" || totalSteps <= 0) return base;
  const k = Math.min(Math.max(step, 0), totalSteps);
  return 1 - (1 - base) * (Math.cos((Math.PI * k) / totalSteps) + 1) / 2;
}

/**
 * ξ ← τ·ξ + (1 − τ)·θ for every weight the online models train (by position: the target is a
 * copy), the moving statistics left as they are.
 */
export function emaUpdate(
  target: { backbone: tf.LayersModel; head: tf.LayersModel },
  online: { backbone: tf.LayersModel; head: tf.LayersModel },
  tau: number,
): void {
  const pairs = [[target.backbone, online.backbone], [target.head, online.head]] as const;
  tf.tidy(() => {
    for (const [t, o] of pairs) {
      const mine = t.weights;
      const theirs = o.weights;
      if (mine.length !== theirs.length) {
        throw new Error(
          `emaUpdate: the target has ${mine.length} weights, the online model ${theirs.length}`,
        );
      }
      theirs.forEach((w, i) => {
        if (!w.trainable) return; // moving statistics: the target's own
        const v = mine[i].read() as tf.Variable;
        v.assign(tf.add(tf.mul(v, tau), tf.mul(w.read(), 1 - tau)));
      });
    }
  });
}
