/**
 * The notebooks' test evaluation: one classifier's accuracy, predictions and confusion on the
 * context's test images ({@linkcode testPredictions}), and every arm of the experiment trained or
 * loaded and scored ({@linkcode evaluatedArms}: what `deno task experiment` reports for a seed),
 * exporting the SSL arm best on validation when asked.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { prepareContext } from "./step_context.ts";
 * import { trainedArm } from "./step_trained_arm.ts";
 * import { testPredictions } from "./step_evaluation.ts";
 * await initBackend();
 * const ctx = await prepareContext(quickRecipe(), 0, { cache: false });
 * const arm = await trainedArm(ctx, "pixels_knn");
 * const { accuracy } = await testPredictions(ctx, arm); // 0.76: kNN on raw pixels
 * arm.dispose();
 * ```
 *
 * @module
 */
import type { SupervisedResult } from "../train/supervised.ts";
import type { ImageClassifier } from "../pipeline/classifier.ts";
import type { FineTuned } from "../pipeline/fine_tune.ts";
import { evaluate, type Evaluation } from "../pipeline/evaluate.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import { BestSslArm } from "../experiment/save_model.ts";
import {
  type Arm,
  type ArmContext,
  ARMS,
  armUnavailable,
  PRETRAINED_ARMS,
} from "../experiment/arms.ts";
import type { StepContext, StepOptions } from "./step_context.ts";
import { trainedArm } from "./step_trained_arm.ts";
import { trainArmsAhead } from "./step_arms_ahead.ts";

/** Test-set accuracy, predictions and confusion of a classifier (on the context's test images). */
export function testPredictions(ctx: ArmContext, model: ImageClassifier): Promise<Evaluation> {
  return evaluate(model, ctx.test, { count: ctx.testCount });
}

/** One arm's test evaluation, or why the recipe cannot run it. */
export type ArmOutcome =
  | ({ arm: Arm; skipped?: undefined; result?: SupervisedResult } & Evaluation)
  | { arm: Arm; skipped: string };

/**
 * Every arm of the experiment (or those named), trained or loaded and scored
 * on the test images: what `deno task experiment` reports for this seed.
 */
export async function evaluatedArms(
  ctx: StepContext,
  pre: Pretrained,
  options: StepOptions & { arms?: readonly Arm[] } = {},
): Promise<ArmOutcome[]> {
  const out: ArmOutcome[] = [];
  const best = ctx.saveModel ? new BestSslArm() : undefined;
  await trainArmsAhead(ctx, pre, options.arms ?? ARMS, options);
  for (const arm of options.arms ?? ARMS) {
    const why = armUnavailable(ctx, arm);
    if (why) {
      out.push({ arm, skipped: why });
      continue;
    }
    const model = await trainedArm(ctx, arm, PRETRAINED_ARMS.includes(arm) ? pre : undefined, {
      progress: options.progress,
    });
    try {
      out.push({ arm, result: model.result, ...await testPredictions(ctx, model) });
      if (best && model.result) best.offer(ctx.seed, arm, model as FineTuned);
    } finally {
      model.dispose();
    }
  }
  if (best && ctx.saveModel) {
    const saved = await best.save(ctx.saveModel, {
      config: ctx.config,
      classNames: ctx.train.classNames,
      testAccuracy: Object.fromEntries(
        out.flatMap((o) => o.skipped === undefined ? [[o.arm, [o.accuracy]]] : []),
      ),
      command: `notebook configuration: ${JSON.stringify({ saveModel: ctx.saveModel })}`,
    });
    if (saved) {
      console.log(
        `model saved to ${ctx.saveModel}: ${saved.arm} (best on validation), its encoder, ` +
          `classifier and model card`,
      );
    }
  }
  return out;
}
