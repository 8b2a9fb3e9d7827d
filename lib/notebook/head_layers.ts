/**
 * SimCLRv2's answer to "keep or discard the projection head?", measured:
 * fine-tune from layer k of the head for every k — k = 0 is the article's
 * "discard" (a new head on the backbone), k = all its "keep" (the head is
 * the classifier) — and compare on the validation images only. Every point
 * is an arm of `arms.ts` where there is one (`ssl_new_head`,
 * `ssl_head_layer1`, `ssl_same_head`), cached like the other steps; the
 * other depths fine-tune with the same recipe.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { prepareContext, pretrained } from "./steps.ts";
 * import { bestHeadLayer, headLayerCurve } from "./head_layers.ts";
 * await initBackend();
 * const ctx = await prepareContext(quickRecipe(), 0);
 * const pre = await pretrained(ctx);
 * const curve = await headLayerCurve(ctx, pre); // [{ k: 0, ... }, { k: 1, ... }, ...]
 * bestHeadLayer(curve).k; // the depth best on validation
 * pre.dispose();
 * ```
 *
 * @module
 */
import { headConfigFor } from "../models/heads/head_setting.ts";
import { projectionBlocks } from "../models/heads/projection_heads.ts";
import { fineTune, type FineTuned } from "../pipeline/fine_tune.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import { type Arm, armUnavailable, fineTuneOptions } from "../experiment/arms.ts";
import type { StepContext, StepOptions } from "./step_context.ts";
import { trainedArm } from "./step_trained_arm.ts";

/** One depth k of the curve. */
export interface HeadLayerPoint {
  /** Layers of the pre-trained head kept on the backbone (0 = none, depth = all). */
  k: number;
  /** What the point is, in words. */
  label: string;
  /** The experiment's arm at this depth, when there is one. */
  arm?: Arm;
  /** Validation accuracy of the epoch kept (what chooses; never the test set). */
  validationAccuracy: number;
  /** The 1-based epoch kept. */
  epochKept: number;
}

/** Layers of the recipe's projection head. */
export function headDepth(ctx: StepContext): number {
  return projectionBlocks(headConfigFor(ctx.config.head, ctx.featureDim, ctx.numClasses)).length;
}

/** The validation accuracy and epoch kept of a fine-tuned model. */
function kept(model: FineTuned): { validationAccuracy: number; epochKept: number } {
  const e = model.result.history[model.result.selectedEpoch];
  return { validationAccuracy: e.validationAccuracy ?? NaN, epochKept: e.epoch + 1 };
}

/** Fine-tunes from every depth k = 0..depth of the head and scores each on validation. */
export async function headLayerCurve(
  ctx: StepContext,
  pre: Pretrained,
  options: StepOptions = {},
): Promise<HeadLayerPoint[]> {
  const depth = headDepth(ctx);
  const points: HeadLayerPoint[] = [];
  for (let k = 0; k <= depth; k++) {
    const arm: Arm | undefined = k === 0
      ? "ssl_new_head"
      : k === 1
      ? "ssl_head_layer1"
      : k === depth && !armUnavailable(ctx, "ssl_same_head")
      ? "ssl_same_head"
      : undefined;
    const label = k === 0
      ? "k = 0: head discarded, new head (the article's 'discard')"
      : k === depth && arm === "ssl_same_head"
      ? `k = ${k}: the whole head kept as the classifier (the article's 'keep')`
      : `k = ${k}: ${k} layer${k > 1 ? "s" : ""} of the head kept + a new linear classifier`;
    const model = arm
      ? await trainedArm(ctx, arm, pre, options) as FineTuned
      : await fineTune(pre, ctx.train, ctx.split, {
        ...fineTuneOptions(ctx, "ssl_head_layer1"),
        head: { layers: k },
        stream: `finetune-ssl_head_layer${k}`,
      });
    try {
      points.push({ k, label, arm, ...kept(model) });
    } finally {
      model.dispose();
    }
  }
  return points;
}

/** The point best on validation (ties: the smaller k, the simpler model). */
export function bestHeadLayer(points: readonly HeadLayerPoint[]): HeadLayerPoint {
  if (points.length === 0) throw new RangeError("bestHeadLayer: no points");
  return points.reduce((b, p) => (p.validationAccuracy > b.validationAccuracy ? p : b));
}
