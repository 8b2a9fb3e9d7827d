/**
 * The optimisers and learning-rate schedules of supervised training, counted in optimiser
 * steps: SGD with momentum (the article's), Adam, and AdamW (Adam with decoupled weight
 * decay, Loshchilov & Hutter 2019 — tfjs has no AdamW, so the decay is applied here, as
 * PyTorch's `AdamW` does: every trained weight is multiplied by `1 - lr · decay` before the
 * Adam update); constant, cosine (Loshchilov & Hutter 2017) or per-epoch exponential rates,
 * with an optional linear warm-up.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { learningRateAt, makeOptimizer, optimizerStep } from "./optimizer.ts";
 * const w = tf.variable(tf.tensor1d([1, 2]));
 * const opt = makeOptimizer({ optimizer: "adamw", learningRate: 1e-3, weightDecay: 5e-4 });
 * const lr = learningRateAt({ learningRate: 1e-3, schedule: "cosine" }, 10, 100, 3);
 * optimizerStep(opt, { [w.name]: tf.onesLike(w) }, [w], lr, { optimizer: "adamw", weightDecay: 5e-4 });
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The optimiser of a supervised recipe. */
export type OptimizerKind = "sgd" | "adam" | "adamw";

/** The optimiser settings {@linkcode makeOptimizer} and {@linkcode optimizerStep} read. */
export interface OptimizerSettings {
  optimizer: OptimizerKind;
  learningRate: number;
  /** SGD momentum (the article: 0.9). */
  momentum?: number;
  /** AdamW: decoupled weight decay; SGD and Adam: an L2 term added to the loss. */
  weightDecay?: number;
}

/** How the learning rate moves over a run. */
export interface ScheduleSettings {
  learningRate: number;
  /**
   * "constant"; "cosine": from the rate to 0 over the run (after the warm-up); "exponential"
   * (the default when `lrDecay` is set): times `lrDecay` per epoch.
   */
  schedule?: "constant" | "cosine" | "exponential";
  /** Learning-rate multiplier per epoch ("exponential"). */
  lrDecay?: number;
  /** Steps of linear warm-up from 0 (default 0). */
  warmupSteps?: number;
}

/** A fresh optimiser of `settings.optimizer` at `settings.learningRate`. */
export function makeOptimizer(settings: OptimizerSettings): tf.Optimizer {
  const { optimizer, learningRate } = settings;
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new RangeError(`optimizer: learningRate must be a number > 0, got ${learningRate}`);
  }
  switch (optimizer) {
    case "sgd":
      return tf.train.momentum(learningRate, settings.momentum ?? 0.9);
    case "adam":
    case "adamw":
      return tf.train.adam(learningRate);
    default:
      throw new RangeError(
        `optimizer: unknown optimizer "${optimizer as string}"; use sgd, adam or adamw`,
      );
  }
}

/**
 * The learning rate of step `step` (0-based) of `total`, with `stepsPerEpoch` steps an epoch
 * (for the per-epoch exponential decay).
 */
export function learningRateAt(
  settings: ScheduleSettings,
  step: number,
  total: number,
  stepsPerEpoch: number,
): number {
  const base = settings.learningRate;
  const warmup = settings.warmupSteps ?? 0;
  if (step < warmup) return (base * (step + 1)) / (warmup + 1);
  const schedule = settings.schedule ??
    (settings.lrDecay === undefined ? "constant" : "exponential");
  switch (schedule) {
    case "constant":
      return base;
    case "cosine": {
      const span = Math.max(1, total - warmup);
      return (base * (1 + Math.cos((Math.PI * (step - warmup)) / span))) / 2;
    }
    case "exponential":
      return base * Math.pow(settings.lrDecay ?? 1, Math.floor(step / Math.max(1, stepsPerEpoch)));
    default:
      throw new RangeError(
        `schedule: unknown schedule "${schedule as string}"; use constant, cosine or exponential`,
      );
  }
}

/** Sets an optimiser's learning rate (tfjs keeps it in a field its API does not expose). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/**
 * One optimiser step on `grads` (by variable name) at learning rate `lr`, AdamW's decoupled
 * weight decay first (`variables` are the ones it decays: every trained weight, as PyTorch's
 * AdamW with one parameter group).
 */
export function optimizerStep(
  optimizer: tf.Optimizer,
  grads: tf.NamedTensorMap,
  variables: readonly tf.Variable[],
  lr: number,
  settings: Pick<OptimizerSettings, "optimizer" | "weightDecay">,
): void {
  setLearningRate(optimizer, lr);
  const decay = settings.optimizer === "adamw" ? lr * (settings.weightDecay ?? 0) : 0;
  if (decay > 0) {
    tf.tidy(() => {
      for (const v of variables) if (grads[v.name]) v.assign(tf.mul(v, 1 - decay));
    });
  }
  optimizer.applyGradients(grads);
}
