/**
 * Plain JSON files written atomically (a temporary file, then a rename), so that a reader never
 * sees half a file: the study's result store (`lib/study/cache.ts`).
 *
 * @example
 * ```ts
 * import { loadJson, saveJson } from "./json_file.ts";
 * const file = `${await Deno.makeTempDir()}/results/seed0.json`;
 * loadJson(file); // undefined: not written yet
 * saveJson(file, { accuracy: 0.93 }); // makes the folder too
 * loadJson<{ accuracy: number }>(file)?.accuracy; // 0.93
 * ```
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Writes a JSON file atomically (a temporary file, then a rename). */
export function saveJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, new TextEncoder().encode(JSON.stringify(value, null, 1)));
  renameSync(tmp, file);
}

/** Reads a JSON file, or returns `undefined` when it does not exist. */
export function loadJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as T;
}
