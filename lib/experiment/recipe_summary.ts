/**
 * What a recipe chose, in a few printed lines, and about how long one seed of the experiment
 * will take: `deno task experiment` prints it before training, so a user who points the
 * experiment at a folder of 6,000 colour images knows at once whether to wait or to run
 * `--quick`.
 *
 * The estimate counts the images every arm pushes through the backbone (pre-training's views,
 * each fine-tune's steps, the students' unlabelled batches) and divides by the training speed
 * of the backbone measured on the 2-core machine ({@linkcode TRAINING_SPEED}), scaled by the
 * image size.
 *
 * @example
 * ```ts
 * import { describeRecipe } from "./recipe_summary.ts";
 * import { quickRecipe } from "./recipe.ts";
 * const digits = { name: "mnist", images: new Float32Array(0), labels: new Int32Array(0),
 *   count: 60000, height: 28, width: 28, channels: 1, classNames: ["0", "1"] };
 * describeRecipe(quickRecipe(), digits); // ["backbone cnn: ...", ..., "expected time: ..."]
 * ```
 *
 * @module
 */
import { autoWorkers } from "../backend.ts";
import type { ImageDataset } from "../data/dataset.ts";
import { type BackboneConfig, backboneSettingText } from "../models/backbones.ts";
import { MODERN_CNN_CHANNELS } from "../models/modern_cnn.ts";
import { supervisedSteps } from "../train/supervised.ts";
import { ARMS } from "./arm_table.ts";
import { armRecipe, isFineTunedArm } from "./arms.ts";
import { baselinesFor } from "./baselines.ts";
import { chooseBackbone } from "./folder_recipe.ts";
import { COLOUR_FOLDER_BUDGET, type ExperimentConfig, fullRecipe } from "./recipe.ts";

/**
 * Images per second one core trains (forward + backward + optimiser) at 28x28, by backbone
 * kind, with the wasm backend on the 2-core machine; inference is about three times as fast.
 * The ResNet's went from 180 to 260 with the Winograd kernels of 2026-12-07
 * (`docs/performance.md`), measured on a 6,000-image colour folder (`docs/your-images.md`): the
 * quick run took 3.5 minutes at load 3 (260 estimated 4.0, 180 estimated 6), one seed of a
 * 20-minute colour recipe 15.7 minutes (260 estimated 14.7); then to 400 with the fused batch
 * norm + ReLU and the padding-free kernels: the quick run took 2.1 minutes on the idle machine
 * (400 estimated 2.6, 260 estimated 4.0); then to 520 with the F(4x4, 3x3) Winograd kernels (the
 * step x1.30): the quick run took 1.7 minutes on the idle machine (520 estimates 2.0, 400
 * estimated 2.6). Then measured arm by arm on the idle machine (the colour budget's run of
 * 2026-12-07, 15:40-15:55 UTC, `docs/your-images.md`): each fine-tuned arm trained its 32,000
 * images in 59-65 s on one core, 525 images/s at 32x32, 686 at 28x28: 680.
 */
export const TRAINING_SPEED: Readonly<Record<string, number>> = Object.freeze({
  article: 3000,
  cnn: 2600,
  resnet: 680,
});

/**
 * How many times the multiply-adds of the article-width modern CNN a CNN of these widths does per
 * 28x28 image (3x3 convolutions, each block halving the resolution; cnn-wide: about 9x).
 */
export function cnnCost(channels: readonly number[] | undefined): number {
  const macs = (widths: readonly number[]) =>
    widths.reduce(
      (sum, c, i) => sum + (i === 0 ? 1 : widths[i - 1]) * c * 9 * (784 / 4 ** i),
      0,
    );
  return channels ? macs(channels) / macs(MODERN_CNN_CHANNELS) : 1;
}

/**
 * How many times longer a CNN of these widths trains than the article-width one: the square root
 * of {@linkcode cnnCost}, as measured (wider layers keep the SIMD products busier): cnn-wide's 9.4x
 * the multiply-adds took 3.0-3.2x the time arm by arm, and 3.0x in pre-training, on the digit
 * folder (`docs/results.md`, 2026-12-07; the multiply-adds alone announced 72 minutes for a run
 * of 29.7).
 */
export function cnnTimeFactor(channels: readonly number[] | undefined): number {
  return Math.sqrt(cnnCost(channels));
}

/**
 * How much faster pre-training runs on two workers than one core fine-tunes, by backbone kind:
 * the CNNs x1.2-1.6 (1.4); the ResNet's 256-pair steps keep both cores busy and gain on its 64-image
 * fine-tuning steps: 1,012 views/s on two workers against 525 images/s a core, x1.9 (the colour
 * budget's run above).
 */
const WORKER_GAIN: Readonly<Record<string, number>> = Object.freeze({ resnet: 1.9 });

