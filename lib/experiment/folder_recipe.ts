/**
 * The recipe for a folder of your own images, fitted to what is in it:
 *
 * - **backbone**: grey images up to 32 pixels get the article's small CNN
 *   (7k parameters, ~2,000 views/s on one core); colour images, or grey ones
 *   larger than 32 pixels, the small ResNet (stages halve the resolution);
 * - **augmentation**: grey content gets "crop" (crops, mild rotation,
 *   lighting, no mirror images: digits, letters and signs change meaning when
 *   flipped); colour gets SimCLR's "colour" pipeline for pre-training and
 *   gentle crop-flip for fine-tuning;
 * - **budgets in optimiser steps, not epochs**: 80 labelled images at batch
 *   64 make an epoch of two steps, so an epoch budget tuned on 160 labels
 *   starves a small folder. Fine-tuning, the strong baseline and the probe
 *   train for a number of steps that grows with the labelled images
 *   (quick: 3 per image, 150..400; full: 5 per image, 400..1,600);
 *   pre-training for about 300 steps (quick: 24) of up to 256 pairs; the
 *   distilled student for about 100 passes over the unlabelled images (at
 *   most the preset's steps);
 * - **the article's supervised recipe stays as published** (SGD, fixed
 *   epochs) and is reported as such.
 *
 * {@linkcode describeRecipe} says what was chosen, why, and about how long
 * it will take.
 *
 * @example
 * ```ts
 * import { describeRecipe, folderRecipe } from "./folder_recipe.ts";
 * import { quickRecipe } from "./recipe.ts";
 * const grey = { name: "mine", images: new Float32Array(0), labels: new Int32Array(0), count: 0,
 *   height: 28, width: 28, channels: 1, classNames: ["a", "b"] };
 * const r = folderRecipe(quickRecipe("folder:mine"), grey, true);
 * r.backbone; // { kind: "article" }
 * describeRecipe(r, grey); // ["backbone article: grey images of 28x28 ...", ...]
 * ```
 *
 * @module
 */
import { autoWorkers } from "../backend.ts";
import type { ImageDataset } from "../data/dataset.ts";
import type { BackboneConfig } from "../models/backbones.ts";
import type { StepBudget } from "../train/schedule.ts";
import { type BaselinesConfig, baselinesFor } from "./baselines.ts";
import type { AugmentChoice, ExperimentConfig } from "./recipe.ts";

/** Fine-tuning budgets of folder recipes, in optimiser steps per labelled image. */
export const FOLDER_STEPS: Readonly<Record<"quick" | "full", StepBudget>> = Object.freeze({
  quick: { perImage: 3, min: 150, max: 400 },
  full: { perImage: 5, min: 400, max: 1600 },
});

/** Passes over the unlabelled images that the distilled student makes, at most (full and quick). */
export const FOLDER_DISTILL_PASSES = 100;

/** The backbone that fits images of `data`, and why. */
export function chooseBackbone(data: ImageDataset): { backbone: BackboneConfig; why: string } {
  const side = Math.max(data.height, data.width);
  const size = `${data.height}x${data.width}`;
  if (data.channels === 1 && side <= 32) {
    return {
      backbone: { kind: "article" },
      why: `grey images of ${size}: the article's small CNN fits them (7k parameters)`,
    };
  }
  return {
    backbone: { kind: "resnet", width: 16, depth: 3 },
    why: data.channels === 3
      ? `colour images of ${size}: the small ResNet (16/32/64 channels) sees colour and texture`
      : `grey images of ${size}, larger than 32 pixels: the small ResNet halves the resolution ` +
        `in each of its 3 stages`,
  };
}

/** Fits `base` (the quick or full preset) to the folder's training set `train`. */
export function folderRecipe(
  base: ExperimentConfig,
  train: ImageDataset,
  quick: boolean,
): ExperimentConfig & { baselines: BaselinesConfig } {
  const grey = train.channels === 1;
  const gentle: AugmentChoice = { preset: grey ? "crop" : "crop-flip", strength: 0.5 };
  const steps = FOLDER_STEPS[quick ? "quick" : "full"];
  const config: ExperimentConfig = {
    ...base,
    backbone: chooseBackbone(train).backbone,
    pretrainAugment: grey ? { preset: "crop", strength: 1 } : { preset: "colour" },
    finetuneAugment: gentle,
    finetune: { ...base.finetune, steps },
  };
  const baselines = baselinesFor({ ...config, baselines: undefined });
  baselines.strong = {
    ...baselines.strong,
    config: { ...baselines.strong.config, steps, lrDecay: undefined, finalLrFraction: 0.05 },
  };
  return { ...config, baselines };
}

