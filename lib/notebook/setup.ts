/**
 * The first lines of every notebook: turn the configuration cell into the
 * experiment's recipe, make tfjs ready, load the data and the seeded split,
 * and show what the run is (the banner). Keeping this here (tested) keeps the
 * notebooks short. Also here: the few calculations more than one notebook
 * shows (the similarities of two views' h and z, the study a notebook runs).
 *
 * The recipe follows the data exactly as `deno task experiment` does
 * (`recipeFor`): MNIST gets the article's CNN and digit augmentation,
 * Fashion-MNIST the crop-flip augmentation, an image folder a backbone and
 * augmentation that fit its colour and size.
 *
 * @example
 * ```ts
 * const { ctx, recipe, backend } = await setupNotebook({
 *   dataset: "mnist", labels: 200, seed: 0, quick: true, head: "article",
 * }); // also displays the banner: dataset, labels, seed, mode, backend, backbone, head
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { BACKEND_NAMES, type BackendName, initBackend } from "../backend.ts";
import type { ImageDataset } from "../data/dataset.ts";
import { loadDataset, type LoadDatasetOptions, type TrainTest } from "../data/load_dataset.ts";
import { checkLabelBudget, recipeFor } from "../experiment/recipe.ts";
import type { ExperimentConfig } from "../experiment/recipe.ts";
import type { ArmContext } from "../experiment/arms.ts";
import { prepareContext, type StepContext } from "./step_context.ts";
import type { BackboneConfig } from "../models/backbones.ts";
import {
  headOutputWidth,
  type HeadSetting,
  parseHeadSetting,
} from "../models/heads/head_setting.ts";
import { augmentPipeline } from "../augment/presets.ts";
import { twoViews } from "../augment/compose.ts";
import { gatherImages } from "../train/batches.ts";
import { Rng } from "../rng.ts";
import { type AblationConfig, fullAblation, parseParts, quickAblation } from "../study/recipe.ts";
import { display, showMarkdown } from "./display.ts";
import { progressBar } from "./progress.ts";
import { notebookMethod, projectRoot } from "./config.ts";
import type { SslMethod } from "../train/ssl_method.ts";
import { methodHead } from "../pipeline/defaults.ts";
import { resolve } from "node:path";

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
  /** NT-Xent temperature (SimCLR's); the recipe's default when omitted. */
  temperature?: number;
  /**
   * The self-supervised method: "simclr" (when omitted), "byol", "simsiam", "barlow" or
   * "vicreg", each with its own default head (`head` still overrides it). Checked: another name
   * is one line naming them.
   */
  method?: SslMethod | (string & Record<never, never>);
  /**
   * The projection head g of pre-training: a `HeadSetting` or its text form
   * (`"article"`, `"none"`, `"linear"`, `"linear:16"`, `"mlp:64,32"`; see
   * `lib/models/heads/head_setting.ts`). The article's MLP when omitted.
   */
  head?: HeadSetting | string;
  /** Image folders only: image size, channels and fit (see `lib/data/image_folder.ts`). */
  folder?: Pick<LoadDatasetOptions, "size" | "channels" | "fit">;
  /**
   * tfjs backend: "wasm", "webgpu", "cpu" or "auto" (webgpu on a hardware GPU,
   * else wasm). When omitted, env `SSL_BACKEND` (what `deno task notebooks
   * --backend` gives the kernels), else "wasm". Checked: another name is a
   * clear error.
   */
  backend?: BackendName | (string & Record<never, never>);
  /**
   * Export the fine-tuned SSL arm best on validation — its encoder, classifier and model card
   * (`lib/experiment/save_model.ts`, docs/export.md) — to this folder (relative to the
   * repository) when a notebook scores every arm (notebook 07). Off when omitted.
   */
  saveModel?: string;
}

