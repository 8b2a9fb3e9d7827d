/**
 * Networks and recipes in tables, for the notebooks: a model's layers in plain words with their
 * output shapes and parameters ({@linkcode layerRows}), its parameters split into those gradient
 * descent trains and batch normalisation's moving statistics ({@linkcode parameterCounts}), the
 * network a fine-tuned arm of the experiment trains ({@linkcode armNetwork}) and its supervised
 * recipe in words ({@linkcode armRecipeRow}).
 *
 * @example
 * ```ts
 * import { modernCnn } from "../models/modern_cnn.ts";
 * import { layerRows, parameterCounts } from "./networks.ts";
 * const f = modernCnn({ inputShape: [28, 28, 1], seed: 0 });
 * layerRows(f)[0]; // { layer: "block1_conv", kind: "conv 3x3, same padding, no bias", "output shape": "28×28×16", parameters: 144 }
 * parameterCounts(f); // { total: 7312, trained: 7184, movingStatistics: 128 }
 * f.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { backboneOutputDim, buildBackbone } from "../models/backbones.ts";
import { headConfigFor, type HeadSetting } from "../models/heads/head_setting.ts";
import { projectionHead } from "../models/heads/projection_heads.ts";
import { type ArmContext, type FineTunedArm, fineTuneOptions } from "../experiment/arms.ts";
import { supervisedSteps } from "../train/supervised.ts";
import { describeBackbone, describeHead } from "./setup.ts";

/** One layer of a model, in words. */
export interface LayerRow {
  /** The layer's name. */
  layer: string;
  /** What it does: "conv 3x3, same padding, no bias", "batch norm", "max-pool 2x2", ... */
  kind: string;
  /** Its output for one image: "28×28×16", "32". */
  "output shape": string;
  /** Its weights, moving statistics included. */
  parameters: number;
}

type LayerConfig = Record<string, unknown>;

const pair = (v: unknown) => {
  const [a, b] = Array.isArray(v) ? v : [v, v];
  return `${a}x${b}`;
};

const activationOf = (c: LayerConfig) =>
  typeof c.activation === "string" && c.activation !== "linear" ? ` + ${c.activation}` : "";

/** A layer's kind in plain words (its class name when it is none of the usual ones). */
export function layerKind(layer: tf.layers.Layer): string {
  const c = layer.getConfig() as LayerConfig;
  switch (layer.getClassName()) {
    case "Conv2D":
      return `conv ${pair(c.kernelSize)}, ${c.padding} padding${c.useBias ? "" : ", no bias"}${
        activationOf(c)
      }`;
    case "SslBatchNorm":
      // A ResNet block's end, relu(BN(x) + residual), is one layer.
      return c.residual === true
        ? `batch norm + residual${c.relu === true ? " + ReLU" : ""}`
        : "batch norm";
    case "BatchNormalization":
      return "batch norm";
    case "ReLU":
      return "ReLU";
    case "Activation":
      return String(c.activation);
    case "MaxPooling2D":
      return `max-pool ${pair(c.poolSize)}`;
    case "GlobalAveragePooling2D":
      return "global average pooling";
    case "Flatten":
      return "flatten";
    case "Dense":
      return `dense${c.useBias ? "" : ", no bias"}${activationOf(c)}`;
    case "Dropout":
    case "SslDropout":
      return `dropout ${c.rate}`;
    default:
      return layer.getClassName();
  }
}

/** tfjs's own names of unnamed layers: `dense_Dense3`, `ssl_dropout_SslDropout1`. */
const AUTO_NAME = /^[a-z0-9_]+_[A-Z][A-Za-z0-9]*?\d+$/;

/**
 * Every layer of `model` (nested models flattened), with its output shape and parameters. A
 * layer tfjs named itself (`dense_Dense3`: the name changes with every model built) is called
 * by its position instead: "layer 2".
 */
export function layerRows(model: tf.LayersModel): LayerRow[] {
  return model.layers.flatMap((l, i) =>
    "layers" in l && Array.isArray((l as tf.LayersModel).layers)
      ? layerRows(l as tf.LayersModel)
      : [{
        layer: AUTO_NAME.test(l.name) ? `layer ${i + 1}` : l.name,
        kind: layerKind(l),
        "output shape": (l.outputShape as (number | null)[]).slice(1).join("×"),
        parameters: l.countParams(),
      }]
  );
}

/** A model's parameters: all, those gradient descent trains, batch norm's moving statistics. */
export interface ParameterCounts {
  total: number;
  /** Trained by the optimiser (weights, biases, batch norm's scale and shift). */
  trained: number;
  /** Not trained but kept: batch normalisation's moving means and variances. */
  movingStatistics: number;
}

