/**
 * `evaluate`: scores any {@linkcode ImageClassifier} on a labelled test set —
 * accuracy, the predictions, the confusion matrix and per-class accuracy.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { loadMnist } from "../data/mnist.ts";
 * import { evaluate } from "./evaluate.ts";
 * await initBackend();
 * const { test } = await loadMnist();
 * const zeros = { predict: (_x: Float32Array, n: number) => Promise.resolve(new Int32Array(n)), dispose() {} };
 * const r = await evaluate(zeros, test, { count: 1000 });
 * r.accuracy; // the share of zeros among the first 1,000 test digits
 * ```
 *
 * @module
 */
import type { ImageDataset } from "../data/dataset.ts";
import { accuracy, confusionMatrix, perClassAccuracy } from "../eval/metrics.ts";
import type { ImageClassifier } from "./classifier.ts";

/** What {@linkcode evaluate} measures. */
export interface Evaluation {
  /** Share of correct predictions, in [0, 1]. */
  accuracy: number;
  /** The predicted class of every image scored. */
  predictions: Int32Array;
  /** `confusion[true][predicted]` counts. */
  confusion: number[][];
  /** Accuracy within each true class (NaN for a class with no images). */
  perClass: number[];
  /** Images scored. */
  count: number;
}

/** Scores `model` on the first `count` (default all) images of `test`. */
export async function evaluate(
  model: ImageClassifier,
  test: ImageDataset,
  options: { count?: number } = {},
): Promise<Evaluation> {
  const count = Math.min(test.count, options.count ?? test.count);
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`evaluate: count must be a positive integer, got ${options.count}`);
  }
  const labels = test.labels.subarray(0, count);
  const predictions = await model.predict(test.images, count);
  const confusion = confusionMatrix(predictions, labels, test.classNames.length);
  return {
    accuracy: accuracy(predictions, labels),
    predictions,
    confusion,
    perClass: perClassAccuracy(confusion),
    count,
  };
}
