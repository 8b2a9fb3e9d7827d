/**
 * The article's training schedule pieces: exponential learning-rate decay per
 * epoch, and early stopping on the relative improvement of the loss.
 *
 * @example
 * ```ts
 * const stop = new EarlyStopping({ minRelativeImprovement: 0.001, patience: 5 });
 * for (let e = 0; e < 100 && !stop.update(epochLoss(e)); e++) { ... }
 * ```
 *
 * @module
 */

/** Learning rate of epoch `epoch` (0-based): `lr0 · gamma^epoch`. */
export function exponentialDecay(lr0: number, gamma: number, epoch: number): number {
  return lr0 * Math.pow(gamma, epoch);
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
