/**
 * Backbones by configuration: the article's CNN, or a small ResNet-style
 * network for colour images (`resnet.ts`). Plain JSON settings, so a
 * notebook's configuration cell can pick one.
 *
 * @example
 * ```ts
 * import { backboneOutputDim, buildBackbone } from "./backbones.ts";
 * const f = buildBackbone({ kind: "article" }, [28, 28, 1], 0);
 * backboneOutputDim(f); // 32
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { articleBackbone } from "./article_cnn.ts";
import { resnetBackbone } from "./resnet.ts";

/** Which backbone to build. */
export interface BackboneConfig {
  /** "article": the article's 3-block CNN; "resnet": the small ResNet of `resnet.ts`. */
  kind: "article" | "resnet";
  /** Channels of the three conv blocks (the article: 16, 16, 32). "article" only. */
  channels?: [number, number, number];
  /** ResNet: channels of the first stage, doubled by each later one (default 16). */
  width?: number;
  /** ResNet: number of stages, each halving the resolution (default 3). */
  depth?: number;
  /** ResNet: basic blocks per stage (default 1). */
  blocksPerStage?: number;
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
    case "article":
      return articleBackbone(shape, config.channels ?? [16, 16, 32], seed);
    case "resnet":
      return resnetBackbone({
        inputShape: shape,
        width: config.width,
        depth: config.depth,
        blocksPerStage: config.blocksPerStage,
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
  "article, article:C1,C2,C3, article-wide, resnet or resnet:W,D";

/**
 * Parses the text form of a backbone: `article` (the article's CNN, 16/16/32
 * channels), `article:C1,C2,C3` (other widths), `article-wide` (32/64/128,
 * about 93k parameters), `resnet` (width 16, 3 stages) or `resnet:W,D`.
 * Throws a `RangeError` that quotes the text and lists the forms.
 */
export function parseBackboneSetting(text: string): BackboneConfig {
  const spec = text.trim().toLowerCase();
  const bad = (why: string) =>
    new RangeError(`backbone "${text}": ${why}; use ${BACKBONE_SETTING_FORMS}`);
  const m = /^(article|article-wide|resnet)(?::(.*))?$/.exec(spec);
  if (!m) throw bad("unknown kind");
  const numbers = m[2] === undefined ? [] : m[2].split(",").map((w) => {
    const n = Number(w.trim());
    if (w.trim() === "" || !Number.isInteger(n) || n < 1) {
      throw bad(`"${w.trim()}" is not a positive integer`);
    }
    return n;
  });
  if (m[1] === "article-wide") {
    if (numbers.length) throw bad("article-wide takes no widths");
    return { kind: "article", channels: [32, 64, 128] };
  }
  if (m[1] === "article") {
    if (numbers.length === 0) return { kind: "article" };
    if (numbers.length !== 3) throw bad("the article's CNN has 3 conv layers: give 3 widths");
    return { kind: "article", channels: numbers as [number, number, number] };
  }
  if (numbers.length > 2) throw bad("a ResNet takes a width and a depth");
  return { kind: "resnet", width: numbers[0] ?? 16, depth: numbers[1] ?? 3 };
}
