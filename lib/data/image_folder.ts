/**
 * Your own images as a dataset: a folder with one sub-folder per class.
 *
 * ```
 * root/
 *   cats/        <- class "cats": any image files (sub-folders are searched too)
 *   dogs/
 *   unlabeled/   <- optional (also "unlabelled/"): images without a class, label -1
 * ```
 *
 * Every format `sharp` decodes is read: JPEG, PNG, WebP, GIF (first frame),
 * TIFF (first page), AVIF, SVG, ... The file extension does not matter.
 *
 * **Test set.** Give a separate test folder of the same layout (`testDir`, or
 * a root holding exactly two folders `train/` and `test/`), or let the
 * loader draw one: a seeded, stratified split holding out `testFraction`
 * (default 20%) of every class (at least one image of each class with two or
 * more, never its last one). Unlabelled images always go to the training set.
 *
 * **Images.** Each is auto-rotated by its EXIF orientation, flattened onto
 * `background` if it has an alpha channel (default white: transparent
 * pictures are usually drawn to be seen on white), resized to `size`
 * (default 32x32 for colour, 28x28 for grey) keeping its aspect ratio —
 * `fit: "crop"` (default) crops the centre, `fit: "pad"` letterboxes with
 * black — and converted to `channels`: 3 (RGB) or 1 (grey, luma
 * 0.299 R + 0.587 G + 0.114 B). The default, `"auto"`, is 1 when every image
 * is stored as grey and 3 otherwise. Pixels become floats in [0, 1].
 *
 * **Bad input.** Nothing is lost silently, and one bad file never stops the
 * run: a corrupt or truncated image, or a file that is not an image, is
 * skipped and named in `report.skipped` and `report.warnings`; hidden files
 * (`.DS_Store`, `._*`), `Thumbs.db`, `desktop.ini` and `__MACOSX/` are
 * ignored silently; an empty class folder (or one whose every file was
 * skipped) is dropped with a warning, because a class without images can
 * neither be learned nor scored; files directly in the root (not in a class
 * folder) are ignored with a warning. Errors (thrown, naming the path): a
 * root that does not exist or is not a folder, and fewer than two classes
 * with images (contrastive pre-training needs no labels, but the experiment
 * scores a classifier).
 *
 * **Cache.** The decoded pixels are cached as raw bytes plus a JSON header in
 * `cacheDir` (default `data/cache/`), keyed by a SHA-256 of the file list
 * (paths, sizes, modification times) and the options: a second load of an
 * unchanged folder reads one file instead of decoding every image. Change,
 * add or remove an image and the key changes.
 *
 * Decoding runs `concurrency` (default 8) images at a time and reports its
 * progress to `onProgress`; without one, folders of 500 or more images get a
 * throttled progress line on stderr (`quiet: true` turns it off).
 *
 * @example
 * ```ts
 * import { formatReport, loadImageFolder } from "./lib/data/image_folder.ts";
 * const { train, test, report } = await loadImageFolder("/path/to/images", { size: [32, 32] });
 * console.log(formatReport(report));
 * ```
 *
 * @module
 */
import sharp from "sharp";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../rng.ts";
import { checkDataset, type ImageDataset } from "./dataset.ts";

/** Progress of a long step: `done` of `total` files, in `phase`. */
export type ProgressCallback = (
  done: number,
  total: number,
  phase: "reading headers" | "decoding",
) => void;

/** Options of {@linkcode loadImageFolder}; every one has a documented default. */
export interface ImageFolderOptions {
  /** Output size [height, width]. Default [32, 32] for 3 channels, [28, 28] for 1. */
  size?: [number, number];
  /** Keep the aspect ratio and crop the centre ("crop", default) or pad with black ("pad"). */
  fit?: "crop" | "pad";
  /** 3 = RGB, 1 = grey; "auto" (default): 1 if every image is stored as grey, else 3. */
  channels?: 1 | 3 | "auto";
  /** What transparent pixels are flattened onto. Default "white". */
  background?: "white" | "black";
  /** Seed of the train/test split and of the order of each set. Default 0. */
  seed?: number;
  /** Fraction of each class held out as the test set when there is no test folder. Default 0.2. */
  testFraction?: number;
  /** A separate test folder with the same layout (its `unlabeled/` is ignored). */
  testDir?: string;
  /** Where decoded images are cached; `null` turns the cache off. Default `data/cache/`. */
  cacheDir?: string | null;
  /** Images decoded at the same time. Default 8. */
  concurrency?: number;
  /** Progress while reading headers and decoding. */
  onProgress?: ProgressCallback;
  /** No progress line on stderr when `onProgress` is not given. Default false. */
  quiet?: boolean;
}

