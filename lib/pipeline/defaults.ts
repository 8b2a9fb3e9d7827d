/**
 * The models and views `pretrain` and `fineTune` use when a setting is not given: the
 * experiment's MNIST recipe, written once here (`lib/experiment/recipe.ts` builds its recipes
 * from these), so a call from code gets what `deno task experiment` measures. The budgets are
 * {@linkcode PRETRAIN_DEFAULTS} (`pretrain.ts`) and `FINE_TUNE_DEFAULTS` (`fine_tune.ts`).
 *
 * @example
 * ```ts
 * import { DEFAULT_BACKBONE, SIMCLR_HEAD } from "./defaults.ts";
 * DEFAULT_BACKBONE.kind; // "cnn": batch norm, same padding, global average pooling
 * SIMCLR_HEAD.hidden; // [128]: dense 128 → BN → ReLU → one output per class
 * ```
 *
 * @module
 */
import type { AugmentChoice } from "../augment/presets.ts";
import type { BackboneConfig } from "../models/backbones.ts";
import type { HeadSetting } from "../models/heads/head_setting.ts";
import type { PretrainConfig } from "../train/pretrain.ts";
import { decayTo } from "../train/schedule.ts";

/** The backbone f: the modern CNN at the article's widths (16, 16, 32). */
export const DEFAULT_BACKBONE: Readonly<BackboneConfig> = Object.freeze({ kind: "cnn" });

/** SimCLR's projection head g: dense 128 → batch norm → ReLU → one output per class. */
export const SIMCLR_HEAD: Readonly<HeadSetting> = Object.freeze({
  kind: "mlp",
  hidden: Object.freeze([128]) as number[],
  batchNorm: true,
});

/** The classifier a new head gets when fine-tuning: dropout 0.3, then one dense layer. */
export const DEFAULT_CLASSIFIER: Readonly<HeadSetting> = Object.freeze({
  kind: "linear",
  dropout: 0.3,
});

/** The two contrastive views of pre-training: grey strokes (affine, lighting, blur). */
export const PRETRAIN_AUGMENT: Readonly<AugmentChoice> = Object.freeze({
  preset: "stroke",
  strength: 1,
});

/** The mild affine augmentation of fine-tuning (no mirror images: digits). */
export const FINE_TUNE_AUGMENT: Readonly<AugmentChoice> = Object.freeze({
  preset: "affine",
  strength: 1,
});

/** The pre-training budget: 8 epochs at batch 512, Adam 1e-3 falling tenfold, NT-Xent τ 0.2. */
export const PRETRAIN_DEFAULTS: Readonly<PretrainConfig> = Object.freeze({
  epochs: 8,
  batchSize: 512,
  learningRate: 1e-3,
  lrDecay: decayTo(0.1, 8),
  temperature: 0.2,
  earlyStop: Object.freeze({ minRelativeImprovement: 0.001, patience: 5 }),
  softmaxBeforeLoss: false,
  workers: 1,
});
