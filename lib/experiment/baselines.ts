/**
 * The two supervised baselines every SSL figure is compared with:
 *
 * - `supervised_article`: the article's supervised recipe as published (SGD,
 *   lr 0.001, momentum 0.9, batch 64, cross-entropy, no augmentation) with
 *   honest reporting: a fixed number of epochs and the FINAL model. The
 *   article's notebook trains for 20,000 epochs and reports the maximum test
 *   accuracy over epochs, i.e. it selects the epoch on the test set, which
 *   overstates what a user would get; we neither select on the test set nor
 *   have the time for 20,000 epochs (40,000 steps), so the budget is fixed in
 *   epochs that fit a CPU. The notebook also puts a softmax in front of the
 *   cross-entropy (a double softmax that slows learning); this arm does not.
 * - `supervised_strong`: a well-trained supervised model on the same labels:
 *   Adam, per-image augmentation, a decaying learning rate, chosen on the
 *   validation split (never the test set) among {@linkcode STRONG_CANDIDATES}
 *   by `bin/tune_supervised.ts` (the choice and its validation figures are in
 *   {@linkcode STRONG_TUNING}).
 *
 * @example
 * ```ts
 * import { baselinesFor } from "./baselines.ts";
 * import { fullRecipe } from "./recipe.ts";
 * const b = baselinesFor(fullRecipe()); // config.baselines, or the preset of its mode
 * b.strong.config.learningRate; // 0.003
 * ```
 *
 * @module
 */
import type { SupervisedConfig } from "../train/supervised.ts";
import { decayTo } from "../train/schedule.ts";

export { decayTo };
import type { AugmentChoice } from "./recipe.ts";

/** A supervised recipe: optimiser settings and the augmentation of the labelled images. */
export interface SupervisedRecipe {
  /** Optimiser, epochs, batch, learning-rate schedule. */
  config: SupervisedConfig;
  /** Augmentation of the labelled images. */
  augment: AugmentChoice;
  /** "validation": keep the epoch best on the validation split; "final": the last epoch. */
  select: "validation" | "final";
}

/** The settings of both baselines (plain JSON, recorded in the results). */
export interface BaselinesConfig {
  /** `supervised_article`: the article's recipe, final model. */
  article: SupervisedRecipe;
  /** `supervised_strong`: the recipe tuned on validation. */
  strong: SupervisedRecipe;
}

/** Candidate strong recipes tried on the validation split (name → recipe). */
export const STRONG_CANDIDATES: Record<string, SupervisedRecipe> = {
  "adam-150-const-aug0.5": {
    config: { epochs: 150, batchSize: 64, optimizer: "adam", learningRate: 1e-3 },
    augment: { preset: "digits", strength: 0.5 },
    select: "validation",
  },
  "adam-300-decay-aug0.5": {
    config: {
      epochs: 300,
      batchSize: 64,
      optimizer: "adam",
      learningRate: 1e-3,
      lrDecay: decayTo(0.05, 300),
    },
    augment: { preset: "digits", strength: 0.5 },
    select: "validation",
  },
  "adam-300-decay-lr3e-3-aug0.5": {
    config: {
      epochs: 300,
      batchSize: 64,
      optimizer: "adam",
      learningRate: 3e-3,
      lrDecay: decayTo(0.05, 300),
    },
    augment: { preset: "digits", strength: 0.5 },
    select: "validation",
  },
  "adam-300-decay-lr1e-2-aug0.5": {
    config: {
      epochs: 300,
      batchSize: 64,
      optimizer: "adam",
      learningRate: 1e-2,
      lrDecay: decayTo(0.05, 300),
    },
    augment: { preset: "digits", strength: 0.5 },
    select: "validation",
  },
  "adam-150-decay-lr3e-3-aug0.5": {
    config: {
      epochs: 150,
      batchSize: 64,
      optimizer: "adam",
      learningRate: 3e-3,
      lrDecay: decayTo(0.05, 150),
    },
    augment: { preset: "digits", strength: 0.5 },
    select: "validation",
  },
  "adam-300-decay-aug1": {
    config: {
      epochs: 300,
      batchSize: 64,
      optimizer: "adam",
      learningRate: 1e-3,
      lrDecay: decayTo(0.05, 300),
    },
    augment: { preset: "digits", strength: 1 },
    select: "validation",
  },
  "adam-300-decay-aug0.5-wd": {
    config: {
      epochs: 300,
      batchSize: 64,
      optimizer: "adam",
      learningRate: 1e-3,
      lrDecay: decayTo(0.05, 300),
      weightDecay: 1e-4,
    },
    augment: { preset: "digits", strength: 0.5 },
    select: "validation",
  },
};

/**
 * The outcome of `deno run -A bin/tune_supervised.ts` (MNIST, 200 labels =
 * 160 train + 40 validation, seeds 0-2): the chosen candidate and each
 * candidate's mean final-epoch validation accuracy. The test set was not used.
 */
export const STRONG_TUNING = {
  chosen: "adam-300-decay-lr3e-3-aug0.5",
  criterion: "mean over seeds 0-2 of the final-epoch validation accuracy (40 images per seed)",
  validationAccuracy: {
    "adam-150-const-aug0.5": 0.833,
    "adam-300-decay-aug0.5": 0.792,
    "adam-300-decay-lr3e-3-aug0.5": 0.9,
    "adam-300-decay-lr1e-2-aug0.5": 0.875,
    "adam-150-decay-lr3e-3-aug0.5": 0.842,
    "adam-300-decay-aug1": 0.6,
    "adam-300-decay-aug0.5-wd": 0.767,
  } as Record<string, number>,
};

/** The baselines of the full experiment. */
export function fullBaselines(): BaselinesConfig {
  return {
    article: {
      // 1,000 epochs of 3 steps (160 images, batch 64): ~30 s on one core.
      config: {
        epochs: 1000,
        batchSize: 64,
        optimizer: "sgd",
        learningRate: 0.001,
        momentum: 0.9,
      },
      augment: { preset: "none" },
      select: "final",
    },
    strong: structuredClone(STRONG_CANDIDATES[STRONG_TUNING.chosen]),
  };
}

/** The baselines of the quick experiment: the same recipes, fewer epochs. */
export function quickBaselines(): BaselinesConfig {
  const full = fullBaselines();
  return {
    article: { ...full.article, config: { ...full.article.config, epochs: 250 } },
    strong: {
      ...full.strong,
      config: { ...full.strong.config, epochs: 60, lrDecay: decayTo(0.05, 60) },
    },
  };
}

/**
 * `config.baselines` when set, else the preset of the config's mode (quick or
 * full). The strong recipe was tuned on MNIST; on another dataset it augments
 * with the recipe's fine-tune augmentation (`finetuneAugment`), which fits the data.
 */
export function baselinesFor(config: {
  quick: boolean;
  dataset?: string;
  finetuneAugment?: AugmentChoice;
  baselines?: BaselinesConfig;
}): BaselinesConfig {
  if (config.baselines) return config.baselines;
  const b = config.quick ? quickBaselines() : fullBaselines();
  if (config.dataset !== undefined && config.dataset !== "mnist" && config.finetuneAugment) {
    b.strong.augment = { ...config.finetuneAugment };
  }
  return b;
}