/** A file that was not loaded, and why. */
export interface SkippedFile {
  /** The file's path (the root as given, joined with its path inside the root). */
  file: string;
  /** Why, in words, e.g. "corrupt or truncated image (pngload: end of stream)". */
  reason: string;
}

/** Everything worth knowing about a load: what was found, converted, skipped. */
export interface ImageFolderReport {
  /** The folder the training images came from. */
  root: string;
  /** The test folder, or null when the test set was split off the training folder. */
  testRoot: string | null;
  /** "folder": a separate test folder; "seeded": a stratified seeded split. */
  split: "folder" | "seeded";
  /** The split's seed. */
  seed: number;
  /** The split's test fraction (unused with a test folder). */
  testFraction: number;
  /** Class names, in label order (sorted folder names). */
  classNames: string[];
  /** Images per class in each set. */
  classes: { name: string; train: number; test: number }[];
  /** Unlabelled images (label -1), all in the training set. */
  unlabelled: number;
  /** Files looked at (hidden files excluded). */
  filesFound: number;
  /** Images decoded and kept. */
  decoded: number;
  /** Files not loaded, each with its reason. */
  skipped: SkippedFile[];
  /** Hidden and system files ignored silently. */
  ignored: number;
  /** Human-readable warnings; each names the file or folder concerned. */
  warnings: string[];
  /** The output image size [height, width]. */
  size: [number, number];
  /** The output channels: 3 = RGB, 1 = grey. */
  channels: 1 | 3;
  /** How images were fitted to `size`. */
  fit: "crop" | "pad";
  /** Images whose stored size differed from `size` (all are resized). */
  resized: number;
  /** Images whose colour channels were converted (grey -> RGB or colour -> grey). */
  converted: number;
  /** Images with an alpha channel, flattened onto the background. */
  alphaFlattened: number;
  /** Stored sizes "WIDTHxHEIGHT" and how many images had each (the 20 most common). */
  sizes: Record<string, number>;
  /** Stored colour layouts ("grey", "grey+alpha", "rgb", "rgba", "cmyk", ...) and counts. */
  colourLayouts: Record<string, number>;
  /** File formats as sharp reports them ("jpeg", "png", ...) and counts. */
  formats: Record<string, number>;
  /** "hit": read from the cache; "miss": decoded (and cached); "off": no cache. */
  cache: "hit" | "miss" | "off";
  /** The cache's header file, when the cache is on. */
  cacheFile?: string;
  /** Seconds the load took. */
  seconds: number;
}

/** What {@linkcode loadImageFolder} returns. */
export interface ImageFolder {
  /** The training set: labelled images and the unlabelled ones (label -1), shuffled. */
  train: ImageDataset;
  /** The test set: labelled images only, shuffled. */
  test: ImageDataset;
  /** What was loaded, converted and skipped. */
  report: ImageFolderReport;
}

/** The default cache folder: the repository's `data/cache/`. */
export const DEFAULT_CACHE_DIR: string = fileURLToPath(
  new URL("../../data/cache/", import.meta.url),
);

/** The default fraction of each class held out for testing. */
export const DEFAULT_TEST_FRACTION = 0.2;

/** Folder names that hold images without a class. */
export const UNLABELED_FOLDERS: readonly string[] = Object.freeze(["unlabeled", "unlabelled"]);

const CACHE_VERSION = 1;
const IMAGE_EXTENSIONS = new Set([
  ".jpg",
  ".jpeg",
  ".jpe",
  ".jfif",
  ".png",
  ".webp",
  ".gif",
  ".tif",
  ".tiff",
  ".avif",
  ".heic",
  ".heif",
  ".svg",
  ".bmp",
]);
const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** True for files and folders skipped without a word: hidden and OS-made. */
function isIgnored(name: string): boolean {
  return name.startsWith(".") || /^(thumbs\.db|desktop\.ini|__macosx)$/i.test(name);
}

const byCodepoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface FoundFile {
  /** Absolute path. */
  abs: string;
  /** Path shown to the user (root as given + relative path). */
  shown: string;
  /** Class folder name, or null for unlabelled. */
  cls: string | null;
  bytes: number;
  mtime: number;
}

