/**
 * The arms of the experiment, each written once on the public API
 * (`lib/pipeline/`): `deno task experiment` (`runSeed`), the notebooks'
 * cached steps (`steps.ts`) and the study all train an arm with
 * {@linkcode trainArm}.
 *
 * - `supervised`: backbone + head trained on the labelled images only (the
 *   SSL arms' fine-tuning recipe, without augmentation);
 * - `supervised_article`: the article's CNN and supervised recipe as published
 *   (SGD, no augmentation, final model);
 * - `supervised_strong`: a well-trained supervised model of the SSL arms'
 *   backbone on the same labels (the textbook recipe; see `baselines.ts`);
 * - `self_trained`: `supervised_strong` then self-training on the unlabelled
 *   images, exactly as `ssl_distilled` but without pre-training — the control
 *   that tells what pre-training adds to self-training;
 * - `ssl_same_head`: contrastive pre-training, then fine-tuning with the
 *   projection head kept as the classifier;
 * - `ssl_new_head`: the same pre-trained backbone, the projection head
 *   discarded for a fresh one, fine-tuned;
 * - `ssl_head_layer1`: SimCLRv2's middle answer — the first layer of the
 *   pre-trained projection head kept on the backbone, a new linear
 *   classifier on top, fine-tuned;
 * - `ssl_distilled`: SimCLRv2's third step — the fine-tuned SSL arm best on
 *   validation is the teacher; a student learns the unlabelled images from it
 *   (`lib/pipeline/distill.ts`: by default it starts as the teacher and
 *   self-trains on its own confident pseudo-labels; `mode: "soft"` learns the
 *   teacher's soft labels, SimCLRv2's literal recipe);
 * - `linear_probe`: a linear classifier on the frozen pre-trained features h;
 * - `knn`: a k-nearest-neighbour vote on the frozen features h;
 * - `pixels_linear`: a linear classifier on the raw pixels of the labelled
 *   images, and `pixels_knn`: a kNN vote on them (k chosen on validation) —
 *   the baselines a deep model must beat to earn its keep.
 *
 * Every arm selects on the validation split (or keeps its final model) and is
 * scored once on the test set.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { loadMnist } from "../data/mnist.ts";
 * import { quickRecipe } from "./recipe.ts";
 * import { armContext, trainArm } from "./arms.ts";
 * import { evaluate } from "../pipeline/evaluate.ts";
 * await initBackend();
 * const data = await loadMnist();
 * const ctx = armContext(quickRecipe(), data, 0);
 * const model = await trainArm(ctx, "supervised");
 * const { accuracy } = await evaluate(model, data.test, { count: ctx.testCount });
 * model.dispose();
 * ```
 *
 * @module
 */
import type { ImageDataset } from "../data/dataset.ts";
import type { SparseLabelSplit } from "../data/split.ts";
import { headOutputWidth, headSettingText } from "../models/heads/head_setting.ts";
import { backboneSettingText } from "../models/backbones.ts";
import { articleSizeProblem } from "../models/article_cnn.ts";
import type { ImageClassifier } from "../pipeline/classifier.ts";
import { splitLabels } from "../pipeline/labels.ts";
import {
  featureDimOf,
  pretrain,
  type Pretrained,
  type PretrainSettings,
} from "../pipeline/pretrain.ts";
import { fineTune, type FineTuned, type FineTuneOptions } from "../pipeline/fine_tune.ts";
import { knn, linearProbe } from "../pipeline/frozen.ts";
import { distill, type DistillOptions } from "../pipeline/distill.ts";
import { checkLabelBudget, type ExperimentConfig } from "./recipe.ts";
import { baselinesFor, type SupervisedRecipe } from "./baselines.ts";
import type { SupervisedEpoch } from "../train/supervised.ts";
import { gatherImages, gatherLabels } from "../train/batches.ts";
import { accuracy } from "../eval/metrics.ts";
import {
  type Arm,
  ARM_TABLE,
  type ArmInfo,
  type FineTunedArm,
  isFineTunedArm,
  PRETRAINED_ARMS,
  TEACHER_ARMS,
} from "./arm_table.ts";

export {
  type Arm,
  ARMS,
  FINE_TUNED_ARMS,
  type FineTunedArm,
  isFineTunedArm,
  PRETRAINED_ARMS,
  TEACHER_ARMS,
  teacherArmsOf,
  TEACHING_ARMS,
} from "./arm_table.ts";

/** Everything the arms of one seed share. */
export interface ArmContext {
  config: ExperimentConfig;
  seed: number;
  train: ImageDataset;
  test: ImageDataset;
  /** Labelled, validation and unlabelled (capped in quick mode) indices of `train`. */
  split: SparseLabelSplit;
  shape: [number, number, number];
  numClasses: number;
  /** Width of the backbone's features h. */
  featureDim: number;
  /** Test images scored (all, or capped in quick mode). */
  testCount: number;
}

