/**
 * The supervised baselines every SSL figure is compared with:
 *
 * - `supervised_article`: the article's CNN and supervised recipe as
 *   published (SGD, lr 0.001, momentum 0.9, batch 64, cross-entropy, no
 *   augmentation) with honest reporting: a fixed number of epochs and the
 *   FINAL model. The article's notebook trains for 20,000 epochs and reports
 *   the maximum test accuracy over epochs, i.e. it selects the epoch on the
 *   test set, which overstates what a user would get; we neither select on
 *   the test set nor have the time for 20,000 epochs (40,000 steps), so the
 *   budget is fixed in epochs that fit a CPU. The notebook also puts a
 *   softmax in front of the cross-entropy (a double softmax that slows
 *   learning); this arm does not. It is the article's weak baseline, kept to
 *   reproduce the article, and labelled as such.
 * - `supervised_strong`: the strongest supervised model of the *same backbone
 *   the SSL arms use*, on the same labels: a textbook recipe (AdamW, cosine
 *   rate, label smoothing, dropout, mild affine augmentation, a budget in
 *   optimiser steps, the final model), chosen on a dev holdout of labelled
 *   pool images (never the test set) among {@linkcode STRONG_CANDIDATES} by
 *   `bin/tune_supervised.ts --dev 10000` (the choice and its figures are in
 *   {@linkcode STRONG_TUNING}: AdamW at 3e-2, not the textbook's 1e-3).
 *   `../shared/bench/torch_strong_supervised.py` is the textbook recipe in
 *   PyTorch, run side by side by `bench/strong_vs_torch.ts`.
 *
 * @example
 * ```ts
 * import { baselinesFor } from "./baselines.ts";
 * import { fullRecipe } from "./recipe.ts";
 * const b = baselinesFor(fullRecipe()); // config.baselines, or the preset of its mode
 * b.strong.config.optimizer; // "adamw"
 * b.article.backbone; // { kind: "article" }: the article's CNN
 * ```
 *
 * @module
 */
import type { AugmentChoice } from "../augment/presets.ts";
import type { BackboneConfig } from "../models/backbones.ts";
import { ARTICLE_HEAD, type HeadSetting } from "../models/heads/head_setting.ts";
import type { SupervisedConfig } from "../train/supervised.ts";
import { FINE_TUNE_DEFAULTS } from "../pipeline/fine_tune.ts";

/** A supervised recipe: optimiser settings and the augmentation of the labelled images. */
export interface SupervisedRecipe {
  /** Optimiser, budget, learning-rate schedule. */
  config: SupervisedConfig;
  /** Augmentation of the labelled images. */
  augment: AugmentChoice;
  /** "validation": keep the record best on the validation split; "final": the last one. */
  select: "validation" | "final";
  /** Its own backbone (the article's CNN); the recipe's `backbone` when omitted. */
  backbone?: BackboneConfig;
  /** Its own classifier head; the recipe's `classifier` when omitted. */
  classifier?: HeadSetting;
}

/** The settings of both baselines (plain JSON, recorded in the results). */
export interface BaselinesConfig {
  /** `supervised_article`: the article's CNN and recipe, final model. */
  article: SupervisedRecipe;
  /** `supervised_strong`: the recipe tuned on the dev holdout (`STRONG_TUNING`). */
  strong: SupervisedRecipe;
}

const textbook = (changes: Partial<SupervisedConfig>, strength = 1): SupervisedRecipe => ({
  config: { ...FINE_TUNE_DEFAULTS, ...changes },
  augment: { preset: "affine", strength },
  select: "final",
});

/** Candidate strong recipes tried on the validation split (name → recipe). */
export const STRONG_CANDIDATES: Record<string, SupervisedRecipe> = {
  "textbook-1500": textbook({}),
  "textbook-3000": textbook({ steps: 3000 }),
  "textbook-1500-lr3e-3": textbook({ learningRate: 3e-3 }),
  "textbook-1500-aug0.5": textbook({}, 0.5),
  "textbook-1500-no-smoothing": textbook({ labelSmoothing: 0 }),
  "textbook-1500-wd5e-3": textbook({ weightDecay: 5e-3 }),
  "textbook-1500-avg0.99": textbook({ averageWeights: 0.99 }),
  "textbook-1500-avg0.999": textbook({ averageWeights: 0.999 }),
  "textbook-1500-lr1e-2": textbook({ learningRate: 1e-2 }),
  "textbook-1500-lr3e-2": textbook({ learningRate: 3e-2 }),
  "textbook-1500-lr1e-1": textbook({ learningRate: 1e-1 }),
  "textbook-3000-lr3e-3": textbook({ steps: 3000, learningRate: 3e-3 }),
  "textbook-1500-dropout0.5": {
    ...textbook({}),
    classifier: { kind: "linear", dropout: 0.5 },
  },
};