interface Scan {
  files: FoundFile[];
  /** Class folder names (unlabelled excluded), sorted. */
  classFolders: string[];
  ignored: number;
  warnings: string[];
}

async function checkFolder(p: string, what: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${what} "${p}" does not exist`);
    throw new Error(`${what} "${p}" cannot be read: ${(e as Error).message}`);
  }
  if (!info.isDirectory) throw new Error(`${what} "${p}" is a file, not a folder`);
}

async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  return entries.sort((a, b) => byCodepoint(a.name, b.name));
}

/** Every non-hidden file under `dir` (recursively), sorted by path. */
async function walk(
  dir: string,
  shown: string,
  cls: string | null,
  out: FoundFile[],
): Promise<number> {
  let ignored = 0;
  for (const e of await listDir(dir)) {
    if (isIgnored(e.name)) {
      ignored++;
      continue;
    }
    const abs = path.join(dir, e.name);
    const s = path.join(shown, e.name);
    const info = await Deno.stat(abs).catch(() => null);
    if (info?.isDirectory) {
      ignored += await walk(abs, s, cls, out);
    } else if (info?.isFile) {
      out.push({ abs, shown: s, cls, bytes: info.size, mtime: info.mtime?.getTime() ?? 0 });
    }
  }
  return ignored;
}

/** Lists the class folders and files of one root (training or test layout). */
async function scanRoot(root: string, shownRoot: string, isTest: boolean): Promise<Scan> {
  const files: FoundFile[] = [];
  const classFolders: string[] = [];
  const warnings: string[] = [];
  const loose: string[] = [];
  let ignored = 0;
  for (const e of await listDir(root)) {
    if (isIgnored(e.name)) {
      ignored++;
      continue;
    }
    const abs = path.join(root, e.name);
    const shown = path.join(shownRoot, e.name);
    const info = await Deno.stat(abs).catch(() => null);
    if (info?.isFile) {
      loose.push(shown);
      continue;
    }
    if (!info?.isDirectory) continue;
    const unlabelled = UNLABELED_FOLDERS.includes(e.name.toLowerCase());
    if (unlabelled && isTest) {
      const n: FoundFile[] = [];
      await walk(abs, shown, null, n);
      if (n.length) {
        warnings.push(
          `${shown}: ${n.length} unlabelled files in the test folder are ignored (a test image needs a class)`,
        );
      }
      continue;
    }
    const before = files.length;
    ignored += await walk(abs, shown, unlabelled ? null : e.name, files);
    if (!unlabelled) {
      if (files.length === before) {
        warnings.push(`class folder ${shown} is empty: class "${e.name}" dropped`);
      } else classFolders.push(e.name);
    }
  }
  if (loose.length) {
    warnings.push(
      `${loose.length} file(s) directly in ${shownRoot} ignored: they are in no class folder ` +
        `(move them into ${path.join(shownRoot, "<class name>")} or ` +
        `${path.join(shownRoot, "unlabeled")}): ${loose.slice(0, 5).join(", ")}` +
        (loose.length > 5 ? ", ..." : ""),
    );
  }
  return { files, classFolders, ignored, warnings };
}

/** Runs `fn` on every item, at most `limit` at a time; results in item order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  onDone?: (done: number) => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * A progress printer for scripts: at most one line a second on stderr (and
 * the final one), e.g. `image folder photos/: decoding 1200/2000 (60%)`.
 * Folders smaller than `minTotal` print nothing.
 */
export function consoleProgress(label: string, minTotal = 500): ProgressCallback {
  let last = 0;
  const tty = (() => {
    try {
      return Deno.stderr.isTerminal();
    } catch {
      return false;
    }
  })();
  const encoder = new TextEncoder();
  return (done, total, phase) => {
    if (total < minTotal) return;
    const now = performance.now();
    if (done < total && now - last < 1000) return;
    last = now;
    const line = `${label}: ${phase} ${done}/${total} (${Math.floor((100 * done) / total)}%)`;
    const end = done === total ? "\n" : "";
    try {
      Deno.stderr.writeSync(encoder.encode(tty ? `\r${line}${end}` : `${line}\n`));
    } catch {
      // no stderr (embedded use): progress is optional
    }
  };
}

interface Header {
  format: string;
  width: number;
  height: number;
  layout: string;
  grey: boolean;
  alpha: boolean;
}

function describeLayout(m: sharp.Metadata): string {
  const alpha = m.hasAlpha ? "+alpha" : "";
  if (m.space === "cmyk") return "cmyk";
  if (m.space === "b-w" || m.channels === 1 || (m.channels === 2 && m.hasAlpha)) {
    return `grey${alpha}`;
  }
  return m.hasAlpha ? "rgba" : "rgb";
}

function whyNotImage(file: FoundFile, e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  const ext = path.extname(file.abs).toLowerCase();
  if (/unsupported image format/i.test(msg) && !IMAGE_EXTENSIONS.has(ext)) {
    return `not an image (sharp: ${msg})`;
  }
  return `corrupt or truncated image (sharp: ${msg})`;
}

async function readHeader(file: FoundFile): Promise<Header> {
  const m = await sharp(file.abs).metadata();
  if (!m.width || !m.height) throw new Error("no image size in the header");
  const swap = (m.orientation ?? 1) >= 5; // EXIF orientations 5-8 turn the image by 90°
  const layout = describeLayout(m);
  return {
    format: m.format ?? "unknown",
    width: swap ? m.height : m.width,
    height: swap ? m.width : m.height,
    layout,
    grey: layout.startsWith("grey"),
    alpha: !!m.hasAlpha,
  };
}

interface DecodeSettings {
  height: number;
  width: number;
  channels: 1 | 3;
  fit: "crop" | "pad";
  background: "white" | "black";
}

/** The decoding pipeline: orientation, alpha, resize, sRGB, 8-bit raw. */
function pipeline(file: string, s: DecodeSettings, failOn: "warning" | "none"): sharp.Sharp {
  const flat = s.background === "white" ? "#ffffff" : "#000000";
  return sharp(file, { failOn })
    .rotate()
    .flatten({ background: flat })
    .resize({
      width: s.width,
      height: s.height,
      fit: s.fit === "crop" ? "cover" : "contain",
      position: "centre",
      background: { r: 0, g: 0, b: 0, alpha: 1 },
    })
    .toColourspace("srgb")
    .raw({ depth: "uchar" });
}

/** Decodes one image to `height * width * channels` bytes; damaged data is an error. */
async function decodeImage(file: string, s: DecodeSettings): Promise<Uint8Array> {
  let decoded: { data: Uint8Array; info: sharp.OutputInfo };
  try {
    decoded = await pipeline(file, s, "warning").toBuffer({ resolveWithObject: true });
  } catch (e) {
    if (!/failOn/.test((e as Error).message)) throw e;
    // "Warning treated as error": decode leniently once to say what the warning was.
    const lenient = pipeline(file, s, "none");
    const warnings: string[] = [];
    lenient.on("warning", (w: string) => warnings.push(w));
    await lenient.toBuffer(); // throws the decoder's own message if it fails too
    throw new Error(`damaged image data (${warnings[0] ?? "decoder warning"})`);
  }
  const { data, info } = decoded;
  const n = s.height * s.width;
  const c = info.channels;
  if (info.width !== s.width || info.height !== s.height || data.length !== n * c) {
    throw new Error(
      `decoded to ${info.width}x${info.height}x${c}, expected ${s.width}x${s.height}`,
    );
  }
  const out = new Uint8Array(n * s.channels);
  for (let p = 0; p < n; p++) {
    const r = data[p * c];
    const g = c >= 3 ? data[p * c + 1] : r;
    const b = c >= 3 ? data[p * c + 2] : r;
    if (s.channels === 3) {
      out[3 * p] = r;
      out[3 * p + 1] = g;
      out[3 * p + 2] = b;
    } else {
      out[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  return out;
}

function isGreyPixels(px: Uint8Array): boolean {
  for (let i = 0; i < px.length; i += 3) {
    if (px[i] !== px[i + 1] || px[i] !== px[i + 2]) return false;
  }
  return true;
}

function topCounts(counts: Map<string, number>, keep = 20): Record<string, number> {
  return Object.fromEntries(
    [...counts.entries()].sort((a, b) => b[1] - a[1] || byCodepoint(a[0], b[0])).slice(0, keep),
  );
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function checkOptions(o: ImageFolderOptions): void {
  const where = "loadImageFolder";
  if (o.size !== undefined) {
    if (
      !Array.isArray(o.size) || o.size.length !== 2 ||
      !o.size.every((v) => Number.isInteger(v) && v >= 1 && v <= 4096)
    ) {
      throw new Error(
        `${where}: size must be [height, width], integers in 1..4096, got ${
          JSON.stringify(o.size)
        }`,
      );
    }
  }
  if (o.fit !== undefined && o.fit !== "crop" && o.fit !== "pad") {
    throw new Error(`${where}: fit must be "crop" or "pad", got "${o.fit}"`);
  }
  if (o.channels !== undefined && ![1, 3, "auto"].includes(o.channels)) {
    throw new Error(`${where}: channels must be 1, 3 or "auto", got ${JSON.stringify(o.channels)}`);
  }
  if (o.background !== undefined && o.background !== "white" && o.background !== "black") {
    throw new Error(`${where}: background must be "white" or "black", got "${o.background}"`);
  }
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) {
    throw new Error(`${where}: seed must be an integer, got ${o.seed}`);
  }
  if (o.testFraction !== undefined && !(o.testFraction > 0 && o.testFraction < 1)) {
    throw new Error(
      `${where}: testFraction must be between 0 and 1 (exclusive), got ${o.testFraction}`,
    );
  }
  if (o.concurrency !== undefined && !(Number.isInteger(o.concurrency) && o.concurrency >= 1)) {
    throw new Error(`${where}: concurrency must be a positive integer, got ${o.concurrency}`);
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The decoded content of a folder: what the cache stores. */
interface Decoded {
  height: number;
  width: number;
  channels: 1 | 3;
  classNames: string[];
  train: { pixels: Uint8Array; labels: Int32Array };
  test: { pixels: Uint8Array; labels: Int32Array };
  report: ImageFolderReport;
}

interface CacheHeader {
  version: number;
  key: string;
  height: number;
  width: number;
  channels: 1 | 3;
  classNames: string[];
  trainCount: number;
  testCount: number;
  report: ImageFolderReport;
}

function cachePaths(dir: string, key: string): { json: string; bin: string } {
  const base = path.join(dir, `image-folder-${key.slice(0, 24)}`);
  return { json: `${base}.json`, bin: `${base}.bin` };
}

async function readCache(dir: string, key: string): Promise<Decoded | undefined> {
  const files = cachePaths(dir, key);
  try {
    const header = JSON.parse(await Deno.readTextFile(files.json)) as CacheHeader;
    if (header.version !== CACHE_VERSION || header.key !== key) return undefined;
    const bytes = await Deno.readFile(files.bin);
    const size = header.height * header.width * header.channels;
    const nTrain = header.trainCount;
    const nTest = header.testCount;
    const expected = (nTrain + nTest) * size + 4 * (nTrain + nTest);
    if (bytes.length !== expected) return undefined;
    let at = 0;
    const take = (n: number) => bytes.slice(at, at += n);
    const trainPixels = take(nTrain * size);
    const testPixels = take(nTest * size);
    const trainLabels = new Int32Array(take(4 * nTrain).buffer);
    const testLabels = new Int32Array(take(4 * nTest).buffer);
    return {
      height: header.height,
      width: header.width,
      channels: header.channels,
      classNames: header.classNames,
      train: { pixels: trainPixels, labels: trainLabels },
      test: { pixels: testPixels, labels: testLabels },
      report: header.report,
    };
  } catch {
    return undefined; // no cache, or an unreadable one: decode again
  }
}

async function writeCache(dir: string, key: string, d: Decoded): Promise<string | undefined> {
  const files = cachePaths(dir, key);
  try {
    await Deno.mkdir(dir, { recursive: true });
    const parts = [
      d.train.pixels,
      d.test.pixels,
      new Uint8Array(d.train.labels.buffer, d.train.labels.byteOffset, d.train.labels.byteLength),
      new Uint8Array(d.test.labels.buffer, d.test.labels.byteOffset, d.test.labels.byteLength),
    ];
    const bin = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bin.set(p, at);
      at += p.length;
    }
    const header: CacheHeader = {
      version: CACHE_VERSION,
      key,
      height: d.height,
      width: d.width,
      channels: d.channels,
      classNames: d.classNames,
      trainCount: d.train.labels.length,
      testCount: d.test.labels.length,
      report: d.report,
    };
    // Binary first, header last: a header on disk means its binary is complete.
    await Deno.writeFile(`${files.bin}.tmp`, bin);
    await Deno.rename(`${files.bin}.tmp`, files.bin);
    await Deno.writeTextFile(`${files.json}.tmp`, JSON.stringify(header));
    await Deno.rename(`${files.json}.tmp`, files.json);
    return files.json;
  } catch (e) {
    d.report.warnings.push(`could not write the cache in ${dir}: ${(e as Error).message}`);
    return undefined;
  }
}

function toDataset(
  name: string,
  part: { pixels: Uint8Array; labels: Int32Array },
  d: Pick<Decoded, "height" | "width" | "channels" | "classNames">,
): ImageDataset {
  const images = new Float32Array(part.pixels.length);
  for (let i = 0; i < images.length; i++) images[i] = UNIT[part.pixels[i]];
  const ds: ImageDataset = {
    name,
    images,
    labels: part.labels,
    count: part.labels.length,
    height: d.height,
    width: d.width,
    channels: d.channels,
    classNames: [...d.classNames],
  };
  checkDataset(ds);
  return ds;
}

/** `~/x` -> `$HOME/x` (shells do not expand `~` inside `folder:~/x`). */
function expandHome(p: string): string {
  if (p !== "~" && !p.startsWith("~/")) return p;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  return home ? path.join(home, p.slice(1)) : p;
}

/**
 * Loads an image folder as a training and a test set (see the module
 * documentation for the layout, the defaults and what happens to bad files).
 * A leading `~/` in `root` or `testDir` means the home folder. Throws an
 * `Error` naming the path for a missing root, a root that is a file, or
 * fewer than two classes with images.
 */
export async function loadImageFolder(
  rootPath: string,
  options: ImageFolderOptions = {},
): Promise<ImageFolder> {
  const t0 = performance.now();
  checkOptions(options);
  const root = expandHome(rootPath);
  const fit = options.fit ?? "crop";
  const background = options.background ?? "white";
  const seed = options.seed ?? 0;
  const testFraction = options.testFraction ?? DEFAULT_TEST_FRACTION;
  const concurrency = options.concurrency ?? 8;
  const cacheDir = options.cacheDir === undefined ? DEFAULT_CACHE_DIR : options.cacheDir;

  // 1. Layout: the training root, and the test root if there is one.
  await checkFolder(root, "image folder");
  let trainRoot = root;
  let testRoot: string | null = null;
  if (options.testDir !== undefined) {
    testRoot = expandHome(options.testDir);
    await checkFolder(testRoot, "test folder");
  } else {
    const names = (await listDir(root)).filter((e) => !isIgnored(e.name)).map((e) => e.name);
    if (names.length === 2 && names[0] === "test" && names[1] === "train") {
      const [a, b] = [path.join(root, "train"), path.join(root, "test")];
      if ((await Deno.stat(a)).isDirectory && (await Deno.stat(b)).isDirectory) {
        trainRoot = a;
        testRoot = b;
      }
    }
  }
  const trainScan = await scanRoot(trainRoot, trainRoot, false);
  const testScan = testRoot ? await scanRoot(testRoot, testRoot, true) : undefined;
  const needTwo = (classes: string[], where: string, what: string) => {
    if (classes.length < 2) {
      throw new Error(
        `image folder ${where}: found ${classes.length} class folder(s) ${what}` +
          `${
            classes.length ? ` ("${classes.join('", "')}")` : ""
          }; the experiment needs at least ` +
          `2 classes (contrastive pre-training uses no labels, but the classifier and its test ` +
          `score need two or more). Put each class's images in its own folder: ` +
          `${path.join(where, "<class name>", "<image file>")}`,
      );
    }
  };
  needTwo(trainScan.classFolders, trainRoot, "with files");

  // 2. The cache key: every file's path, size and time, and the options.
  const allFiles = [...trainScan.files, ...(testScan?.files ?? [])];
  const keyText = JSON.stringify({
    version: CACHE_VERSION,
    trainRoot: path.resolve(trainRoot),
    testRoot: testRoot && path.resolve(testRoot),
    files: allFiles.map((f) => [f.abs, f.bytes, f.mtime, f.cls]),
    size: options.size ?? "auto",
    channels: options.channels ?? "auto",
    fit,
    background,
    seed,
    testFraction,
  });
  const key = await sha256Hex(keyText);
  if (cacheDir !== null) {
    const hit = await readCache(cacheDir, key);
    if (hit) {
      const report: ImageFolderReport = {
        ...hit.report,
        cache: "hit",
        cacheFile: cachePaths(cacheDir, key).json,
        seconds: (performance.now() - t0) / 1000,
      };
      return {
        train: toDataset(`${path.basename(path.resolve(root))} train`, hit.train, hit),
        test: toDataset(`${path.basename(path.resolve(root))} test`, hit.test, hit),
        report,
      };
    }
  }

  // 3. Headers: formats, sizes, colour layouts; unreadable files are skipped here.
  const progress = options.onProgress ??
    (options.quiet ? () => {} : consoleProgress(`image folder ${root}`));
  const total = allFiles.length;
  const skipped: SkippedFile[] = [];
  const headers = await mapLimit(
    allFiles,
    concurrency,
    async (f) => {
      try {
        return await readHeader(f);
      } catch (e) {
        skipped.push({ file: f.shown, reason: whyNotImage(f, e) });
        return null;
      }
    },
    (done) => progress(done, total, "reading headers"),
  );
  const readable = headers.filter((h): h is Header => h !== null);
  let channels: 1 | 3;
  if (options.channels === 1 || options.channels === 3) channels = options.channels;
  else channels = readable.length > 0 && readable.every((h) => h.grey) ? 1 : 3;
  const [height, width] = options.size ?? (channels === 3 ? [32, 32] : [28, 28]);

  // 4. Decode, `concurrency` at a time.
  const settings: DecodeSettings = { height, width, channels, fit, background };
  let allGrey = channels === 3;
  const pixels = await mapLimit(
    allFiles,
    concurrency,
    async (f, i) => {
      if (headers[i] === null) return null;
      try {
        const px = await decodeImage(f.abs, settings);
        if (allGrey && !isGreyPixels(px)) allGrey = false;
        return px;
      } catch (e) {
        skipped.push({ file: f.shown, reason: whyNotImage(f, e) });
        headers[i] = null;
        return null;
      }
    },
    (done) => progress(done, total, "decoding"),
  );
  skipped.sort((a, b) => byCodepoint(a.file, b.file));

  // 5. Classes that kept images; the counts of the report.
  const warnings = [...trainScan.warnings, ...(testScan?.warnings ?? [])];
  for (const s of skipped) warnings.push(`skipped ${s.file}: ${s.reason}`);
  const kept = new Map<string, number>();
  allFiles.forEach((f, i) => {
    if (pixels[i] && f.cls !== null && i < trainScan.files.length) {
      kept.set(f.cls, (kept.get(f.cls) ?? 0) + 1);
    }
  });
  const classNames = trainScan.classFolders.filter((c) => {
    if (kept.has(c)) return true;
    warnings.push(
      `class folder ${path.join(trainRoot, c)} has no readable image: class "${c}" dropped`,
    );
    return false;
  });
  needTwo(classNames, trainRoot, "with readable images");
  const classIndex = new Map(classNames.map((c, i) => [c, i]));

  const sizes = new Map<string, number>();
  const layouts = new Map<string, number>();
  const formats = new Map<string, number>();
  let resized = 0;
  let converted = 0;
  let alphaFlattened = 0;
  const trainItems: { file: number; label: number }[] = [];
  const testItems: { file: number; label: number }[] = [];
  const strayTest = new Map<string, number>();
  allFiles.forEach((f, i) => {
    const h = headers[i];
    if (!h || !pixels[i]) return;
    bump(sizes, `${h.width}x${h.height}`);
    bump(layouts, h.layout);
    bump(formats, h.format);
    if (h.width !== width || h.height !== height) resized++;
    if (h.grey !== (channels === 1)) converted++;
    if (h.alpha) alphaFlattened++;
    const isTest = i >= trainScan.files.length;
    const label = f.cls === null ? -1 : classIndex.get(f.cls);
    if (label === undefined) {
      if (isTest) strayTest.set(f.cls!, (strayTest.get(f.cls!) ?? 0) + 1);
      return;
    }
    (isTest ? testItems : trainItems).push({ file: i, label });
  });
  for (const [c, n] of strayTest) {
    warnings.push(
      `${n} image(s) of ${
        path.join(testRoot!, c)
      } ignored: the training folder has no class "${c}"`,
    );
  }
  if (channels === 3 && allGrey && readable.length > 0) {
    warnings.push(
      `every image is grey although some are stored as colour: channels: 1 (--channels 1) ` +
        `would train on 1 channel, 3x faster`,
    );
  }

  // 6. The test set: the test folder, or a seeded stratified split.
  const rng = new Rng(seed);
  let train = trainItems;
  let test = testItems;
  if (testRoot === null) {
    train = trainItems.filter((it) => it.label < 0);
    test = [];
    classNames.forEach((c, label) => {
      const mine = trainItems.filter((it) => it.label === label);
      const n = mine.length;
      const nTest = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * testFraction)));
      if (n < 2) {
        warnings.push(
          `class "${c}" has only ${n} image: it goes to the training set, none to the test set`,
        );
      }
      const perm = rng.fork(`image-folder class ${c}`).permutation(n);
      for (let k = 0; k < n; k++) (k < nTest ? test : train).push(mine[perm[k]]);
    });
  } else {
    for (const c of classNames) {
      if (!testItems.some((it) => classNames[it.label] === c)) {
        warnings.push(`the test folder ${testRoot} has no image of class "${c}"`);
      }
    }
  }
  if (test.length === 0) {
    throw new Error(
      `image folder ${root}: no test image (${
        testRoot
          ? `the test folder ${testRoot} holds none of the training classes`
          : "every class has a single image"
      }); add images`,
    );
  }
  const order = (items: typeof train, label: string) =>
    Array.from(rng.fork(`image-folder ${label} order`).permutation(items.length), (k) => items[k]);
  train = order(train, "train");
  test = order(test, "test");
  const pack = (items: typeof train) => {
    const size = height * width * channels;
    const px = new Uint8Array(items.length * size);
    const labels = new Int32Array(items.length);
    items.forEach((it, k) => {
      px.set(pixels[it.file]!, k * size);
      labels[k] = it.label;
    });
    return { pixels: px, labels };
  };

  const report: ImageFolderReport = {
    root,
    testRoot,
    split: testRoot ? "folder" : "seeded",
    seed,
    testFraction,
    classNames,
    classes: classNames.map((name, c) => ({
      name,
      train: train.filter((it) => it.label === c).length,
      test: test.filter((it) => it.label === c).length,
    })),
    unlabelled: train.filter((it) => it.label < 0).length,
    filesFound: total,
    decoded: pixels.filter((p) => p !== null).length,
    skipped,
    ignored: trainScan.ignored + (testScan?.ignored ?? 0),
    warnings,
    size: [height, width],
    channels,
    fit,
    resized,
    converted,
    alphaFlattened,
    sizes: topCounts(sizes),
    colourLayouts: topCounts(layouts),
    formats: topCounts(formats),
    cache: cacheDir === null ? "off" : "miss",
    seconds: 0,
  };
  const decoded: Decoded = {
    height,
    width,
    channels,
    classNames,
    train: pack(train),
    test: pack(test),
    report,
  };
  if (cacheDir !== null) report.cacheFile = await writeCache(cacheDir, key, decoded);
  report.seconds = (performance.now() - t0) / 1000;
  const name = path.basename(path.resolve(root));
  return {
    train: toDataset(`${name} train`, decoded.train, decoded),
    test: toDataset(`${name} test`, decoded.test, decoded),
    report,
  };
}

