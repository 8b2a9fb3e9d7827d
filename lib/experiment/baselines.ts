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
 *   optimiser steps, the final model), chosen on the validation split (never
 *   the test set) among {@linkcode STRONG_CANDIDATES} by
 *   `bin/tune_supervised.ts` (the choice and its validation figures are in
 *   {@linkcode STRONG_TUNING}). `../shared/bench/torch_strong_supervised.py`
 *   is the same recipe in PyTorch, run side by side in the README.
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
  /** `supervised_strong`: the recipe tuned on validation. */
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
};

/**
 * The outcome of `deno run -A bin/tune_supervised.ts` (MNIST, 200 labels =
 * 160 train + 40 validation, seeds 0-2): the chosen candidate and each
 * candidate's mean final validation accuracy. The test set was not used. Run on 2026-12-07
 * (14:41-15:15 UTC, the 2-core machine; `--only textbook-1500-wd5e-3` for the last one): the
 * textbook recipe itself is best; spreads over the seeds were 1.4-3.8 points (one image of 40
 * is 2.5), so the other candidates are not shown worse, only not better. The two with averaged
 * weights (`averageWeights` 0.99 and 0.999) were added on 2026-12-07 (21:04-21:09 UTC, with the
 * mean final validation loss as the tie-break): 95.0% each, as the textbook recipe, and a
 * validation loss of 0.390 and 0.391 against its 0.389: with the rate near zero at the cosine's end
 * the average is the final model, so the textbook recipe stays.
 */
export const STRONG_TUNING = {
  chosen: "textbook-1500",
  criterion: "mean over seeds 0-2 of the final validation accuracy (40 images per seed)",
  validationAccuracy: {
    "textbook-1500": 0.950,
    "textbook-3000": 0.933,
    "textbook-1500-lr3e-3": 0.942,
    "textbook-1500-aug0.5": 0.908,
    "textbook-1500-no-smoothing": 0.942,
    "textbook-1500-wd5e-3": 0.942,
    "textbook-1500-avg0.99": 0.950,
    "textbook-1500-avg0.999": 0.950,
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
