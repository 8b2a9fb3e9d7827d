/**
 * A small ResNet-style backbone for colour images (He et al. 2016), small
 * enough to train on a CPU: a 3x3 stem convolution, then `depth` stages of
 * `blocksPerStage` basic residual blocks, each stage after the first halving
 * the resolution (stride-2 convolution) and doubling the width, then global
 * average pooling to flat features h of width `width * 2^(depth - 1)`.
 *
 * A basic block is conv 3x3 -> BN -> ReLU -> conv 3x3 -> BN, added to its
 * input (the "skip"; a 1x1 convolution + BN when the stride or width
 * changes), then ReLU — with our {@linkcode BatchNorm} (`batch_norm.ts`),
 * which trains with batch statistics in training calls and updates its moving
 * statistics, in every training loop of this project and its workers. A BN
 * followed by a ReLU is one layer (`<conv>_bn`, `relu: true`; before
 * 2026-12-07 a separate `<conv>_relu` layer, which had no weights: checkpoints
 * of either kind load, their weights are the same tensors in the same order).
 * So is a block's end, the sum and its ReLU: the last BN of the block takes
 * the other path as a residual (`residual: true`: the skip's BN, or the
 * branch's where the skip is the identity; until 2026-12-07 separate
 * `<block>_add` and `<block>_relu` layers, without weights: the weights are
 * the same, in the same order). The
 * last BN of every residual branch starts with gamma 0 ("zero-init
 * residual", Goyal et al. 2017): every block starts as the identity.
 *
 * `norm: "none"` builds the earlier normalisation-free version: convolutions
 * with biases and the last convolution of every branch started at zero (the
 * idea behind Fixup, Zhang et al. 2019).
 *
 * Cost, for a sense of scale: width 16, depth 3 on 32x32x3 images is about
 * 12 M multiply-adds per image (the article's CNN on 28x28: 0.4 M) and
 * 77,000 parameters; features h are 64 wide.
 *
 * @example
 * ```ts
 * import { resnetBackbone } from "./resnet.ts";
 * const f = resnetBackbone({ inputShape: [32, 32, 3], width: 16, depth: 3, seed: 0 });
 * f.outputs[0].shape; // [null, 64]
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { tfjsSeed } from "../rng.ts";
import { batchNorm } from "./batch_norm.ts";

/** Settings of {@linkcode resnetBackbone} (plain JSON apart from the shape). */
export interface ResNetOptions {
  /** Image shape [height, width, channels]. */
  inputShape: [number, number, number];
  /** Channels of the stem and of the first stage; each later stage doubles it. Default 16. */
  width?: number;
  /** Number of stages (resolution halves between stages). Default 3. */
  depth?: number;
  /** Basic blocks per stage. Default 1. */
  blocksPerStage?: number;
  /**
   * How a stage halves the resolution: "pool" (default): a 2x2 max-pool, then
   * stride-1 convolutions; "stride": stride-2 convolutions (the original
   * ResNet). Same cost forward, but with our wasm kernels "pool" trains about
   * 1.5x faster (width 16, depth 3, 32x32x3; the wasm backend's input gradient
   * of a strided convolution is a slow scalar loop).
   */
  downsample?: "pool" | "stride";
  /** "batch" (default): batch normalisation after every convolution; "none": none. */
  norm?: "batch" | "none";
  /** Seed of the initial weights (reproducible models); random when omitted. */
  seed?: number;
}

/** The default width, depth and blocks per stage of {@linkcode resnetBackbone}. */
export const RESNET_DEFAULTS: Readonly<{
  width: number;
  depth: number;
  blocksPerStage: number;
  downsample: "pool" | "stride";
}> = Object.freeze({
  width: 16,
  depth: 3,
  blocksPerStage: 1,
  downsample: "pool",
});

function checkPositiveInteger(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) {
    throw new Error(`resnetBackbone: ${name} must be a positive integer, got ${v}`);
  }
}

/**
 * The ResNet backbone described in the module documentation, as a tfjs
 * functional model (`tf.model`) mapping `[batch, h, w, c]` images to
 * `[batch, width * 2^(depth-1)]` features. Throws a clear error for sizes
 * that are not positive integers or an image too small for `depth` stages.
 */
