/**
 * `fineTune`: trains a classifier (backbone + head) on the labelled images,
 * starting from a pre-trained encoder (`head: "keep"` uses the projection
 * head as the classifier, the article's "same head"; `head: "new"` discards
 * it for a fresh one) or from scratch (`from: null`, the supervised
 * baseline). The pre-trained models are copied, never changed, so one
 * pre-training serves every arm. The model kept is the epoch best on the
 * validation images, or the final one.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { loadMnist } from "../data/mnist.ts";
 * import { splitLabels } from "./labels.ts";
 * import { fineTune } from "./fine_tune.ts";
 * await initBackend();
 * const { train } = await loadMnist();
 * const split = splitLabels(train, { labels: 200, seed: 0 });
 * const model = await fineTune(null, train, split, { epochs: 5 });
 * model.result.selectedEpoch;
 * model.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "../data/dataset.ts";
import { Rng } from "../rng.ts";
import { type BackboneConfig, backboneOutputDim, buildBackbone } from "../models/backbones.ts";
import { headConfigFor, type HeadSetting, headSettingText } from "../models/heads/head_setting.ts";
import { projectionBlocks, projectionHead } from "../models/heads/projection_heads.ts";
import { blockHead, headBlockLayers } from "../models/heads/block_head.ts";
import { cloneModel } from "../models/model_transfer.ts";
import {
  type DistillTargets,
  type SelfTraining,
  type SupervisedConfig,
  type SupervisedEpoch,
  type SupervisedResult,
  supervisedSteps,
  trainSupervised,
} from "../train/supervised.ts";
import { extractFeatures } from "../eval/features.ts";
import { argmaxRows } from "../eval/metrics.ts";
import { type AugmentChoice, makeAugmenter } from "../augment/presets.ts";
import type { ImageClassifier } from "./classifier.ts";
import { type Pretrained, shapeOf } from "./pretrain.ts";
import { DEFAULT_BACKBONE, DEFAULT_CLASSIFIER, FINE_TUNE_AUGMENT } from "./defaults.ts";

/**
 * The fine-tuning budget used when a setting is not given: the textbook recipe of a CNN on a
 * few labels, counted in optimiser steps so that a small label budget cannot starve it —
 * 1,500 steps of 64 images, AdamW (1e-3, weight decay 5e-4), cosine rate, label smoothing 0.1.
 */
export const FINE_TUNE_DEFAULTS: Readonly<SupervisedConfig> = Object.freeze({
  steps: 1500,
  batchSize: 64,
  optimizer: "adamw",
  learningRate: 1e-3,
  weightDecay: 5e-4,
  schedule: "cosine",
  labelSmoothing: 0.1,
});

/** Self-training on unlabelled images during fine-tuning (see `lib/train/unlabelled.ts`). */
export interface SelfTrainOptions {
  /** The unlabelled images (indices into the dataset). */
  unlabelled: Int32Array;
  /** A pseudo-label counts above this probability (default 0.7). */
  threshold?: number;
  /** Weight of the unlabelled loss (default 1). */
  weight?: number;
  /** Unlabelled images per step (default 256). */
  batchSize?: number;
  /** The strong view that learns the pseudo-labels. */
  strong: AugmentChoice;
  /** The weak view the pseudo-labels come from (default the fine-tuning augmentation). */
  weak?: AugmentChoice;
  /** Pseudo-labels from a moving average of the weights with this momentum (0: none). */
  emaMomentum?: number;
}

/** Settings of {@linkcode fineTune}. */
export interface FineTuneOptions extends Partial<SupervisedConfig> {
  /**
   * "keep": the pre-trained projection head is the classifier; "new" (default):
   * a fresh head; `{ layers: k }`: SimCLRv2's middle answer — the first `k`
   * layers of the pre-trained head (with their weights) stay on the backbone
   * and a new linear classifier goes on top.
   */
  head?: "keep" | "new" | { layers: number };
  /** The fresh classifier head (default dropout 0.3 + one dense layer, `DEFAULT_CLASSIFIER`). */
  classifier?: HeadSetting;
  /** The backbone when training from scratch (default the modern CNN, `DEFAULT_BACKBONE`). */
  backbone?: BackboneConfig;
  /** Augmentation of the labelled images (default the mild affine one; `{ preset: "none" }`). */
  augment?: AugmentChoice;
  /** "validation" (default when there are validation images): keep the best epoch; "final". */
  select?: "validation" | "final";
  /** Seed of the backbone's initial weights (from scratch) and of the batches (default 0). */
  seed?: number;
  /** Seed of a fresh head's weights (default: `seed`, or `seed + 1000` on a pre-trained encoder). */
  headSeed?: number;
  /** The label of the random stream of batches and views (default `finetune-<arm>`). */
  stream?: string;
  /** Called after every epoch. */
  onEpoch?: (e: SupervisedEpoch) => void | Promise<void>;
  /** Also learn a teacher's soft labels of unlabelled images (see `distill.ts`). */
  distill?: DistillTargets;
  /** Also learn the model's own confident pseudo-labels of unlabelled images. */
  selfTrain?: SelfTrainOptions;
  /**
   * Start from this trained classifier's weights (backbone and head, copied) instead of the
   * pre-trained encoder and `head`: a student that begins as its teacher.
   */
  init?: Pick<FineTuned, "backbone" | "head">;
}

