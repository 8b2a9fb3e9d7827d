/**
 * The models and views `pretrain` and `fineTune` use when a setting is not given: the
 * experiment's MNIST recipe, written once here (`lib/experiment/recipe.ts` builds its recipes
 * from these), so a call from code gets what `deno task experiment` measures. The budgets are
 * {@linkcode PRETRAIN_DEFAULTS} (`pretrain.ts`) and `FINE_TUNE_DEFAULTS` (`fine_tune.ts`).
 *
 * Each SSL method has its own default head (`methodHead`): SimCLR's projection head, the
 * projector of BYOL and SimSiam with their predictor (`METHOD_PREDICTORS`), the wide projector
 * of Barlow Twins and VICReg, every width scaled down for our backbones' 32 features.
 *
 * @example
 * ```ts
 * import { DEFAULT_BACKBONE, methodHead, METHOD_PREDICTORS, SIMCLR_HEAD } from "./defaults.ts";
 * DEFAULT_BACKBONE.kind; // "cnn": batch norm, same padding, global average pooling
 * SIMCLR_HEAD.hidden; // [128]: dense 128 → BN → ReLU → one output per class
 * methodHead("barlow").outputDim; // 256: three layers of 256, BN and ReLU after the first two
 * METHOD_PREDICTORS.byol?.hidden; // 128: BYOL's predictor 64 → 128 → 64
 * ```
 *
 * @module
 */
import type { AugmentChoice } from "../augment/presets.ts";
import type { BackboneConfig } from "../models/backbones.ts";
import type { HeadSetting } from "../models/heads/head_setting.ts";
import type { PretrainConfig } from "../train/pretrain.ts";
import type { SslMethod } from "../train/ssl_method.ts";
import { decayTo } from "../train/schedule.ts";

/** The backbone f: the modern CNN at the article's widths (16, 16, 32). */
export const DEFAULT_BACKBONE: Readonly<BackboneConfig> = Object.freeze({ kind: "cnn" });

/** SimCLR's projection head g: dense 128 → batch norm → ReLU → one output per class. */
export const SIMCLR_HEAD: Readonly<HeadSetting> = Object.freeze({
  kind: "mlp",
  hidden: Object.freeze([128]) as number[],
  batchNorm: true,
});

/**
 * The projector of BYOL and SimSiam, scaled down: dense 128 → BN → ReLU → 64. BYOL's is
 * 4096 → 256 on 2048 features (Grill et al. 2020, section 3.3); SimSiam's is three layers of
 * 2048 with batch norm on the output too (Chen & He 2021, section 3), which a `HeadSetting`
 * cannot say (SimSiam's table 4 puts little on it); this one keeps the pre-trained head usable
 * by `fineTune` like any other (`head: { layers: k }`).
 */
export const PREDICTIVE_HEAD: Readonly<HeadSetting> = Object.freeze({
  kind: "mlp",
  hidden: Object.freeze([128]) as number[],
  outputDim: 64,
  batchNorm: true,
});

/**
 * The wide projector of Barlow Twins and VICReg, scaled down: three layers of 256, batch
 * norm and ReLU after the first two (`wideProjector` of `lib/models/heads/method_heads.ts`
 * with width 256; the papers use 8192 on 2048 features: 4 times as wide, ours 8 times).
 */
export const WIDE_HEAD: Readonly<HeadSetting> = Object.freeze({
  kind: "mlp",
  hidden: Object.freeze([256, 256]) as number[],
  outputDim: 256,
  batchNorm: true,
});

/** Every method's default projection head ({@linkcode methodHead} gives a copy). */
export const METHOD_HEADS: Readonly<Record<SslMethod, Readonly<HeadSetting>>> = Object.freeze({
  simclr: SIMCLR_HEAD,
  byol: PREDICTIVE_HEAD,
  simsiam: PREDICTIVE_HEAD,
  barlow: WIDE_HEAD,
  vicreg: WIDE_HEAD,
});

/** A method's default projection head, as a fresh copy. */
export function methodHead(method: SslMethod): HeadSetting {
  const head = METHOD_HEADS[method];
  if (!head) throw new RangeError(`methodHead: unknown method ${JSON.stringify(method)}`);
  return structuredClone(head) as HeadSetting;
}

/**
 * The prediction head of BYOL and SimSiam: dense (no bias) → BN → ReLU → dense, from the
 * width of z back to it through `hidden` units (`predictionHead` of
 * `lib/models/heads/method_heads.ts`). A training-only part: `pretrain` drops it afterwards.
 */
export interface PredictorSetting {
  /** Hidden width. */
  hidden: number;
}

/**
 * The default predictors, scaled down with the projector: BYOL's q as wide as the projector's
 * hidden layer (the paper: 4096 both), 64 → 128 → 64; SimSiam's h a bottleneck of a quarter
 * (the paper: 2048 → 512 → 2048), 64 → 16 → 64.
 */
export const METHOD_PREDICTORS: Readonly<Partial<Record<SslMethod, Readonly<PredictorSetting>>>> =
  Object.freeze({
    byol: Object.freeze({ hidden: 128 }),
    simsiam: Object.freeze({ hidden: 16 }),
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