/**
 * The outcome of `deno run -A bin/tune_supervised.ts --dev 10000` (MNIST, 200 labels = 160 train
 * + 40 validation, seeds 0-2, 2026-12-07 22:05-22:31 UTC): each candidate's mean final validation
 * accuracy and its mean accuracy on the dev holdout (10,000 unlabelled pool images with their
 * labels, `lib/experiment/dev_holdout.ts`; the strong arm never trains on them), which chooses.
 * The test set was not used. Until then the forty validation images chose (the textbook recipe
 * at 1e-3): one image of 40 is 2.5 points, and on the 10,000 the rate 3e-2 is 3.0 points better
 * (95.1% against 92.1%) where the validation images saw no difference (95.0% both). The rate
 * peaks at 3e-2 (1e-2 94.8%, 1e-1 92.7%); twice the steps at 3e-3 gives 95.0% in twice the time;
 * averaged weights, more or less augmentation, weight decay, dropout 0.5 or no smoothing: no gain.
 */
export const STRONG_TUNING = {
  chosen: "textbook-1500-lr3e-2",
  criterion: "mean over seeds 0-2 of the final model's accuracy on the dev holdout (10,000 pool " +
    "images per seed)",
  validationAccuracy: {
    "textbook-1500": 0.950,
    "textbook-3000": 0.933,
    "textbook-1500-lr3e-3": 0.933,
    "textbook-1500-aug0.5": 0.925,
    "textbook-1500-no-smoothing": 0.942,
    "textbook-1500-wd5e-3": 0.942,
    "textbook-1500-avg0.99": 0.950,
    "textbook-1500-avg0.999": 0.950,
    "textbook-1500-lr1e-2": 0.958,
    "textbook-1500-lr3e-2": 0.950,
    "textbook-1500-lr1e-1": 0.933,
    "textbook-3000-lr3e-3": 0.942,
    "textbook-1500-dropout0.5": 0.925,
  } as Record<string, number>,
  devAccuracy: {
    "textbook-1500": 0.9206,
    "textbook-3000": 0.9339,
    "textbook-1500-lr3e-3": 0.9403,
    "textbook-1500-aug0.5": 0.9138,
    "textbook-1500-no-smoothing": 0.9085,
    "textbook-1500-wd5e-3": 0.9203,
    "textbook-1500-avg0.99": 0.9204,
    "textbook-1500-avg0.999": 0.9203,
    "textbook-1500-lr1e-2": 0.9481,
    "textbook-1500-lr3e-2": 0.9506,
    "textbook-1500-lr1e-1": 0.9265,
    "textbook-3000-lr3e-3": 0.9497,
    "textbook-1500-dropout0.5": 0.9151,
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
        schedule: "constant",
        weightDecay: 0,
        labelSmoothing: 0,
      },
      augment: { preset: "none" },
      select: "final",
      backbone: { kind: "article" },
      classifier: { ...ARTICLE_HEAD, hidden: [...ARTICLE_HEAD.hidden!] },
    },
    strong: structuredClone(STRONG_CANDIDATES[STRONG_TUNING.chosen]),
  };
}

/** The baselines of the quick experiment: the same recipes, a tenth of the budget. */
export function quickBaselines(): BaselinesConfig {
  const full = fullBaselines();
  return {
    article: { ...full.article, config: { ...full.article.config, epochs: 100 } },
    strong: { ...full.strong, config: { ...full.strong.config, steps: 150 } },
  };
}

/**
 * `config.baselines` when set, else the preset of the config's mode (quick or
 * full). The strong recipe augments with the recipe's fine-tuning
 * augmentation (`finetuneAugment`), which fits the data (mirror images for
 * clothes and photos, none for digits).
 */
export function baselinesFor(config: {
  quick: boolean;
  finetuneAugment?: AugmentChoice;
  baselines?: BaselinesConfig;
}): BaselinesConfig {
  if (config.baselines) return config.baselines;
  const b = config.quick ? quickBaselines() : fullBaselines();
  if (config.finetuneAugment) {
    b.strong.augment = {
      ...config.finetuneAugment,
      strength: (config.finetuneAugment.strength ?? 1) * (b.strong.augment.strength ?? 1),
    };
  }
  return b;
}