/**
 * The distilled student's steps for `unlabelled` images: {@linkcode FOLDER_DISTILL_PASSES}
 * passes over them, at most the preset's steps (`distill.steps`).
 */
export function folderDistillSteps(
  distill: ExperimentConfig["distill"],
  unlabelled: number,
): number {
  const passes = Math.ceil(
    (FOLDER_DISTILL_PASSES * Math.max(0, unlabelled)) / distill.unlabelledBatch,
  );
  return Math.max(1, Math.min(distill.steps, passes));
}

/** Optimiser steps of a step budget for `count` images. */
function stepsOf(budget: number | StepBudget | undefined, count: number, fallback: number) {
  if (budget === undefined) return fallback;
  if (typeof budget === "number") return budget;
  return Math.min(budget.max, Math.max(budget.min, Math.round(budget.perImage * count)));
}

/** Rough training speeds on one core of the 2-core machine (views per second, wasm). */
const SPEED: Record<BackboneConfig["kind"], number> = { article: 2000, resnet: 200 };

/**
 * What the recipe chose for `train` and why, and about how long one seed
 * takes (from rough per-backbone speeds; expect ±50%).
 */
export function describeRecipe(config: ExperimentConfig, train: ImageDataset): string[] {
  const { backbone, why } = chooseBackbone(train);
  const chosen = config.backbone.kind === backbone.kind
    ? `backbone ${config.backbone.kind}: ${why}`
    : `backbone ${config.backbone.kind} (set by hand; the data would choose ${backbone.kind}: ${why})`;
  const labelled = config.labels - config.validation;
  const tuneSteps = stepsOf(
    config.finetune.steps,
    labelled,
    config.finetune.epochs * Math.ceil(labelled / config.finetune.batchSize),
  );
  const p = config.pretrain;
  const unlabelled = Math.min(train.count - config.labels, config.maxUnlabelled ?? Infinity);
  const perEpoch = Math.min(
    Math.floor(unlabelled / Math.min(p.batchSize, unlabelled)),
    p.maxStepsPerEpoch ?? Infinity,
  );
  const preViews = 2 * p.batchSize * perEpoch * p.epochs;
  const speed = SPEED[config.backbone.kind] *
    (1 + 0.7 * ((p.workers === "auto" ? autoWorkers() : p.workers ?? 1) - 1)) *
    (28 * 28 / (train.height * train.width));
  // Five fine-tuned arms of `tuneSteps` steps (+ validation), the article's recipe as published,
  // the distilled student (its unlabelled batch and a labelled one per step).
  const article = baselinesFor(config).article.config;
  const articleSteps = article.epochs * Math.ceil(labelled / article.batchSize);
  const tuneViews = 5 * tuneSteps * config.finetune.batchSize * 1.2 +
    articleSteps * article.batchSize +
    config.distill.steps * (config.distill.unlabelledBatch + config.finetune.batchSize);
  const minutes = (preViews / speed + tuneViews / SPEED[config.backbone.kind]) / 60;
  return [
    chosen,
    `channels ${train.channels} (${train.channels === 1 ? "grey" : "colour"}), augmentation ` +
    `${config.pretrainAugment.preset} for pre-training, ${config.finetuneAugment.preset} ` +
    `${config.finetuneAugment.strength ?? 1} for fine-tuning`,
    `budget: pre-training ${p.epochs} epochs x ${perEpoch} steps of ${p.batchSize} pairs; ` +
    `fine-tuning ${tuneSteps} steps on ${labelled} labelled images; the article's recipe ` +
    `${articleSteps} steps; the distilled student ${config.distill.steps} steps`,
    `expected time: about ${Math.max(1, Math.round(minutes))} min per seed on a 2-core CPU`,
  ];
}
