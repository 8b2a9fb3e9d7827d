/**
 * Classifiers on frozen features: `linearProbe` (softmax regression) and
 * `knn` (a k-nearest-neighbour vote) on the features h of an encoder — or,
 * with `encoder = null`, on the raw pixels, the baseline every deep model
 * must beat. The encoder is not copied and not freed: the classifier only
 * borrows it.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { loadMnist } from "../data/mnist.ts";
 * import { splitLabels } from "./labels.ts";
 * import { knn, linearProbe } from "./frozen.ts";
 * await initBackend();
 * const { train, test } = await loadMnist();
 * const split = splitLabels(train, { labels: 200, seed: 0 });
 * const pixels = await linearProbe(null, train, split.labelled, { epochs: 50 });
 * const predictions = await pixels.predict(test.images, 100); // the first 100 test digits
 * const vote = await knn(null, train, split.labelled, { k: 5 });
 * await vote.predict(test.images, 100);
 * pixels.dispose();
 * ```
 *
 * @module
 */
import { type ImageDataset, imageSize } from "../data/dataset.ts";
import { gatherImages, gatherLabels } from "../train/batches.ts";
import { extractFeatures, type ImageModel } from "../eval/features.ts";
import { knnClassify, type KnnOptions } from "../eval/knn.ts";
import {
  type LinearProbe,
  type LinearProbeOptions,
  trainLinearProbe,
} from "../eval/linear_probe.ts";
import type { ImageClassifier } from "./classifier.ts";
import { shapeOf } from "./pretrain.ts";

/** Features of `count` images: h of `encoder`, or the pixels themselves when it is `null`. */
export async function featuresOf(
  encoder: ImageModel | null,
  images: Float32Array,
  count: number,
  shape: [number, number, number],
): Promise<{ features: Float32Array; dim: number }> {
  const size = shape[0] * shape[1] * shape[2];
  const own = images.subarray(0, count * size);
  if (encoder === null) return { features: own, dim: size };
  const { features, dim } = await extractFeatures(encoder, own, count, shape);
  return { features, dim };
}

/** Features and labels of the images `indices` of `data`. */
async function labelledFeatures(
  encoder: ImageModel | null,
  data: ImageDataset,
  indices: Int32Array,
) {
  const images = gatherImages(data.images, imageSize(data), indices);
  const { features, dim } = await featuresOf(encoder, images, indices.length, shapeOf(data));
  return { features, dim, labels: gatherLabels(data.labels, indices) };
}

/** A linear probe on frozen features, as an {@linkcode ImageClassifier}. */
export interface ProbeClassifier extends ImageClassifier {
  probe: LinearProbe;
}

/**
 * Trains a linear probe on the features of the images `labelled` of `data`
 * (full batch unless `batchSize` says otherwise).
 */
export async function linearProbe(
  encoder: ImageModel | null,
  data: ImageDataset,
  labelled: Int32Array,
  options: LinearProbeOptions = {},
): Promise<ProbeClassifier> {
  const { features, dim, labels } = await labelledFeatures(encoder, data, labelled);
  const probe = trainLinearProbe(features, labels, dim, data.classNames.length, {
    batchSize: Infinity,
    ...options,
  });
  const shape = shapeOf(data);
  return {
    probe,
    predict: async (images, count) =>
      probe.predict((await featuresOf(encoder, images, count, shape)).features),
    dispose: () => probe.dispose(),
  };
}

/** A kNN vote on frozen features of the images `labelled` of `data`. */
export async function knn(
  encoder: ImageModel | null,
  data: ImageDataset,
  labelled: Int32Array,
  options: KnnOptions = {},
): Promise<ImageClassifier> {
  const { features, dim, labels } = await labelledFeatures(encoder, data, labelled);
  const shape = shapeOf(data);
  const settings = { numClasses: data.classNames.length, ...options };
  return {
    predict: async (images, count) =>
      knnClassify(
        features,
        labels,
        (await featuresOf(encoder, images, count, shape)).features,
        dim,
        settings,
      ),
    dispose: () => {},
  };
}
