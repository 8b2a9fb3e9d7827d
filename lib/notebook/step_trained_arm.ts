/**
 * The notebooks' step for one arm: {@linkcode trainedArm} trains it (its teachers first, for a
 * distilled student), or loads a fine-tuned arm from its checkpoint, with a live progress bar in
 * epochs ({@linkcode fineTuneEpochs}).
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { prepareContext } from "./step_context.ts";
 * import { fineTuneEpochs, trainedArm } from "./step_trained_arm.ts";
 * await initBackend();
 * const ctx = await prepareContext(quickRecipe(), 0, { cache: false });
 * fineTuneEpochs(ctx, "supervised_strong"); // the epochs its bar counts
 * const arm = await trainedArm(ctx, "pixels_knn"); // kNN on raw pixels: nothing to train
 * arm.loaded; // false: made now, not read from a checkpoint
 * arm.dispose();
 * ```
 *
 * @module
 */
import path from "node:path";
import type { SupervisedEpoch, SupervisedResult } from "../train/supervised.ts";
import { epochsForSteps } from "../train/schedule.ts";
import type { ImageClassifier } from "../pipeline/classifier.ts";
import type { FineTuned } from "../pipeline/fine_tune.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import {
  type Arm,
  type ArmContext,
  armUnavailable,
  type FineTunedOf,
  fineTuneOptions,
  isFineTunedArm,
  PRETRAINED_ARMS,
  teacherArmsOf,
  trainArm,
} from "../experiment/arms.ts";
import { progressBar } from "./progress.ts";
import { type DistilledInfo, loadArm, saveArm } from "./step_arm_checkpoint.ts";
import type { StepContext, StepOptions } from "./step_context.ts";

/** A trained arm: a classifier, how it trained (fine-tuned arms), and whether it was loaded. */
export type TrainedArm = (ImageClassifier | FineTuned) & DistilledInfo & {
  arm: Arm;
  /** The training history of a fine-tuned arm. */
  result?: SupervisedResult;
  /** True when it was loaded from a checkpoint rather than trained now. */
  loaded: boolean;
};

/** The teachers `student` may learn from, trained or loaded (those this recipe runs). */
async function teacherCandidates(
  ctx: StepContext,
  pre: Pretrained | undefined,
  student: Arm,
): Promise<FineTunedOf[]> {
  const out: FineTunedOf[] = [];
  for (const arm of teacherArmsOf(student, ctx.split.validation.length > 0)) {
    if (armUnavailable(ctx, arm)) continue;
    const from = PRETRAINED_ARMS.includes(arm) ? pre : undefined;
    out.push({ arm, model: await trainedArm(ctx, arm, from) as FineTuned });
  }
  return out;
}

/**
 * Trains one arm (see `arms.ts`), or loads a fine-tuned arm from its
 * checkpoint. The pre-trained arms need `pre` (from {@linkcode pretrained}).
 */
export async function trainedArm(
  ctx: StepContext,
  arm: Arm,
  pre?: Pretrained,
  options: StepOptions & { onEpoch?: (e: SupervisedEpoch) => void | Promise<void> } = {},
): Promise<TrainedArm> {
  const dir = ctx.dir && isFineTunedArm(arm) ? path.join(ctx.dir, arm) : undefined;
  const saved = dir ? await loadArm(ctx, dir, arm) : undefined;
  if (saved) return { ...saved, arm, loaded: true };
  let bar: ReturnType<typeof progressBar> | undefined;
  const teachers = await teacherCandidates(ctx, pre, arm);
  const model = await trainArm(ctx, arm, pre, async (e) => {
    bar ??= options.progress
      ? progressBar(fineTuneEpochs(ctx, arm), { label: arm, unit: "epochs" })
      : undefined;
    bar?.update(e.epoch + 1, {
      loss: e.loss,
      ...(e.validationAccuracy === undefined ? {} : { "val acc": e.validationAccuracy }),
    });
    await options.onEpoch?.(e);
  }, teachers).finally(() => teachers.forEach((t) => t.model.dispose()));
  await bar?.done();
  if (dir) await saveArm(ctx, dir, arm, model as FineTuned);
  return { ...model, arm, loaded: false };
}

/** The epochs a fine-tuned arm trains for (0 = not known: a frozen arm). */
export function fineTuneEpochs(ctx: ArmContext, arm: Arm): number {
  if (!isFineTunedArm(arm)) return 0;
  const o = fineTuneOptions(ctx, arm);
  return o.steps === undefined
    ? o.epochs ?? 0
    : epochsForSteps(o.steps, ctx.split.labelled.length, o.batchSize ?? 64);
}
