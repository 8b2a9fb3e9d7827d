/**
 * A fine-tuned arm's checkpoint, as the notebook steps keep it: its backbone and head, its
 * training history (`result.json`), a distilled student's teacher and the images it used
 * (`info.json`), and the settings it was made with (the arm, the seed and a hash of the recipe),
 * so that a cached arm of another recipe or seed is refused.
 *
 * @example
 * ```ts
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { prepareContext } from "./step_context.ts";
 * import { armSettings, loadArm } from "./step_arm_checkpoint.ts";
 * const ctx = await prepareContext(quickRecipe(), 0, { cache: false });
 * armSettings(ctx, "supervised_strong"); // { arm: "supervised_strong", seed: 0, recipe: "…" }
 * await loadArm(ctx, await Deno.makeTempDir(), "supervised_strong"); // undefined: none saved
 * ```
 *
 * @module
 */
import type { SupervisedResult } from "../train/supervised.ts";
import { Checkpoint, writeCheckpoint } from "../train/checkpoint.ts";
import { classifierOf, type FineTuned } from "../pipeline/fine_tune.ts";
import { backboneSettingText } from "../models/backbones.ts";
import { headSettingText } from "../models/heads/head_setting.ts";
import type { Arm } from "../experiment/arms.ts";
import { configHash } from "./step_checkpoint_dir.ts";
import type { StepContext } from "./step_context.ts";

/** What a distilled student records beside its models: its teacher and the images it used. */
export interface DistilledInfo {
  teacher?: string;
  unlabelledUsed?: number;
  agreement?: number;
}

/** What an arm's checkpoint is made with: a cached arm of another recipe or seed is refused. */
export function armSettings(ctx: StepContext, arm: Arm): Record<string, unknown> {
  const { seeds: _seeds, ...recipe } = ctx.config;
  return { arm, seed: ctx.seed, recipe: configHash(recipe) };
}

/** The arm saved in `dir`, when there is one of this recipe and seed ({@linkcode armSettings}). */
export async function loadArm(ctx: StepContext, dir: string, arm: Arm) {
  const saved = Checkpoint.find(dir, { kind: "arm", settings: armSettings(ctx, arm) });
  if (!saved) return undefined;
  const model = classifierOf(
    await saved.model("backbone"),
    await saved.model("head"),
    saved.json<SupervisedResult>("result.json"),
    ctx.shape,
  );
  return Object.assign(model, saved.has("info.json") ? saved.json<DistilledInfo>("info.json") : {});
}

/** Saves a fine-tuned arm (and what a distilled student records) as its checkpoint in `dir`. */
export async function saveArm(
  ctx: StepContext,
  dir: string,
  arm: Arm,
  model: FineTuned & DistilledInfo,
): Promise<void> {
  const { teacher, unlabelledUsed, agreement } = model;
  await writeCheckpoint(dir, {
    models: { backbone: model.backbone, head: model.head },
    json: {
      "result.json": model.result,
      ...(teacher === undefined ? {} : { "info.json": { teacher, unlabelledUsed, agreement } }),
    },
  }, {
    kind: "arm",
    settings: armSettings(ctx, arm),
    // What `deno task export --from` needs for the model card.
    info: {
      method: "simclr",
      dataset: ctx.config.dataset,
      classNames: ctx.train.classNames,
      shape: ctx.shape,
      arm,
      seed: ctx.seed,
      backbone: backboneSettingText(ctx.config.backbone),
      projectionHead: headSettingText(ctx.config.head),
      recipe: ctx.config,
    },
  });
}
