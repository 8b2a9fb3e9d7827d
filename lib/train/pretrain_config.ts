/**
 * The settings of self-supervised pre-training ({@linkcode PretrainConfig}, plain JSON: the
 * method, the epoch budget, Adam's learning rate and its decay, each method's own settings,
 * early stopping, the worker count) and {@linkcode methodOf}, which reads and checks the method
 * before anything is built. `pretrain.ts` trains with them.
 *
 * @example
 * ```ts
 * import { methodOf, type PretrainConfig } from "./pretrain_config.ts";
 * const config: PretrainConfig = {
 *   epochs: 1,
 *   batchSize: 16,
 *   learningRate: 1e-3,
 *   temperature: 0.2,
 * };
 * methodOf(config); // "simclr": the default
 * methodOf({ ...config, method: "byol", emaTau: 0.996 }); // "byol"
 * try {
 *   methodOf({ ...config, method: "byol", emaTau: 2 });
 * } catch (e) {
 *   (e as RangeError).message; // "BYOL's momentum tau must be a number in [0, 1], got 2"
 * }
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { VicregWeights } from "../loss/vicreg.ts";
import { parseSslMethod, type SslMethod, usesPredictor } from "./ssl_method.ts";
import { BYOL_TAU, tauAt, type TauSchedule } from "./momentum_target.ts";

/** Settings of self-supervised pre-training (plain JSON). */
export interface PretrainConfig {
  /** The method: "simclr" (default), "byol", "simsiam", "barlow" or "vicreg" (module doc). */
  method?: SslMethod;
  /** Maximum number of epochs (passes over the unlabelled images). */
  epochs: number;
  /** Positive pairs per step (2x as many views). */
  batchSize: number;
  /** Adam's initial learning rate. */
  learningRate: number;
  /** Learning rate multiplier per epoch (the article: 0.95). */
  lrDecay?: number;
  /** NT-Xent temperature τ (SimCLR only). */
  temperature: number;
  /** BYOL: the momentum τ_base of the target network (default 0.99). */
  emaTau?: number;
  /** BYOL: τ rises to 1 on a cosine over the run ("cosine", default) or stays ("fixed"). */
  emaSchedule?: TauSchedule;
  /** Barlow Twins: the off-diagonal weight λ (default 5e-3). */
  barlowLambda?: number;
  /** VICReg: the weights of invariance, variance and covariance (default 25, 25, 1). */
  vicreg?: VicregWeights;
  /** Early stop: minimum relative improvement and patience (the article: 0.001, 5). */
  earlyStop?: { minRelativeImprovement: number; patience: number };
  /** Apply a softmax to z before the loss, as the article's notebook does (it hurts; default false). */
  softmaxBeforeLoss?: boolean;
  /** Cap on steps per epoch (quick runs). */
  maxStepsPerEpoch?: number;
  /**
   * Worker threads for data-parallel steps (`lib/train/parallel/`, one core each; the result
   * equals single-thread training up to float rounding). 1 (default): train on this thread;
   * `"auto"`: one per core (`navigator.hardwareConcurrency`, {@linkcode autoWorkers}).
   */
  workers?: number | "auto";
}

/** The method of a configuration, checked; a `RangeError` of one line otherwise. */
export function methodOf(config: PretrainConfig, predictor?: tf.LayersModel): SslMethod {
  const method = parseSslMethod(config.method ?? "simclr", "pretrainContrastive: method");
  if (predictor && !usesPredictor(method)) {
    throw new RangeError(
      `pretrainContrastive: ${method} has no predictor (only byol and simsiam have one)`,
    );
  }
  if (method === "byol") tauAt(0, 1, config.emaTau ?? BYOL_TAU); // checks τ
  return method;
}
