/**
 * What supervised training can learn from unlabelled images besides the labels, and the
 * batches it draws them in:
 *
 * - {@linkcode DistillTargets}: a fixed teacher's soft labels (SimCLRv2's distillation, Chen
 *   et al. 2020b): the loss is `weight · CE(labels) + (1 - weight) · τ² · CE(teacher's
 *   softmax(logits / τ), student's softmax(logits / τ))`;
 * - {@linkcode SelfTraining}: the model's own pseudo-labels, refreshed at every step
 *   (FixMatch, Sohn et al. 2020): each unlabelled image gets a weak view and a strong view;
 *   the class the model predicts for the weak view (in inference mode, no gradient) becomes the
 *   target of the strong view when the model is confident enough (`threshold`); the loss adds
 *   `weight · mean(mask · CE(pseudo-label, strong view))`.
 *
 * {@linkcode unlabelledSampler} draws the unlabelled batches: a seeded order over positions
 * `0..count-1` of the unlabelled list, taken `batchSize` at a time and reshuffled when it runs
 * out.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { unlabelledSampler } from "./unlabelled.ts";
 * const next = unlabelledSampler(3, 2, new Rng(0));
 * const a = next(); // two of the positions 0, 1, 2
 * const b = next(); // the third, then the first of a new order
 * console.log(a.length, b.length); // 2 2
 * ```
 *
 * @module
 */
import type { Rng } from "../rng.ts";

/** A batch augmentation: `count` images in, `count` views out. */
export type BatchAugment = (batch: Float32Array, count: number, rng: Rng) => Float32Array;

/** Distillation on unlabelled images from a fixed teacher's soft labels (see the module doc). */
export interface DistillTargets {
  /** The unlabelled images (indices into `images`). */
  indices: Int32Array;
  /** The teacher's softmax at `temperature`, `indices.length x numClasses`, row-major. */
  probs: Float32Array;
  /** τ of both softmaxes (SimCLRv2: 1). */
  temperature: number;
  /** Weight of the true labels' loss, in [0, 1) (the rest goes to the soft labels). */
  weight: number;
  /** Unlabelled images per step. */
  batchSize: number;
}

/** Self-training on unlabelled images with the model's own pseudo-labels (see the module doc). */
export interface SelfTraining {
  /** The unlabelled images (indices into `images`). */
  indices: Int32Array;
  /** Unlabelled images per step. */
  batchSize: number;
  /** A pseudo-label counts when the model's probability for it is above this (FixMatch: 0.95). */
  threshold: number;
  /** Weight λ of the unlabelled loss (FixMatch: 1). */
  weight: number;
  /** The weak view the pseudo-labels come from (default: the image itself). */
  weak?: BatchAugment;
  /** The strong view that learns them. */
  strong: BatchAugment;
  /**
   * Take the pseudo-labels from a slowly moving average of the model's weights instead of the
   * model itself (the "mean teacher", Tarvainen & Valpola 2017): after every step each averaged
   * weight moves to `m · average + (1 - m) · weight`. Undefined or 0: the model itself.
   */
  emaMomentum?: number;
}

/** The next batch of positions in a list of `total` unlabelled images; see the module doc. */
export function unlabelledSampler(
  total: number,
  batchSize: number,
  rng: Rng,
): () => Int32Array {
  if (!(total >= 1)) throw new RangeError("unlabelled images: none given");
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `unlabelled images: batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  const count = Math.min(batchSize, total);
  let order = rng.permutation(total);
  let at = 0;
  return () => {
    const out = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      if (at === order.length) {
        order = rng.shuffle(order);
        at = 0;
      }
      out[k] = order[at++];
    }
    return out;
  };
}

/** The rows of `probs` (`dim` wide) for positions `rows` of the sampler's index list. */
export function gatherRows(
  probs: Float32Array,
  dim: number,
  rows: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let k = 0; k < rows.length; k++) {
    out.set(probs.subarray(rows[k] * dim, (rows[k] + 1) * dim), k * dim);
  }
  return out;
}
