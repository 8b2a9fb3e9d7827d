/**
 * The settings of supervised training ({@linkcode SupervisedConfig}, plain JSON: the optimiser
 * and its schedule, the budget in steps or epochs, the batch size, the backbone's learning-rate
 * scale, label smoothing, how often a record is taken) and {@linkcode supervisedSteps}, the
 * budget they give in optimiser steps. `supervised.ts` trains with them.
 *
 * @example
 * ```ts
 * import { type SupervisedConfig, supervisedSteps } from "./supervised_config.ts";
 * const config: SupervisedConfig = {
 *   epochs: 3,
 *   batchSize: 32,
 *   optimizer: "sgd",
 *   learningRate: 0.01,
 * };
 * supervisedSteps(config, 100); // 12: 3 epochs of 4 batches
 * supervisedSteps({ ...config, steps: { perImage: 2, min: 50, max: 1000 } }, 100); // 200
 * ```
 *
 * @module
 */
import { type StepBudget, stepsFor } from "./schedule.ts";
import type { OptimizerSettings, ScheduleSettings } from "./optimizer.ts";

/** Settings of supervised training (plain JSON). */
export interface SupervisedConfig extends OptimizerSettings, ScheduleSettings {
  /** Passes over the labelled images (when `steps` is not set). */
  epochs?: number;
  /**
   * A budget of optimiser steps instead of epochs: a number, or steps per
   * labelled image (clamped), so that 80 labels train as long as 800 do
   * per image and a tiny label budget is not two steps an epoch for a few epochs.
   */
  steps?: number | StepBudget;
  /** Decay the learning rate to this fraction of its start over the run (per epoch). */
  finalLrFraction?: number;
  batchSize: number;
  /** Learning rate multiplier for the backbone when it is trained (e.g. 0.1 to fine-tune gently). */
  backboneLrScale?: number;
  /** Label smoothing of the cross-entropy on the labels (e.g. 0.1; default 0). */
  labelSmoothing?: number;
  /** Steps between two records (validation and callbacks); default one epoch. */
  evalEvery?: number;
  /**
   * Weight averaging (Polyak; FixMatch's evaluation model): after every step an exponential
   * moving average with this momentum (e.g. 0.99) follows every weight, batch normalisation's
   * moving statistics included, and the averaged model is the one validated, selected and
   * returned. The momentum of the k-th update is at most (1 + k) / (10 + k), as in
   * TensorFlow's moving averages, so the starting weights fade out of a short run. 0 or absent:
   * the trained weights themselves.
   */
  averageWeights?: number;
}

/** The optimiser steps of a run: `config.steps`, or `epochs` passes over `count` images. */
export function supervisedSteps(config: SupervisedConfig, count: number): number {
  const perEpoch = Math.ceil(count / config.batchSize);
  if (config.steps !== undefined) return stepsFor(config.steps, count);
  if (config.epochs === undefined || !Number.isInteger(config.epochs) || config.epochs < 0) {
    throw new RangeError(
      `supervised training needs a budget: steps, or a whole number of epochs (got ${config.epochs})`,
    );
  }
  return config.epochs * perEpoch; // 0 epochs: the models as they are
}
