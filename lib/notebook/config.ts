/**
 * Run-mode and path helpers for the notebooks, and the check of the configuration cell's
 * `method` (`notebookMethod`: one line naming the methods for an unknown one).
 *
 * Notebook cells in the Deno kernel have no `import.meta`, so every path that depends on where
 * the repository lives is computed here, from this module's own URL.
 *
 * Environment read (set by `deno task notebooks`, see bin/notebooks.ts):
 * - `SSL_QUICK=1`: quick smoke-run mode (small data, few epochs).
 * - `SSL_RUN_DIR=<dir>`: the run folder `data/runs/<timestamp>/` results are written to.
 * - `SSL_NOTEBOOK=<stem>`: the name of the notebook being executed (informational).
 *
 * @example
 * ```ts
 * import { notebookMethod, notebookMode, saveResults } from "./config.ts";
 * const epochs = notebookMode().quick ? 2 : 100; // SSL_QUICK=1: a small smoke run
 * const method = notebookMethod("byol"); // "byol"; "moco" would be one line naming the methods
 * // ... train and evaluate, then record the results for the runner's summary:
 * const path = saveResults("03_pretrain", { epochs, accuracy: 0.86 });
 * // $SSL_RUN_DIR/results-03_pretrain.json, or data/runs/interactive/ outside a run
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSslMethod, type SslMethod } from "../train/ssl_method.ts";

/** The run mode of a notebook: `quick` is the small smoke run. */
export interface NotebookMode {
  /** True when `SSL_QUICK` is `1` / `true` / `yes` (the runner's `--quick`). */
  quick: boolean;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

/** True when an environment flag value means "on" (`1`, `true`, `yes`, `on`). */
export function isTruthyFlag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

/** Reads the notebook run mode from the environment (`SSL_QUICK=1` means quick). */
export function notebookMode(): NotebookMode {
  return { quick: isTruthyFlag(env("SSL_QUICK")) };
}

/** The run folder (`data/runs/<timestamp>/`) when `SSL_RUN_DIR` is set, else `undefined`. */
export function runDir(): string | undefined {
  const dir = env("SSL_RUN_DIR");
  return dir && dir.trim() !== "" ? dir : undefined;
}

/** The repository root (the folder holding deno.json), from this module's location. */
export function projectRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url)).replace(/[\\/]+$/, "");
}

/** The repository's `data/` folder (datasets cache, checkpoints, runs). */
export function dataDir(): string {
  return join(projectRoot(), "data");
}

/**
 * Saves a notebook's results as JSON to `$SSL_RUN_DIR/results-<name>.json`, which the runner
 * copies into its summary. Outside a run (interactive use) the file goes to
 * `data/runs/interactive/`. `name` should be the notebook's stem, e.g. `"03_pretrain"`.
 * Typed arrays are written as plain arrays. Returns the path written.
 */
export function saveResults(name: string, results: unknown): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new Error(`saveResults: name must be letters, digits, '.', '_' or '-', got "${name}"`);
  }
  const dir = runDir() ?? join(dataDir(), "runs", "interactive");
  Deno.mkdirSync(dir, { recursive: true });
  const path = join(dir, `results-${name}.json`);
  const json = JSON.stringify(
    results,
    (_k, v) =>
      ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as Float32Array) : v,
    2,
  );
  Deno.writeTextFileSync(path, json + "\n");
  return path;
}

/**
 * The SSL method a configuration cell names (`undefined`: SimCLR, the recipe's), checked: a
 * `RangeError` of one line naming the methods otherwise, e.g. `configuration: method must be
 * one of simclr, byol, simsiam, barlow, vicreg, got "moco"`.
 */
export function notebookMethod(method: unknown): SslMethod {
  return method === undefined ? "simclr" : parseSslMethod(method, "configuration: method");
}