export function resnetBackbone(options: ResNetOptions): tf.LayersModel {
  const { inputShape, seed } = options;
  const width = options.width ?? RESNET_DEFAULTS.width;
  const depth = options.depth ?? RESNET_DEFAULTS.depth;
  const blocks = options.blocksPerStage ?? RESNET_DEFAULTS.blocksPerStage;
  const downsample = options.downsample ?? RESNET_DEFAULTS.downsample;
  const bn = (options.norm ?? "batch") === "batch";
  if (options.norm !== undefined && options.norm !== "batch" && options.norm !== "none") {
    throw new Error(`resnetBackbone: norm must be "batch" or "none", got "${options.norm}"`);
  }
  if (downsample !== "pool" && downsample !== "stride") {
    throw new Error(`resnetBackbone: downsample must be "pool" or "stride", got "${downsample}"`);
  }
  checkPositiveInteger("width", width);
  checkPositiveInteger("depth", depth);
  checkPositiveInteger("blocksPerStage", blocks);
  inputShape.forEach((v, i) => checkPositiveInteger(`inputShape[${i}]`, v));
  const smallest = 2 ** (depth - 1);
  if (Math.min(inputShape[0], inputShape[1]) < smallest) {
    throw new Error(
      `resnetBackbone: ${inputShape[0]}x${inputShape[1]} images are too small for ${depth} ` +
        `stages (each halves the size); use images of at least ${smallest}x${smallest} or a ` +
        `smaller depth`,
    );
  }

  let layerIndex = 0;
  const init = (zero = false) =>
    zero && !bn ? tf.initializers.zeros() : bn
      // PyTorch's default (uniform in ±1/√fan_in): see `convBnRelu` in batch_norm.ts.
      ? tf.initializers.varianceScaling({
        scale: 1 / 3,
        mode: "fanIn",
        distribution: "uniform",
        ...(seed === undefined ? {} : { seed: tfjsSeed(seed, layerIndex) }),
      })
      : tf.initializers.heNormal(seed === undefined ? {} : { seed: tfjsSeed(seed, layerIndex) });
  const conv = (
    x: tf.SymbolicTensor,
    filters: number,
    kernelSize: number,
    strides: number,
    name: string,
    opts: { relu?: boolean; zero?: boolean; residual?: tf.SymbolicTensor } = {},
  ): tf.SymbolicTensor => {
    layerIndex++;
    let y = tf.layers.conv2d({
      filters,
      kernelSize,
      strides,
      padding: "same",
      useBias: !bn,
      activation: opts.relu && !bn ? "relu" : "linear",
      kernelInitializer: init(opts.zero),
      name,
    }).apply(x) as tf.SymbolicTensor;
    if (bn) {
      // BN and its ReLU as one layer (`relu`): on wasm the ReLU then costs no pass of its own.
      // A residual: relu(BN(y) + residual) as one layer (on wasm the add and ReLU cost no pass).
      y = batchNorm({
        name: `${name}_bn`,
        ...(opts.zero ? { zeroGamma: true } : {}),
        ...(opts.relu ? { relu: true } : {}),
        ...(opts.residual ? { residual: true } : {}),
      }).apply(opts.residual ? [y, opts.residual] : y) as tf.SymbolicTensor;
    }
    return y;
  };

  const input = tf.input({ shape: inputShape, name: "image" });
  let x = conv(input, width, 3, 1, "stem", { relu: true });
  let channels = width;
  for (let s = 0; s < depth; s++) {
    const filters = width * 2 ** s;
    for (let b = 0; b < blocks; b++) {
      const name = `stage${s + 1}_block${b + 1}`;
      let strides = s > 0 && b === 0 ? 2 : 1;
      if (strides === 2 && downsample === "pool") {
        x = tf.layers.maxPooling2d({
          poolSize: 2,
          strides: 2,
          padding: "same",
          name: `${name}_pool`,
        })
          .apply(x) as tf.SymbolicTensor;
        strides = 1;
      }
      const branch1 = conv(x, filters, 3, strides, `${name}_conv1`, { relu: true });
      const projection = strides !== 1 || channels !== filters;
      if (bn) {
        // The block's end, relu(branch + skip), is the last batch norm's layer: the skip's BN
        // where the skip is a projection, else the branch's (the weights keep their order).
        if (projection) {
          const branch = conv(branch1, filters, 3, 1, `${name}_conv2`, { zero: true });
          x = conv(x, filters, 1, strides, `${name}_skip`, { relu: true, residual: branch });
        } else {
          x = conv(branch1, filters, 3, 1, `${name}_conv2`, {
            zero: true,
            relu: true,
            residual: x,
          });
        }
      } else {
        const branch = conv(branch1, filters, 3, 1, `${name}_conv2`, { zero: true });
        const skip = projection ? conv(x, filters, 1, strides, `${name}_skip`) : x;
        const sum = tf.layers.add({ name: `${name}_add` }).apply([
          branch,
          skip,
        ]) as tf.SymbolicTensor;
        x = tf.layers.reLU({ name: `${name}_relu` }).apply(sum) as tf.SymbolicTensor;
      }
      channels = filters;
    }
  }
  const h = tf.layers.globalAveragePooling2d({ name: "pool" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: h, name: "resnet" });
}