const size = (w: tf.LayerVariable) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1);

/** The parameters of `model` (see {@linkcode ParameterCounts}); a frozen model trains none. */
export function parameterCounts(model: tf.LayersModel): ParameterCounts {
  const total = model.countParams();
  const trained = model.trainableWeights.reduce((a, w) => a + size(w), 0);
  return { total, trained, movingStatistics: total - trained };
}

/** The network of a fine-tuned arm, freshly built (free it with `dispose`). */
export interface ArmNetwork {
  /** The backbone f the arm trains. */
  backbone: tf.LayersModel;
  /** The classifier head on h (for the SSL arms, the fresh head of "new head"). */
  head: tf.LayersModel;
  /** The backbone in words (`describeBackbone`). */
  backboneText: string;
  /** The head in words (`describeHead`), with its dropout. */
  headText: string;
  dispose(): void;
}

function headText(head: HeadSetting, inputDim: number, numClasses: number): string {
  const words = describeHead(head, inputDim, numClasses);
  return head.dropout ? `dropout ${head.dropout}, then ${words}` : words;
}

/**
 * The backbone and classifier head a fine-tuned arm trains (`supervised_article`: the
 * article's CNN and head; the other arms: the recipe's backbone and classifier), built from
 * the context's seed: the same layers and parameter counts as the arm's (not its trained
 * weights).
 */
export function armNetwork(ctx: ArmContext, arm: FineTunedArm): ArmNetwork {
  const o = fineTuneOptions(ctx, arm);
  const backboneSetting = o.backbone ?? ctx.config.backbone;
  const classifier = o.classifier ?? ctx.config.classifier;
  const backbone = buildBackbone(backboneSetting, ctx.shape, ctx.seed);
  const dim = backboneOutputDim(backbone);
  const head = projectionHead(headConfigFor(classifier, dim, ctx.numClasses, ctx.seed));
  return {
    backbone,
    head,
    backboneText: describeBackbone(backboneSetting),
    headText: headText(classifier, dim, ctx.numClasses),
    dispose: () => {
      backbone.dispose();
      head.dispose();
    },
  };
}

const AUGMENT_WORDS: Record<string, string> = {
  none: "none",
  affine: "mild affine (rotation, zoom, shift)",
  "affine-flip": "mild affine with mirror images",
  digits: "the article's digit augmentation",
  stroke: "stroke views (affine, grey levels, blur)",
  "crop-flip": "crops and flips",
  crop: "crops",
  colour: "SimCLR's colour views",
};

/**
 * The supervised recipe of a fine-tuned arm in words, one table row: optimiser, learning
 * rate and schedule, budget in optimiser steps (and epochs, when the recipe counts epochs),
 * augmentation of the labelled images, label smoothing, and which model is kept.
 */
export function armRecipeRow(ctx: ArmContext, arm: FineTunedArm): Record<string, string> {
  const o = fineTuneOptions(ctx, arm);
  const batchSize = o.batchSize ?? 64;
  const labelled = ctx.split.labelled.length;
  const steps = supervisedSteps(
    { ...o, batchSize } as Parameters<typeof supervisedSteps>[0],
    labelled,
  );
  const optimiser = o.optimizer === "sgd"
    ? `SGD${o.momentum ? `, momentum ${o.momentum}` : ""}`
    : o.optimizer === "adamw"
    ? `AdamW, weight decay ${o.weightDecay ?? 0}`
    : `Adam${o.weightDecay ? `, L2 ${o.weightDecay}` : ""}`;
  const schedule = o.schedule === "cosine"
    ? "cosine to 0"
    : o.schedule === "exponential" || (o.schedule === undefined && o.lrDecay !== undefined)
    ? `× ${o.lrDecay} per epoch`
    : "constant";
  const augment = o.augment ?? { preset: "none" };
  const strength = augment.preset !== "none" && (augment.strength ?? 1) !== 1
    ? `, strength ${augment.strength}`
    : "";
  return {
    optimiser,
    "learning rate": `${o.learningRate}, ${schedule}${
      o.warmupSteps ? `, ${o.warmupSteps} warm-up steps` : ""
    }`,
    budget: `${steps.toLocaleString("en")} steps of ${batchSize} images` +
      (o.steps === undefined ? ` (${(o.epochs ?? 0).toLocaleString("en")} epochs)` : ""),
    augmentation: `${AUGMENT_WORDS[augment.preset] ?? augment.preset}${strength}`,
    "label smoothing": String(o.labelSmoothing ?? 0),
    "model kept": o.select === "validation" ? "best on validation" : "the final one",
  };
}
