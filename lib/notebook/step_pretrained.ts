/**
 * The notebooks' pre-training step: contrastive pre-training of the recipe's backbone + head
 * with a live progress bar, resumed from or loaded out of the checkpoint folder of the recipe
 * and seed ({@linkcode pretrained}), and the steps an epoch takes, which the bar counts.
 *
 * @example
 * ```ts
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { prepareContext } from "./step_context.ts";
 * import { pretrainStepsPerEpoch } from "./step_pretrained.ts";
 * const ctx = await prepareContext(quickRecipe(), 0, { cache: false });
 * pretrainStepsPerEpoch(ctx); // 12: the quick recipe's cap on steps per epoch
 * // const pre = await pretrained(ctx, { progress: true }); // trains, or loads the checkpoint
 * ```
 *
 * @module
 */
import path from "node:path";
import type { PretrainEpoch } from "../train/pretrain.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import { type ArmContext, pretrainFor } from "../experiment/arms.ts";
import { progressBar } from "./progress.ts";
import type { StepContext, StepOptions } from "./step_context.ts";

/** Steps per pre-training epoch of a context (what the progress bar counts). */
export function pretrainStepsPerEpoch(ctx: ArmContext): number {
  const { batchSize, maxStepsPerEpoch } = ctx.config.pretrain;
  const n = ctx.split.unlabelled.length;
  return Math.min(Math.floor(n / Math.min(batchSize, n)), maxStepsPerEpoch ?? Infinity);
}

/** Contrastive pre-training of the recipe's backbone + head; resumes or loads from the checkpoint. */
export async function pretrained(
  ctx: StepContext,
  options: StepOptions & {
    onEpoch?: (e: PretrainEpoch) => void | Promise<void>;
    onStep?: (s: { epoch: number; step: number; steps: number; loss: number }) => void;
  } = {},
): Promise<Pretrained> {
  const steps = pretrainStepsPerEpoch(ctx);
  const bar = options.progress
    ? progressBar(ctx.config.pretrain.epochs * steps, { label: "pre-training", unit: "steps" })
    : undefined;
  const pre = await pretrainFor(ctx, {
    checkpointDir: ctx.dir ? path.join(ctx.dir, "pretrain") : undefined,
    onEpoch: options.onEpoch,
    onStep: (s) => {
      bar?.update(s.epoch * steps + s.step, { epoch: s.epoch + 1, loss: s.loss });
      options.onStep?.(s);
    },
  });
  bar?.update(pre.history.length * steps); // also right when it was loaded from the checkpoint
  await bar?.done();
  return pre;
}
