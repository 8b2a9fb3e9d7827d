/**
 * Writing a checkpoint, all or nothing: {@linkcode writeCheckpoint} encodes every model (tfjs's
 * own format), the optimizer's slots, the JSON documents and other files, then writes the whole
 * folder under a temporary name beside it (`DIR.tmp-…`, the manifest last) and swaps it into place
 * with two renames (`DIR` → `DIR.old-…`, `DIR.tmp-…` → `DIR`), removing the old one. A process
 * killed at any moment leaves either the previous checkpoint or the new one at `DIR`, or — killed
 * between the two renames — a complete one beside it, which the next read or write puts back
 * (`checkpoint_folder.ts`); leftovers of an interrupted write are removed by the next write.
 *
 * @example
 * ```ts
 * import { writeCheckpoint } from "./checkpoint_write.ts";
 * const dir = `${await Deno.makeTempDir()}/run`;
 * const manifest = await writeCheckpoint(dir, {
 *   json: { "state.json": { epoch: 3 } },
 *   files: { "README.md": "a note" },
 * }, { kind: "arm", settings: { seed: 0 } });
 * manifest.files.map((f) => f.path); // ["state.json", "README.md"], each with size and SHA-256
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { toStandardTopology } from "../models/standard_layers.ts";
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CheckpointError,
  type CheckpointManifest,
  MANIFEST_FILE,
  OTHER_RUN,
  type TensorEntry,
} from "./checkpoint_format.ts";
import { fingerprintOf, sha256 } from "./checkpoint_fingerprint.ts";
import { leftovers, nonEmpty, recover } from "./checkpoint_folder.ts";

/** What a checkpoint holds. */
export interface CheckpointParts {
  /** Models by name, each in `<name>/model.json` + `<name>/weights.bin` (`""`: the folder itself). */
  models?: Record<string, tf.LayersModel>;
  /** An optimizer whose slots (Adam's moments, the step count) are saved in `optimizer.bin`. */
  optimizer?: tf.Optimizer;
  /** JSON documents by file name, e.g. `{ "state.json": {...} }`. */
  json?: Record<string, unknown>;
  /** Other files by name (text or bytes), e.g. a model card. */
  files?: Record<string, string | Uint8Array>;
}

/** Options of {@linkcode writeCheckpoint}. */
export interface WriteOptions {
  /** What the checkpoint is ("pretrain", "arm", "export", ...). */
  kind: string;
  /** The settings a reader compares (plain JSON values; recorded as text). */
  settings?: Record<string, unknown>;
  /** Free information to record. */
  info?: Record<string, unknown>;
  /**
   * Write the models with tfjs's standard `BatchNormalization` and `Dropout` in place of ours
   * (`lib/models/standard_layers.ts`): for exports that a plain tfjs or Keras must read.
   */
  standardLayers?: boolean;
}

const bytesPer: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

function tensorEntries(specs: tf.io.WeightsManifestEntry[]): TensorEntry[] {
  return specs.map((s) => ({
    name: s.name,
    shape: [...s.shape],
    dtype: s.dtype,
    bytes: s.shape.reduce((a, b) => a * b, 1) * (bytesPer[s.dtype] ?? NaN),
  }));
}

function joined(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  return new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
}

/** A model's `model.json` and weight bytes, in tfjs's format. */
async function encodeModel(model: tf.LayersModel, standardLayers: boolean) {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((a) => {
    artifacts = a;
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) });
  }));
  const specs = artifacts!.weightSpecs ?? [];
  const topology = artifacts!.modelTopology as object;
  const json = {
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: standardLayers ? toStandardTopology(topology) : topology,
    weightsManifest: [{ paths: ["weights.bin"], weights: specs }],
  };
  return {
    json: new TextEncoder().encode(JSON.stringify(json)),
    weights: joined(artifacts!.weightData ?? new ArrayBuffer(0)),
    specs,
  };
}

