/**
 * A resumable store for the projection-head study: the scores of every
 * finished pre-training run and label-curve fine-tune are written to a folder
 * as JSON (the models beside them in tfjs's own format, `checkpoint.ts`),
 * tagged with the settings it depends on; a rerun with the same folder and
 * settings reads it back instead of training again, so a study interrupted
 * after an hour continues where it stopped. Entries made with other settings
 * are ignored (and overwritten).
 *
 * @example
 * ```ts
 * import { resultStore } from "./cache.ts";
 * const store = resultStore("data/ablation_cache", { epochs: 8 });
 * const hit = store.get<number>("labels-200-seed0");
 * if (hit === undefined) store.set("labels-200-seed0", 0.91);
 * ```
 *
 * @module
 */
import path from "node:path";
import { loadJson, saveJson } from "../train/json_file.ts";

/** Finished results by key; a no-op store when there is no folder. */
export interface ResultStore {
  /** The folder, or `undefined` for a store that keeps nothing. */
  readonly dir: string | undefined;
  /** The value stored under `key` with the same settings, else `undefined`. */
  get<T>(key: string): T | undefined;
  /** Stores `value` (plain JSON) under `key`. */
  set(key: string, value: unknown): void;
}

/** A store in `dir` for results made with `settings` (any plain JSON); no folder: keeps nothing. */
export function resultStore(dir: string | undefined, settings: unknown): ResultStore {
  const tag = JSON.stringify(settings);
  const file = (key: string) => path.join(dir!, `${key.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`);
  return {
    dir,
    get<T>(key: string): T | undefined {
      if (!dir) return undefined;
      const entry = loadJson<{ settings: string; value: T }>(file(key));
      return entry && entry.settings === tag ? entry.value : undefined;
    },
    set(key: string, value: unknown): void {
      if (dir) saveJson(file(key), { settings: tag, value });
    },
  };
}
