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
 * 0.299 R + 0.587 G + 0.114 B). Pixels become floats in [0, 1].
 *
 * **Grey or colour.** The default, `channels: "auto"`, decides from what the
 * images look like, not how they are stored: 1 channel when every image is
 * grey in its pixels — R, G and B equal within `GREY_TOLERANCE` (a mean
 * channel difference of 1.5 levels of 255 and at most 24 at any pixel,
 * enough for grey saved as RGB JPEG, not for a faint tint) — whatever its
 * format, else 3. Images stored as colour are decoded once more for this
 * check (reduced to at most 512 pixels on the longer side); images stored as
 * grey need none. `report.channelChoice` (and a line of `formatReport`)
 * says what was decided and why: how many images are stored as colour, how
 * many have colour, and examples. `channels: 1` or `3` is used as given;
 * with 3 the output pixels are measured too, and a warning suggests 1
 * channel when every image is grey.
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
 * **Links and copies.** Symbolic links are followed, but each real folder and
 * file is read once: a link back up the tree or to a file already found is
 * skipped and counted in `report.repeats`. Test images whose bytes equal a
 * training image's are counted in `report.duplicates` and `formatReport`
 * warns (they inflate test accuracy); copies within the training set are
 * counted too. Neither stops the load.
 *
 * **Cache.** The decoded pixels are cached as raw bytes plus a JSON header in
 * `cacheDir` (default `data/cache/`), keyed by a SHA-256 of the file list
 * (paths, sizes, modification times) and the options: a second load of an
 * unchanged folder reads one file instead of decoding every image. Change,
 * add or remove an image and the key changes. The report is cached with the
 * pixels, so a hit reports the same skipped files, repeats, duplicates and
 * channel choice.
 *
 * Decoding runs `concurrency` (default 8) images at a time and reports its
 * progress to `onProgress`; without one, folders of 500 or more images get a
 * throttled progress line on stderr (`quiet: true` turns it off).
 *
 * The parts live next to this module: `folder_scan.ts` (finding the files),
 * `folder_decode.ts` (sharp), `folder_colour.ts` (grey or colour),
 * `folder_assemble.ts` (classes and datasets),
 * `folder_cache.ts`, `folder_duplicates.ts`, `folder_report.ts` (the report,
 * `formatReport`, `consoleProgress`), and the split in `split.ts`
 * (`stratifiedHoldOut`).
 *
 * @example
 * ```ts
 * import { formatReport, loadImageFolder } from "./image_folder.ts";
 * async function load(folder: string) {
 *   const { train, test, report } = await loadImageFolder(folder, { size: [32, 32] });
 *   console.log(formatReport(report));
 *   return { train, test };
 * }
 * ```
 *
 * @module
 */
import path from "node:path";
import { Rng } from "../rng.ts";
import type { ImageDataset } from "./dataset.ts";
import { stratifiedHoldOut } from "./split.ts";
import { checkFolder, expandHome, findRoots, scanFolders } from "./folder_scan.ts";
import { decodeFiles } from "./folder_decode.ts";
import { GREY_TOLERANCE } from "./folder_colour.ts";
import {
  cacheKey,
  cachePaths,
  type Decoded,
  DEFAULT_CACHE_DIR,
  readCache,
  writeCache,
} from "./folder_cache.ts";
import { findDuplicates } from "./folder_duplicates.ts";
import { collect, type Item, needTwo, packItems, toDataset } from "./folder_assemble.ts";
import { consoleProgress, type ImageFolderReport, type ProgressCallback } from "./folder_report.ts";

export {
  type ChannelChoice,
  type ColourExample,
  consoleProgress,
  type DuplicatePair,
  type DuplicateReport,
  formatReport,
  type ImageFolderReport,
  type ProgressCallback,
  type RepeatReport,
  type SkippedFile,
} from "./folder_report.ts";
export { UNLABELED_FOLDERS } from "./folder_scan.ts";
export { DEFAULT_CACHE_DIR } from "./folder_cache.ts";
export { type ColourSpread, colourSpread, GREY_TOLERANCE, isGrey } from "./folder_colour.ts";

/** Options of {@linkcode loadImageFolder}; every one has a documented default. */
export interface ImageFolderOptions {
  /** Output size [height, width]. Default [32, 32] for 3 channels, [28, 28] for 1. */
  size?: [number, number];
  /** Keep the aspect ratio and crop the centre ("crop", default) or pad with black ("pad"). */
  fit?: "crop" | "pad";
  /** 3 = RGB, 1 = grey; "auto" (default): 1 if every image is grey in its pixels, else 3. */
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

/** What {@linkcode loadImageFolder} returns. */
export interface ImageFolder {
  /** The training set: labelled images and the unlabelled ones (label -1), shuffled. */
  train: ImageDataset;
  /** The test set: labelled images only, shuffled. */
  test: ImageDataset;
  /** What was loaded, converted and skipped. */
  report: ImageFolderReport;
}

/** The default fraction of each class held out for testing. */
export const DEFAULT_TEST_FRACTION = 0.2;

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
  const cacheDir = options.cacheDir === undefined ? DEFAULT_CACHE_DIR : options.cacheDir;
  const name = path.basename(path.resolve(root));

