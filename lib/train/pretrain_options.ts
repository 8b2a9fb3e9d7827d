/**
 * What `pretrainContrastive` (`pretrain.ts`) takes and gives: {@linkcode PretrainOptions} (the
 * models, the images and their views, the settings, the callbacks, the monitor, the checkpoint
 * folder), {@linkcode PretrainEpoch} (one epoch, as the callbacks and the history see it) and
 * {@linkcode PretrainResult}.
 *
 * @example
 * ```ts
 * import type { PretrainEpoch, PretrainOptions } from "./pretrain_options.ts";
 * const seen: PretrainEpoch[] = [];
 * const onEpoch: PretrainOptions["onEpoch"] = (e) => {
 *   seen.push(e); // e.g. { epoch: 0, loss: 4.1, learningRate: 0.001, seconds: 12, steps: 50 }
 * };
 * onEpoch?.({ epoch: 0, loss: 4.1, learningRate: 1e-3, seconds: 12, steps: 50 });
 * seen.length; // 1
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Rng } from "../rng.ts";
import type { MonitorLabels, MonitorMetrics } from "./pretrain_monitor.ts";
import type { PretrainConfig } from "./pretrain_config.ts";

/** One epoch of pre-training, as reported to callbacks and kept in the history. */
export interface PretrainEpoch extends Partial<MonitorMetrics> {
  epoch: number;
  loss: number;
  learningRate: number;
  seconds: number;
  steps: number;
}

/** Everything `pretrainContrastive` needs. */
export interface PretrainOptions {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  /**
   * BYOL's or SimSiam's prediction head q on z (`lib/models/heads/method_heads.ts`), trained
   * with f and g, saved in the checkpoints; absent: p = z. Refused for the other methods.
   */
  predictor?: tf.LayersModel;
  /** All images, flat NHWC in [0, 1]. */
  images: Float32Array;
  /** Image shape [height, width, channels]. */
  shape: [number, number, number];
  /** Which images to pre-train on (the unlabelled ones). */
  indices: Int32Array;
  /** Two independently augmented views of a batch of `count` images. */
  makeViews: (batch: Float32Array, count: number, rng: Rng) => [Float32Array, Float32Array];
  rng: Rng;
  config: PretrainConfig;
  /** Called after every epoch (progress bars, plots). */
  onEpoch?: (e: PretrainEpoch) => void | Promise<void>;
  /**
   * Measure the run after every epoch (`pretrain_monitor.ts`): contrastive
   * accuracy and collapse of z on fixed views, kNN accuracy of h on these labels.
   */
  monitor?: MonitorLabels;
  /** Called after every step with the running mean loss of the epoch. */
  onStep?: (s: { epoch: number; step: number; steps: number; loss: number }) => void;
  /**
   * Save a checkpoint here after every epoch (`checkpoint.ts`: written whole or not at all), and
   * resume from it when present. A checkpoint made with other settings, or damaged, stops the
   * run with one line naming the folder and what to do.
   */
  checkpointDir?: string;
  /**
   * Settings beyond `config` that a resumed run must share, recorded in the checkpoint's
   * fingerprint (the caller's words for the backbone, the head, the augmentation, the seed:
   * `lib/pipeline/pretrain.ts`); the epoch budget and the worker count may change on resume.
   */
  checkpointSettings?: Record<string, unknown>;
  /** Free information recorded in the checkpoint (the dataset, its classes). */
  checkpointInfo?: Record<string, unknown>;
}

/** What pre-training returns. */
export interface PretrainResult {
  history: PretrainEpoch[];
  /** True when early stopping ended training before `epochs`. */
  stoppedEarly: boolean;
  /** The epoch training resumed from (0 for a fresh run). */
  resumedAt: number;
}
