/**
 * The one base every head is built on: a list of dense blocks
 * (dropout, units, batch normalisation, activation), as in lightly's
 * `ProjectionHead`. A head is a small MLP g(·) stacked on a backbone's
 * features h; SimCLR computes its contrastive loss on z = g(h) and throws g
 * away afterwards.
 *
 * @example
 * ```ts
 * import { blockHead } from "./block_head.ts";
 * const g = blockHead(32, [{ units: 64, activation: "relu" }, { units: 16 }], "projection");
 * // SimCLR's head: dense (no bias) → batch norm → ReLU, then a linear output.
 * const simclr = blockHead(32, [{ units: 128, batchNorm: true, activation: "relu" }, { units: 64 }]);
 * // A classifier with dropout before its dense layer.
 * const classifier = blockHead(32, [{ units: 10, dropout: 0.3 }], "classifier");
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { tfjsSeed } from "../../rng.ts";
import { batchNorm } from "../batch_norm.ts";
import { dropout } from "../dropout.ts";

/** One dense block of a head. */
export interface HeadBlock {
  /** Output width of the block. */
  units: number;
  /** Activation after the dense layer (and its batch normalisation); linear when omitted. */
  activation?: "relu" | "linear" | "tanh" | "sigmoid" | "softmax";
  /** Batch normalisation after the dense layer, which then has no bias (BN's beta is one). */
  batchNorm?: boolean;
  /** Dropout rate in [0, 1) before the dense layer (active in training calls only). */
  dropout?: number;
}

/**
 * A head: dense blocks applied in order to `inputDim` features; an empty list
 * is the identity. `seed` makes the initial weights reproducible.
 */
export function blockHead(
  inputDim: number,
  blocks: HeadBlock[],
  name = "head",
  seed?: number,
): tf.Sequential {
  if (!Number.isInteger(inputDim) || inputDim < 1) {
    throw new Error(`${name}: inputDim must be a positive integer, got ${inputDim}`);
  }
  const model = tf.sequential({ name });
  if (blocks.length === 0) {
    // No head at all: z = h. An identity layer keeps the model usable everywhere.
    model.add(tf.layers.activation({ activation: "linear", inputShape: [inputDim] }));
    return model;
  }
  blocks.forEach((b, i) => {
    if (!Number.isInteger(b.units) || b.units < 1) {
      throw new Error(`${name}: block ${i} must have a positive integer width, got ${b.units}`);
    }
    const first = model.layers.length === 0 ? { inputShape: [inputDim] } : {};
    if (b.dropout !== undefined && b.dropout !== 0) {
      if (!(b.dropout > 0 && b.dropout < 1)) {
        throw new RangeError(`${name}: block ${i} dropout must be in [0, 1), got ${b.dropout}`);
      }
      model.add(dropout({
        ...first,
        rate: b.dropout,
        ...(seed === undefined ? {} : { seed: tfjsSeed(seed, 700 + i) }),
      }));
    }
    const activation = b.activation ?? "linear";
    model.add(tf.layers.dense({
      ...(model.layers.length === 0 ? { inputShape: [inputDim] } : {}),
      units: b.units,
      activation: b.batchNorm ? "linear" : activation,
      useBias: !b.batchNorm,
      ...(seed === undefined
        ? {}
        : { kernelInitializer: tf.initializers.glorotUniform({ seed: tfjsSeed(seed, 500 + i) }) }),
    }));
    if (b.batchNorm) {
      model.add(batchNorm({}));
      if (activation !== "linear") model.add(tf.layers.activation({ activation }));
    }
  });
  return model;
}

/** The output width of a head built by `blockHead` (the input width when it has no blocks). */
export function headOutputDim(inputDim: number, blocks: HeadBlock[]): number {
  return blocks.length === 0 ? inputDim : blocks[blocks.length - 1].units;
}

/**
 * The layers of a head built by {@linkcode blockHead}, grouped by block: each group is a
 * block's optional dropout, its dense layer, its optional batch normalisation and
 * activation. Used to copy the first k blocks of a pre-trained head (SimCLRv2's fine-tuning
 * from the middle of the head). A head without blocks (the identity) has no groups.
 */
export function headBlockLayers(head: tf.LayersModel): tf.layers.Layer[][] {
  const groups: tf.layers.Layer[][] = [];
  let current: tf.layers.Layer[] | undefined;
  for (const layer of head.layers) {
    const kind = layer.getClassName();
    const isDropout = (k: string) => k === "SslDropout" || k === "Dropout";
    const afterDropout = current?.length === 1 && isDropout(current[0].getClassName());
    if (isDropout(kind) || (kind === "Dense" && !afterDropout)) {
      current = [layer];
      groups.push(current);
    } else if (current) {
      current.push(layer);
    }
  }
  return groups;
}
