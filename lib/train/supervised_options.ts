/**
 * What `trainSupervised` (`supervised.ts`) takes and gives: {@linkcode SupervisedOptions} (the
 * models, the images and labels, the training and validation indices, how the kept model is
 * chosen, the augmentation, the settings, the callback, distillation or self-training),
 * {@linkcode SupervisedEpoch} (one record, as the callback and the history see it) and
 * {@linkcode SupervisedResult}.
 *
 * @example
 * ```ts
 * import type { SupervisedEpoch, SupervisedResult } from "./supervised_options.ts";
 * const history: SupervisedEpoch[] = [
 *   { epoch: 0, step: 4, loss: 2.1, trainAccuracy: 0.3, learningRate: 0.01, seconds: 1 },
 *   { epoch: 1, step: 8, loss: 1.4, trainAccuracy: 0.6, learningRate: 0.01, seconds: 1 },
 * ];
 * const result: SupervisedResult = { history, selectedEpoch: 1, selectedBy: "final" };
 * result.history[result.selectedEpoch].step; // 8: the weights the models hold
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Rng } from "../rng.ts";
import type { BatchAugment, DistillTargets, SelfTraining } from "./unlabelled.ts";
import type { SupervisedConfig } from "./supervised_config.ts";

/** One record (an epoch, or `evalEvery` steps), as reported to callbacks and kept in the history. */
export interface SupervisedEpoch {
  epoch: number;
  /** Optimiser steps done when the record was taken. */
  step: number;
  loss: number;
  trainAccuracy: number;
  /** Learning rate of the record's last step. */
  learningRate: number;
  validationLoss?: number;
  validationAccuracy?: number;
  /** Self-training: share of the unlabelled images whose pseudo-label was confident enough. */
  maskRate?: number;
  seconds: number;
}

/** Everything `trainSupervised` needs. */
export interface SupervisedOptions {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  images: Float32Array;
  shape: [number, number, number];
  labels: Int32Array;
  numClasses?: number;
  /** Indices of the training images. */
  train: Int32Array;
  /** Indices of the validation images (may be empty: then the final model is kept). */
  validation?: Int32Array;
  /**
   * "validation" (default): keep the record best on the validation images; "final": keep the
   * final model (the validation images are still scored in every record).
   */
  select?: "validation" | "final";
  /** Augments a batch of `count` images (one view); none when omitted. */
  augment?: BatchAugment;
  rng: Rng;
  config: SupervisedConfig;
  onEpoch?: (e: SupervisedEpoch) => void | Promise<void>;
  /** Also learn a teacher's soft labels of unlabelled images (distillation). */
  distill?: DistillTargets;
  /** Also learn the model's own confident pseudo-labels of unlabelled images. */
  selfTrain?: SelfTraining;
}

/** What `trainSupervised` returns. */
export interface SupervisedResult {
  history: SupervisedEpoch[];
  /** The record (index into `history`) whose weights the models hold now. */
  selectedEpoch: number;
  selectedBy: "validation" | "final";
}
