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