  // 1. Layout: the training root, the test root if there is one, and their files.
  await checkFolder(root, "image folder");
  const { trainRoot, testRoot } = await findRoots(root, options.testDir);
  const scan = await scanFolders(root, trainRoot, testRoot);
  needTwo(scan.train.classFolders, trainRoot, "with files");

  // 2. The cache key: every file's path, size and time, and the options.
  const allFiles = [...scan.train.files, ...(scan.test?.files ?? [])];
  const nTrainFiles = scan.train.files.length;
  const key = await cacheKey({
    trainRoot,
    testRoot,
    files: allFiles,
    options: {
      size: options.size ?? "auto",
      channels: options.channels ?? "auto",
      fit,
      background,
      seed,
      testFraction,
      greyTolerance: GREY_TOLERANCE,
    },
  });
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
        train: toDataset(`${name} train`, hit.train, hit),
        test: toDataset(`${name} test`, hit.test, hit),
        report,
      };
    }
  }

  // 3. Headers and pixels, `concurrency` at a time; unreadable files are skipped.
  const dec = await decodeFiles(allFiles, {
    size: options.size,
    channels: options.channels,
    fit,
    background,
    concurrency: options.concurrency ?? 8,
    progress: options.onProgress ??
      (options.quiet ? () => {} : consoleProgress(`image folder ${root}`)),
  });
  const { height, width, channels } = dec;

  // 4. Classes that kept images; the counts of the report.
  const warnings = [...scan.train.warnings, ...(scan.test?.warnings ?? [])];
  for (const s of dec.skipped) warnings.push(`skipped ${s.file}: ${s.reason}`);
  const { classNames, trainItems, testItems, stats, channelChoice } = collect(
    allFiles,
    nTrainFiles,
    dec,
    scan.train.classFolders,
    trainRoot,
    testRoot,
    warnings,
  );

  // 5. The test set: the test folder, or a seeded stratified split.
  let train = trainItems;
  let test = testItems;
  if (testRoot === null) {
    const held = stratifiedHoldOut(trainItems.map((it) => it.label), {
      testFraction,
      seed,
      classNames,
    });
    held.classes.forEach(({ total }, c) => {
      if (total >= 2) return;
      const what = `class "${classNames[c]}" has only ${total} image`;
      warnings.push(`${what}: it goes to the training set, none to the test set`);
    });
    train = Array.from(held.train, (k) => trainItems[k]);
    test = Array.from(held.test, (k) => trainItems[k]);
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
  const rng = new Rng(seed);
  const order = (items: Item[], label: string) =>
    Array.from(rng.fork(`image-folder ${label} order`).permutation(items.length), (k) => items[k]);
  train = order(train, "train");
  test = order(test, "test");
  const hashed = (items: Item[]) =>
    items.map((it) => it.file).sort((a, b) => a - b)
      .map((i) => ({ file: allFiles[i].shown, hash: dec.hashes[i] }));

  const report: ImageFolderReport = {
    root,
    testRoot,
    split: testRoot ? "folder" : "seeded",
    seed,
    testFraction,
    classNames,
    classes: classNames.map((className, c) => ({
      name: className,
      train: train.filter((it) => it.label === c).length,
      test: test.filter((it) => it.label === c).length,
    })),
    unlabelled: train.filter((it) => it.label < 0).length,
    filesFound: allFiles.length,
    decoded: dec.pixels.filter((p) => p !== null).length,
    skipped: dec.skipped,
    ignored: scan.train.ignored + (scan.test?.ignored ?? 0),
    repeats: { count: scan.repeats.length, examples: scan.repeats.slice(0, 5) },
    duplicates: findDuplicates(hashed(train), hashed(test)),
    warnings,
    size: [height, width],
    channels,
    channelChoice,
    fit,
    ...stats,
    cache: cacheDir === null ? "off" : "miss",
    seconds: 0,
  };
  const decoded: Decoded = {
    height,
    width,
    channels,
    classNames,
    train: packItems(train, dec, allFiles),
    test: packItems(test, dec, allFiles),
    report,
  };
  if (cacheDir !== null) report.cacheFile = await writeCache(cacheDir, key, decoded);
  report.seconds = (performance.now() - t0) / 1000;
  return {
    train: toDataset(`${name} train`, decoded.train, decoded),
    test: toDataset(`${name} test`, decoded.test, decoded),
    report,
  };
}