/** The seeded split and shapes of one seed of `config` on `data`. */
export function armContext(
  config: ExperimentConfig,
  data: { train: ImageDataset; test: ImageDataset },
  seed: number,
): ArmContext {
  const { train, test } = data;
  checkLabelBudget(config, train);
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  return {
    config,
    seed,
    train,
    test,
    split: splitLabels(train, {
      labels: config.labels,
      validation: config.validation,
      balanced: config.balanced,
      seed,
      maxUnlabelled: config.maxUnlabelled,
    }),
    shape,
    numClasses: train.classNames.length,
    featureDim: featureDimOf(config.backbone, shape),
    testCount: Math.min(test.count, config.maxTest ?? test.count),
  };
}

/**
 * Why an arm cannot run with this recipe, or `undefined` when it can: the
 * "same head" arm keeps the projection head as the classifier, so the head
 * must output one value per class.
 */
export function armUnavailable(ctx: ArmContext, arm: Arm): string | undefined {
  if (arm === "supervised_article") return articleSizeProblem(ctx.shape[0], ctx.shape[1]);
  if (arm === "ssl_head_layer1") {
    return ctx.config.head.kind === "none"
      ? "the recipe has no projection head (none), so there is no layer of it to keep"
      : undefined;
  }
  if (arm !== "ssl_same_head") return undefined;
  const out = headOutputWidth(ctx.config.head, ctx.featureDim, ctx.numClasses);
  if (out === ctx.numClasses) return undefined;
  return `the head ${headSettingText(ctx.config.head)} outputs ${out} values, not one per ` +
    `class (${ctx.numClasses}), so it cannot be kept as the classifier`;
}

/** The contrastive pre-training of a seed (see `pretrain`), with optional resume and callbacks. */
export function pretrainFor(
  ctx: ArmContext,
  extra: Pick<PretrainSettings, "checkpointDir" | "onEpoch" | "onStep"> = {},
): Promise<Pretrained> {
  const { config } = ctx;
  return pretrain(ctx.train, {
    ...config.pretrain,
    indices: ctx.split.unlabelled,
    backbone: config.backbone,
    head: config.head,
    augment: config.pretrainAugment,
    seed: ctx.seed,
    monitor: {
      labels: ctx.train.labels,
      labelled: ctx.split.labelled,
      validation: ctx.split.validation,
      k: config.knnK,
    },
    ...extra,
  });
}

/**
 * The backbone an arm trains, as `--backbone` spells it (`cnn`, `article`, `resnet`, ...), or
 * "pixels" for the raw-pixel arms: recorded beside every arm's accuracies.
 */
export function armBackbone(config: ExperimentConfig, arm: Arm): string {
  if (ARM_TABLE[arm].uses === "pixels") return "pixels";
  const own = arm === "supervised_article" ? baselinesFor(config).article.backbone : undefined;
  return backboneSettingText(own ?? config.backbone);
}

/** The supervised recipe of a fine-tuned arm (the students' is their teacher's). */
export function armRecipe(ctx: ArmContext, arm: FineTunedArm): SupervisedRecipe {
  const { config } = ctx;
  const baselines = baselinesFor(config);
  if (arm === "supervised_article") return baselines.article;
  if (arm === "supervised_strong" || arm === "self_trained") return baselines.strong;
  // "On the labels only": the SSL arms' recipe without augmentation, as the article's baseline.
  if (arm === "supervised") {
    return { config: config.finetune, augment: { preset: "none" }, select: "final" };
  }
  return { config: config.finetune, augment: config.finetuneAugment, select: "final" };
}

/** The fine-tuning settings of a fine-tuned arm. */
export function fineTuneOptions(ctx: ArmContext, arm: FineTunedArm): FineTuneOptions {
  const { config } = ctx;
  const recipe = armRecipe(ctx, arm);
  const student = (ARM_TABLE[arm] as ArmInfo).teacher !== undefined;
  return {
    ...recipe.config,
    // A student's budget is its own: steps of labelled + unlabelled images.
    ...(student ? { steps: config.distill.steps } : {}),
    augment: recipe.augment,
    select: recipe.select,
    head: arm === "ssl_same_head" ? "keep" : arm === "ssl_head_layer1" ? { layers: 1 } : "new",
    backbone: recipe.backbone ?? config.backbone,
    classifier: recipe.classifier ?? config.classifier,
    seed: ctx.seed,
    stream: `finetune-${arm}`,
  };
}

/** The settings of a student (`ssl_distilled`, `self_trained`) on top of its fine-tuning. */
export function studentOptions(ctx: ArmContext, arm: FineTunedArm): DistillOptions {
  const d = ctx.config.distill;
  return {
    ...fineTuneOptions(ctx, arm),
    mode: d.mode,
    temperature: d.temperature,
    labelWeight: d.labelWeight,
    threshold: d.threshold,
    ...(d.emaMomentum ? { emaMomentum: d.emaMomentum } : {}),
    unlabelledBatch: d.unlabelledBatch,
    strongAugment: ctx.config.pretrainAugment,
    unlabelled: ctx.split.unlabelled,
  };
}

/** A trained fine-tuned arm, by name (a teacher candidate). */
export interface FineTunedOf {
  arm: Arm;
  model: FineTuned;
}

