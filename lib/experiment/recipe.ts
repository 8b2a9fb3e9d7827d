/**
 * The experiment's recipe: every setting of the article's experiment and of
 * our improvements, as one plain JSON object, with a full and a quick preset.
 *
 * What we changed from the article, and why (measured figures are in the
 * README): augmentations drawn independently per image (the article draws one
 * per batch), no softmax before the contrastive loss (it squashes z onto a
 * simplex), a lower temperature, fine-tuning with augmentation and Adam, and
 * honest model selection on a validation split carved from the 200 labels.
 *
 * @example
 * ```ts
 * import { fullRecipe, recipeFor, withFineTuneBudget } from "./recipe.ts";
 * const mnist = recipeFor("mnist", false); // the full recipe: 3 seeds, 1,500 fine-tuning steps
 * console.log(mnist.seeds, mnist.finetune.steps); // [0, 1, 2] 1500
 * const shorter = withFineTuneBudget(fullRecipe(), 500, 128); // every fine-tune and student
 * console.log(shorter.distill.steps, shorter.distill.unlabelledBatch); // 500 128
 * ```
 *
 * @module
 */
import { classCounts, type ImageDataset } from "../data/dataset.ts";
import type { BackboneConfig } from "../models/backbones.ts";
import { type BaselinesConfig, baselinesFor } from "./baselines.ts";
import { folderChoices } from "./folder_recipe.ts";
import type { HeadSetting } from "../models/heads/head_setting.ts";
import type { PretrainConfig } from "../train/pretrain.ts";
import type { SupervisedConfig } from "../train/supervised.ts";
import { decayTo } from "../train/schedule.ts";
import { FINE_TUNE_DEFAULTS } from "../pipeline/fine_tune.ts";
import {
  DEFAULT_BACKBONE,
  DEFAULT_CLASSIFIER,
  FINE_TUNE_AUGMENT,
  PRETRAIN_AUGMENT,
  PRETRAIN_DEFAULTS,
  SIMCLR_HEAD,
} from "../pipeline/defaults.ts";

import type { AugmentChoice } from "../augment/presets.ts";
export type { AugmentChoice } from "../augment/presets.ts";

/** The SSL arms' use of the unlabelled images after fine-tuning (`ssl_distilled`, `self_trained`). */
export interface DistillSettings {
  /**
   * "self-training" (default): the student starts as its teacher and learns its own confident
   * pseudo-labels of the unlabelled images (FixMatch's recipe); "soft": a student learns the
   * teacher's soft labels (SimCLRv2's literal recipe). See `lib/pipeline/distill.ts`.
   */
  mode: "self-training" | "soft";
  /** Optimiser steps of the student (64 labelled + `unlabelledBatch` unlabelled images each). */
  steps: number;
  /** Unlabelled images per step. */
  unlabelledBatch: number;
  /** Self-training: a pseudo-label counts above this probability. */
  threshold: number;
  /**
   * Self-training: pseudo-labels from a moving average of the student's weights with this
   * momentum (a mean teacher); from the student itself when 0 or absent.
   */
  emaMomentum?: number;
  /** Soft: τ of both softmaxes. */
  temperature: number;
  /** Soft: weight of the true labels' loss. */
  labelWeight: number;
}

/** Every setting of one experiment run. */
export interface ExperimentConfig {
  dataset: string;
  /** Labelled examples kept (validation included). */
  labels: number;
  /** Of those, held out to select models (never the test set). */
  validation: number;
  /** Draw the labelled examples class-balanced. */
  balanced: boolean;
  seeds: number[];
  quick: boolean;
  /** Cap on the unlabelled images used for pre-training (quick runs). */
  maxUnlabelled?: number;
  /** Cap on the test images evaluated (quick runs); all when omitted. */
  maxTest?: number;
  /** The backbone f(·) of the SSL arms and of the supervised baselines but the article's. */
  backbone: BackboneConfig;
  /**
   * The projection head g(·) of pre-training (its input width follows f). The "same head"
   * arm keeps it as the classifier, so it needs one output per class.
   */
  head: HeadSetting;
  /** The fresh classifier head of the fine-tuned arms (default: dropout 0.3 + linear). */
  classifier: HeadSetting;
  /** Augmentation of pre-training's two views (and self-training's strong view). */
  pretrainAugment: AugmentChoice;
  /** Augmentation of the labelled images when fine-tuning (and self-training's weak view). */
  finetuneAugment: AugmentChoice;
  pretrain: PretrainConfig;
  finetune: SupervisedConfig;
  /** Linear probe on frozen backbone features. */
  probe: { epochs: number; learningRate: number; weightDecay: number };
  /** The student of `ssl_distilled` and of the `self_trained` control. */
  distill: DistillSettings;
  /** k of the kNN classifier on backbone features. */
  knnK: number;
  /** The supervised baselines' recipes; the preset of the mode when omitted (`baselines.ts`). */
  baselines?: BaselinesConfig;
}

