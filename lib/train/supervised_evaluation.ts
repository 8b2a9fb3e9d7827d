/**
 * {@linkcode evaluateLoss}: the mean cross-entropy and accuracy of backbone + head in inference
 * mode on some labelled images, in chunks, every read awaited (so it runs on webgpu too):
 * supervised training's validation score (`supervised.ts`).
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { evaluateLoss } from "./supervised_evaluation.ts";
 * const images = new Float32Array(4 * 28 * 28); // 4 labelled 28x28 images
 * const labels = Int32Array.from([0, 1, 2, 3]);
 * const idx = Int32Array.from([0, 1, 2, 3]);
 * const backbone = articleBackbone([28, 28, 1]);
 * const head = articleHead(32, 10);
 * const shape: [number, number, number] = [28, 28, 1];
 * const { loss, accuracy } = await evaluateLoss(backbone, head, images, shape, labels, idx, 10);
 * // loss: about ln 10 ≈ 2.3 for an untrained model; accuracy: a fraction in [0, 1]
 * backbone.dispose();
 * head.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { gatherImages, gatherLabels } from "./batches.ts";

/**
 * Mean cross-entropy and accuracy of backbone + head (inference mode) on the images `idx`,
 * in chunks; every read is awaited, so it runs on webgpu too.
 */
export async function evaluateLoss(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  labels: Int32Array,
  idx: Int32Array,
  numClasses: number,
  chunk = 500,
): Promise<{ loss: number; accuracy: number }> {
  const size = shape[0] * shape[1] * shape[2];
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < idx.length; i += chunk) {
    const part = idx.subarray(i, Math.min(i + chunk, idx.length));
    const [l, c] = tf.tidy(() => {
      const x = tf.tensor4d(gatherImages(images, size, part), [part.length, ...shape]);
      const y = tf.tensor1d(gatherLabels(labels, part), "int32");
      const logits = head.apply(backbone.apply(x)) as tf.Tensor2D;
      const onehot = tf.oneHot(y, numClasses);
      const sum = tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0, tf.Reduction.SUM);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32"));
      return [sum, hits];
    });
    const [lv, cv] = await Promise.all([l.data(), c.data()]);
    tf.dispose([l, c]);
    loss += lv[0];
    correct += cv[0];
  }
  return { loss: loss / idx.length, accuracy: correct / idx.length };
}
