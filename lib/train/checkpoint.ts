/**
 * Checkpoints and exports on disk, one format: a folder of files — every model in tfjs's own
 * format (`<name>/model.json` beside `<name>/weights.bin`, what `tf.loadLayersModel` and the
 * tfjs → Keras converter read), an optimizer's slots (`optimizer.bin`), JSON documents
 * (`state.json`, ...) and any other file (a model card) — and a `manifest.json` that lists them
 * all: every file's size and SHA-256, every tensor's name, shape, dtype and byte size, the
 * settings the checkpoint was made with (its fingerprint) and free information (the dataset).
 *
 * **Writes cannot leave half a checkpoint.** {@linkcode writeCheckpoint} writes the whole
 * folder under a temporary name beside it (`DIR.tmp-…`, the manifest last), then swaps it into
 * place with two renames (`DIR` → `DIR.old-…`, `DIR.tmp-…` → `DIR`) and removes the old one.
 * A process killed at any moment leaves either the previous checkpoint or the new one at `DIR`,
 * or — killed between the two renames — a complete one beside it, which the next read or write
 * puts back; leftovers of an interrupted write are removed by the next write.
 *
 * **Reads validate first.** {@linkcode Checkpoint.open} checks the manifest, then every file
 * (present, of the size the manifest says, with its checksum) before any tfjs call, then the
 * fingerprint against the settings of the run. Whatever is wrong is a {@linkcode CheckpointError}
 * of one line naming the folder, the problem and what to do, for example
 * `checkpoint in data/ckpt was made with head linear, this run uses head mlp:64,32; use another
 * folder or delete it` — never a tfjs error about tensor sizes.
 *
 * `saveModel` / `loadModel` keep one model in a folder; `saveJson` / `loadJson` are plain
 * JSON files written atomically (the study's result store).
 *
 * The parts, one concept a module: `checkpoint_format.ts` (the manifest, the format's name and
 * version, {@linkcode CheckpointError}), `checkpoint_fingerprint.ts` (the settings' fingerprint),
 * `checkpoint_folder.ts` (an interrupted write's leftovers, put back), `checkpoint_write.ts`
 * ({@linkcode writeCheckpoint}), `checkpoint_read.ts` ({@linkcode Checkpoint}),
 * `checkpoint_model.ts` (`saveModel` / `loadModel`) and `json_file.ts` (`saveJson` /
 * `loadJson`). This module gathers them: import from here.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { Checkpoint, writeCheckpoint } from "./checkpoint.ts";
 * const backbone = articleBackbone([28, 28, 1]);
 * const optimizer = tf.train.adam(1e-3);
 * const dir = `${await Deno.makeTempDir()}/run`; // e.g. "data/checkpoints/ssl" in a real run
 * await writeCheckpoint(dir, {
 *   models: { backbone },
 *   optimizer,
 *   json: { "state.json": { epoch: 3 } },
 * }, { kind: "pretrain", settings: { head: "linear", temperature: 0.2 } });
 * // Validated against this run's settings: a different head is one clear line.
 * const settings = { head: "linear", temperature: 0.2 };
 * const saved = Checkpoint.find(dir, { kind: "pretrain", settings });
 * saved?.restoreModel("backbone", backbone); // checks every tensor's shape, then copies
 * await saved?.restoreOptimizer(optimizer);
 * type State = { epoch: number };
 * const state = saved?.json<State>("state.json"); // { epoch: 3 }
 * optimizer.dispose();
 * backbone.dispose();
 * ```
 *
 * @module
 */
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CheckpointError,
  type CheckpointManifest,
  type FileEntry,
  MANIFEST_FILE,
  type TensorEntry,
} from "./checkpoint_format.ts";
export { fingerprintOf, settingsText } from "./checkpoint_fingerprint.ts";
export { type CheckpointParts, writeCheckpoint, type WriteOptions } from "./checkpoint_write.ts";
export { Checkpoint, type ExpectOptions } from "./checkpoint_read.ts";
export { loadModel, saveModel } from "./checkpoint_model.ts";
export { loadJson, saveJson } from "./json_file.ts";