/**
 * Pre-training epochs that give about `steps` optimiser steps of `batchSize` pairs over
 * `unlabelled` images (at least `minEpochs`, at most 200): the budget follows the unlabelled
 * set, so a folder of 2,000 images is not pre-trained for 8 passes of 4 steps.
 */
export function pretrainEpochsFor(
  unlabelled: number,
  batchSize: number,
  steps: number,
  minEpochs = 1,
): number {
  const perEpoch = Math.max(1, Math.floor(unlabelled / Math.min(batchSize, unlabelled)));
  return Math.min(200, Math.max(minEpochs, Math.ceil(steps / perEpoch)));
}

/**
 * The full recipe (3 seeds), the textbook one of 2026: the modern CNN at the article's widths
 * (batch normalisation, same padding, global average pooling), SimCLR's projection head with
 * batch normalisation (dense 128 → BN → ReLU → one output per class, so the article's "same
 * head" arm can keep it), NT-Xent at τ 0.2 on 8 epochs of MNIST's unlabelled images (Adam at
 * 1e-2), then every fine-tune with the strong supervised recipe (`FINE_TUNE_DEFAULTS` at the
 * rate chosen on the dev holdout: 1,500 AdamW steps at 3e-2, cosine rate, label smoothing, the
 * mild affine augmentation) and 2,500 steps of self-training for the students (pseudo-labels
 * above a probability of 0.5).
 */
export function fullRecipe(dataset = "mnist"): ExperimentConfig {
  return {
    dataset,
    labels: 200,
    validation: 40,
    balanced: true,
    seeds: [0, 1, 2],
    quick: false,
    backbone: { ...DEFAULT_BACKBONE },
    head: structuredClone(SIMCLR_HEAD) as HeadSetting,
    classifier: { ...DEFAULT_CLASSIFIER },
    pretrainAugment: { ...PRETRAIN_AUGMENT },
    finetuneAugment: { ...FINE_TUNE_AUGMENT },
    // One worker per core (lib/train/parallel/).
    // Pre-training at Adam's 1e-2 and fine-tuning at AdamW's 3e-2 (the strong baseline's rate),
    // chosen together on the dev holdout by the best SSL arm, the student (tools/
    // ssl_fine_tune_sweep.ts, results/ssl-fine-tune-sweep.json): the fine-tuned arms gain about
    // 2 points over the textbook 1e-3, the student 0.5 over pre-training at 1e-3.
    pretrain: {
      ...structuredClone(PRETRAIN_DEFAULTS) as PretrainConfig,
      learningRate: 1e-2,
      workers: "auto",
    },
    finetune: { ...FINE_TUNE_DEFAULTS, learningRate: 3e-2 },
    probe: { epochs: 300, learningRate: 0.01, weightDecay: 1e-3 },
    // Chosen on the dev holdout (tools/self_training_sweep.ts, results/self-training-sweep.json):
    // a threshold of 0.5 (0.3-0.6 alike, 0.9 and 0.95 worse) and 2,500 steps, as many as three
    // seeds fit in 45 minutes.
    distill: {
      mode: "self-training",
      steps: 2500,
      unlabelledBatch: 256,
      threshold: 0.5,
      temperature: 1,
      labelWeight: 0.5,
    },
    knnK: 20,
  };
}

/** The quick recipe: every arm runs, on little data, in about a minute. */
export function quickRecipe(dataset = "mnist"): ExperimentConfig {
  const full = fullRecipe(dataset);
  return {
    ...full,
    seeds: [0],
    quick: true,
    maxUnlabelled: 4096,
    maxTest: 2000,
    pretrain: {
      ...full.pretrain,
      epochs: 3,
      lrDecay: decayTo(0.1, 3),
      batchSize: 256,
      maxStepsPerEpoch: 12,
      workers: 1,
    },
    finetune: { ...full.finetune, steps: 150 },
    probe: { ...full.probe, epochs: 100 },
    distill: { ...full.distill, steps: 60, unlabelledBatch: 128 },
  };
}

