/**
 * Backbones by configuration: the article's CNN (`article_cnn.ts`, kept to
 * reproduce the article), the modern CNN family (`modern_cnn.ts`: batch
 * normalisation, same padding, global average pooling), or a small
 * ResNet-style network for colour images (`resnet.ts`). Plain JSON settings,
 * so a notebook's configuration cell can pick one.
 *
 * @example
 * ```ts
 * import { backboneOutputDim, buildBackbone, parseBackboneSetting } from "./backbones.ts";
 * const f = buildBackbone({ kind: "article" }, [28, 28, 1], 0);
 * backboneOutputDim(f); // 32
 * const wide = buildBackbone(parseBackboneSetting("cnn-wide"), [28, 28, 1], 0);
 * backboneOutputDim(wide); // 128
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { articleBackbone } from "./article_cnn.ts";
import { MODERN_CNN_CHANNELS, MODERN_CNN_WIDE_CHANNELS, modernCnn } from "./modern_cnn.ts";
import { resnetBackbone } from "./resnet.ts";

/** Which backbone to build. */
export interface BackboneConfig {
  /**
   * "article": the article's 3-block CNN; "cnn": the modern CNN (batch normalisation, same
   * padding, global average pooling); "resnet": the small ResNet of `resnet.ts`.
   */
  kind: "article" | "cnn" | "resnet";
  /**
   * Channels of the conv blocks (the article's: 16, 16, 32). "article" (three blocks) and
   * "cnn" (one width per block) only.
   */
  channels?: number[];
  /** ResNet: channels of the first stage, doubled by each later one (default 16). */
  width?: number;
  /** ResNet: number of stages, each halving the resolution (default 3). */
  depth?: number;
  /** ResNet: basic blocks per stage (default 1). */
  blocksPerStage?: number;
  /** ResNet: "batch" (default) normalisation after every convolution, or "none". */
  norm?: "batch" | "none";
}

/** Builds the backbone `config` names for images of `shape`, initialised from `seed`. */
export function buildBackbone(
  config: BackboneConfig & { kind: "article" },
  shape: [number, number, number],
  seed: number,
): tf.Sequential;
/** Builds the backbone `config` names for images of `shape`, initialised from `seed`. */
export function buildBackbone(
  config: BackboneConfig,
  shape: [number, number, number],
  seed: number,
): tf.LayersModel;
export function buildBackbone(
  config: BackboneConfig,
  shape: [number, number, number],
  seed: number,
): tf.LayersModel {
  switch (config.kind) {
    case "article": {
      const channels = config.channels ?? [16, 16, 32];
      if (channels.length !== 3) {
        throw new RangeError(`the article's CNN has 3 conv layers, got widths [${channels}]`);
      }
      return articleBackbone(shape, channels as [number, number, number], seed);
    }
    case "cnn":
      return modernCnn({ inputShape: shape, channels: config.channels, seed });
    case "resnet":
      return resnetBackbone({
        inputShape: shape,
        width: config.width,
        depth: config.depth,
        blocksPerStage: config.blocksPerStage,
        norm: config.norm,
        seed,
      });
    default:
      throw new Error(`unknown backbone kind "${(config as { kind: string }).kind}"`);
  }
}

/** The width of the features h a backbone outputs. */
export function backboneOutputDim(backbone: tf.LayersModel): number {
  const shape = backbone.outputs[0].shape;
  const dim = shape[shape.length - 1];
  if (shape.length !== 2 || dim === null) {
    throw new Error(`the backbone must output flat features [batch, dim], got [${shape}]`);
  }
  return dim;
}

/** What `--backbone` accepts, for usage lines and errors. */
export const BACKBONE_SETTING_FORMS =
  "cnn, cnn:C1,...,Cn, cnn-wide, article, article:C1,C2,C3, article-wide, resnet or resnet:W,D";

/**
 * Parses the text form of a backbone: `cnn` (the modern CNN at the article's
 * widths, 16/16/32), `cnn:C1,...,Cn` (other widths, one block each),
 * `cnn-wide` (32/64/128, about 93k parameters), `article` (the article's CNN,
 * 16/16/32 channels), `article:C1,C2,C3` (other widths), `article-wide`
 * (32/64/128), `resnet` (width 16, 3 stages) or `resnet:W,D`.
 * Throws a `RangeError` that quotes the text and lists the forms.
 */
export function parseBackboneSetting(text: string): BackboneConfig {
  const spec = text.trim().toLowerCase();
  const bad = (why: string) =>
    new RangeError(`backbone "${text}": ${why}; use ${BACKBONE_SETTING_FORMS}`);
  const m = /^(article|article-wide|cnn|cnn-wide|resnet)(?::(.*))?$/.exec(spec);
  if (!m) throw bad("unknown kind");
  const numbers = m[2] === undefined ? [] : m[2].split(",").map((w) => {
    const n = Number(w.trim());
    if (w.trim() === "" || !Number.isInteger(n) || n < 1) {
      throw bad(`"${w.trim()}" is not a positive integer`);
    }
    return n;
  });
  if (m[1] === "article-wide" || m[1] === "cnn-wide") {
    if (numbers.length) throw bad(`${m[1]} takes no widths`);
    return {
      kind: m[1] === "cnn-wide" ? "cnn" : "article",
      channels: [...MODERN_CNN_WIDE_CHANNELS],
    };
  }
  if (m[1] === "cnn") {
    return numbers.length === 0 ? { kind: "cnn" } : { kind: "cnn", channels: numbers };
  }
  if (m[1] === "article") {
    if (numbers.length === 0) return { kind: "article" };
    if (numbers.length !== 3) throw bad("the article's CNN has 3 conv layers: give 3 widths");
    return { kind: "article", channels: numbers };
  }
  if (numbers.length > 2) throw bad("a ResNet takes a width and a depth");
  return { kind: "resnet", width: numbers[0] ?? 16, depth: numbers[1] ?? 3 };
}

/**
 * The text form of a backbone, as {@linkcode parseBackboneSetting} reads it: `cnn`,
 * `cnn-wide`, `cnn:8,16`, `article`, `article-wide`, `article:8,8,16`, `resnet` or `resnet:W,D`.
 */
export function backboneSettingText(config: BackboneConfig): string {
  if (config.kind === "resnet") {
    const w = config.width ?? 16;
    const d = config.depth ?? 3;
    return w === 16 && d === 3 ? "resnet" : `resnet:${w},${d}`;
  }
  const channels = config.channels?.join(",");
  const standard = config.kind === "cnn" ? MODERN_CNN_CHANNELS.join(",") : "16,16,32";
  if (channels === undefined || channels === standard) return config.kind;
  if (channels === MODERN_CNN_WIDE_CHANNELS.join(",")) return `${config.kind}-wide`;
  return `${config.kind}:${channels}`;
}
