/**
 * What every trained model of the pipeline is: something that predicts a
 * class for images. A fine-tuned backbone + head, a linear probe or a kNN
 * vote on frozen features all answer {@linkcode ImageClassifier.predict}, so
 * one `evaluate` scores them all.
 *
 * @example
 * ```ts
 * import type { ImageClassifier } from "./classifier.ts";
 * const constant: ImageClassifier = {
 *   predict: (_images, count) => Promise.resolve(new Int32Array(count)),
 *   dispose: () => {},
 * };
 * ```
 *
 * @module
 */

/** A trained model that predicts classes of images. */
export interface ImageClassifier {
  /**
   * The predicted class of each of `count` images stored row-major in
   * `images` (`count * height * width * channels` values in [0, 1]).
   */
  predict(images: Float32Array, count: number): Promise<Int32Array>;
  /** Frees what the classifier owns (tensors). */
  dispose(): void;
}
