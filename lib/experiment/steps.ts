/**
 * The experiment as resumable steps, for the notebooks: each step saves what
 * it produced under a checkpoint folder in `data/checkpoints/` and the next
 * notebook loads it from there, or recomputes it when it is missing — so
 * every notebook runs top to bottom on its own.
 *
 * The folder name holds the dataset, label budget, seed and mode, plus a hash
 * of the whole recipe: changing any setting starts fresh instead of mixing
 * results of different recipes.
 *
 * @example
 * ```ts
 * const ctx = await prepareContext(recipe, 0);
 * const pre = await pretrained(ctx);            // trains, or loads the checkpoint
 * const arm = await fineTuned(ctx, "ssl_new_head");
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import type { ImageDataset } from "../data/dataset.ts";
import { loadDataset } from "../data/load_dataset.ts";
import { type SparseLabelSplit, sparseLabelSplit } from "../data/split.ts";
import { Rng } from "../rng.ts";
import { backboneOutputDim, buildBackbone } from "../models/backbones.ts";
import { articleHead } from "../models/heads/projection_heads.ts";
import { pretrainContrastive, type PretrainEpoch } from "../train/pretrain.ts";
import {
  type SupervisedEpoch,
  type SupervisedResult,
  trainSupervised,
} from "../train/supervised.ts";
import { loadJson, loadModel, saveJson, saveModel } from "../train/checkpoint.ts";
import { gatherImages, gatherLabels } from "../train/batches.ts";
import { extractFeatures } from "../eval/features.ts";
import { accuracy, argmaxRows } from "../eval/metrics.ts";
import { makeAugmenter } from "./augmenter.ts";
import type { ExperimentConfig } from "./recipe.ts";

/** Everything the steps share for one seed of one recipe. */
export interface StepContext {
  config: ExperimentConfig;
  seed: number;
  train: ImageDataset;
  test: ImageDataset;
  split: SparseLabelSplit;
  /** Unlabelled indices used for pre-training (capped in quick mode). */
  unlabelled: Int32Array;
  shape: [number, number, number];
  numClasses: number;
  featureDim: number;
  /** Test images evaluated (all, or capped in quick mode). */
  testCount: number;
  /** Checkpoint folder of this recipe and seed; `undefined` disables caching. */
  dir?: string;
}

/**
 * The default checkpoint root: `$SSL_CHECKPOINT_DIR` when set (tests point it
 * at a temporary folder), else `data/checkpoints/` of the repository.
 */
export function checkpointRoot(): string {
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("SSL_CHECKPOINT_DIR");
  } catch {
    fromEnv = undefined; // no --allow-env
  }
  return fromEnv || fileURLToPath(new URL("../../data/checkpoints/", import.meta.url));
}

