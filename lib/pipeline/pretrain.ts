/**
 * `pretrain`: SimCLR-style contrastive pre-training of a backbone f and a
 * projection head g on plain data, returning the trained models. The
 * settings are plain JSON (backbone, head, augmentation and the optimiser's
 * budget), every one with the article's default.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { loadMnist } from "../data/mnist.ts";
 * import { splitLabels } from "./labels.ts";
 * import { pretrain } from "./pretrain.ts";
 * await initBackend();
 * const { train } = await loadMnist();
 * const split = splitLabels(train, { labels: 200, seed: 0, maxUnlabelled: 1024 });
 * const pre = await pretrain(train, {
 *   indices: split.unlabelled,
 *   head: { kind: "mlp", hidden: [32], outputDim: 16 },
 *   epochs: 1,
 *   batchSize: 256,
 * });
 * console.log(pre.history[0].loss);
 * pre.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "../data/dataset.ts";
import { Rng } from "../rng.ts";
import { type BackboneConfig, backboneOutputDim, buildBackbone } from "../models/backbones.ts";
import { ARTICLE_HEAD, headConfigFor, type HeadSetting } from "../models/heads/head_setting.ts";
import { projectionHead } from "../models/heads/projection_heads.ts";
import {
  type PretrainConfig,
  pretrainContrastive,
  type PretrainEpoch,
  type PretrainOptions,
} from "../train/pretrain.ts";
import { type AugmentChoice, makeAugmenter } from "../augment/presets.ts";

/** The pre-training budget used when a setting is not given (the article's, τ 0.2). */
export const PRETRAIN_DEFAULTS: Readonly<PretrainConfig> = Object.freeze({
  epochs: 8,
  batchSize: 512,
  learningRate: 1e-3,
  lrDecay: 0.95,
  temperature: 0.2,
  earlyStop: { minRelativeImprovement: 0.001, patience: 5 },
  softmaxBeforeLoss: false,
  workers: 1,
});

/** Settings of {@linkcode pretrain}: the models, the views, the budget, and callbacks. */
export interface PretrainSettings extends Partial<PretrainConfig> {
  /** Which images to pre-train on (default: every image of the dataset). */
  indices?: Int32Array;
  /** The backbone f (default the article's CNN). */
  backbone?: BackboneConfig;
  /** The projection head g (default the article's MLP 32 → 16 → classes). */
  head?: HeadSetting;
  /** How the two views are drawn (default the article's digit augmentation). */
  augment?: AugmentChoice;
  /** Seed of the initial weights, the batches and the views (default 0). */
  seed?: number;
  /** Save a checkpoint here after every epoch, and resume from it when present. */
  checkpointDir?: string;
  /** Called after every epoch. */
  onEpoch?: PretrainOptions["onEpoch"];
  /** Called after every step with the running mean loss of its epoch. */
  onStep?: PretrainOptions["onStep"];
  /** Labels for the per-epoch kNN metric (validation images, never the test set). */
  monitor?: PretrainOptions["monitor"];
}

/** A pre-trained backbone (the encoder f) and projection head g. */
export interface Pretrained {
  /** f: images → features h. */
  encoder: tf.LayersModel;
  /** g: h → z, the head the contrastive loss saw. */
  head: tf.LayersModel;
  /** One record per epoch trained (resumed epochs included). */
  history: PretrainEpoch[];
  /** The epoch training resumed from (0 for a fresh run). */
  resumedAt: number;
  /** How the models were built, so that copies can be made. */
  backbone: BackboneConfig;
  headSetting: HeadSetting;
  /** Image shape [height, width, channels], width of h, number of classes of the data. */
  shape: [number, number, number];
  featureDim: number;
  numClasses: number;
  seed: number;
  /** Frees both models. */
  dispose(): void;
}

/** The image shape of a dataset. */
export function shapeOf(data: ImageDataset): [number, number, number] {
  return [data.height, data.width, data.channels];
}

/** The width of the features h that `backbone` gives for images of `shape`. */
export function featureDimOf(backbone: BackboneConfig, shape: [number, number, number]): number {
  const probe = buildBackbone(backbone, shape, 0);
  try {
    return backboneOutputDim(probe);
  } finally {
    probe.dispose();
  }
}

/**
 * A {@linkcode Pretrained} from models trained earlier (for example loaded
 * from a checkpoint); it owns them from now on.
 */
export function asPretrained(
  encoder: tf.LayersModel,
  head: tf.LayersModel,
  info: Omit<Pretrained, "encoder" | "head" | "dispose" | "featureDim" | "resumedAt"> & {
    resumedAt?: number;
  },
): Pretrained {
  return {
    ...info,
    encoder,
    head,
    resumedAt: info.resumedAt ?? 0,
    featureDim: backboneOutputDim(encoder),
    dispose: () => {
      encoder.dispose();
      head.dispose();
    },
  };
}

/** Contrastive pre-training on the images of `data` (see the module doc). */
export async function pretrain(
  data: ImageDataset,
  settings: PretrainSettings = {},
): Promise<Pretrained> {
  const {
    indices,
    backbone: backboneConfig = { kind: "article" },
    head: headSetting = ARTICLE_HEAD,
    augment = { preset: "digits", strength: 1 },
    seed = 0,
    checkpointDir,
    onEpoch,
    onStep,
    monitor,
    ...budget
  } = settings;
  const config: PretrainConfig = { ...structuredClone(PRETRAIN_DEFAULTS), ...budget };
  const shape = shapeOf(data);
  const numClasses = data.classNames.length;
  const encoder = buildBackbone(backboneConfig, shape, seed);
  const featureDim = backboneOutputDim(encoder);
  const head = projectionHead(headConfigFor(headSetting, featureDim, numClasses, seed));
  const views = makeAugmenter(augment, shape);
  try {
    const r = await pretrainContrastive({
      backbone: encoder,
      head,
      images: data.images,
      shape,
      indices: indices ?? Int32Array.from({ length: data.count }, (_, i) => i),
      makeViews: views?.twoViews ?? ((b) => [b, b]),
      rng: new Rng(seed).fork("pretrain"),
      config,
      checkpointDir,
      onEpoch,
      onStep,
      monitor,
    });
    return asPretrained(encoder, head, {
      history: r.history,
      resumedAt: r.resumedAt,
      backbone: backboneConfig,
      headSetting,
      shape,
      numClasses,
      seed,
    });
  } catch (e) {
    encoder.dispose();
    head.dispose();
    throw e;
  }
}
