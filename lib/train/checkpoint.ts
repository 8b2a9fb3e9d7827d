/**
 * Checkpoints in tfjs's own format — a `model.json` (topology + weight
 * manifest) beside a `weights.bin` — written to and read from a folder on
 * disk (tfjs's browser build has no `file://` handler, so these are ours), plus
 * a `state.json` for everything else training needs to resume.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { loadModel, saveModel } from "./checkpoint.ts";
 * const backbone = articleBackbone([28, 28, 1]);
 * const dir = await Deno.makeTempDir(); // e.g. "data/checkpoints/ssl/backbone" in a real run
 * await saveModel(backbone, dir);
 * const again = await loadModel(dir); // same topology and weights
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Writes `model` to `dir/model.json` + `dir/weights.bin` (atomically: a crash leaves the old one). */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler((artifacts) => {
    const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
    const json = {
      format: "layers-model",
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
    };
    writeAtomic(path.join(dir, "weights.bin"), weights);
    writeAtomic(path.join(dir, "model.json"), new TextEncoder().encode(JSON.stringify(json)));
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
  }));
}

/** Reads a model saved by `saveModel` (or any tfjs layers model with one weights file). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = path.join(dir, "model.json");
  if (!existsSync(jsonPath)) throw new Error(`loadModel: no checkpoint at ${jsonPath}`);
  let json: {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    json = JSON.parse(readFileSync(jsonPath, "utf8"));
  } catch (e) {
    throw new Error(`loadModel: ${jsonPath} is not valid JSON (${(e as Error).message})`);
  }
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers = json.weightsManifest.flatMap((g) => g.paths).map((p) =>
    readFileSync(path.join(dir, p))
  );
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const b of buffers) {
    weightData.set(b, at);
    at += b.byteLength;
  }
  return await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: weightData.buffer,
  }));
}

/** Writes a JSON state file atomically. */
export function saveJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeAtomic(file, new TextEncoder().encode(JSON.stringify(value, null, 1)));
}

/** Reads a JSON file, or returns `undefined` when it does not exist. */
export function loadJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Saves an optimizer's slot variables (Adam's moments, the step count) as a model-free blob. */
export async function saveOptimizer(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  mkdirSync(dir, { recursive: true });
  writeAtomic(path.join(dir, "optimizer.bin"), new Uint8Array(data));
  saveJson(path.join(dir, "optimizer.json"), specs);
  // Adam's running beta powers: tfjs's setWeights recomputes them with pow(),
  // which can differ in the last bit from the repeated products of training;
  // keeping the exact values makes a resumed run bit-identical.
  const adam = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  if (adam.accBeta1 && adam.accBeta2) {
    saveJson(path.join(dir, "optimizer_betas.json"), {
      accBeta1: (await adam.accBeta1.data())[0],
      accBeta2: (await adam.accBeta2.data())[0],
    });
  }
}

/** Restores what `saveOptimizer` wrote; returns false when there is nothing to restore. */
export async function loadOptimizer(optimizer: tf.Optimizer, dir: string): Promise<boolean> {
  const specs = loadJson<tf.io.WeightsManifestEntry[]>(path.join(dir, "optimizer.json"));
  if (specs === undefined) return false;
  const bytes = readFileSync(path.join(dir, "optimizer.bin"));
  const tensors = tf.io.decodeWeights(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    specs,
  );
  await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: tensors[s.name] })));
  const betas = loadJson<{ accBeta1: number; accBeta2: number }>(
    path.join(dir, "optimizer_betas.json"),
  );
  const adam = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  if (betas && adam.accBeta1 && adam.accBeta2) {
    tf.tidy(() => {
      adam.accBeta1!.assign(tf.scalar(betas.accBeta1));
      adam.accBeta2!.assign(tf.scalar(betas.accBeta2));
    });
  }
  return true;
}

function writeAtomic(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}