/** A short stable hash (FNV-1a, hex) of a JSON-able value. */
export function configHash(value: unknown): string {
  const text = JSON.stringify(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** The checkpoint folder of `config` and `seed` under `root`. */
export function checkpointDir(
  config: ExperimentConfig,
  seed: number,
  root = checkpointRoot(),
): string {
  const { seeds: _seeds, ...recipe } = config;
  const name = config.dataset.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 40);
  return path.join(
    root,
    `${name}-${config.labels}labels-seed${seed}-${config.quick ? "quick" : "full"}-${
      configHash(recipe)
    }`,
  );
}

/** Loads the data and makes the seeded split; `cache: false` disables checkpoints. */
export async function prepareContext(
  config: ExperimentConfig,
  seed: number,
  options: { cache?: boolean; root?: string; data?: { train: ImageDataset; test: ImageDataset } } =
    {},
): Promise<StepContext> {
  const { train, test } = options.data ?? await loadDataset(config.dataset);
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  const split = sparseLabelSplit(train.labels, {
    labelled: config.labels,
    validation: config.validation,
    balanced: config.balanced,
    seed,
    classNames: train.classNames,
  });
  let unlabelled = split.unlabelled;
  if (config.maxUnlabelled !== undefined && unlabelled.length > config.maxUnlabelled) {
    unlabelled = new Rng(seed).fork("unlabelled-subset").shuffle(Int32Array.from(unlabelled))
      .subarray(0, config.maxUnlabelled).sort();
  }
  const probe = buildBackbone(config.backbone, shape, seed);
  const featureDim = backboneOutputDim(probe);
  probe.dispose();
  return {
    config,
    seed,
    train,
    test,
    split,
    unlabelled,
    shape,
    numClasses: train.classNames.length,
    featureDim,
    testCount: Math.min(test.count, config.maxTest ?? test.count),
    dir: options.cache === false ? undefined : checkpointDir(config, seed, options.root),
  };
}

/** A backbone + head pair. */
export interface Model {
  backbone: tf.Sequential | tf.LayersModel;
  head: tf.Sequential | tf.LayersModel;
}

/** A trained arm: its models and how training went. */
export interface TrainedArm extends Model {
  result: SupervisedResult;
  /** True when it was loaded from a checkpoint rather than trained now. */
  loaded: boolean;
}

/** The arms trained end to end on the labels. */
export type LabelledArm = "supervised" | "ssl_same_head" | "ssl_new_head";

async function loadArm(dir: string): Promise<TrainedArm | undefined> {
  const result = loadJson<SupervisedResult>(path.join(dir, "result.json"));
  if (!result || !existsSync(path.join(dir, "head", "model.json"))) return undefined;
  return {
    backbone: await loadModel(path.join(dir, "backbone")),
    head: await loadModel(path.join(dir, "head")),
    result,
    loaded: true,
  };
}

async function saveArm(dir: string, arm: TrainedArm): Promise<void> {
  await saveModel(arm.backbone, path.join(dir, "backbone"));
  await saveModel(arm.head, path.join(dir, "head"));
  saveJson(path.join(dir, "result.json"), arm.result);
}

/** Contrastive pre-training of backbone + projection head; resumes or loads from the checkpoint. */
export async function pretrained(
  ctx: StepContext,
  callbacks: {
    onEpoch?: (e: PretrainEpoch) => void | Promise<void>;
    onStep?: (s: { epoch: number; step: number; steps: number; loss: number }) => void;
  } = {},
): Promise<Model & { history: PretrainEpoch[]; resumedAt: number }> {
  const { config, seed, shape } = ctx;
  const backbone = buildBackbone(config.backbone, shape, seed);
  const head = articleHead(ctx.featureDim, ctx.numClasses, seed);
  const views = makeAugmenter(config.pretrainAugment, shape);
  const r = await pretrainContrastive({
    backbone,
    head,
    images: ctx.train.images,
    shape,
    indices: ctx.unlabelled,
    makeViews: views?.twoViews ?? ((b) => [b, b]),
    rng: new Rng(seed).fork("pretrain"),
    config: config.pretrain,
    checkpointDir: ctx.dir ? path.join(ctx.dir, "pretrain") : undefined,
    ...callbacks,
  });
  return { backbone, head, history: r.history, resumedAt: r.resumedAt };
}

/**
 * Trains one arm on the labelled images, or loads it from its checkpoint:
 * "supervised" starts from scratch, without augmentation; "ssl_same_head" keeps the pre-trained
 * (projection) head as classifier; "ssl_new_head" discards it for a fresh
 * head. The SSL arms need `pre` (from `pretrained`).
 */
export async function trainedArm(
  ctx: StepContext,
  arm: LabelledArm,
  pre?: Model,
  onEpoch?: (e: SupervisedEpoch) => void | Promise<void>,
): Promise<TrainedArm> {
  const dir = ctx.dir ? path.join(ctx.dir, arm) : undefined;
  if (dir) {
    const saved = await loadArm(dir);
    if (saved) return saved;
  }
  const { config, seed, shape } = ctx;
  if (arm !== "supervised" && !pre) {
    throw new Error(`trainedArm: "${arm}" needs the pre-trained model`);
  }
  const backbone = buildBackbone(config.backbone, shape, seed);
  if (arm !== "supervised") backbone.setWeights(pre!.backbone.getWeights());
  const head = articleHead(
    ctx.featureDim,
    ctx.numClasses,
    arm === "ssl_new_head" ? seed + 1000 : seed,
  );
  if (arm === "ssl_same_head") head.setWeights(pre!.head.getWeights());
  // "Supervised on the labels only": no augmentation either (the article's
  // baseline); the SSL arms fine-tune with the recipe's augmentation.
  const augment = arm === "supervised"
    ? undefined
    : makeAugmenter(config.finetuneAugment, shape)?.oneView;
  const result = await trainSupervised({
    backbone,
    head,
    images: ctx.train.images,
    shape,
    labels: ctx.train.labels,
    numClasses: ctx.numClasses,
    train: ctx.split.labelled,
    validation: ctx.split.validation,
    augment,
    rng: new Rng(seed).fork(`finetune-${arm}`),
    config: config.finetune,
    onEpoch,
  });
  const trained: TrainedArm = { backbone, head, result, loaded: false };
  if (dir) await saveArm(dir, trained);
  return trained;
}

/** Test-set accuracy and predictions of backbone + head, in chunks. */
export async function testPredictions(
  ctx: StepContext,
  model: Model,
): Promise<{ accuracy: number; predictions: Int32Array }> {
  const size = ctx.shape[0] * ctx.shape[1] * ctx.shape[2];
  const { features: logits, dim } = await extractFeatures(
    (x) => model.head.apply(model.backbone.apply(x)) as tf.Tensor,
    ctx.test.images.subarray(0, ctx.testCount * size),
    ctx.testCount,
    ctx.shape,
  );
  const predictions = argmaxRows(logits, dim);
  return {
    accuracy: accuracy(predictions, ctx.test.labels.subarray(0, ctx.testCount)),
    predictions,
  };
}

/** Backbone features h of the labelled (train + validation) images and of the test images. */
export async function backboneFeatures(ctx: StepContext, backbone: tf.LayersModel): Promise<{
  labelled: Float32Array;
  labelledLabels: Int32Array;
  test: Float32Array;
  testLabels: Int32Array;
}> {
  const size = ctx.shape[0] * ctx.shape[1] * ctx.shape[2];
  const idx = Int32Array.from([...ctx.split.labelled, ...ctx.split.validation]);
  const labelled = (await extractFeatures(
    backbone,
    gatherImages(ctx.train.images, size, idx),
    idx.length,
    ctx.shape,
  ))
    .features;
  const test = (await extractFeatures(
    backbone,
    ctx.test.images.subarray(0, ctx.testCount * size),
    ctx.testCount,
    ctx.shape,
  ))
    .features;
  return {
    labelled,
    labelledLabels: gatherLabels(ctx.train.labels, idx),
    test,
    testLabels: ctx.test.labels.subarray(0, ctx.testCount),
  };
}

/** Frees a model pair. */
export function disposeModel(m: Model): void {
  m.backbone.dispose();
  m.head.dispose();
}