/** A fine-tuned classifier: backbone + head, and how its training went. */
export interface FineTuned extends ImageClassifier {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  result: SupervisedResult;
}

/** Wraps a trained backbone + head as a {@linkcode FineTuned} classifier. */
export function classifierOf(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
  result: SupervisedResult,
  shape: [number, number, number],
): FineTuned {
  return {
    backbone,
    head,
    result,
    predict: async (images, count) => {
      const { features: logits, dim } = await extractFeatures(
        (x) => head.apply(backbone.apply(x)) as tf.Tensor,
        images.subarray(0, count * shape[0] * shape[1] * shape[2]),
        count,
        shape,
      );
      return argmaxRows(logits, dim);
    },
    dispose: () => {
      backbone.dispose();
      head.dispose();
    },
  };
}

/**
 * Throws a clear error when a pre-trained head cannot be kept as the
 * classifier: its output width must equal the number of classes.
 */
export function checkKeepableHead(setting: HeadSetting, outputWidth: number, classes: number) {
  if (outputWidth !== classes) {
    throw new RangeError(
      `fineTune: head "keep" uses the projection head (${headSettingText(setting)}) as the ` +
        `classifier, but its output width is ${outputWidth} and the data has ${classes} classes; ` +
        `pre-train with a head whose last width is ${classes} (e.g. mlp:32,16,${classes}), ` +
        `or fine-tune with head "new"`,
    );
  }
}

/**
 * The first `k` layers of a pre-trained projection head, with their weights,
 * followed by a new linear classifier (SimCLRv2's fine-tuning "from the
 * middle of the projection head"). A clear error for a `k` the head lacks.
 */
export function headFromLayers(
  from: Pretrained,
  k: number,
  featureDim: number,
  numClasses: number,
  seed: number,
): tf.Sequential {
  const blocks = projectionBlocks(headConfigFor(from.headSetting, featureDim, numClasses, seed));
  if (!Number.isInteger(k) || k < 1 || k > blocks.length) {
    throw new RangeError(
      `fineTune: head { layers: ${k} }: the projection head ${headSettingText(from.headSetting)} ` +
        `has ${blocks.length} layer${blocks.length === 1 ? "" : "s"}; keep 1 to ${blocks.length}`,
    );
  }
  const head = blockHead(
    featureDim,
    [...blocks.slice(0, k), { units: numClasses }],
    `head_from_layer${k}`,
    seed,
  );
  const mine = headBlockLayers(head);
  const theirs = headBlockLayers(from.head);
  for (let i = 0; i < k; i++) {
    mine[i].forEach((layer, j) => layer.setWeights(theirs[i][j].getWeights()));
  }
  return head;
}

/** The trainer's self-training settings of `options` (augmentations made for `shape`). */
function selfTraining(
  options: SelfTrainOptions,
  fineTuneAugment: AugmentChoice,
  shape: [number, number, number],
): SelfTraining {
  const strong = makeAugmenter(options.strong, shape);
  const weak = makeAugmenter(options.weak ?? fineTuneAugment, shape);
  return {
    indices: options.unlabelled,
    batchSize: options.batchSize ?? 256,
    threshold: options.threshold ?? 0.7,
    weight: options.weight ?? 1,
    // No strong augmentation: plain pseudo-labelling of the images themselves.
    strong: strong?.oneView ?? ((b) => b),
    ...(weak ? { weak: weak.oneView } : {}),
    ...(options.emaMomentum ? { emaMomentum: options.emaMomentum } : {}),
  };
}

/** The classifier head of a fine-tune: the projection head kept, its first layers, or a new one. */
function buildHead(
  from: Pretrained | null,
  headMode: FineTuneOptions["head"],
  layers: number | undefined,
  classifier: HeadSetting,
  featureDim: number,
  numClasses: number,
  seeds: { seed: number; headSeed?: number },
): tf.LayersModel {
  const { seed, headSeed } = seeds;
  if (headMode === "keep") {
    const out = from!.head.outputs[0].shape.at(-1) ?? -1;
    checkKeepableHead(from!.headSetting, out, numClasses);
    return copyOf(
      from!.head,
      () => projectionHead(headConfigFor(from!.headSetting, featureDim, numClasses, seed)),
    );
  }
  if (layers !== undefined) {
    return headFromLayers(from!, layers, featureDim, numClasses, headSeed ?? seed + 2000);
  }
  const s = headSeed ?? (from ? seed + 1000 : seed);
  return projectionHead(headConfigFor(classifier, featureDim, numClasses, s));
}

