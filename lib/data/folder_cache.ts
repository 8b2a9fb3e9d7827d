/**
 * The cache of decoded image folders: raw pixel bytes and labels in a `.bin`
 * file plus a JSON header (shapes, class names, the channel choice, the
 * whole load report, so a cache hit reports the same skipped files, repeats,
 * duplicates and channel decision), in
 * `data/cache/` by default. The key is a SHA-256 of the file list (paths,
 * sizes, modification times, classes) and the options: change, add or remove
 * an image and the key changes.
 *
 * @example
 * ```ts
 * import { cacheKey, readCache } from "./folder_cache.ts";
 * const key = await cacheKey({
 *   trainRoot: "/path/to/images",
 *   testRoot: null,
 *   files: [],
 *   options: { fit: "crop", seed: 0 },
 * });
 * const hit = await readCache("/no/such/cache", key); // undefined: decode
 * ```
 *
 * @module
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ChannelChoice, ImageFolderReport } from "./folder_report.ts";
import type { FoundFile } from "./folder_scan.ts";
import { sha256Hex } from "./folder_duplicates.ts";

/** The default cache folder: the repository's `data/cache/`. */
export const DEFAULT_CACHE_DIR: string = fileURLToPath(
  new URL("../../data/cache/", import.meta.url),
);

/**
 * Bumped whenever what is cached changes (2: reports carry repeats and
 * duplicates; 3: "auto" channels are chosen from the pixels and the report
 * carries the channel choice; 4: every image's path).
 */
const CACHE_VERSION = 4;

/** The decoded content of a folder: what the cache stores. */
export interface Decoded {
  height: number;
  width: number;
  channels: 1 | 3;
  classNames: string[];
  /** Pixel bytes, labels and (when known) each image's path, in order. */
  train: { pixels: Uint8Array; labels: Int32Array; paths?: string[] };
  test: { pixels: Uint8Array; labels: Int32Array; paths?: string[] };
  report: ImageFolderReport;
}

interface CacheHeader {
  version: number;
  key: string;
  height: number;
  width: number;
  channels: 1 | 3;
  /** How the channels were chosen (also in the report): a hit decides the same. */
  channelChoice: ChannelChoice;
  classNames: string[];
  trainCount: number;
  testCount: number;
  /** The path of every training and test image, in order. */
  trainPaths?: string[];
  testPaths?: string[];
  report: ImageFolderReport;
}

/** What the cache key covers. */
export interface CacheKeyInput {
  trainRoot: string;
  testRoot: string | null;
  files: readonly FoundFile[];
  /** The options that change the result (size, channels, fit, background, seed, ...). */
  options: Record<string, unknown>;
}

/** The SHA-256 (hex) of the file list and the options. */
export async function cacheKey(k: CacheKeyInput): Promise<string> {
  return await sha256Hex(JSON.stringify({
    version: CACHE_VERSION,
    trainRoot: path.resolve(k.trainRoot),
    testRoot: k.testRoot && path.resolve(k.testRoot),
    files: k.files.map((f) => [f.abs, f.bytes, f.mtime, f.cls]),
    ...k.options,
  }));
}

/** The header and binary file of the entry `key` in `dir`. */
export function cachePaths(dir: string, key: string): { json: string; bin: string } {
  const base = path.join(dir, `image-folder-${key.slice(0, 24)}`);
  return { json: `${base}.json`, bin: `${base}.bin` };
}

/** The cached entry `key`, or undefined when there is none or it is unreadable. */
export async function readCache(dir: string, key: string): Promise<Decoded | undefined> {
  const files = cachePaths(dir, key);
  try {
    const header = JSON.parse(await Deno.readTextFile(files.json)) as CacheHeader;
    if (header.version !== CACHE_VERSION || header.key !== key) return undefined;
    const choice = header.channelChoice;
    if (choice?.channels !== header.channels || header.report?.channels !== header.channels) {
      return undefined; // inconsistent: decode again
    }
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
      train: { pixels: trainPixels, labels: trainLabels, paths: header.trainPaths },
      test: { pixels: testPixels, labels: testLabels, paths: header.testPaths },
      report: { ...header.report, channelChoice: choice },
    };
  } catch {
    return undefined; // no cache, or an unreadable one: decode again
  }
}

/**
 * Writes `d` as the entry `key` in `dir`; returns its header file, or
 * undefined (with a warning naming `dir` in `d.report`) when it cannot.
 */
export async function writeCache(
  dir: string,
  key: string,
  d: Decoded,
): Promise<string | undefined> {
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
      channelChoice: d.report.channelChoice,
      classNames: d.classNames,
      trainCount: d.train.labels.length,
      testCount: d.test.labels.length,
      trainPaths: d.train.paths,
      testPaths: d.test.paths,
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
