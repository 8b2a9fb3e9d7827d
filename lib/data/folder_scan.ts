/**
 * Finding the files of an image folder: the train/test layout, the class
 * folders, the unlabelled folders, and every file below them.
 *
 * Symbolic links are followed, but each real folder and each real file is
 * visited once, by its real path: a link back up the tree (`cats/loop -> ..`)
 * or a second link to a file already found is skipped and counted as a
 * repeat, never loaded twice. Entries reached without a link are claimed
 * before any link is followed, so a link in one class folder cannot take an
 * image (or a sub-folder) away from the class folder that really holds it.
 *
 * @example
 * ```ts
 * import { scanFolders } from "./folder_scan.ts";
 * async function list(root: string): Promise<void> {
 *   const scan = await scanFolders(root, root, null);
 *   console.log(scan.train.classFolders, scan.train.files.length, scan.repeats.length);
 * }
 * ```
 *
 * @module
 */
import path from "node:path";
import { byCodepoint } from "./folder_report.ts";

/** Folder names that hold images without a class. */
export const UNLABELED_FOLDERS: readonly string[] = Object.freeze(["unlabeled", "unlabelled"]);

/** A file found under a class (or unlabelled) folder. */
export interface FoundFile {
  /** Absolute path (through links, as found). */
  abs: string;
  /** Path shown to the user (root as given + relative path). */
  shown: string;
  /** Class folder name, or null for unlabelled. */
  cls: string | null;
  /** Size in bytes. */
  bytes: number;
  /** Modification time, ms since 1970 (0 when unknown). */
  mtime: number;
}

/** What one root (the training or the test folder) holds. */
export interface Scan {
  /** Files, in the order of a depth-first walk by sorted names. */
  files: FoundFile[];
  /** Class folder names (unlabelled excluded) that hold files, sorted. */
  classFolders: string[];
  /** Hidden and system files ignored silently. */
  ignored: number;
  /** Warnings, each naming its folder. */
  warnings: string[];
}

/** The training root, the test root if any, and the entries skipped as repeats. */
export interface FolderScan {
  /** The training root's files and classes. */
  train: Scan;
  /** The test root's, when there is one. */
  test: Scan | undefined;
  /** Shown paths of the links skipped because their real path was visited already, sorted. */
  repeats: string[];
}

/** True for files and folders skipped without a word: hidden and OS-made. */
export function isIgnored(name: string): boolean {
  return name.startsWith(".") || /^(thumbs\.db|desktop\.ini|__macosx)$/i.test(name);
}

/** `~/x` -> `$HOME/x` (shells do not expand `~` inside `folder:~/x`). */
export function expandHome(p: string): string {
  if (p !== "~" && !p.startsWith("~/")) return p;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  return home ? path.join(home, p.slice(1)) : p;
}