/** A copy of `model` built by `build`, with the same weights. */
function copyOf(model: tf.LayersModel, build: () => tf.LayersModel): tf.LayersModel {
  const copy = build();
  copy.setWeights(model.getWeights());
  return copy;
}

/**
 * Fine-tunes from `from` (or trains from scratch when it is `null`) on the
 * `labelled` images of `data`, selecting on `validation` (see the module doc).
 */
export async function fineTune(
  from: Pretrained | null,
  data: ImageDataset,
  split: { labelled: Int32Array; validation?: Int32Array },
  options: FineTuneOptions = {},
): Promise<FineTuned> {
  const {
    head: headMode = "new",
    classifier = DEFAULT_CLASSIFIER,
    backbone: scratchBackbone = DEFAULT_BACKBONE,
    augment = FINE_TUNE_AUGMENT,
    select,
    seed = from?.seed ?? 0,
    headSeed,
    stream,
    onEpoch,
    distill,
    selfTrain,
    init,
    ...budget
  } = options;
  // A budget given in epochs replaces the default budget in steps.
  const defaults = budget.epochs !== undefined && budget.steps === undefined
    ? { ...FINE_TUNE_DEFAULTS, steps: undefined }
    : FINE_TUNE_DEFAULTS;
  const config: SupervisedConfig = { ...defaults, ...budget };
  // An epoch budget on a few labels is a handful of steps: say so, once, rather than starve.
  if (budget.epochs !== undefined && budget.steps === undefined && budget.epochs > 0) {
    const steps = supervisedSteps(config, split.labelled.length);
    const recipe = supervisedSteps(FINE_TUNE_DEFAULTS, split.labelled.length);
    if (steps < recipe / 5) {
      console.warn(
        `fineTune: ${budget.epochs} epochs of ${split.labelled.length} labelled images at batch ` +
          `${config.batchSize} is only ${steps} optimiser steps; the recipe trains ${recipe} ` +
          `(leave out epochs, or give steps)`,
      );
    }
  }
  const shape = shapeOf(data);
  const numClasses = data.classNames.length;
  if (from && from.numClasses !== numClasses) {
    throw new RangeError(
      `fineTune: the encoder was pre-trained for ${from.numClasses} classes, the data has ${numClasses}`,
    );
  }
  const layers = typeof headMode === "object" ? headMode.layers : undefined;
  if (headMode !== "keep" && headMode !== "new" && layers === undefined) {
    throw new RangeError(
      `fineTune: head must be "keep", "new" or { layers: k }, got ${JSON.stringify(headMode)}`,
    );
  }
  if (!from && headMode !== "new") {
    throw new RangeError(
      `fineTune: head ${JSON.stringify(headMode)} needs a pre-trained model, got null`,
    );
  }
  const backboneConfig = from?.backbone ?? scratchBackbone;
  const build = () => buildBackbone(backboneConfig, shape, seed);
  let backbone: tf.LayersModel;
  let head: tf.LayersModel;
  if (init) {
    // A student that begins as its teacher: copies of the teacher's models.
    backbone = await cloneModel(init.backbone);
    head = await cloneModel(init.head);
  } else {
    backbone = from ? copyOf(from.encoder, build) : build();
    try {
      head = buildHead(
        from,
        headMode,
        layers,
        classifier,
        backboneOutputDim(backbone),
        numClasses,
        {
          seed,
          headSeed,
        },
      );
    } catch (e) {
      backbone.dispose();
      throw e;
    }
  }

  const arm = !from
    ? "supervised"
    : headMode === "keep"
    ? "ssl_same_head"
    : layers !== undefined
    ? `ssl_head_layer${layers}`
    : "ssl_new_head";
  try {
    const result = await trainSupervised({
      backbone,
      head,
      images: data.images,
      shape,
      labels: data.labels,
      numClasses,
      train: split.labelled,
      validation: split.validation,
      select,
      augment: makeAugmenter(augment, shape)?.oneView,
      rng: new Rng(seed).fork(stream ?? `finetune-${arm}`),
      config,
      onEpoch,
      distill,
      selfTrain: selfTrain && selfTraining(selfTrain, augment, shape),
    });
    return classifierOf(backbone, head, result, shape);
  } catch (e) {
    backbone.dispose();
    head.dispose();
    throw e;
  }
}