/** The backend a configuration asks for: `config.backend`, else env `SSL_BACKEND`, else wasm. */
export function notebookBackend(config: Pick<NotebookConfig, "backend">): BackendName {
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("SSL_BACKEND") || undefined;
  } catch {
    // no --allow-env: the default
  }
  const name = config.backend ?? fromEnv ?? "wasm";
  if (!BACKEND_NAMES.includes(name as BackendName)) {
    throw new RangeError(
      `configuration: backend must be one of ${BACKEND_NAMES.join(", ")}, got "${name}"` +
        (config.backend === undefined ? " (from env SSL_BACKEND)" : ""),
    );
  }
  return name as BackendName;
}

/** The head a configuration names (`undefined`: the recipe's, the article's). */
export function notebookHead(head: HeadSetting | string | undefined): HeadSetting | undefined {
  if (head === undefined) return undefined;
  if (typeof head === "string") return parseHeadSetting(head);
  if (head.kind !== "none" && head.kind !== "linear" && head.kind !== "mlp") {
    throw new RangeError(
      `configuration: head kind must be "none", "linear" or "mlp", got "${
        (head as { kind: unknown }).kind
      }"`,
    );
  }
  return structuredClone(head);
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
  const method = notebookMethod(config.method);
  if (method !== "simclr") {
    recipe.pretrain.method = method;
    recipe.head = methodHead(method);
  }
  const head = notebookHead(config.head);
  if (head) recipe.head = head;
  if (data) checkLabelBudget(recipe, data.train);
  return recipe;
}

/**
 * A backbone setting in words: "the modern CNN (conv channels 16, 16, 32, batch norm, global
 * average pooling)", "the article's CNN (conv channels 16, 16, 32)", "a small ResNet (...)".
 */
export function describeBackbone(backbone: BackboneConfig): string {
  if (backbone.kind === "resnet") {
    return `a small ResNet (width ${backbone.width ?? 16}, ${backbone.depth ?? 3} stages, ` +
      `batch norm)`;
  }
  const channels = backbone.channels ?? [16, 16, 32];
  if (backbone.kind === "cnn") {
    return `the modern CNN (conv channels ${channels.join(", ")}, batch norm, global average ` +
      `pooling)`;
  }
  const article = channels.join() === "16,16,32";
  return `${article ? "the article's CNN" : "a CNN"} (conv channels ${channels.join(", ")})`;
}

/**
 * A head setting in words with its layer widths on features of `inputDim`:
 * "MLP 32 → 32 → 16 → 10 (the article's)", "MLP 32 → 128 (batch norm) → 10 (SimCLR's)",
 * "linear 32 → 16", "none (z = h)".
 */
export function describeHead(head: HeadSetting, inputDim: number, numClasses: number): string {
  const out = headOutputWidth(head, inputDim, numClasses);
  if (head.kind === "none") return `none (z = h, ${inputDim} numbers)`;
  if (head.kind === "linear") return `linear ${inputDim} → ${out}`;
  const hidden = head.hidden ?? [];
  if (head.batchNorm) {
    return `MLP ${[inputDim, ...hidden.map((w) => `${w} (batch norm)`), out].join(" → ")} ` +
      `(SimCLR's)`;
  }
  const article = hidden.join() === "32,16" && out === numClasses;
  return `MLP ${[inputDim, ...hidden, out].join(" → ")}${article ? " (the article's)" : ""}`;
}

/** The banner of a notebook (Markdown): dataset, labels, seed, mode, backend, backbone, head. */
export function notebookBanner(ctx: ArmContext, backend: string): string {
  const { config, train, test, split } = ctx;
  const n = (v: number) => v.toLocaleString("en");
  return [
    `dataset **${config.dataset}**: ${n(train.count)} training and ${n(test.count)} test images ` +
    `of ${ctx.shape.join("×")}, ${ctx.numClasses} classes`,
    `**${config.labels} labels** (${split.labelled.length} to train, ${split.validation.length} ` +
    `to validate; ${n(split.unlabelled.length)} unlabelled images for pre-training)`,
    `seed **${ctx.seed}**`,
    `**${config.quick ? "quick" : "full"}** mode`,
    `tfjs backend **${backend}**`,
    `backbone f: **${describeBackbone(config.backbone)}**, h of ${ctx.featureDim} numbers`,
    `projection head g: **${describeHead(config.head, ctx.featureDim, ctx.numClasses)}**`,
  ].join(" · ");
}

