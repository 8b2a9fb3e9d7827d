import { classCounts } from "../../lib/data/dataset.ts";
import {
  loadIdxPair,
  loadMnist,
  loadMnistFromDir,
  MNIST_DATA_DIR,
  MNIST_TEST_CLASS_COUNTS,
  MNIST_TRAIN_CLASS_COUNTS,
} from "../../lib/data/mnist.ts";
import { fileURLToPath } from "node:url";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";
import { makeIdx } from "./idx_helpers.ts";

/** Writes `files` into a fresh temporary folder, runs `fn` with the paths, then removes it. */
async function withFiles(
  files: Record<string, Uint8Array>,
  fn: (paths: Record<string, string>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "idx_test_" });
  try {
    const paths: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(files)) {
      paths[name] = `${dir}/${name}`;
      await Deno.writeFile(paths[name], bytes);
    }
    await fn(paths);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("mnist: loadIdxPair reads a small valid pair, scaled to [0, 1]", async () => {
  const images = makeIdx([3, 2, 2], [0, 255, 51, 102, 0, 0, 0, 0, 255, 255, 255, 255]);
  const labels = makeIdx([3], [7, 0, 9]);
  await withFiles({ "imgs-idx3": images, "lbls-idx1": labels }, async (p) => {
    const ds = await loadIdxPair(p["imgs-idx3"], p["lbls-idx1"], "tiny");
    assertEquals(ds.name, "tiny");
    assertEquals([ds.count, ds.height, ds.width, ds.channels], [3, 2, 2, 1]);
    assertEquals(ds.labels, [7, 0, 9]);
    assert(ds.labels instanceof Int32Array && ds.images instanceof Float32Array);
    assertAlmostEquals(ds.images[1], 1);
    assertAlmostEquals(ds.images[2], 0.2);
    assertAlmostEquals(ds.images[3], 0.4);
    assertEquals(ds.classNames, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    // URLs work as well as paths.
    const again = await loadIdxPair(
      new URL(`file://${p["imgs-idx3"]}`),
      new URL(`file://${p["lbls-idx1"]}`),
      "tiny",
    );
    assertEquals(again.labels, ds.labels);
  });
});

Deno.test("mnist: loadIdxPair names both files when image and label counts differ", async () => {
  const images = makeIdx([3, 1, 1], [1, 2, 3]);
  const labels = makeIdx([2], [1, 2]);
  await withFiles({ "a-images-idx3-ubyte": images, "a-labels-idx1-ubyte": labels }, async (p) => {
    await assertRejects(
      () => loadIdxPair(p["a-images-idx3-ubyte"], p["a-labels-idx1-ubyte"], "mnist train"),
      "a-images-idx3-ubyte has 3 images",
      "a-labels-idx1-ubyte has 2 labels",
    );
  });
});

Deno.test("mnist: loadIdxPair errors name the bad file", async () => {
  const images = makeIdx([2, 1, 1], [1, 2]);
  const labels = makeIdx([2], [1, 2]);
  const badMagic = images.slice();
  badMagic[1] = 0x8b;
  const truncated = images.subarray(0, images.length - 1);
  await withFiles(
    {
      "good-images": images,
      "good-labels": labels,
      "bad-magic-images": badMagic,
      "truncated-images": truncated,
      "label-12": makeIdx([2], [1, 12]),
    },
    async (p) => {
      await assertRejects(
        () => loadIdxPair(p["bad-magic-images"], p["good-labels"], "mnist train"),
        "mnist train bad-magic-images",
        "bad magic number",
      );
      await assertRejects(
        () => loadIdxPair(p["truncated-images"], p["good-labels"], "mnist train"),
        "mnist train truncated-images",
        "truncated data",
      );
      // Swapped files: the images file where labels are expected and vice versa.
      await assertRejects(
        () => loadIdxPair(p["good-labels"], p["good-images"], "mnist test"),
        "mnist test good-labels",
        "3 dimensions",
      );
      await assertRejects(
        () => loadIdxPair(p["good-images"], p["label-12"], "mnist test"),
        "mnist test label-12",
        "label 12 at index 1",
      );
      await assertRejects(
        () => loadIdxPair(p["good-images"] + ".missing", p["good-labels"], "mnist test"),
        "good-images.missing",
        "file not found",
      );
    },
  );
});

Deno.test("mnist: the real dataset has the known shapes, counts and class counts", async () => {
  const { train, test } = await loadMnist();
  assertEquals([train.count, train.height, train.width, train.channels], [60000, 28, 28, 1]);
  assertEquals([test.count, test.height, test.width, test.channels], [10000, 28, 28, 1]);
  assertEquals(train.images.length, 60000 * 784);
  assertEquals(test.images.length, 10000 * 784);
  assertEquals(train.labels.length, 60000);
  assertEquals(classCounts(train), [...MNIST_TRAIN_CLASS_COUNTS]);
  assertEquals(classCounts(test), [...MNIST_TEST_CLASS_COUNTS]);
  assertEquals(classCounts(train), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assertEquals(classCounts(test), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  // The well-known first labels of each file.
  assertEquals(Array.from(train.labels.subarray(0, 5)), [5, 0, 4, 1, 9]);
  assertEquals(Array.from(test.labels.subarray(0, 5)), [7, 2, 1, 0, 4]);

  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of train.images) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  assertEquals([min, max], [0, 1]);
  // MNIST's mean pixel is 0.1307 (the constant of every MNIST normalisation).
  assertAlmostEquals(sum / train.images.length, 0.1307, 0.0005);

  // Cached: a second call returns the very same objects (the files are not read again).
  const again = await loadMnist();
  assert(again.train === train && again.test === test, "loadMnist is not cached");
});

Deno.test("mnist: a missing data folder asks for `deno install`", async () => {
  await assertRejects(
    () => loadMnistFromDir("/nonexistent/mnist-data/data"),
    "/nonexistent/mnist-data/data",
    "deno install",
  );
});

Deno.test("mnist: files of the wrong size or class balance are refused, naming the file", async () => {
  const real = fileURLToPath(MNIST_DATA_DIR);
  const trainLabels = await Deno.readFile(`${real}/train-labels-idx1-ubyte`);
  const relabelled = trainLabels.slice();
  assertEquals(relabelled[8], 5); // the first label
  relabelled[8] = 3;
  await withFiles(
    {
      "train-labels-idx1-ubyte": relabelled,
      "t10k-images-idx3-ubyte": makeIdx([2, 28, 28], new Uint8Array(2 * 784)),
      "t10k-labels-idx1-ubyte": makeIdx([2], [1, 2]),
    },
    async (p) => {
      const dir = p["train-labels-idx1-ubyte"].replace(/[^/]*$/, "");
      await Deno.symlink(`${real}/train-images-idx3-ubyte`, `${dir}train-images-idx3-ubyte`);
      const err = await assertRejects(
        () => loadMnistFromDir(dir),
        "mnist",
      );
      // Both splits are wrong; whichever is reported must name its file and the problem.
      const msg = err.message;
      assert(
        (msg.includes("mnist train train-labels-idx1-ubyte") && msg.includes("images per class") &&
          msg.includes("[5923, 6742, 5958, 6132, 5842, 5420,")) ||
          (msg.includes("mnist test t10k-images-idx3-ubyte") &&
            msg.includes("expected 10000 images of 28x28, got 2")),
        msg,
      );
      // With the test files fixed, only the relabelled training file is left to report.
      await Deno.remove(`${dir}t10k-images-idx3-ubyte`);
      await Deno.remove(`${dir}t10k-labels-idx1-ubyte`);
      await Deno.symlink(`${real}/t10k-images-idx3-ubyte`, `${dir}t10k-images-idx3-ubyte`);
      await Deno.symlink(`${real}/t10k-labels-idx1-ubyte`, `${dir}t10k-labels-idx1-ubyte`);
      await assertRejects(
        () => loadMnistFromDir(dir),
        "mnist train train-labels-idx1-ubyte",
        "images per class [5923, 6742, 5958, 6132, 5842, 5420,",
        "corrupted or not MNIST",
      );
      // And with the real labels back, the folder loads.
      await Deno.writeFile(`${dir}train-labels-idx1-ubyte`, trainLabels);
      const { train, test } = await loadMnistFromDir(dir);
      assertEquals([train.count, test.count], [60000, 10000]);
    },
  );
});

Deno.test("mnist: a small but valid test split is refused for its size", async () => {
  const real = fileURLToPath(MNIST_DATA_DIR);
  await withFiles(
    {
      "t10k-images-idx3-ubyte": makeIdx([2, 28, 28], new Uint8Array(2 * 784)),
      "t10k-labels-idx1-ubyte": makeIdx([2], [1, 2]),
    },
    async (p) => {
      const dir = p["t10k-images-idx3-ubyte"].replace(/[^/]*$/, "");
      for (const f of ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]) {
        await Deno.symlink(`${real}/${f}`, `${dir}${f}`);
      }
      await assertRejects(
        () => loadMnistFromDir(dir),
        "mnist test t10k-images-idx3-ubyte",
        "expected 10000 images of 28x28, got 2 of 28x28",
      );
    },
  );
});
