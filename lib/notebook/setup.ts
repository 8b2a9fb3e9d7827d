/**
 * The first lines of every notebook: turn the configuration cell into the
 * experiment's recipe, make tfjs ready, and load the data and the seeded
 * split. Keeping this here (tested) keeps the notebooks short.
 *
 * @example
 * ```ts
 * const { ctx, recipe, backend } = await setupNotebook({ dataset: "mnist", labels: 200, seed: 0, quick: true });
 * ```
 *
 * @module
 */
import { initBackend } from "../backend.ts";
import { fullRecipe, quickRecipe } from "../experiment/recipe.ts";
import type { ExperimentConfig } from "../experiment/recipe.ts";
import { prepareContext, type StepContext } from "../experiment/steps.ts";

/** What a notebook's configuration cell holds. */
export interface NotebookConfig {
  /** "mnist", "fashion-mnist" or "folder:<path>". */
  dataset: string;
  /** Labelled examples kept (a fifth of them, at least 1, for validation). */
  labels: number;
  /** Seed of the split, the initial weights and the augmentations. */
  seed: number;
  /** The small smoke run. */
  quick: boolean;
  /** Pre-training epochs; the recipe's default when omitted. */
  pretrainEpochs?: number;
  /** NT-Xent temperature; the recipe's default when omitted. */
  temperature?: number;
}

/** The experiment recipe a notebook configuration stands for. */
export function notebookRecipe(config: NotebookConfig): ExperimentConfig {
  if (!Number.isInteger(config.labels) || config.labels < 2) {
    throw new Error(`configuration: labels must be an integer >= 2, got ${config.labels}`);
  }
  const recipe = config.quick ? quickRecipe(config.dataset) : fullRecipe(config.dataset);
  recipe.seeds = [config.seed];
  recipe.labels = config.labels;
  recipe.validation = Math.max(1, Math.round(config.labels * 0.2));
  if (config.pretrainEpochs !== undefined) recipe.pretrain.epochs = config.pretrainEpochs;
  if (config.temperature !== undefined) recipe.pretrain.temperature = config.temperature;
  return recipe;
}

/** Makes tfjs ready, loads the data and the split of a notebook configuration. */
export async function setupNotebook(config: NotebookConfig): Promise<{
  backend: string;
  recipe: ExperimentConfig;
  ctx: StepContext;
}> {
  const backend = await initBackend();
  const recipe = notebookRecipe(config);
  const ctx = await prepareContext(recipe, config.seed);
  return { backend, recipe, ctx };
}