/**
 * The fine-tuning budget of colour folders (the small ResNet, whose images cost about four times
 * the modern CNN's): every fine-tuned arm, the strong baseline and both students train for
 * `steps` optimiser steps, and the students learn from `unlabelledBatch` unlabelled images a
 * step; pre-training keeps its full budget. The full recipe's 1,500 steps are 600 passes over a
 * folder's 160 labelled images, and its students' 1,500 steps of 256 unlabelled images over 80
 * passes over a 6,000-image folder's unlabelled pool: a seed took 59 minutes on the 2-core
 * machine under load (about 36 idle, by the measured speeds), this budget 14.5, and it costs
 * accuracy: `docs/your-images.md` compares the two on the same folder and seed.
 * `--finetune-steps 1500 --student-batch 256` gives the long one back.
 */
export const COLOUR_FOLDER_BUDGET: Readonly<{ steps: number; unlabelledBatch: number }> = Object
  .freeze({ steps: 500, unlabelledBatch: 128 });

/**
 * Sets the optimiser steps of every fine-tuned arm (the strong baseline's included; the
 * article's baseline keeps its own recipe) and of both students, and, when given, the
 * students' unlabelled images a step. Changes `config` in place and returns it.
 */
export function withFineTuneBudget(
  config: ExperimentConfig,
  steps: number,
  unlabelledBatch?: number,
): ExperimentConfig {
  const baselines = structuredClone(baselinesFor(config));
  const stepped = ({ epochs: _, ...rest }: SupervisedConfig) => ({ ...rest, steps });
  baselines.strong.config = stepped(baselines.strong.config);
  config.baselines = baselines;
  config.finetune = stepped(config.finetune);
  config.distill = {
    ...config.distill,
    steps,
    unlabelledBatch: unlabelledBatch ?? config.distill.unlabelledBatch,
  };
  return config;
}

/** The pre-training views that mirror images (`crop-flip`, SimCLR's `colour`). */
export const MIRRORING_PRESETS: readonly AugmentChoice["preset"][] = ["crop-flip", "colour"];

/**
 * Pre-training's views set to `preset`, and the fine-tuning augmentation (the strong baseline's
 * and the students' included) made to mirror the labelled images exactly when those views do:
 * views that mirror say that a mirrored image keeps its label (clothes, photos of objects), views
 * that do not say it may not (digits). `--pretrain-augment` of `deno task experiment`.
 */
export function withPretrainAugment(
  config: ExperimentConfig,
  preset: AugmentChoice["preset"],
): ExperimentConfig {
  const mirrors = MIRRORING_PRESETS.includes(preset);
  const mirrored = (choice: AugmentChoice): AugmentChoice =>
    choice.preset === "affine" && mirrors
      ? { ...choice, preset: "affine-flip" }
      : choice.preset === "affine-flip" && !mirrors
      ? { ...choice, preset: "affine" }
      : choice;
  config.pretrainAugment = { preset, strength: 1 };
  config.finetuneAugment = mirrored(config.finetuneAugment);
  if (config.baselines) config.baselines.strong.augment = mirrored(config.baselines.strong.augment);
  return config;
}

/** The image datasets' label budget when `--labels` is not given: see {@linkcode recipeFor}. */
export function defaultLabelBudget(train: ImageDataset): number {
  const counts = classCounts(train);
  const k = counts.length;
  const available = counts.reduce((a, b) => a + b, 0);
  const smallest = Math.min(...counts);
  // A quarter of the labels, at most 200 (the article's budget), at least 2 per class,
  // and never more than a balanced draw can take from the smallest class.
  const budget = Math.min(200, Math.max(2 * k, Math.floor(available / 4)));
  return Math.min(budget, available, k * smallest);
}

/**
 * The recipe that fits a dataset, quick or full:
 * - `mnist`: {@linkcode fullRecipe} / {@linkcode quickRecipe} unchanged (the
 *   modern CNN, the "stroke" augmentation for pre-training);
 * - `fashion-mnist`: the same, but the "crop-flip" augmentation for
 *   pre-training (crops, flips, mild rotation, lighting) and mirror images
 *   for fine-tuning ("affine-flip"): ARTICLE.md measured that the digit
 *   augmentation's big rotations and shears made SSL worse on clothes;
 * - `folder:<path>` (pass its training set as `train`): the backbone and
 *   augmentations of {@linkcode folderChoices} (grey images up to 32 pixels:
 *   the modern CNN at 32/64/128 channels, quick at the article's widths, and
 *   "crop"; colour: the small ResNet with batch
 *   normalisation and SimCLR's "colour"), sized to the folder: the label
 *   budget is {@linkcode defaultLabelBudget} (a quarter of the labelled
 *   images, between 2 per class and 200), 20% of it for validation; the
 *   pre-training epochs give about 900 steps (quick: 24) of up to 256 pairs
 *   (quick: 128), and kNN's k is about half the labels per class (at most 20);
 *   colour folders (the ResNet) fine-tune on {@linkcode COLOUR_FOLDER_BUDGET}.
 * Flags (`--labels`, `--epochs`, ...) are applied afterwards by the caller.
 */
