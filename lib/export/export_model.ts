/**
 * Trained models out of the process: {@linkcode exportModel} writes an encoder (images → h), and
 * its classifier (h → class logits) when there is one, as tfjs LayersModel files — with tfjs's
 * standard layers only, so that a plain tfjs in a browser page and the official tfjs → Keras
 * converter read them (`lib/models/standard_layers.ts`) — plus a model card (`model_card.json`,
 * `MODEL_CARD.md`, see `model_card.ts`). The folder is a checkpoint of `lib/train/checkpoint.ts`
 * (kind "export"): written whole or not at all, with a manifest of sizes and SHA-256 checksums.
 *
 * ```
 * DIR/
 *   encoder/model.json, encoder/weights.bin        f: [n, H, W, C] in [0, 1] → h [n, d]
 *   classifier/model.json, classifier/weights.bin  h → logits [n, classes] (when there is one)
 *   model_card.json, MODEL_CARD.md, manifest.json
 * ```
 *
 * {@linkcode loadExportedModel} validates the folder, checks the card against the data it is
 * given (size, channels and — when the classifier is used — classes: one line when they differ)
 * and returns the models with `features` and `predict` on plain arrays.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { exportModel, loadExportedModel } from "./export_model.ts";
 * const encoder = articleBackbone([28, 28, 1]);
 * const classifier = articleHead(32, 2);
 * const dir = `${await Deno.makeTempDir()}/model`; // e.g. "models/mnist"
 * await exportModel(dir, { encoder, classifier }, {
 *   dataset: "bars", classNames: ["left", "right"], backbone: "article",
 * });
 * const model = await loadExportedModel(dir, {
 *   data: { name: "bars", height: 28, width: 28, channels: 1, classNames: ["left", "right"] },
 * });
 * const { features, dim } = await model.features(new Float32Array(3 * 784), 3); // h: 3 x 32
 * const classes = await model.predict(new Float32Array(3 * 784), 3); // 3 class indices
 * model.dispose();
 * encoder.dispose();
 * classifier.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { version } from "@tensorflow/tfjs";
import { Checkpoint, writeCheckpoint } from "../train/checkpoint.ts";
import { extractFeatures } from "../eval/features.ts";
import { argmaxRows } from "../eval/metrics.ts";
import { backboneOutputDim, backboneSettingText } from "../models/backbones.ts";
import { headSettingText } from "../models/heads/head_setting.ts";
import type { FineTuned } from "../pipeline/fine_tune.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import type { ImageClassifier } from "../pipeline/classifier.ts";
import {
  cardMarkdown,
  checkCardAgainst,
  type DataShape,
  makeModelCard,
  type ModelCard,
  type ModelCardInput,
} from "./model_card.ts";

/** The models of an export. */
export interface ExportModels {
  /** f: images → h. */
  encoder: tf.LayersModel;
  /** h → class logits. */
  classifier?: tf.LayersModel;
  /** g: h → z, the projection head of pre-training (rarely wanted: h is the representation). */
  projection?: tf.LayersModel;
}

/** What the card says beyond what the models tell (their shapes): the dataset and classes first. */
export type ExportInfo =
  & Pick<ModelCardInput, "dataset" | "classNames">
  & Partial<Omit<ModelCardInput, "dataset" | "classNames" | "shape" | "featureDim">>;

/** A mismatch between an exported model and the data it is given: one line. */
export class ModelDataMismatch extends Error {
  /** Builds the error (the message is one line). */
  constructor(message: string) {
    super(message);
    this.name = "ModelDataMismatch";
    this.stack = `${this.name}: ${message}`;
  }
}

function modelsOf(model: ExportModels | FineTuned | Pretrained): ExportModels {
  if ("backbone" in model && "result" in model) {
    return { encoder: model.backbone, classifier: model.head };
  }
  if ("encoder" in model && "headSetting" in model) return { encoder: model.encoder };
  return model as ExportModels;
}

/**
 * Writes `model` (an encoder and classifier, a fine-tuned arm — backbone as the encoder, head as
 * the classifier — or a pre-training's encoder) and its card to `dir`; returns the card.
 */