/** Throws an `Error` naming `p` (as `what`) unless it is an existing folder. */
export async function checkFolder(p: string, what: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${what} "${p}" does not exist`);
    throw new Error(`${what} "${p}" cannot be read: ${(e as Error).message}`);
  }
  if (!info.isDirectory) throw new Error(`${what} "${p}" is a file, not a folder`);
}

/** The entries of `dir`, sorted by name (code points). */
export async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  return entries.sort((a, b) => byCodepoint(a.name, b.name));
}

/**
 * The training and test roots of `root`: `testDir` when given (checked), else
 * `root/train` and `root/test` when those are the only two entries, else
 * `root` alone (the test set will be split off it).
 */
export async function findRoots(
  root: string,
  testDir: string | undefined,
): Promise<{ trainRoot: string; testRoot: string | null }> {
  if (testDir !== undefined) {
    const testRoot = expandHome(testDir);
    await checkFolder(testRoot, "test folder");
    return { trainRoot: root, testRoot };
  }
  const names = (await listDir(root)).filter((e) => !isIgnored(e.name)).map((e) => e.name);
  if (names.length === 2 && names[0] === "test" && names[1] === "train") {
    const [a, b] = [path.join(root, "train"), path.join(root, "test")];
    if ((await Deno.stat(a)).isDirectory && (await Deno.stat(b)).isDirectory) {
      return { trainRoot: a, testRoot: b };
    }
  }
  return { trainRoot: root, testRoot: null };
}

/** "train" / "test": files kept for that side; "ignored": unlabelled files of a test folder. */
type Role = "train" | "test" | "ignored";

/** A folder entry still to visit. */
interface Entry {
  abs: string;
  shown: string;
  cls: string | null;
  role: Role;
  /** Index of its top folder in `Scanner.folders`. */
  folder: number;
}

/** A class or unlabelled folder directly in a root. */
interface TopFolder extends Entry {
  real: string;
  name: string;
  files: number;
  repeats: number;
}

/** Compares two shown paths folder by folder: the order of a depth-first walk by sorted names. */
function walkOrder(a: FoundFile, b: FoundFile): number {
  const pa = a.shown.split(path.sep);
  const pb = b.shown.split(path.sep);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return byCodepoint(pa[i], pb[i]);
  }
  return pa.length - pb.length;
}

/** The walk: each real path claimed once, links followed after every plain entry. */
class Scanner {
  readonly seen = new Set<string>();
  readonly folders: TopFolder[] = [];
  readonly links: Entry[] = [];
  readonly found: (FoundFile & { role: Role })[] = [];
  readonly repeats: string[] = [];
  readonly ignored: Record<Role, number> = { train: 0, test: 0, ignored: 0 };

  /** Marks `real` visited; false when it was visited before (a repeat, unless in an ignored folder). */
  claim(real: string, at: Entry): boolean {
    if (!this.seen.has(real)) {
      this.seen.add(real);
      return true;
    }
    if (at.role !== "ignored") this.repeats.push(at.shown);
    if (this.folders[at.folder]) this.folders[at.folder].repeats++;
    return false;
  }

  /** Visits the entries of `dir` (real path `realDir`); symbolic links wait in `links`. */
  async walk(dir: string, realDir: string, at: Entry): Promise<void> {
    for (const e of await listDir(dir)) {
      if (isIgnored(e.name)) {
        this.ignored[at.role]++;
        continue;
      }
      const entry = { ...at, abs: path.join(dir, e.name), shown: path.join(at.shown, e.name) };
      if (e.isSymlink) this.links.push(entry);
      else await this.visit(entry, path.join(realDir, e.name));
    }
  }

  /** Visits one entry whose real path is `real` (null: resolve it, the entry is a link). */
  async visit(entry: Entry, real: string | null): Promise<void> {
    const info = await Deno.stat(entry.abs).catch(() => null);
    if (!info || !(info.isDirectory || info.isFile)) return; // broken link, socket, ...
    const where = real ?? await Deno.realPath(entry.abs).catch(() => null);
    if (where === null || !this.claim(where, entry)) return;
    if (info.isDirectory) {
      await this.walk(entry.abs, where, entry);
      return;
    }
    const { abs, shown, cls, role } = entry;
    this.found.push({ abs, shown, cls, role, bytes: info.size, mtime: info.mtime?.getTime() ?? 0 });
    this.folders[entry.folder].files++;
  }

  /** Lists the top folders of `root`; returns the files lying loose in it. */
  async listRoot(root: string, role: "train" | "test"): Promise<string[]> {
    const loose: string[] = [];
    for (const e of await listDir(root)) {
      if (isIgnored(e.name)) {
        this.ignored[role]++;
        continue;
      }
      const abs = path.join(root, e.name);
      const info = await Deno.stat(abs).catch(() => null);
      if (info?.isFile) loose.push(path.join(root, e.name));
      if (!info?.isDirectory) continue;
      const unlabelled = UNLABELED_FOLDERS.includes(e.name.toLowerCase());
      const folder: TopFolder = {
        abs,
        shown: path.join(root, e.name),
        cls: unlabelled ? null : e.name,
        role: unlabelled && role === "test" ? "ignored" : role,
        folder: this.folders.length,
        real: await Deno.realPath(abs),
        name: e.name,
        files: 0,
        repeats: 0,
      };
      this.folders.push(folder);
      if (!this.claim(folder.real, folder)) folder.real = "";
    }
    return loose;
  }

  /** The `Scan` of one root, with its warnings in folder order. */
  result(root: string, role: "train" | "test", loose: string[]): Scan {
    const warnings: string[] = [];
    const classFolders: string[] = [];
    for (const f of this.folders) {
      if (f.role !== role && !(role === "test" && f.role === "ignored")) continue;
      if (f.role === "ignored") {
        if (f.files) {
          warnings.push(
            `${f.shown}: ${f.files} unlabelled files in the test folder are ignored ` +
              `(a test image needs a class)`,
          );
        }
      } else if (f.cls !== null && f.files) {
        classFolders.push(f.name);
      } else if (f.cls !== null) {
        const why = f.real === ""
          ? "is a folder already visited (a link to it, or the same folder twice)"
          : f.repeats
          ? "holds only links to files or folders already visited"
          : "is empty";
        warnings.push(`class folder ${f.shown} ${why}: class "${f.name}" dropped`);
      }
    }
    if (loose.length) {
      warnings.push(
        `${loose.length} file(s) directly in ${root} ignored: they are in no class folder ` +
          `(move them into ${path.join(root, "<class name>")} or ` +
          `${path.join(root, "unlabeled")}): ${loose.slice(0, 5).join(", ")}` +
          (loose.length > 5 ? ", ..." : ""),
      );
    }
    const files: FoundFile[] = this.found.filter((f) => f.role === role).sort(walkOrder)
      .map(({ abs, shown, cls, bytes, mtime }) => ({ abs, shown, cls, bytes, mtime }));
    return { files, classFolders, ignored: this.ignored[role], warnings };
  }
}

/**
 * Lists every class folder and file of the training root and of the test
 * root (if any); `root` is the folder the user gave (it may hold both).
 * Every real folder and file is visited once: see the module documentation.
 * In a test folder, `unlabeled/` is not loaded (a warning counts its files).
 */
export async function scanFolders(
  root: string,
  trainRoot: string,
  testRoot: string | null,
): Promise<FolderScan> {
  const s = new Scanner();
  for (const r of [root, trainRoot, testRoot]) if (r !== null) s.seen.add(await Deno.realPath(r));
  const looseTrain = await s.listRoot(trainRoot, "train");
  const looseTest = testRoot === null ? [] : await s.listRoot(testRoot, "test");
  for (const f of s.folders) if (f.real !== "") await s.walk(f.abs, f.real, f);
  for (let i = 0; i < s.links.length; i++) await s.visit(s.links[i], null); // grows as it goes
  return {
    train: s.result(trainRoot, "train", looseTrain),
    test: testRoot === null ? undefined : s.result(testRoot, "test", looseTest),
    repeats: s.repeats.sort(byCodepoint),
  };
}