/**
 * Writes a checkpoint to `dir`, all or nothing (see the module doc), and returns its manifest.
 * Refuses to replace a folder that holds files but no manifest (it is not a checkpoint).
 */
export async function writeCheckpoint(
  dir: string,
  parts: CheckpointParts,
  options: WriteOptions,
): Promise<CheckpointManifest> {
  mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  recover(dir);
  if (nonEmpty(dir) && !existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new CheckpointError(
      dir,
      `${dir} holds files but no ${MANIFEST_FILE}, so it is not a checkpoint and is not ` +
        `replaced; ${OTHER_RUN}`,
    );
  }
  // Everything is encoded before the first byte is written.
  const files: { path: string; bytes: Uint8Array }[] = [];
  const models: CheckpointManifest["models"] = {};
  for (const [name, model] of Object.entries(parts.models ?? {})) {
    const { json, weights, specs } = await encodeModel(model, options.standardLayers ?? false);
    const folder = name === "" ? "" : `${name}/`;
    files.push({ path: `${folder}model.json`, bytes: json });
    files.push({ path: `${folder}weights.bin`, bytes: weights });
    models[name] = {
      path: name,
      standardLayers: options.standardLayers ?? false,
      tensors: tensorEntries(specs),
    };
  }
  let optimizer: CheckpointManifest["optimizer"];
  if (parts.optimizer) {
    const named = await parts.optimizer.getWeights();
    const { data, specs } = await tf.io.encodeWeights(named);
    // The step count comes as a new scalar; the slots are the optimizer's own variables.
    tf.dispose(named.map((n) => n.tensor).filter((t) => !(t instanceof tf.Variable)));
    files.push({ path: "optimizer.bin", bytes: new Uint8Array(data) });
    optimizer = { tensors: tensorEntries(specs) };
    // Adam's running beta powers: tfjs's setWeights recomputes them with pow(), which can
    // differ in the last bit from the repeated products of training; keeping the exact
    // values makes a resumed run bit-identical.
    const adam = parts.optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
    if (adam.accBeta1 && adam.accBeta2) {
      optimizer.betas = {
        accBeta1: (await adam.accBeta1.data())[0],
        accBeta2: (await adam.accBeta2.data())[0],
      };
    }
  }
  const text = new TextEncoder();
  for (const [name, value] of Object.entries(parts.json ?? {})) {
    files.push({ path: name, bytes: text.encode(JSON.stringify(value, null, 1)) });
  }
  for (const [name, value] of Object.entries(parts.files ?? {})) {
    files.push({ path: name, bytes: typeof value === "string" ? text.encode(value) : value });
  }
  for (const f of files) checkRelative(f.path);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    kind: options.kind,
    created: new Date().toISOString(),
    tfjs: tf.version.tfjs,
    fingerprint: fingerprintOf(options.settings),
    info: options.info ?? {},
    models,
    ...(optimizer ? { optimizer } : {}),
    files: files.map((f) => ({ path: f.path, bytes: f.bytes.byteLength, sha256: sha256(f.bytes) })),
  };

  // Leftovers of earlier interrupted writes go first; then the new folder, manifest last.
  const { tmp: oldTmp, old: oldOld } = leftovers(dir);
  for (const d of [...oldTmp, ...oldOld]) rmSync(d, { recursive: true, force: true });
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const tmp = `${path.resolve(dir)}.tmp-${tag}`;
  mkdirSync(tmp);
  for (const f of files) {
    const file = path.join(tmp, f.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, f.bytes);
  }
  writeFileSync(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
  if (existsSync(dir)) {
    const old = `${path.resolve(dir)}.old-${tag}`;
    renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, dir);
  }
  return manifest;
}

function checkRelative(p: string): void {
  if (p === "" || path.isAbsolute(p) || p.split("/").some((s) => s === ".." || s === "")) {
    throw new Error(`writeCheckpoint: file names must be relative paths inside the folder: "${p}"`);
  }
  if (p === MANIFEST_FILE) throw new Error(`writeCheckpoint: "${MANIFEST_FILE}" is reserved`);
}
