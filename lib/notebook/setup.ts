/**
 * The first lines of every notebook: turn the configuration cell into the
 * experiment's recipe, make tfjs ready, and load the data and the seeded
 * split. Keeping this here (tested) keeps the notebooks short.
 *
 * The recipe follows the data exactly as `deno task experiment` does
 * (`recipeFor`): MNIST gets the article's CNN and digit augmentation,
 * Fashion-MNIST the crop-flip augmentation, an image folder a backbone and
 * augmentation that fit its colour and size.
 *
 * @example
 * ```ts
 * const { ctx, recipe, backend } = await setupNotebook({ dataset: "mnist", labels: 200, seed: 0, quick: true });
 * ```
 *
 * @module
 */
import { initBackend } from "../backend.ts";
import { loadDataset, type LoadDatasetOptions, type TrainTest } from "../data/load_dataset.ts";
import { checkLabelBudget, recipeFor } from "../experiment/recipe.ts";
import type { ExperimentConfig } from "../experiment/recipe.ts";
import { prepareContext, type StepContext } from "../experiment/steps.ts";
import { progressBar } from "./progress.ts";

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
  /** Image folders only: image size, channels and fit (see `lib/data/image_folder.ts`). */
  folder?: Pick<LoadDatasetOptions, "size" | "channels" | "fit">;
}

/** The experiment recipe a notebook configuration stands for, given its training set. */
export function notebookRecipe(config: NotebookConfig, data?: TrainTest): ExperimentConfig {
  if (!Number.isInteger(config.labels) || config.labels < 2) {
    throw new Error(`configuration: labels must be an integer >= 2, got ${config.labels}`);
  }
  const recipe = recipeFor(config.dataset, config.quick, data?.train);
  recipe.seeds = [config.seed];
  recipe.labels = config.labels;
  recipe.validation = Math.max(1, Math.round(config.labels * 0.2));
  if (config.pretrainEpochs !== undefined) recipe.pretrain.epochs = config.pretrainEpochs;
  if (config.temperature !== undefined) recipe.pretrain.temperature = config.temperature;
  if (data) checkLabelBudget(recipe, data.train);
  return recipe;
}

/** Makes tfjs ready, loads the data and the split of a notebook configuration. */
export async function setupNotebook(config: NotebookConfig): Promise<{
  backend: string;
  recipe: ExperimentConfig;
  ctx: StepContext;
}> {
  const backend = await initBackend();
  let bar: ReturnType<typeof progressBar> | undefined;
  const data = await loadDataset(config.dataset, {
    ...config.folder,
    // Decoding a big image folder takes a while: show it.
    onProgress: (done: number, total: number) => {
      bar ??= progressBar(total, { label: "decoding images", unit: "images" });
      bar.update(done);
    },
  } as LoadDatasetOptions);
  await bar?.done();
  const recipe = notebookRecipe(config, data);
  const ctx = await prepareContext(recipe, config.seed, { data });
  return { backend, recipe, ctx };
}
