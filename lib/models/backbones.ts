/**
 * Backbones by configuration: the article's CNN, and room for others (a small
 * ResNet-style network for colour images lands with the "bring your own data"
 * issue). Plain JSON settings, so a notebook's configuration cell can pick one.
 *
 * @example
 * ```ts
 * const f = buildBackbone({ kind: "article" }, [28, 28, 1], 0);
 * backboneOutputDim(f); // 32
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { articleBackbone } from "./article_cnn.ts";

/** Which backbone to build. */
export interface BackboneConfig {
  /** "article": the article's 3-block CNN. */
  kind: "article";
  /** Channels of the three conv blocks (the article: 16, 16, 32). */
  channels?: [number, number, number];
}

/** Builds the backbone `config` names for images of `shape`, initialised from `seed`. */
export function buildBackbone(
  config: BackboneConfig,
  shape: [number, number, number],
  seed: number,
): tf.Sequential {
  switch (config.kind) {
    case "article":
      return articleBackbone(shape, config.channels ?? [16, 16, 32], seed);
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