export function recipeFor(dataset: string, quick: boolean, train?: ImageDataset): ExperimentConfig {
  const base = quick ? quickRecipe(dataset) : fullRecipe(dataset);
  if (dataset === "mnist") return base;
  if (dataset === "fashion-mnist") {
    return {
      ...base,
      pretrainAugment: { preset: "crop-flip", strength: 1 },
      finetuneAugment: { preset: "affine-flip", strength: 1 },
    };
  }
  if (!dataset.startsWith("folder:")) return base;
  if (!train) return { ...base, ...folderChoices(undefined) };
  const config: ExperimentConfig = { ...base, ...folderChoices(train, quick) };
  const k = train.classNames.length;
  config.labels = defaultLabelBudget(train);
  config.validation = Math.round(config.labels * 0.2);
  const unlabelled = Math.min(train.count - config.labels, config.maxUnlabelled ?? Infinity);
  const batchSize = Math.max(2, Math.min(quick ? 128 : 256, unlabelled));
  const perEpochCap = config.pretrain.maxStepsPerEpoch ?? Infinity;
  const epochs = Math.min(
    quick ? 30 : 200,
    pretrainEpochsFor(
      Math.min(unlabelled, perEpochCap * batchSize),
      batchSize,
      quick ? 24 : 900,
      quick ? 3 : 8,
    ),
  );
  config.pretrain = {
    ...config.pretrain,
    batchSize,
    epochs,
    lrDecay: decayTo(0.1, epochs),
    earlyStop: { minRelativeImprovement: 0.001, patience: Math.max(5, Math.round(epochs / 5)) },
  };
  config.knnK = Math.max(1, Math.min(20, Math.round(config.labels / (2 * k))));
  if (!quick && config.backbone.kind === "resnet") {
    withFineTuneBudget(config, COLOUR_FOLDER_BUDGET.steps, COLOUR_FOLDER_BUDGET.unlabelledBatch);
  }
  return config;
}

/**
 * Throws a clear `Error` when `config`'s label budget does not fit `train`:
 * more labels than labelled training images (the message gives both counts
 * and the images per class), a balanced budget larger than the smallest
 * class allows, or a budget that leaves fewer than 4 images for
 * pre-training. Call it before training; `runSeed` does.
 */
export function checkLabelBudget(config: ExperimentConfig, train: ImageDataset): void {
  const counts = classCounts(train);
  const available = counts.reduce((a, b) => a + b, 0);
  const perClass = train.classNames.map((c, i) => `${c} ${counts[i]}`).join(", ");
  const where = `dataset ${config.dataset}`;
  const budget = config.labels;
  const classes = counts.length;
  if (!Number.isInteger(budget) || budget < classes) {
    throw new Error(
      `${where}: the label budget (--labels ${budget}) must give every one of the ${classes} ` +
        `classes at least one labelled image; use --labels ${classes} or more`,
    );
  }
  if (budget > available) {
    throw new Error(
      `${where}: the label budget (--labels ${budget}) is more than the ${available} labelled ` +
        `training images available (${perClass}); use --labels ${available} or fewer`,
    );
  }
  const k = counts.length;
  if (config.balanced && k > 0) {
    const need = Math.ceil(budget / k);
    const smallest = Math.min(...counts);
    if (need > smallest) {
      const c = train.classNames[counts.indexOf(smallest)];
      throw new Error(
        `${where}: a balanced label budget of ${budget} over ${k} classes needs up to ${need} ` +
          `labelled images per class, but class "${c}" has only ${smallest} (${perClass}); ` +
          `use --labels ${k * smallest} or fewer`,
      );
    }
  }
  const left = train.count - budget;
  if (left < 4) {
    throw new Error(
      `${where}: the label budget (--labels ${budget}) leaves ${left} of the ${train.count} ` +
        `training images for contrastive pre-training; it needs at least 4: lower --labels ` +
        `or add unlabelled images`,
    );
  }
}
