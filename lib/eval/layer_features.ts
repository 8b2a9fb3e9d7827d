/**
 * The features at every layer of a backbone + projection head, from h (the backbone's output)
 * through the output of each block of the head to z (the last block's): what the per-layer
 * diagnostics (`layer_diagnostics.ts`) and the transformation probe (`transform_probe.ts`)
 * measure. SimCLRv2 fine-tunes from the middle of the head for the same reason: information
 * the contrastive loss does not need is discarded a little more at every layer after h.
 *
 * The head is read block by block with `headBlockLayers` (every head of the project is a
 * `blockHead`); a block's output is taken after its activation (after its batch normalisation
 * and activation when it has them). Every layer runs in inference mode (batch normalisation on
 * its moving statistics, dropout off), so the last block's output equals `head.predict(h)`.
 * One chunked pass computes every layer ({@linkcode layerFeatures}); no tensor is left behind.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { layerFeatures } from "./layer_features.ts";
 * const f = articleBackbone([28, 28, 1], [16, 16, 32], 0);
 * const g = articleHead(32, 10, 0); // 32 → 32 → 16 → 10
 * const images = new Float32Array(8 * 784).map((_, i) => (i % 89) / 89);
 * const layers = await layerFeatures(f, g, images, 8, [28, 28, 1]);
 * layers.map((l) => `${l.layer} (${l.dim})`); // ["h (32)", "block 1 (32)", "block 2 (16)", "z (10)"]
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { headBlockLayers } from "../models/heads/block_head.ts";
import { DEFAULT_BATCH_SIZE, extractFeatures } from "./features.ts";

/** The features of `count` images at one layer. */
export interface LayerFeatureMatrix {
  /** `"h"`, `"block 1"`, ..., `"z"` (the last block; a head without blocks gives `"h"` only). */
  layer: string;
  /** 0 for h, k for the output of the head's k-th block. */
  depth: number;
  /** The layer in words, e.g. `"backbone output"` or `"dense 32 → batch norm → relu"`. */
  description: string;
  /** `count * dim` values, row-major. */
  features: Float32Array;
  /** Values per image. */
  dim: number;
  /** Number of images. */
  count: number;
}

/** One block of a head in words, from its layers' configurations. */
function describeBlock(layers: tf.layers.Layer[]): string {
  const parts: string[] = [];
  for (const layer of layers) {
    const kind = layer.getClassName();
    const config = layer.getConfig();
    if (kind === "Dense") {
      parts.push(`dense ${config.units}`);
      if (config.activation && config.activation !== "linear") parts.push(`${config.activation}`);
    } else if (kind === "Activation") {
      parts.push(`${config.activation}`);
    } else if (kind.includes("BatchNorm")) {
      parts.push("batch norm");
    } else if (kind.includes("Dropout")) {
      parts.push(`dropout ${config.rate}`);
    } else {
      parts.push(kind);
    }
  }
  return parts.join(" → ");
}

/** The names and descriptions of the layers {@linkcode layerFeatures} returns, in order. */
export function headLayerNames(head: tf.LayersModel): { layer: string; description: string }[] {
  const blocks = headBlockLayers(head);
  return [
    { layer: "h", description: "backbone output" },
    ...blocks.map((b, i) => ({
      layer: i === blocks.length - 1 ? "z" : `block ${i + 1}`,
      description: describeBlock(b),
    })),
  ];
}

/**
 * The features of `count` images (row-major NHWC, `shape` each) at h and after every block of
 * `head`, in that order (module notes). `batchSize` images go through at a time.
 *
 * Throws if the images do not match `count` and `shape`, or the backbone's output does not fit
 * the head.
 */
export async function layerFeatures(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
  images: Float32Array,
  count: number,
  shape: [number, number, number],
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<LayerFeatureMatrix[]> {
  const blocks = headBlockLayers(head);
  const names = headLayerNames(head);
  const headIn = head.inputs[0].shape[1];
  let dims: number[] = [];
  const all = await extractFeatures(
    (x) => {
      const h = (backbone.apply(x) as tf.Tensor).reshape([x.shape[0], -1]) as tf.Tensor2D;
      if (headIn !== null && headIn !== h.shape[1]) {
        throw new Error(
          `layerFeatures: the backbone gives ${h.shape[1]} features but the head takes ${headIn}`,
        );
      }
      const outs: tf.Tensor2D[] = [h];
      let t: tf.Tensor = h;
      for (const block of blocks) {
        for (const layer of block) t = layer.apply(t) as tf.Tensor;
        outs.push(t.reshape([x.shape[0], -1]) as tf.Tensor2D);
      }
      dims = outs.map((o) => o.shape[1]);
      return outs.length === 1 ? h : tf.concat(outs, 1);
    },
    images,
    count,
    shape,
    batchSize,
  );
  if (count === 0) {
    dims = [headIn ?? 0, ...blocks.map((b) => (b.at(-1)!.outputShape as number[]).at(-1)!)];
  }
  const width = dims.reduce((a, b) => a + b, 0);
  let offset = 0;
  return names.map(({ layer, description }, depth) => {
    const dim = dims[depth];
    const features = new Float32Array(count * dim);
    for (let r = 0; r < count; r++) {
      features.set(
        all.features.subarray(r * width + offset, r * width + offset + dim),
        r * dim,
      );
    }
    offset += dim;
    return { layer, depth, description, features, dim, count };
  });
}
