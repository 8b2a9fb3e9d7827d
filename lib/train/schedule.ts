/**
 * The article's training schedule pieces: exponential learning-rate decay per
 * epoch, and early stopping on the relative improvement of the loss.
 *
 * @example
 * ```ts
 * import { EarlyStopping, exponentialDecay } from "./schedule.ts";
 * const losses = [1, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]; // one per epoch
 * const stop = new EarlyStopping({ minRelativeImprovement: 0.001, patience: 5 });
 * let e = 0;
 * for (; e < losses.length; e++) {
 *   const lr = exponentialDecay(0.01, 0.9, e); // train epoch e at this learning rate
 *   if (stop.update(losses[e])) break;
 * }
 * // e === 8: the sixth epoch in a row without progress
 * ```
 *
 * @module
 */

/** Learning rate of epoch `epoch` (0-based): `lr0 · gamma^epoch`. */
export function exponentialDecay(lr0: number, gamma: number, epoch: number): number {
  return lr0 * Math.pow(gamma, epoch);
}

/**
 * The per-epoch learning-rate factor that takes the rate from 1 to
 * `finalFraction` over `epochs` epochs (1 for a single epoch).
 */
export function decayTo(finalFraction: number, epochs: number): number {
  if (!(finalFraction > 0 && finalFraction <= 1)) {
    throw new RangeError(`decayTo: finalFraction must be in (0, 1], got ${finalFraction}`);
  }
  return epochs <= 1 ? 1 : Math.pow(finalFraction, 1 / (epochs - 1));
}

/** A budget of optimiser steps that grows with the training images: `perImage` each, clamped. */
export interface StepBudget {
  /** Steps per training image. */
  perImage: number;
  /** At least this many steps. */
  min: number;
  /** At most this many steps. */
  max: number;
}

/**
 * The optimiser steps of a step budget for `count` training images: a fixed number, or one
 * that grows with the images ({@linkcode StepBudget}). Throws a `RangeError` below one step.
 */
export function stepsFor(steps: number | StepBudget, count: number): number {
  const total = typeof steps === "number"
    ? steps
    : Math.min(steps.max, Math.max(steps.min, Math.round(steps.perImage * count)));
  if (!(total >= 1) || !Number.isFinite(total)) {
    throw new RangeError(`the step budget must be at least 1 step, got ${total}`);
  }
  return Math.round(total);
}

/**
 * The epochs a training run of `count` images in batches of `batchSize`
 * takes for a step budget ({@linkcode stepsFor}). At least one epoch.
 */
export function epochsForSteps(
  steps: number | StepBudget,
  count: number,
  batchSize: number,
): number {
  return Math.max(1, Math.ceil(stepsFor(steps, count) / Math.ceil(count / batchSize)));
}

/** Settings of `EarlyStopping`. */
export interface EarlyStoppingConfig {
  /** An epoch counts as progress when the loss falls by more than this fraction of the best loss. */
  minRelativeImprovement: number;
  /** Stop after more than this many epochs in a row without progress. */
  patience: number;
}

/**
 * Early stopping as in the article: stop when the relative improvement of the
 * loss has stayed under a threshold for more than `patience` epochs.
 */
export class EarlyStopping {
  best = Infinity;
  epochsWithoutProgress = 0;
  constructor(readonly config: EarlyStoppingConfig) {}

  /** Records an epoch's loss; returns true when training should stop. */
  update(loss: number): boolean {
    const progress = this.best === Infinity ||
      (this.best - loss) / Math.abs(this.best) > this.config.minRelativeImprovement;
    if (progress) {
      this.best = Math.min(this.best, loss);
      this.epochsWithoutProgress = 0;
    } else {
      this.best = Math.min(this.best, loss);
      this.epochsWithoutProgress++;
    }
    return this.epochsWithoutProgress > this.config.patience;
  }

  /** A plain object to store in a checkpoint. */
  state(): { best: number; epochsWithoutProgress: number } {
    return { best: this.best, epochsWithoutProgress: this.epochsWithoutProgress };
  }

  /** Restores `state()`. */
  restore(s: { best: number | null; epochsWithoutProgress: number }): void {
    this.best = s.best ?? Infinity; // JSON turns Infinity into null
    this.epochsWithoutProgress = s.epochsWithoutProgress;
  }
}
