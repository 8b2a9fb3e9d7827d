import path from "node:path";
import {
  formatReport,
  type ImageFolderOptions,
  loadImageFolder,
} from "../../lib/data/image_folder.ts";
import { findDuplicates } from "../../lib/data/folder_duplicates.ts";
import type { ImageDataset } from "../../lib/data/dataset.ts";
import { assert, assertEquals } from "../assert.ts";
import { makePatternFolder, withTempDir } from "./image_folder_helpers.ts";

const quiet: ImageFolderOptions = { cacheDir: null, quiet: true };

/** True when `ds` holds an image equal to `image`. */
function holds(ds: ImageDataset, image: Float32Array): boolean {
  const n = image.length;
  for (let i = 0; i < ds.count; i++) {
    const img = ds.images.subarray(i * n, (i + 1) * n);
    if (img.every((v, j) => v === image[j])) return true;
  }
  return false;
}

Deno.test("findDuplicates: test files equal to a training file, and copies within training", () => {
  const d = findDuplicates(
    [
      { file: "a/1.png", hash: "h1" },
      { file: "a/2.png", hash: "h2" },
      { file: "b/1-copy.png", hash: "h1" },
      { file: "b/bad.png", hash: null },
    ],
    [
      { file: "a/t1.png", hash: "h2" },
      { file: "a/t2.png", hash: "h9" },
      { file: "b/t3.png", hash: "h1" },
      { file: "b/t4.png", hash: null },
    ],
    1,
  );
  assertEquals(d.testInTrain, 2);
  assertEquals(d.testInTrainExamples, [{ file: "a/t1.png", sameAs: "a/2.png" }], "1 example kept");
  assertEquals(d.withinTrain, 1);
  assertEquals(d.withinTrainExamples, [{ file: "b/1-copy.png", sameAs: "a/1.png" }]);
  assertEquals(findDuplicates([], []).testInTrain, 0);
});

Deno.test("image folder duplicates: a copy split across train and test is reported, loading succeeds", async () => {
  await withTempDir(async (dir) => {
    await makePatternFolder(dir, { perClass: 10, classes: ["disc", "checker"] });
    await Deno.copyFile(path.join(dir, "disc", "0003.png"), path.join(dir, "disc", "copy.png"));
    // Seed 0 (20% test) puts one copy on each side; seed 1 keeps both for training.
    for (const seed of [0, 1]) {
      const r = await loadImageFolder(dir, { ...quiet, seed });
      const { report } = r;
      const shown = [path.join(dir, "disc", "0003.png"), path.join(dir, "disc", "copy.png")];
      if (seed === 0) {
        assertEquals(report.duplicates.testInTrain, 1);
        assertEquals(report.duplicates.withinTrain, 0);
        const [pair] = report.duplicates.testInTrainExamples;
        assertEquals([pair.file, pair.sameAs].sort(), shown);
      } else {
        assertEquals(report.duplicates.testInTrain, 0);
        assertEquals(report.duplicates.withinTrain, 1);
        assertEquals(report.duplicates.withinTrainExamples, [{ file: shown[1], sameAs: shown[0] }]);
      }
      // The pixels agree with the report: the copied image is in both sets for seed 0 only.
      const size = 32 * 32 * 3;
      const both = Array.from({ length: r.train.count }, (_, i) => i).some((i) => {
        const img = r.train.images.slice(i * size, (i + 1) * size);
        return holds(r.test, img);
      });
      assertEquals(both, seed === 0, `seed ${seed}: an image in both sets`);
      const text = formatReport(report);
      const warned = text.includes(
        "1 test image is byte-identical to training images (e.g. disc/",
      ) && text.includes("): test accuracy will be inflated");
      assertEquals(warned, seed === 0, text);
      assertEquals(text.includes("1 training image(s) are byte-identical"), seed === 1, text);
    }
  });
});

Deno.test("image folder duplicates: train/ and test/ folders sharing files; the cache keeps the count", async () => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "images");
    const cacheDir = path.join(dir, "cache");
    await makePatternFolder(path.join(root, "train"), {
      perClass: 4,
      classes: ["disc", "checker"],
    });
    await makePatternFolder(path.join(root, "test"), {
      perClass: 2,
      classes: ["disc", "checker"],
      seed: 2,
    });
    const train = (...p: string[]) => path.join(root, "train", ...p);
    const test = (...p: string[]) => path.join(root, "test", ...p);
    await Deno.copyFile(train("disc", "0001.png"), test("disc", "same.png"));
    await Deno.mkdir(train("unlabeled"));
    await Deno.copyFile(test("checker", "0000.png"), train("unlabeled", "u.png"));
    await Deno.symlink("..", train("disc", "loop"));

    const first = await loadImageFolder(root, { cacheDir, quiet: true });
    assertEquals(first.report.cache, "miss");
    assertEquals([first.train.count, first.test.count], [9, 5]);
    const d = first.report.duplicates;
    assertEquals(d.testInTrain, 2, "one copy of a labelled and one of an unlabelled image");
    assertEquals(d.testInTrainExamples, [
      { file: test("checker", "0000.png"), sameAs: train("unlabeled", "u.png") },
      { file: test("disc", "same.png"), sameAs: train("disc", "0001.png") },
    ]);
    assertEquals(first.report.repeats.count, 1);
    const text = formatReport(first.report);
    assert(
      text.includes(
        "  warning: 2 test images are byte-identical to training images (e.g. " +
          "test/checker/0000.png = train/unlabeled/u.png, test/disc/same.png = " +
          "train/disc/0001.png): test accuracy will be inflated",
      ),
      text,
    );

    const second = await loadImageFolder(root, { cacheDir, quiet: true });
    assertEquals(second.report.cache, "hit");
    assertEquals(second.report.duplicates, first.report.duplicates);
    assertEquals(second.report.repeats, first.report.repeats);
    assertEquals(second.test.images, first.test.images);
  });
});
