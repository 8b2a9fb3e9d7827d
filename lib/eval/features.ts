/**
 * Running a model over many images in chunks: the backbone's features h for
 * a kNN or linear probe, or a classifier's logits.
 *
 * Pushing a whole data set through a CNN at once is not an option (the first
 * conv of 10,000 MNIST images alone allocates 430 MB), so every function here
 * feeds at most `batchSize` images at a time, copies each chunk's output into
 * one `Float32Array` and disposes every tensor it made.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { extractFeatures } from "./features.ts";
 * const backbone = articleBackbone([28, 28, 1]);
 * const images = new Float32Array(100 * 28 * 28); // 100 images, row-major NHWC
 * const { features, dim } = await extractFeatures(backbone, images, 100, [28, 28, 1]);
 * // features.length === 100 * dim
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { argmaxRows } from "./metrics.ts";

/**
 * What can be evaluated: a tfjs `LayersModel` (run with `predict`, i.e. in
 * inference mode) or any function from a batch of images to one row per image.
 */
export type ImageModel = tf.LayersModel | ((x: tf.Tensor4D) => tf.Tensor);

/** Row-major outputs of a model for `count` images, `dim` values each. */
export interface FeatureMatrix {
  /** `count * dim` values, image `i` in `[i * dim, (i + 1) * dim)`. */
  features: Float32Array;
  /** Values per image (an output of rank > 2 is flattened per image). */
  dim: number;
  /** Number of images. */
  count: number;
}

/** Logits of a classifier for `count` images. */
export interface LogitMatrix {
  /** `count * numClasses` values, row-major. */
  logits: Float32Array;
  /** Number of classes (values per image). */
  numClasses: number;
  /** Number of images. */
  count: number;
}

/** The default chunk: 500 MNIST images keep the first conv's activations near 22 MB. */
export const DEFAULT_BATCH_SIZE = 500;

function runModel(model: ImageModel, x: tf.Tensor4D): tf.Tensor {
  if (typeof model === "function") return model(x);
  const y = model.predict(x);
  if (Array.isArray(y)) {
    throw new Error(`the model has ${y.length} outputs; evaluation needs a single-output model`);
  }
  return y;
}

/**
 * Runs `model` over `count` images stored row-major in `images`
 * (`count * h * w * c` values), at most `batchSize` at a time, and returns
 * the outputs flattened to one row of `dim` values per image. Leaks no tensors.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { extractFeatures } from "./features.ts";
 * const backbone = articleBackbone([28, 28, 1]);
 * const testImages = new Float32Array(20 * 28 * 28);
 * const { features, dim } = await extractFeatures(backbone, testImages, 20, [28, 28, 1], 10);
 * // dim === 32 for the article's backbone
 * ```
 */
export async function extractFeatures(
  model: ImageModel,
  images: Float32Array,
  count: number,
  shape: [number, number, number],
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<FeatureMatrix> {
  const fn = "extractFeatures";
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`${fn}: count must be a non-negative integer, got ${count}`);
  }
  if (shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s > 0)) {
    throw new Error(`${fn}: shape must be [height, width, channels], got [${shape}]`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`${fn}: batchSize must be a positive integer, got ${batchSize}`);
  }
  const [h, w, c] = shape;
  const per = h * w * c;
  if (images.length !== count * per) {
    throw new Error(
      `${fn}: images has ${images.length} values but count * h * w * c = ` +
        `${count} * ${h} * ${w} * ${c} = ${count * per}`,
    );
  }
  let out: Float32Array | null = null;
  let dim = 0;
  if (count === 0 && typeof model !== "function") {
    dim = 1; // the declared output size per image, when fully known
    for (const v of model.outputs[0].shape.slice(1)) dim = v === null ? NaN : dim * v;
    if (Number.isNaN(dim)) dim = 0;
  }
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const y = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * per, (start + n) * per), [n, h, w, c]);
      const raw = runModel(model, x);
      if (raw.rank === 0 || raw.shape[0] !== n) {
        throw new Error(
          `${fn}: the model returned shape [${raw.shape}] for a batch of ${n} images; ` +
            `expected one row per image`,
        );
      }
      return raw.reshape([n, -1]) as tf.Tensor2D;
    });
    try {
      const values = await y.data() as Float32Array;
      const rowDim = y.shape[1];
      if (out === null) {
        dim = rowDim;
        out = new Float32Array(count * dim);
      } else if (rowDim !== dim) {
        throw new Error(`${fn}: the model's output size changed from ${dim} to ${rowDim}`);
      }
      out.set(values, start * dim);
    } finally {
      y.dispose();
    }
  }
  return { features: out ?? new Float32Array(0), dim, count };
}

/**
 * The logits of a classifier (e.g. backbone + head) for `count` images,
 * computed in chunks of `batchSize` like {@linkcode extractFeatures}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { predictLogits } from "./features.ts";
 * const backbone = articleBackbone([28, 28, 1]);
 * const head = articleHead(32, 10);
 * const classifier = (x: tf.Tensor4D) => head.apply(backbone.apply(x)) as tf.Tensor;
 * const testImages = new Float32Array(20 * 28 * 28);
 * const { logits, numClasses } = await predictLogits(classifier, testImages, 20, [28, 28, 1]);
 * // numClasses === 10
 * ```
 */
export async function predictLogits(
  model: ImageModel,
  images: Float32Array,
  count: number,
  shape: [number, number, number],
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<LogitMatrix> {
  const { features, dim } = await extractFeatures(model, images, count, shape, batchSize);
  return { logits: features, numClasses: dim, count };
}

/**
 * The predicted class (arg-max of the logits) of a classifier for `count`
 * images, computed in chunks of `batchSize`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { predictClasses } from "./features.ts";
 * import { accuracy } from "./metrics.ts";
 * const backbone = articleBackbone([28, 28, 1]);
 * const head = articleHead(32, 10);
 * const classifier = (x: tf.Tensor4D) => head.apply(backbone.apply(x)) as tf.Tensor;
 * const testImages = new Float32Array(20 * 28 * 28);
 * const testLabels = new Int32Array(20); // all class 0
 * const pred = await predictClasses(classifier, testImages, 20, [28, 28, 1]);
 * accuracy(pred, testLabels);
 * ```
 */
export async function predictClasses(
  model: ImageModel,
  images: Float32Array,
  count: number,
  shape: [number, number, number],
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<Int32Array> {
  const { logits, numClasses } = await predictLogits(model, images, count, shape, batchSize);
  return count === 0 ? new Int32Array(0) : argmaxRows(logits, numClasses);
}