export async function exportModel(
  dir: string,
  model: ExportModels | FineTuned | Pretrained,
  info: ExportInfo,
): Promise<ModelCard> {
  const models = modelsOf(model);
  const input = models.encoder.inputs[0].shape.slice(1);
  if (input.length !== 3 || input.some((d) => d === null)) {
    throw new Error(`exportModel: the encoder must take [n, H, W, C] images, got [${input}]`);
  }
  const pre = "headSetting" in model ? model as Pretrained : undefined;
  const featureDim = backboneOutputDim(models.encoder);
  if (models.classifier) {
    const classes = models.classifier.outputs[0].shape.at(-1);
    if (classes !== info.classNames.length) {
      throw new Error(
        `exportModel: the classifier has ${classes} outputs, the dataset ${info.classNames.length} classes`,
      );
    }
  }
  const given = Object.fromEntries(
    Object.entries(info).filter(([, v]) => v !== undefined),
  ) as ExportInfo;
  const card = makeModelCard({
    backbone: pre ? backboneSettingText(pre.backbone) : models.encoder.name,
    ...(pre ? { projectionHead: headSettingText(pre.headSetting), seed: pre.seed } : {}),
    ...(models.classifier && !info.classifier ? { classifier: {} } : {}),
    ...given,
    shape: input as [number, number, number],
    featureDim,
    ...(models.projection
      ? { projectionDim: models.projection.outputs[0].shape.at(-1) ?? undefined }
      : {}),
    tfjs: version.tfjs,
  });
  if (!models.classifier) delete card.classifier;
  const named: Record<string, tf.LayersModel> = { encoder: models.encoder };
  if (models.classifier) named.classifier = models.classifier;
  if (models.projection) named.projection = models.projection;
  await writeCheckpoint(dir, {
    models: named,
    json: { "model_card.json": card },
    files: { "MODEL_CARD.md": cardMarkdown(card) },
  }, {
    kind: "export",
    standardLayers: true,
    info: { title: card.title },
  });
  return card;
}

/** An exported model, loaded: its card, its models, and what they compute. */
export interface ExportedModel extends ImageClassifier {
  /** The folder it was loaded from. */
  dir: string;
  card: ModelCard;
  encoder: tf.LayersModel;
  classifier?: tf.LayersModel;
  projection?: tf.LayersModel;
  /** [height, width, channels] of the images it takes. */
  shape: [number, number, number];
  /** h for `count` images (row-major, `dim` values each), in chunks. */
  features(images: Float32Array, count: number): Promise<{ features: Float32Array; dim: number }>;
  /** The classifier's class for `count` images (throws when the export has no classifier). */
  predict(images: Float32Array, count: number): Promise<Int32Array>;
}

/** Options of {@linkcode loadExportedModel}. */
export interface LoadExportOptions {
  /** The data the model is about to see: its size and channels must be the card's. */
  data?: DataShape;
  /** Also require the data's classes to be the card's (default true when `data` is given). */
  classes?: boolean;
}

/**
 * Reads an export written by {@linkcode exportModel}: validates the folder (manifest, sizes,
 * checksums: a `CheckpointError` otherwise), checks the card against `data` (a
 * {@linkcode ModelDataMismatch} of one line otherwise) and loads the models, our own layers in
 * place of the standard ones.
 */
export async function loadExportedModel(
  dir: string,
  options: LoadExportOptions = {},
): Promise<ExportedModel> {
  const saved = Checkpoint.open(dir, { kind: "export" });
  const card = saved.json<ModelCard>("model_card.json");
  if (options.data) {
    const problem = checkCardAgainst(card, dir, options.data, { classes: options.classes ?? true });
    if (problem) throw new ModelDataMismatch(problem);
  }
  const encoder = await saved.model("encoder");
  const classifier = saved.models.includes("classifier")
    ? await saved.model("classifier")
    : undefined;
  const projection = saved.models.includes("projection")
    ? await saved.model("projection")
    : undefined;
  const shape: [number, number, number] = [
    card.input.height,
    card.input.width,
    card.input.channels,
  ];
  const size = shape[0] * shape[1] * shape[2];
  return {
    dir,
    card,
    encoder,
    classifier,
    projection,
    shape,
    features: async (images, count) => {
      const { features, dim } = await extractFeatures(
        encoder,
        images.subarray(0, count * size),
        count,
        shape,
      );
      return { features, dim };
    },
    predict: async (images, count) => {
      if (!classifier) throw new Error(`the model in ${dir} has no classifier, only an encoder`);
      const { features: logits, dim } = await extractFeatures(
        (x) => classifier.apply(encoder.apply(x)) as tf.Tensor,
        images.subarray(0, count * size),
        count,
        shape,
      );
      return argmaxRows(logits, dim);
    },
    dispose: () => {
      encoder.dispose();
      classifier?.dispose();
      projection?.dispose();
    },
  };
}
