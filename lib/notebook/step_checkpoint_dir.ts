/**
 * Where the notebook steps keep their checkpoints: a folder per recipe and seed under
 * `data/checkpoints/` (or `$SSL_CHECKPOINT_DIR`), named by the dataset, label budget, seed and
 * mode plus a hash of the whole recipe, so that changing any setting starts fresh instead of
 * mixing results of different recipes.
 *
 * @example
 * ```ts
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { checkpointDir, configHash } from "./step_checkpoint_dir.ts";
 * configHash({ labels: 200 }); // 8 hex digits, stable from run to run
 * checkpointDir(quickRecipe(), 0, "data/checkpoints");
 * // "data/checkpoints/mnist-200labels-seed0-quick-<hash of the recipe>"
 * ```
 *
 * @module
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHECKPOINT_VERSION } from "../train/checkpoint.ts";
import type { ExperimentConfig } from "../experiment/recipe.ts";

/**
 * The default checkpoint root: `$SSL_CHECKPOINT_DIR` when set (tests point it
 * at a temporary folder), else `data/checkpoints/` of the repository.
 */
export function checkpointRoot(): string {
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("SSL_CHECKPOINT_DIR");
  } catch {
    fromEnv = undefined; // no --allow-env
  }
  return fromEnv || fileURLToPath(new URL("../../data/checkpoints/", import.meta.url));
}

/** A short stable hash (FNV-1a, hex) of a JSON-able value. */
export function configHash(value: unknown): string {
  const text = JSON.stringify(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** The checkpoint folder of `config` and `seed` under `root`. */
export function checkpointDir(
  config: ExperimentConfig,
  seed: number,
  root: string = checkpointRoot(),
): string {
  const { seeds: _seeds, ...recipe } = config;
  const name = config.dataset.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 40);
  // The checkpoint format is part of the hash: folders of another format are not read.
  return path.join(
    root,
    `${name}-${config.labels}labels-seed${seed}-${config.quick ? "quick" : "full"}-${
      configHash({ ...recipe, checkpointFormat: CHECKPOINT_VERSION })
    }`,
  );
}