/**
 * Seconds one seed of `config` takes on `train`, roughly (±30% on an idle machine), with the
 * default arm workers (one per core).
 */
export function estimateSeconds(config: ExperimentConfig, train: ImageDataset): number {
  const pixels = (train.height * train.width) / 784;
  const speed = (backbone: BackboneConfig) =>
    (TRAINING_SPEED[backbone.kind] ?? TRAINING_SPEED.resnet) /
    (pixels * (backbone.kind === "cnn" ? cnnTimeFactor(backbone.channels) : 1));
  const labelled = config.labels - config.validation;
  const unlabelled = Math.min(train.count - config.labels, config.maxUnlabelled ?? Infinity);
  const p = config.pretrain;
  const perEpoch = Math.min(
    Math.floor(unlabelled / Math.min(p.batchSize, unlabelled)),
    p.maxStepsPerEpoch ?? Infinity,
  );
  const workers = p.workers === "auto" ? autoWorkers() : p.workers ?? 1;
  const gain = workers > 1 ? WORKER_GAIN[config.backbone.kind] ?? 1.4 : 1;
  const pretrainSeconds = (2 * p.batchSize * perEpoch * p.epochs) /
    (speed(config.backbone) * gain);
  let seconds = 0;
  const ctx = { config } as Parameters<typeof armRecipe>[0];
  for (const arm of ARMS) {
    if (!isFineTunedArm(arm)) continue;
    const recipe = armRecipe(ctx, arm);
    const backbone = recipe.backbone ?? config.backbone;
    const student = arm === "ssl_distilled" || arm === "self_trained";
    const steps = student ? config.distill.steps : supervisedSteps(recipe.config, labelled);
    const batch = Math.min(recipe.config.batchSize, labelled);
    const extra = student ? config.distill.unlabelledBatch * (1 + 1 / 3) : 0;
    seconds += (steps * (batch + extra)) / speed(backbone);
  }
  // The arms train side by side on the arm workers, one per core by default (`--arm-workers`).
  return pretrainSeconds + seconds / Math.max(1, autoWorkers());
}

/** What the recipe chose for `train` and why, and about how long one seed takes. */
export function describeRecipe(config: ExperimentConfig, train: ImageDataset): string[] {
  // MNIST and Fashion-MNIST keep the article's widths in every run (the article's experiment).
  const { backbone, why } = config.dataset.startsWith("folder:")
    ? chooseBackbone(train, config.quick)
    : {
      backbone: fullRecipe(config.dataset).backbone,
      why: `${config.dataset}: the modern CNN at the article's widths (7k parameters), as in ` +
        `the article's experiment`,
    };
  const mine = backboneSettingText(config.backbone);
  const auto = backboneSettingText(backbone);
  const chosen = mine === auto
    ? `backbone ${mine}: ${why}`
    : `backbone ${mine} (set by hand; the data would choose ${auto}: ${why})`;
  const labelled = config.labels - config.validation;
  const tune = supervisedSteps(config.finetune, labelled);
  const strong = supervisedSteps(baselinesFor(config).strong.config, labelled);
  const p = config.pretrain;
  const unlabelled = Math.min(train.count - config.labels, config.maxUnlabelled ?? Infinity);
  const perEpoch = Math.min(
    Math.floor(unlabelled / Math.min(p.batchSize, unlabelled)),
    p.maxStepsPerEpoch ?? Infinity,
  );
  const minutes = estimateSeconds(config, train) / 60;
  const colourBudget = !config.quick && config.backbone.kind === "resnet" &&
      tune === COLOUR_FOLDER_BUDGET.steps && config.distill.steps === COLOUR_FOLDER_BUDGET.steps
    ? [
      `the colour budget: ${tune} fine-tuning steps instead of 1500, in about a third of the ` +
      `time; on a 6,000-image colour folder it cost the best arm 2.3 points ` +
      `(docs/your-images.md): --finetune-steps 1500 --student-batch 256 trains the long recipe`,
    ]
    : [];
  return [
    chosen,
    `channels ${train.channels} (${train.channels === 1 ? "grey" : "colour"}), augmentation ` +
    `${config.pretrainAugment.preset} for pre-training, ${config.finetuneAugment.preset} ` +
    `${config.finetuneAugment.strength ?? 1} for fine-tuning`,
    `budget: pre-training ${p.epochs} epochs x ${perEpoch} steps of ${p.batchSize} pairs ` +
    `(${unlabelled} unlabelled images); fine-tuning ${tune} steps on ${labelled} labelled ` +
    `images (the strong baseline ${strong}); each student ${config.distill.steps} steps of ` +
    `${config.distill.unlabelledBatch} unlabelled images (${config.distill.mode})`,
    ...colourBudget,
    `expected time: about ${minutes < 2 ? minutes.toFixed(1) : Math.round(minutes)} min per ` +
    `seed on a 2-core CPU`,
  ];
}
