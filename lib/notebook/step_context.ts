/**
 * What the notebook steps share for one seed of one recipe: the arms' context (data, seeded
 * split, shapes) and the checkpoint folder of the recipe and seed ({@linkcode StepContext},
 * made by {@linkcode prepareContext}), and the options every training step takes
 * ({@linkcode StepOptions}).
 *
 * @example
 * ```ts
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { prepareContext } from "./step_context.ts";
 * const ctx = await prepareContext(quickRecipe(), 0, { root: "data/checkpoints" });
 * ctx.split.labelled.length; // 160: the labels kept to train (40 more validate)
 * ctx.dir; // "data/checkpoints/mnist-200labels-seed0-quick-…"; { cache: false }: undefined
 * ```
 *
 * @module
 */
import type { ImageDataset } from "../data/dataset.ts";
import { loadDataset } from "../data/load_dataset.ts";
import type { ExperimentConfig } from "../experiment/recipe.ts";
import { type ArmContext, armContext } from "../experiment/arms.ts";
import { checkpointDir } from "./step_checkpoint_dir.ts";

/** Everything the steps share for one seed of one recipe. */
export interface StepContext extends ArmContext {
  /** Checkpoint folder of this recipe and seed; `undefined` disables caching. */
  dir?: string;
  /**
   * Export the fine-tuned SSL arm best on validation here (encoder, classifier, model card:
   * `lib/experiment/save_model.ts`) once {@linkcode evaluatedArms} has scored every arm.
   */
  saveModel?: string;
}

/** Loads the data (unless given) and makes the seeded split; `cache: false` disables checkpoints. */
export async function prepareContext(
  config: ExperimentConfig,
  seed: number,
  options: { cache?: boolean; root?: string; data?: { train: ImageDataset; test: ImageDataset } } =
    {},
): Promise<StepContext> {
  const data = options.data ?? await loadDataset(config.dataset);
  return {
    ...armContext(config, data, seed),
    dir: options.cache === false ? undefined : checkpointDir(config, seed, options.root),
  };
}

/** Options of the training steps. */
export interface StepOptions {
  /** Show a live progress bar (in place in a notebook; lines elsewhere). */
  progress?: boolean;
}
