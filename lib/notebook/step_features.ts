/**
 * The backbone's features h of a context's images, for the notebooks' frozen-feature views
 * (kNN, linear probe, embeddings): the labelled images (train + validation) and the test images,
 * each with their labels.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { prepareContext } from "./step_context.ts";
 * import { backboneFeatures } from "./step_features.ts";
 * await initBackend();
 * const ctx = await prepareContext({ ...quickRecipe(), maxTest: 100 }, 0, { cache: false });
 * const backbone = articleBackbone([28, 28, 1]);
 * const { labelled, test } = await backboneFeatures(ctx, backbone);
 * test.length / ctx.testCount; // the width of h
 * backbone.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { gatherImages, gatherLabels } from "../train/batches.ts";
import { extractFeatures } from "../eval/features.ts";
import type { ArmContext } from "../experiment/arms.ts";

/** Backbone features h of the labelled (train + validation) images and of the test images. */
export async function backboneFeatures(ctx: ArmContext, backbone: tf.LayersModel): Promise<{
  labelled: Float32Array;
  labelledLabels: Int32Array;
  test: Float32Array;
  testLabels: Int32Array;
}> {
  const size = ctx.shape[0] * ctx.shape[1] * ctx.shape[2];
  const idx = Int32Array.from([...ctx.split.labelled, ...ctx.split.validation]);
  const labelled = (await extractFeatures(
    backbone,
    gatherImages(ctx.train.images, size, idx),
    idx.length,
    ctx.shape,
  )).features;
  const test = (await extractFeatures(
    backbone,
    ctx.test.images.subarray(0, ctx.testCount * size),
    ctx.testCount,
    ctx.shape,
  )).features;
  return {
    labelled,
    labelledLabels: gatherLabels(ctx.train.labels, idx),
    test,
    testLabels: ctx.test.labels.subarray(0, ctx.testCount),
  };
}