/** Options of {@linkcode setupNotebook}. */
export interface SetupOptions {
  /** The data, instead of loading `config.dataset` (tests). */
  data?: TrainTest;
  /** Display the banner (default true). */
  show?: boolean;
}

/**
 * Makes tfjs ready, loads the data and the split of a notebook configuration,
 * and displays the banner (also returned, as Markdown).
 */
export async function setupNotebook(config: NotebookConfig, options: SetupOptions = {}): Promise<{
  backend: string;
  recipe: ExperimentConfig;
  ctx: StepContext;
  banner: string;
}> {
  const backend = await initBackend(notebookBackend(config));
  let data = options.data;
  if (!data) {
    let bar: ReturnType<typeof progressBar> | undefined;
    data = await loadDataset(config.dataset, {
      ...config.folder,
      // Decoding a big image folder takes a while: show it.
      onProgress: (done: number, total: number) => {
        bar ??= progressBar(total, { label: "decoding images", unit: "images" });
        bar.update(done);
      },
    } as LoadDatasetOptions);
    await bar?.done();
  }
  const recipe = notebookRecipe(config, data);
  const ctx = await prepareContext(recipe, config.seed, { data });
  if (config.saveModel !== undefined) ctx.saveModel = resolve(projectRoot(), config.saveModel);
  const banner = notebookBanner(ctx, backend);
  if (options.show !== false) await display(showMarkdown(banner));
  return { backend, recipe, ctx, banner };
}

/** Cosine similarities of the h and z of a few images' two views (see {@linkcode viewSimilarities}). */
export interface ViewSimilarities {
  /** "1a", "2a", …, then their twins "1b", "2b", … (rows and columns of the matrices). */
  names: string[];
  /** `2n x 2n` cosine similarities of the backbone's features h. */
  h: number[][];
  /** `2n x 2n` cosine similarities of the head's outputs z. */
  z: number[][];
  /** Widths of h and z. */
  hDim: number;
  zDim: number;
  /** Mean similarity of each view with its twin (the positive pairs). */
  twins: { h: number; z: number };
  /** Mean similarity of each view with the views of the other images (the negatives). */
  others: { h: number; z: number };
}

function cosineMatrix(t: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const unit = tf.div(t, tf.add(tf.norm(t, 2, 1, true), 1e-12));
    return tf.matMul(unit, unit, false, true);
  });
}

function twinAndOtherMeans(s: number[][], n: number): { twins: number; others: number } {
  let twins = 0;
  let others = 0;
  let otherCount = 0;
  for (let i = 0; i < 2 * n; i++) {
    for (let j = 0; j < 2 * n; j++) {
      if (i === j) continue;
      if (j === (i + n) % (2 * n)) twins += s[i][j];
      else {
        others += s[i][j];
        otherCount++;
      }
    }
  }
  return { twins: twins / (2 * n), others: otherCount ? others / otherCount : NaN };
}

/**
 * The first `count` (default 6) unlabelled images of `ctx`, two views each
 * (the recipe's pre-training augmentation, drawn from `seed`, default the
 * context's), through `encoder` (f) and `head` (g): the cosine similarity of
 * every pair of the 2·count views, for h and for z. Contrastive training
 * should make each view most similar to its twin (the off-diagonal stripe).
 * The same images and views for the same seed, so an untrained and a trained
 * model can be compared.
 */
export function viewSimilarities(
  ctx: ArmContext,
  encoder: tf.LayersModel,
  head: tf.LayersModel,
  options: { count?: number; seed?: number } = {},
): ViewSimilarities {
  const v = similarityTensors(ctx, encoder, head, options);
  try {
    return similaritiesOf(v.sh.arraySync(), v.sz.arraySync(), v.n, v.hDim, v.zDim);
  } finally {
    tf.dispose([v.sh, v.sz]);
  }
}

