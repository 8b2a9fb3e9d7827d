/**
 * `pretrain`: self-supervised pre-training of a backbone f and a projection
 * head g on plain data, returning the trained models. The settings are plain
 * JSON (the method, backbone, head, augmentation and the optimiser's budget),
 * every one defaulting to the experiment's MNIST recipe (`defaults.ts`).
 *
 * `method` is "simclr" (default), "byol", "simsiam", "barlow" or "vicreg"
 * (`lib/train/pretrain.ts`); each has its default head (`methodHead`): BYOL and
 * SimSiam a projector and a predictor (`predictor`, `METHOD_PREDICTORS`; `false`
 * for none, the collapse the papers show), Barlow Twins and VICReg a wide
 * projector. The result is f and g, as for SimCLR — for BYOL and SimSiam g is
 * the projector, which `fineTune` keeps, discards or keeps k layers of; the
 * predictor is a training-only part (kept in the checkpoints of `checkpointDir`
 * to resume, dropped afterwards), and so is BYOL's momentum network.
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
import {
  type BackboneConfig,
  backboneOutputDim,
  backboneSettingText,
  buildBackbone,
  parseBackboneSetting,
} from "../models/backbones.ts";
import {
  headConfigFor,
  headOutputWidth,
  type HeadSetting,
  headSettingText,
  parseHeadSetting,
} from "../models/heads/head_setting.ts";
import { projectionHead } from "../models/heads/projection_heads.ts";
import { predictionHead } from "../models/heads/method_heads.ts";
import { Checkpoint, writeCheckpoint } from "../train/checkpoint.ts";
import {
  type PretrainConfig,
  pretrainContrastive,
  type PretrainEpoch,
  type PretrainOptions,
} from "../train/pretrain.ts";
import { parseSslMethod, type SslMethod, usesPredictor } from "../train/ssl_method.ts";
import { type AugmentChoice, makeAugmenter } from "../augment/presets.ts";
import {
  DEFAULT_BACKBONE,
  METHOD_PREDICTORS,
  methodHead,
  type PredictorSetting,
  PRETRAIN_AUGMENT,
  PRETRAIN_DEFAULTS,
} from "./defaults.ts";

export { PRETRAIN_DEFAULTS };

/** Settings of {@linkcode pretrain}: the models, the views, the budget, and callbacks. */
export interface PretrainSettings extends Partial<PretrainConfig> {
  /** Which images to pre-train on (default: every image of the dataset). */
  indices?: Int32Array;
  /** The backbone f (default the modern CNN, `DEFAULT_BACKBONE`). */
  backbone?: BackboneConfig;
  /**
   * The projection head g (default the method's, `methodHead`: SimCLR's dense 128 → BN →
   * ReLU → classes; BYOL's and SimSiam's projector; Barlow Twins' and VICReg's wide projector).
   */
  head?: HeadSetting;
  /**
   * BYOL and SimSiam: the predictor on z (default `METHOD_PREDICTORS`), or `false` for none
   * (p = z: the collapse the papers report). Refused for the other methods.
   */
  predictor?: PredictorSetting | false;
  /** How the two views are drawn (default the "stroke" views of grey digits). */
  augment?: AugmentChoice;
  /** Seed of the initial weights, the batches and the views (default 0). */
  seed?: number;
  /**
   * Save a checkpoint here after every epoch, and resume from it when present. A checkpoint of
   * another run (backbone, head, augmentation, seed, images or budget) or a damaged one stops
   * with one line naming the folder and what to do (`lib/train/checkpoint.ts`).
   */
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
  /** g: h → z, the head the loss saw (BYOL, SimSiam: the projector; never the predictor). */
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
  /** The SSL method (undefined: "simclr", as for models saved before there were methods). */
  method?: SslMethod;
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

/**
 * Saves a pre-trained encoder and head as a checkpoint of kind "pretrained" in `dir`
 * (`lib/train/checkpoint.ts`: written whole or not at all), with how they were built.
 */
export async function savePretrained(
  dir: string,
  pre: Pretrained,
  info: Record<string, unknown> = {},
): Promise<void> {
  await writeCheckpoint(dir, { models: { backbone: pre.encoder, head: pre.head } }, {
    kind: "pretrained",
    info: {
      method: pre.method ?? "simclr",
      backbone: pre.backbone,
      head: pre.headSetting,
      shape: pre.shape,
      numClasses: pre.numClasses,
      seed: pre.seed,
      ...info,
    },
  });
}

/** What the checkpoints of pre-training record about it (`info` of the manifest). */
interface PretrainedInfo {
  method?: SslMethod;
  backbone: BackboneConfig;
  head: HeadSetting;
  shape: [number, number, number];
  numClasses?: number;
  classNames?: string[];
  seed: number;
}

/**
 * The pre-trained models in `dir` — saved by {@linkcode savePretrained}, or the last epoch of a
 * pre-training checkpoint (`checkpointDir`) — or `undefined` when `dir` holds nothing. A
 * damaged checkpoint, or one of another kind, is a `CheckpointError` of one line.
 */
export async function loadPretrained(dir: string): Promise<Pretrained | undefined> {
  const saved = Checkpoint.find(dir, { kind: ["pretrained", "pretrain"] });
  if (!saved) return undefined;
  const info = saved.manifest.info as unknown as PretrainedInfo;
  const history = saved.has("state.json")
    ? saved.json<{ history: PretrainEpoch[] }>("state.json").history
    : [];
  const encoder = await saved.model("backbone");
  const head = await saved.model("head");
  return asPretrained(encoder, head, {
    history,
    backbone: info.backbone,
    headSetting: info.head,
    shape: info.shape,
    numClasses: info.numClasses ?? info.classNames?.length ?? 0,
    seed: info.seed,
    method: info.method ?? "simclr",
  });
}

/** The predictor a method trains with, checked: `undefined` for none. */
function predictorOf(
  method: SslMethod,
  setting: PredictorSetting | false | undefined,
): PredictorSetting | undefined {
  if (!usesPredictor(method)) {
    if (setting) {
      throw new RangeError(
        `pretrain: ${method} has no predictor (only byol and simsiam have one); leave predictor out`,
      );
    }
    return undefined;
  }
  if (setting === false) return undefined;
  const chosen = setting ?? METHOD_PREDICTORS[method]!;
  if (!Number.isInteger(chosen.hidden) || chosen.hidden < 1) {
    throw new RangeError(
      `pretrain: predictor.hidden must be a positive integer, got ${chosen.hidden}`,
    );
  }
  return { hidden: chosen.hidden };
}

/** A setting in its text form, with the JSON after it where the text does not say everything. */
function settingWords<T>(text: string, parse: (t: string) => T, value: T): string {
  let same = false;
  try {
    same = JSON.stringify(parse(text)) === JSON.stringify(value);
  } catch {
    same = false;
  }
  return same ? text : `${text} ${JSON.stringify(value)}`;
}

/**
 * What a pre-training checkpoint is made with besides the budget, in words a mismatch message
 * can show ("head linear:16"): the backbone, the head, the augmentation, the seed, the images.
 */
export function pretrainFingerprint(
  data: ImageDataset,
  backbone: BackboneConfig,
  head: HeadSetting,
  augment: AugmentChoice,
  seed: number,
  indices: Int32Array | undefined,
): Record<string, unknown> {
  return {
    backbone: settingWords(backboneSettingText(backbone), parseBackboneSetting, backbone),
    head: settingWords(headSettingText(head), parseHeadSetting, head),
    augment,
    seed,
    images: `${
      indices?.length ?? data.count
    } of ${data.name} (${data.height}x${data.width}x${data.channels})`,
  };
}

/** Contrastive pre-training on the images of `data` (see the module doc). */
export async function pretrain(
  data: ImageDataset,
  settings: PretrainSettings = {},
): Promise<Pretrained> {
  const method = parseSslMethod(settings.method ?? "simclr", "pretrain: method");
  const {
    indices,
    backbone: backboneConfig = DEFAULT_BACKBONE,
    head: headSetting = methodHead(method),
    predictor: predictorSetting,
    augment = PRETRAIN_AUGMENT,
    seed = 0,
    checkpointDir,
    onEpoch,
    onStep,
    monitor,
    ...budget
  } = settings;
  const config: PretrainConfig = { ...structuredClone(PRETRAIN_DEFAULTS), ...budget, method };
  const predictorChoice = predictorOf(method, predictorSetting);
  const shape = shapeOf(data);
  const numClasses = data.classNames.length;
  const encoder = buildBackbone(backboneConfig, shape, seed);
  const featureDim = backboneOutputDim(encoder);
  const headConfig = headConfigFor(headSetting, featureDim, numClasses, seed);
  const head = projectionHead(headConfig);
  const zDim = headOutputWidth(headSetting, featureDim, numClasses);
  // A seed of its own, so its initial weights do not repeat the head's.
  const predictor = predictorChoice
    ? predictionHead(zDim, predictorChoice.hidden, seed + 100_000)
    : undefined;
  const views = makeAugmenter(augment, shape);
  // What the fingerprint adds for BYOL and SimSiam: the predictor's widths, or none.
  const predictorWords = usesPredictor(method)
    ? { predictor: predictorChoice ? `${zDim}-${predictorChoice.hidden}-${zDim}` : "none" }
    : {};
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
      checkpointSettings: {
        ...pretrainFingerprint(data, backboneConfig, headSetting, augment, seed, indices),
        ...predictorWords,
      },
      checkpointInfo: {
        method,
        dataset: data.name,
        classNames: data.classNames,
        shape,
        backbone: backboneConfig,
        head: headSetting,
        ...predictorWords,
        seed,
      },
      onEpoch,
      onStep,
      monitor,
      predictor,
    });
    return asPretrained(encoder, head, {
      history: r.history,
      resumedAt: r.resumedAt,
      backbone: backboneConfig,
      headSetting,
      shape,
      numClasses,
      seed,
      method,
    });
  } catch (e) {
    encoder.dispose();
    head.dispose();
    throw e;
  } finally {
    predictor?.dispose(); // a training-only part
  }
}
