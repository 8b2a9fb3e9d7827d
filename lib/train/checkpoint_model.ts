/**
 * One model kept in a folder: {@linkcode saveModel} writes it as a checkpoint of one model
 * (`model.json`, `weights.bin` and the manifest, all or nothing) and {@linkcode loadModel} reads
 * it back, validated.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { loadModel, saveModel } from "./checkpoint_model.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
 * const dir = `${await Deno.makeTempDir()}/model`;
 * await saveModel(model, dir);
 * const copy = await loadModel(dir); // the same layers and weights
 * model.dispose();
 * copy.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { Checkpoint } from "./checkpoint_read.ts";
import { writeCheckpoint } from "./checkpoint_write.ts";

/** Writes `model` as a checkpoint of one model in `dir` (`model.json`, `weights.bin`, manifest). */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await writeCheckpoint(dir, { models: { "": model } }, { kind: "model" });
}

/** Reads a model saved by {@linkcode saveModel}, validated (see {@linkcode Checkpoint.open}). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return await Checkpoint.open(dir).model("");
}