/**
 * {@linkcode viewSimilarities} reading with `await` (the same numbers; the
 * form that runs on webgpu, which has no synchronous read in Deno).
 */
export async function viewSimilaritiesAsync(
  ctx: ArmContext,
  encoder: tf.LayersModel,
  head: tf.LayersModel,
  options: { count?: number; seed?: number } = {},
): Promise<ViewSimilarities> {
  const v = similarityTensors(ctx, encoder, head, options);
  try {
    const [sh, sz] = await Promise.all([v.sh.array(), v.sz.array()]);
    return similaritiesOf(sh, sz, v.n, v.hDim, v.zDim);
  } finally {
    tf.dispose([v.sh, v.sz]);
  }
}

function similarityTensors(
  ctx: ArmContext,
  encoder: tf.LayersModel,
  head: tf.LayersModel,
  options: { count?: number; seed?: number },
): { sh: tf.Tensor2D; sz: tf.Tensor2D; n: number; hDim: number; zDim: number } {
  const n = Math.min(options.count ?? 6, ctx.split.unlabelled.length);
  if (n < 2) throw new RangeError(`viewSimilarities: need at least 2 images, got ${n}`);
  const [h, w, c] = ctx.shape;
  const size = h * w * c;
  const originals = gatherImages(ctx.train.images, size, ctx.split.unlabelled.subarray(0, n));
  const pipeline = augmentPipeline(ctx.config.pretrainAugment);
  const rng = new Rng(options.seed ?? ctx.seed).fork("view-similarities");
  const [a, b] = pipeline ? twoViews(originals, n, h, w, c, pipeline, rng) : [originals, originals];
  const views = new Float32Array(2 * n * size);
  views.set(a, 0);
  views.set(b, n * size);
  return tf.tidy(() => {
    const x = tf.tensor4d(views, [2 * n, h, w, c]);
    const hT = encoder.predict(x) as tf.Tensor2D;
    const zT = head.predict(hT) as tf.Tensor2D;
    return { sh: cosineMatrix(hT), sz: cosineMatrix(zT), n, hDim: hT.shape[1], zDim: zT.shape[1] };
  });
}

function similaritiesOf(
  sh: number[][],
  sz: number[][],
  n: number,
  hDim: number,
  zDim: number,
): ViewSimilarities {
  const mh = twinAndOtherMeans(sh, n);
  const mz = twinAndOtherMeans(sz, n);
  return {
    names: [
      ...Array.from({ length: n }, (_, i) => `${i + 1}a`),
      ...Array.from({ length: n }, (_, i) => `${i + 1}b`),
    ],
    h: sh,
    z: sz,
    hDim,
    zDim,
    twins: { h: mh.twins, z: mz.twins },
    others: { h: mh.others, z: mz.others },
  };
}

/**
 * The projection-head study a notebook configuration stands for: the quick or
 * the full preset of `deno task ablation` (as `quick` says) on its dataset,
 * with its label budget (what the probes and kNN train on) and its seeds
 * starting at the configuration's seed (quick: 2 seeds, full: 3). The
 * study's pre-training budget is its own (every head and temperature is
 * pre-trained), so `pretrainEpochs` and `head` do not apply. `parts` picks
 * the parts that run, as `deno task ablation --part` does (`"heads,labels"`
 * skips the temperature sweep); all three when omitted.
 */
export function notebookStudy(
  config: NotebookConfig,
  train?: ImageDataset,
  parts?: string,
): AblationConfig {
  if (!Number.isInteger(config.labels) || config.labels < 2) {
    throw new Error(`configuration: labels must be an integer >= 2, got ${config.labels}`);
  }
  const study = config.quick
    ? quickAblation(config.dataset, train)
    : fullAblation(config.dataset, train);
  study.labels = config.labels;
  study.seeds = study.seeds.map((s) => s + config.seed);
  if (parts !== undefined) {
    try {
      study.parts = parseParts(parts);
    } catch (e) {
      throw new Error(`configuration: parts: ${(e as Error).message}`);
    }
  }
  return study;
}