/**
 * A few lines for a log or a notebook: what was loaded, the split, how many
 * images were resized or converted, and every file skipped with its reason.
 */
export function formatReport(r: ImageFolderReport): string {
  const trainN = r.classes.reduce((n, c) => n + c.train, 0) + r.unlabelled;
  const testN = r.classes.reduce((n, c) => n + c.test, 0);
  const lines = [
    `${r.root}: ${r.decoded} of ${r.filesFound} files loaded as ${r.size[0]}x${r.size[1]}x` +
    `${r.channels} (${r.fit}), ${r.classNames.length} classes, ${trainN} train` +
    `${r.unlabelled ? ` (${r.unlabelled} unlabelled)` : ""} / ${testN} test ` +
    (r.split === "folder"
      ? `(test folder ${r.testRoot})`
      : `(seeded stratified split, ${Math.round(r.testFraction * 100)}% test, seed ${r.seed})`) +
    `, cache ${r.cache}, ${r.seconds.toFixed(1)} s`,
    `  classes: ${r.classes.map((c) => `${c.name} ${c.train}/${c.test}`).join(", ")}`,
    `  resized ${r.resized}, colour converted ${r.converted}, alpha flattened ${r.alphaFlattened}`,
  ];
  if (r.skipped.length) {
    const reasons = new Map<string, number>();
    for (const s of r.skipped) bump(reasons, s.reason.split(" (")[0]);
    lines.push(
      `  skipped ${r.skipped.length} file(s): ` +
        [...reasons].map(([k, n]) => `${n} ${k}`).join(", "),
    );
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join("\n");
}
