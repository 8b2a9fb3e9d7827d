/**
 * The article's small CNN backbone (Warfield 2023, after
 * SimCLR's encoder + projection head split).
 *
 * Backbone f(·): three blocks of conv 3x3 (valid) + ReLU + max-pool 2, with
 * 16, 16 and 32 channels, then flatten: a 28x28x1 image becomes the 32
 * features h (28 → 26 → 13 → 11 → 5 → 3 → 1). 7,120 parameters.
 * Its head, dense 32 → 32 → 16 → 10 (1,754 parameters), is `articleHead` in
 * `heads/projection_heads.ts`.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "./article_cnn.ts";
 * const backbone = articleBackbone([28, 28, 1]);
 * backbone.countParams(); // 7120
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { tfjsSeed } from "../rng.ts";

/** The smallest height and width the article's CNN keeps at least one pixel of. */
export const ARTICLE_MIN_SIZE = 22;

/** Why the article's CNN cannot take `h`x`w` images, or `undefined` when it can. */
export function articleSizeProblem(h: number, w: number): string | undefined {
  return Math.min(h, w) < ARTICLE_MIN_SIZE
    ? `the article's CNN needs images of at least ${ARTICLE_MIN_SIZE}x${ARTICLE_MIN_SIZE} ` +
      `(three valid 3x3 convolutions, each followed by a 2x2 pool), got ${h}x${w}`
    : undefined;
}

/**
 * The article's CNN backbone for images of shape `inputShape` (height, width,
 * channels); `seed` makes the initial weights reproducible.
 */
export function articleBackbone(
  inputShape: [number, number, number] = [28, 28, 1],
  channels: [number, number, number] = [16, 16, 32],
  seed?: number,
): tf.Sequential {
  const problem = articleSizeProblem(inputShape[0], inputShape[1]);
  if (problem) throw new RangeError(problem);
  const model = tf.sequential({ name: "backbone" });
  channels.forEach((filters, i) => {
    model.add(tf.layers.conv2d({
      ...(i === 0 ? { inputShape } : {}),
      filters,
      kernelSize: 3,
      padding: "valid",
      activation: "relu",
      name: `conv${i + 1}`,
      ...(seed === undefined
        ? {}
        : { kernelInitializer: tf.initializers.glorotUniform({ seed: tfjsSeed(seed, i) }) }),
    }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` }));
  });
  model.add(tf.layers.flatten({ name: "flatten" }));
  return model;
}