/**
 * The teacher of `ssl_distilled`: the candidate best on validation (the
 * accuracy of its selected epoch; ties: lower validation loss, then the
 * order of {@linkcode TEACHER_ARMS}).
 */
export function chooseTeacher<T extends { arm: Arm; model: Pick<FineTuned, "result"> }>(
  candidates: readonly T[],
): T | undefined {
  const score = (c: T) => c.model.result.history[c.model.result.selectedEpoch] ?? {};
  // The table's order, whatever order the candidates finished in (ties go to the first).
  const order = (c: T) => TEACHER_ARMS.indexOf(c.arm);
  let best: T | undefined;
  for (const c of [...candidates].sort((a, b) => order(a) - order(b))) {
    if (!(TEACHER_ARMS as readonly Arm[]).includes(c.arm)) continue;
    const s = score(c);
    const b = best && score(best);
    const acc = s.validationAccuracy ?? -1;
    const bAcc = b?.validationAccuracy ?? -1;
    if (
      !best || acc > bAcc || (acc === bAcc && (s.validationLoss ?? 0) < (b!.validationLoss ?? 0))
    ) {
      best = c;
    }
  }
  return best;
}

/** The k values the pixel kNN chooses from. */
export const PIXEL_K_CANDIDATES: readonly number[] = [1, 3, 5, 10, 20];

/**
 * The k of the pixel kNN: the candidate best on the validation images (kNN
 * among the training labels), the smallest on a tie; 1 without validation.
 */
export async function pixelK(ctx: ArmContext): Promise<number> {
  const { split, train } = ctx;
  if (split.validation.length === 0) return 1;
  const size = ctx.shape[0] * ctx.shape[1] * ctx.shape[2];
  const images = gatherImages(train.images, size, split.validation);
  const labels = gatherLabels(train.labels, split.validation);
  let best = { k: 1, accuracy: -1 };
  for (const k of PIXEL_K_CANDIDATES.filter((k) => k <= split.labelled.length)) {
    const vote = await knn(null, train, split.labelled, { k });
    const acc = accuracy(await vote.predict(images, split.validation.length), labels);
    if (acc > best.accuracy) best = { k, accuracy: acc };
  }
  return best.k;
}

/**
 * Trains one arm and returns it as a classifier (free it with `dispose`).
 * The pre-trained arms need `pre` (from {@linkcode pretrainFor}); it is only
 * read, so one pre-training serves them all.
 */
export async function trainArm(
  ctx: ArmContext,
  arm: Arm,
  pre?: Pretrained,
  onEpoch?: (e: SupervisedEpoch) => void | Promise<void>,
  teachers: readonly FineTunedOf[] = [],
): Promise<ImageClassifier | FineTuned> {
  const needsPre = PRETRAINED_ARMS.includes(arm);
  if (needsPre && !pre) throw new Error(`trainArm: "${arm}" needs the pre-trained model`);
  const why = armUnavailable(ctx, arm);
  if (why) throw new RangeError(`trainArm: ${arm}: ${why}`);
  const { config, split, seed } = ctx;
  const teacherOf = (ARM_TABLE[arm] as ArmInfo).teacher;
  if (teacherOf !== undefined) {
    const teacher = teacherOf === "ssl"
      ? chooseTeacher(teachers)
      : teachers.find((t) => t.arm === teacherOf);
    if (!teacher) {
      throw new Error(
        `trainArm: ${arm} needs its teacher (${
          teacherOf === "ssl" ? "a fine-tuned SSL arm" : teacherOf
        }) trained first`,
      );
    }
    const student = await distill(teacher.model, needsPre ? pre! : null, ctx.train, split, {
      ...studentOptions(ctx, arm as FineTunedArm),
      onEpoch,
    });
    return Object.assign(student, { teacher: teacher.arm });
  }
  if (isFineTunedArm(arm)) {
    return await fineTune(needsPre ? pre! : null, ctx.train, split, {
      ...fineTuneOptions(ctx, arm),
      onEpoch,
    });
  }
  if (arm === "linear_probe") {
    return await linearProbe(pre!.encoder, ctx.train, split.labelled, {
      epochs: config.probe.epochs,
      learningRate: config.probe.learningRate,
      weightDecay: config.probe.weightDecay,
      seed,
    });
  }
  const all = Int32Array.from([...split.labelled, ...split.validation]);
  if (arm === "knn") return await knn(pre!.encoder, ctx.train, all, { k: config.knnK });
  if (arm === "pixels_linear") {
    // Raw pixels in [0, 1], not standardised: a pixel that is almost always 0 in the
    // labelled images would otherwise be blown up on the test images.
    return await linearProbe(null, ctx.train, split.labelled, {
      epochs: config.probe.epochs,
      learningRate: config.probe.learningRate,
      weightDecay: config.probe.weightDecay,
      standardize: false,
      seed,
    });
  }
  if (arm === "pixels_knn") {
    return await knn(null, ctx.train, all, { k: await pixelK(ctx) });
  }
  throw new Error(`trainArm: unknown arm "${arm}"`);
}
