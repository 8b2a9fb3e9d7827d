/**
 * The one base every head is built on: a list of dense blocks
 * (units, activation), as in lightly's `ProjectionHead`. A head is a small MLP
 * g(·) stacked on a backbone's features h; SimCLR computes its contrastive loss
 * on z = g(h) and throws g away afterwards.
 *
 * @example
 * ```ts
 * import { blockHead } from "./block_head.ts";
 * const g = blockHead(32, [{ units: 64, activation: "relu" }, { units: 16 }], "projection");
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** One dense block of a head. */
export interface HeadBlock {
  /** Output width of the block. */
  units: number;
  /** Activation after the dense layer; linear when omitted. */
  activation?: "relu" | "linear" | "tanh" | "sigmoid" | "softmax";
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
    model.add(tf.layers.dense({
      ...(i === 0 ? { inputShape: [inputDim] } : {}),
      units: b.units,
      activation: b.activation ?? "linear",
      ...(seed === undefined
        ? {}
        : { kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 1000 + 500 + i }) }),
    }));
  });
  return model;
}

/** The output width of a head built by `blockHead` (the input width when it has no blocks). */
export function headOutputDim(inputDim: number, blocks: HeadBlock[]): number {
  return blocks.length === 0 ? inputDim : blocks[blocks.length - 1].units;
}
