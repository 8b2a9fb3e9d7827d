/**
 * A checkpoint's folder on disk, as the atomic write leaves it: whether it holds anything, the
 * sibling folders an interrupted write leaves (`DIR.tmp-…`, `DIR.old-…`), and putting back a
 * checkpoint whose write was killed between its two renames. The writer
 * (`checkpoint_write.ts`) and the reader (`checkpoint_read.ts`) both start here.
 *
 * @example
 * ```ts
 * import { leftovers, nonEmpty, recover } from "./checkpoint_folder.ts";
 * const dir = `${await Deno.makeTempDir()}/run`;
 * recover(dir); // nothing to put back: there was no write
 * nonEmpty(dir); // false: the folder does not exist
 * leftovers(dir); // { tmp: [], old: [] }
 * ```
 *
 * @module
 */
import { existsSync, readdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { MANIFEST_FILE } from "./checkpoint_format.ts";

/** The sibling folders an interrupted write leaves: `DIR.tmp-…` and `DIR.old-…`. */
export function leftovers(dir: string): { tmp: string[]; old: string[] } {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(path.resolve(dir));
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return { tmp: [], old: [] };
  }
  const of = (tag: string) =>
    names.filter((n) => n.startsWith(`${base}.${tag}-`)).map((n) => path.join(parent, n))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs); // newest first
  return { tmp: of("tmp"), old: of("old") };
}

/**
 * Puts back a checkpoint whose write was killed between its two renames: when `dir` is
 * missing, the newest complete `DIR.tmp-…` (its manifest is written last), else `DIR.old-…`.
 */
export function recover(dir: string): void {
  if (existsSync(dir)) return;
  const { tmp, old } = leftovers(dir);
  const complete = [...tmp, ...old].find((d) => existsSync(path.join(d, MANIFEST_FILE)));
  if (complete) renameSync(complete, dir);
}

/** Whether `dir` holds anything at all. */
export function nonEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}
