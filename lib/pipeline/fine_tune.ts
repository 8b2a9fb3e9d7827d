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
import {
  ARTICLE_HEAD,
  headConfigFor,
  type HeadSetting,
  headSettingText,
} from "../models/heads/head_setting.ts";
import { projectionBlocks, projectionHead } from "../models/heads/projection_heads.ts";
import { blockHead } from "../models/heads/block_head.ts";
import {
  type DistillTargets,
  type SupervisedConfig,
  type SupervisedEpoch,
  type SupervisedResult,
  trainSupervised,
} from "../train/supervised.ts";
import { extractFeatures } from "../eval/features.ts";
import { argmaxRows } from "../eval/metrics.ts";
import { makeAugmenter } from "../experiment/augmenter.ts";
import type { AugmentChoice } from "../experiment/recipe.ts";
import type { ImageClassifier } from "./classifier.ts";
import { type Pretrained, shapeOf } from "./pretrain.ts";

/** The fine-tuning budget used when a setting is not given (Adam 1e-3, batch 64, 500 epochs). */
export const FINE_TUNE_DEFAULTS: Readonly<SupervisedConfig> = Object.freeze({
  epochs: 500,
  batchSize: 64,
  optimizer: "adam",
  learningRate: 1e-3,
});

/** Settings of {@linkcode fineTune}. */
export interface FineTuneOptions extends Partial<SupervisedConfig> {
  /**
   * "keep": the pre-trained projection head is the classifier; "new" (default):
   * a fresh head; `{ layers: k }`: SimCLRv2's middle answer — the first `k`
   * layers of the pre-trained head (with their weights) stay on the backbone
   * and a new linear classifier goes on top.
   */
  head?: "keep" | "new" | { layers: number };
  /** The fresh classifier head (default the article's MLP 32 → 16 → classes). */
  classifier?: HeadSetting;
  /** The backbone when training from scratch (default the article's CNN). */
  backbone?: BackboneConfig;
  /** Augmentation of the labelled images (default none). */
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
  for (let i = 0; i < k; i++) head.layers[i].setWeights(from.head.layers[i].getWeights());
  return head;
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
    classifier = ARTICLE_HEAD,
    backbone: scratchBackbone = { kind: "article" },
    augment = { preset: "none" },
    select,
    seed = from?.seed ?? 0,
    headSeed,
    stream,
    onEpoch,
    distill,
    ...budget
  } = options;
  const config: SupervisedConfig = { ...FINE_TUNE_DEFAULTS, ...budget };
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
  const backbone = from ? copyOf(from.encoder, build) : build();
  const featureDim = backboneOutputDim(backbone);
  let head: tf.LayersModel;
  if (headMode === "keep") {
    const out = from!.head.outputs[0].shape.at(-1) ?? -1;
    try {
      checkKeepableHead(from!.headSetting, out, numClasses);
    } catch (e) {
      backbone.dispose();
      throw e;
    }
    head = copyOf(
      from!.head,
      () => projectionHead(headConfigFor(from!.headSetting, featureDim, numClasses, seed)),
    );
  } else if (layers !== undefined) {
    try {
      head = headFromLayers(from!, layers, featureDim, numClasses, headSeed ?? seed + 2000);
    } catch (e) {
      backbone.dispose();
      throw e;
    }
  } else {
    const s = headSeed ?? (from ? seed + 1000 : seed);
    head = projectionHead(headConfigFor(classifier, featureDim, numClasses, s));
  }
  const validation = (select ?? "validation") === "final" ? undefined : split.validation;
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
      validation,
      augment: makeAugmenter(augment, shape)?.oneView,
      rng: new Rng(seed).fork(stream ?? `finetune-${arm}`),
      config,
      onEpoch,
      distill,
    });
    return classifierOf(backbone, head, result, shape);
  } catch (e) {
    backbone.dispose();
    head.dispose();
    throw e;
  }
}
