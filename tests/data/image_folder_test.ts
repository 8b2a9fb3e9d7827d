import path from "node:path";
import {
  formatReport,
  type ImageFolderOptions,
  loadImageFolder,
} from "../../lib/data/image_folder.ts";
import { loadDataset } from "../../lib/data/load_dataset.ts";
import { classCounts } from "../../lib/data/dataset.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import {
  makePatternFolder,
  patternImage,
  withTempDir,
  writeImage,
} from "./image_folder_helpers.ts";

const quiet: ImageFolderOptions = { cacheDir: null, quiet: true };

Deno.test("image folder: classes from folder names, unlabelled images, seeded stratified split", async () => {
  await withTempDir(async (dir) => {
    await makePatternFolder(dir, { perClass: 10, unlabelled: 3 });
    const { train, test, report } = await loadImageFolder(dir, quiet);
    assertEquals(train.classNames, ["checker", "disc", "stripes-h", "stripes-v"]);
    assertEquals([train.height, train.width, train.channels], [32, 32, 3]);
    assertEquals(test.classNames, train.classNames);
    // 20% of each class of 10 is held out: 2 per class.
    assertEquals(classCounts(test), [2, 2, 2, 2]);
    assertEquals(classCounts(train), [8, 8, 8, 8]);
    assertEquals(train.count, 32 + 3, "unlabelled images go to the training set");
    assertEquals(Array.from(train.labels).filter((l) => l === -1).length, 3);
    assertEquals(report.unlabelled, 3);
    assertEquals(report.split, "seeded");
    assertEquals(report.skipped, []);
    assertEquals(report.warnings, []);
    assertEquals(report.classes[1], { name: "disc", train: 8, test: 2 });
    assert(train.images.every((v) => v >= 0 && v <= 1));

    // The same seed gives the same split and order; another seed another one.
    const again = await loadImageFolder(dir, quiet);
    assertEquals(again.train.labels, train.labels);
    assertEquals(again.train.images, train.images);
    assertEquals(again.test.images, test.images);
    const other = await loadImageFolder(dir, { ...quiet, seed: 1 });
    assert(
      other.test.images.some((v, i) => v !== test.images[i]),
      "seed 1 holds out other images",
    );
    const third = await loadImageFolder(dir, { ...quiet, testFraction: 0.5 });
    assertEquals(classCounts(third.test), [5, 5, 5, 5]);
  });
});

Deno.test("image folder: bad files are skipped and named, the rest is loaded", async () => {
  await withTempDir(async (dir) => {
    await makePatternFolder(dir, { perClass: 6, classes: ["disc", "checker"] });
    const png = await Deno.readFile(path.join(dir, "disc", "0000.png"));
    await Deno.writeFile(path.join(dir, "disc", "truncated.png"), png.slice(0, png.length - 40));
    const big = patternImage("disc", 128, 128, new Rng(3));
    await writeImage(path.join(dir, "disc", "whole.jpg"), big, 128, 128, 3);
    const jpg = await Deno.readFile(path.join(dir, "disc", "whole.jpg"));
    await Deno.remove(path.join(dir, "disc", "whole.jpg"));
    await Deno.writeFile(path.join(dir, "checker", "cut.jpg"), jpg.slice(0, jpg.length * 0.6));
    await Deno.writeTextFile(path.join(dir, "checker", "notes.txt"), "not a picture");
    await Deno.writeFile(path.join(dir, "checker", ".DS_Store"), new Uint8Array([0, 1, 2]));
    await Deno.writeFile(path.join(dir, "disc", "._0000.png"), new Uint8Array([0, 5]));
    await Deno.mkdir(path.join(dir, "empty-class"));
    await Deno.writeTextFile(path.join(dir, "README.txt"), "a file in the root");

    const { train, test, report } = await loadImageFolder(dir, quiet);
    assertEquals(train.classNames, ["checker", "disc"], "the empty class is dropped");
    assertEquals(train.count + test.count, 12, "every good image is kept");
    assertEquals(report.decoded, 12);
    assertEquals(report.filesFound, 15);
    assertEquals(report.ignored, 2, ".DS_Store and ._0000.png are ignored silently");
    const skipped = Object.fromEntries(report.skipped.map((s) => [path.basename(s.file), s]));
    assertEquals(Object.keys(skipped).sort(), ["cut.jpg", "notes.txt", "truncated.png"]);
    assert(skipped["notes.txt"].reason.startsWith("not an image"), skipped["notes.txt"].reason);
    assert(skipped["truncated.png"].reason.startsWith("corrupt or truncated image"));
    assert(skipped["cut.jpg"].reason.startsWith("corrupt or truncated image"));
    assertEquals(skipped["cut.jpg"].file, path.join(dir, "checker", "cut.jpg"), "full path");
    const warnings = report.warnings.join("\n");
    assert(warnings.includes(path.join(dir, "empty-class")) && warnings.includes("dropped"));
    assert(warnings.includes(path.join(dir, "README.txt")), "the loose file is named");
    for (const f of ["cut.jpg", "notes.txt", "truncated.png"]) assert(warnings.includes(f), f);
    assert(!warnings.includes("DS_Store"), "hidden files are not reported");
    const text = formatReport(report);
    assert(text.includes("skipped 3 file(s): 2 corrupt or truncated image, 1 not an image"), text);
  });
});

Deno.test("image folder: a class whose every file is unreadable is dropped; fewer than 2 classes is an error", async () => {
  await withTempDir(async (dir) => {
    await makePatternFolder(dir, { perClass: 4, classes: ["disc", "checker"] });
    await Deno.mkdir(path.join(dir, "broken"));
    await Deno.writeTextFile(path.join(dir, "broken", "a.png"), "not a png");
    const { train, report } = await loadImageFolder(dir, quiet);
    assertEquals(train.classNames, ["checker", "disc"]);
    assert(
      report.warnings.some((w) => w.includes(path.join(dir, "broken")) && w.includes("dropped")),
    );

    await Deno.remove(path.join(dir, "checker"), { recursive: true });
    const err = await assertRejects(
      () => loadImageFolder(dir, quiet),
      dir,
      "at least 2 classes",
      "with readable images",
    );
    assert(err.message.includes('"disc"'), err.message);
  });
  await withTempDir(async (dir) => {
    await makePatternFolder(dir, { perClass: 4, classes: ["disc"], unlabelled: 4 });
    await assertRejects(
      () => loadImageFolder(dir, quiet),
      `image folder ${dir}`,
      '1 class folder(s) with files ("disc")',
      "at least 2 classes",
    );
  });
});

Deno.test("image folder: a missing path or a file is an error naming it; bad options too", async () => {
  await assertRejects(
    () => loadImageFolder("/no/such/folder/anywhere", quiet),
    '"/no/such/folder/anywhere" does not exist',
  );
  await assertRejects(
    () => loadDataset("folder:/no/such/folder/anywhere"),
    "/no/such/folder/anywhere",
  );
  await assertRejects(() => loadDataset("folder:"), "give the folder");
  await withTempDir(async (dir) => {
    const file = path.join(dir, "x.png");
    await writeImage(file, new Uint8Array(16), 4, 4, 1);
    await assertRejects(() => loadImageFolder(file, quiet), file, "is a file, not a folder");
    await assertRejects(() => loadImageFolder(dir, { size: [0, 3] }), "size");
    // deno-lint-ignore no-explicit-any
    await assertRejects(() => loadImageFolder(dir, { fit: "stretch" as any }), "fit");
    // deno-lint-ignore no-explicit-any
    await assertRejects(() => loadImageFolder(dir, { channels: 2 as any }), "channels");
    await assertRejects(() => loadImageFolder(dir, { testFraction: 1 }), "testFraction");
    await assertRejects(
      () => loadImageFolder(dir, { ...quiet, testDir: path.join(dir, "nope") }),
      "test folder",
      "does not exist",
    );
  });
});

Deno.test("image folder: mixed sizes, formats and channel counts are resized and converted", async () => {
  await withTempDir(async (dir) => {
    const rng = new Rng(5);
    await makePatternFolder(dir, { perClass: 3, classes: ["disc", "checker"] });
    const a = path.join(dir, "disc");
    await writeImage(path.join(a, "grey.png"), new Uint8Array(20 * 20).fill(77), 20, 20, 1);
    await writeImage(path.join(a, "wide.jpg"), patternImage("disc", 24, 60, rng), 24, 60, 3);
    await writeImage(path.join(a, "anim.gif"), patternImage("disc", 32, 32, rng), 32, 32, 3);
    // Fully transparent RGBA: flattened onto white by default, black on request.
    const clear = new Uint8Array(16 * 16 * 4);
    await writeImage(path.join(a, "clear.png"), clear, 16, 16, 4);
    const b = path.join(dir, "checker");
    await writeImage(path.join(b, "photo.webp"), patternImage("checker", 40, 30, rng), 40, 30, 3);
    await writeImage(path.join(b, "scan.tiff"), patternImage("checker", 32, 32, rng), 32, 32, 3);

    const { train, test, report } = await loadImageFolder(dir, { ...quiet, testFraction: 0.01 });
    assertEquals(report.decoded, 12);
    assertEquals(report.channels, 3);
    assertEquals(report.resized, 4, "grey 20x20, wide 60x24, clear 16x16, photo 30x40");
    assertEquals(report.converted, 1, "the grey image became RGB");
    assertEquals(report.alphaFlattened, 1);
    assertEquals(report.colourLayouts, { rgb: 10, grey: 1, rgba: 1 });
    for (const f of ["png", "jpeg", "gif", "webp", "tiff"]) assert(report.formats[f] > 0, f);
    assertEquals(report.sizes["32x32"], 8);
    const all = [train, test];
    const find = (value: number) =>
      all.some((ds) =>
        Array.from({ length: ds.count }, (_, i) => i).some((i) =>
          ds.images.subarray(i * 3072, (i + 1) * 3072).every((v) => v === value)
        )
      );
    assert(find(Math.fround(77 / 255)), "the grey image, as RGB with three equal channels");
    assert(find(1), "the transparent image, flattened onto white");
    const black = await loadImageFolder(dir, { ...quiet, background: "black", testFraction: 0.01 });
    assert(
      [black.train, black.test].some((ds) =>
        Array.from({ length: ds.count }, (_, i) => i).some((i) =>
          ds.images.subarray(i * 3072, (i + 1) * 3072).every((v) => v === 0)
        )
      ),
      "flattened onto black",
    );

    // Grey output: luma of the RGB images; the grey image keeps its value exactly.
    const grey = await loadImageFolder(dir, { ...quiet, channels: 1, size: [28, 20] });
    assertEquals([grey.train.height, grey.train.width, grey.train.channels], [28, 20, 1]);
    assertEquals(grey.report.converted, 11);
  });
});

Deno.test("image folder: crop keeps the centre, pad letterboxes with black", async () => {
  await withTempDir(async (dir) => {
    // 40 wide x 10 high: white middle half, grey sides.
    const px = new Uint8Array(10 * 40);
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 40; x++) px[y * 40 + x] = x >= 10 && x < 30 ? 255 : 100;
    }
    for (const c of ["a", "b"]) {
      for (let i = 0; i < 2; i++) await writeImage(path.join(dir, c, `${i}.png`), px, 10, 40, 1);
    }
    const crop = await loadImageFolder(dir, { ...quiet, size: [8, 8] });
    assertEquals(crop.train.channels, 1, "every image is grey: channels auto = 1");
    const img = crop.train.images.subarray(0, 64);
    assert(img.every((v) => v > 0.95), "the centre crop of the white middle is white");
    const pad = await loadImageFolder(dir, { ...quiet, size: [8, 8], fit: "pad" });
    const p = pad.train.images.subarray(0, 64);
    // 40x10 scaled into 8x8 -> 8x2 picture; rows 0-2 and 5-7 are black padding.
    for (const row of [0, 1, 2, 5, 6, 7]) {
      assert(p.subarray(row * 8, row * 8 + 8).every((v) => v === 0), `row ${row} is padding`);
    }
    assert(p.subarray(24, 40).some((v) => v > 0.3), "the picture is in the middle rows");
  });
});

Deno.test("image folder: a second load is a cache hit with equal data; a changed file misses", async () => {
  await withTempDir(async (dir) => {
    const images = path.join(dir, "images");
    const cacheDir = path.join(dir, "cache");
    await makePatternFolder(images, { perClass: 8, classes: ["disc", "checker"], unlabelled: 2 });
    await Deno.writeTextFile(path.join(images, "disc", "bad.png"), "oops");
    const first = await loadImageFolder(images, { cacheDir, quiet: true });
    assertEquals(first.report.cache, "miss");
    assert(first.report.cacheFile?.startsWith(cacheDir), "the cache file is in cacheDir");
    const second = await loadImageFolder(images, { cacheDir, quiet: true });
    assertEquals(second.report.cache, "hit");
    for (const part of ["train", "test"] as const) {
      assertEquals(second[part].images, first[part].images, `${part} images`);
      assertEquals(second[part].labels, first[part].labels, `${part} labels`);
      assertEquals(second[part].classNames, first[part].classNames);
      assertEquals(second[part].name, first[part].name);
    }
    assertEquals(second.report.skipped, first.report.skipped, "the report is cached too");
    assertEquals(second.report.warnings, first.report.warnings);
    // Other options, another entry.
    assertEquals(
      (await loadImageFolder(images, { cacheDir, quiet: true, size: [16, 16] }))
        .report.cache,
      "miss",
    );
    // A new image changes the file list: decoded again.
    await writeImage(
      path.join(images, "disc", "new.png"),
      patternImage("disc", 32, 32, new Rng(9)),
      32,
      32,
      3,
    );
    const third = await loadImageFolder(images, { cacheDir, quiet: true });
    assertEquals(third.report.cache, "miss");
    assertEquals(third.report.decoded, first.report.decoded + 1);
  });
});

Deno.test("image folder: a separate test folder, given or as train/ + test/", async () => {
  await withTempDir(async (dir) => {
    const trainDir = path.join(dir, "train");
    const testDir = path.join(dir, "test");
    await makePatternFolder(trainDir, { perClass: 5, classes: ["disc", "checker"], seed: 1 });
    await makePatternFolder(testDir, {
      perClass: 2,
      classes: ["disc", "stripes-h"],
      unlabelled: 2,
      seed: 2,
    });
    for (
      const r of [
        await loadImageFolder(dir, quiet),
        await loadImageFolder(trainDir, { ...quiet, testDir }),
      ]
    ) {
      assertEquals(r.report.split, "folder");
      assertEquals(r.train.count, 10, "the whole training folder trains");
      assertEquals(r.test.count, 2, "disc test images only");
      assertEquals(classCounts(r.test), [0, 2]);
      const w = r.report.warnings.join("\n");
      assert(w.includes("stripes-h") && w.includes("no class"), w);
      assert(w.includes('no image of class "checker"'), w);
      assert(w.includes("unlabelled files in the test folder are ignored"), w);
    }
  });
});

Deno.test("image folder: 2,000 small images load with progress, and the report times the load", async () => {
  await withTempDir(async (dir) => {
    const n = 2000;
    for (let start = 0; start < n; start += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => {
        const i = start + k;
        const px = new Uint8Array(64).map((_, j) => (i * 7 + j * 13) % 256);
        return writeImage(path.join(dir, `class${i % 4}`, `${i}.png`), px, 8, 8, 1);
      }));
    }
    const calls: [number, number, string][] = [];
    const t0 = performance.now();
    const { train, test, report } = await loadImageFolder(dir, {
      cacheDir: null,
      onProgress: (done, total, phase) => calls.push([done, total, phase]),
    });
    const seconds = (performance.now() - t0) / 1000;
    assertEquals(train.count + test.count, n);
    assertEquals(test.count, 400);
    assertEquals([train.height, train.width, train.channels], [28, 28, 1], "grey defaults");
    assertEquals(calls.length, 2 * n, "one call per file and phase");
    assertEquals(calls.at(-1), [n, n, "decoding"]);
    assert(calls.every(([, total]) => total === n));
    // The report's time is the load's own: within the time measured around the call.
    assert(report.seconds > 0 && report.seconds <= seconds, `${report.seconds} vs ${seconds}`);
  });
});

Deno.test("loadDataset('folder:<path>', options) loads an image folder", async () => {
  await withTempDir(async (dir) => {
    await makePatternFolder(dir, { perClass: 5, classes: ["disc", "checker"] });
    const { train, test, report } = await loadDataset(`folder:${dir}`, {
      ...quiet,
      size: [16, 16],
      channels: 1,
    });
    assertEquals([train.height, train.width, train.channels], [16, 16, 1]);
    assertEquals(train.count + test.count, 10);
    assertEquals(report?.root, dir);
    // folder:~/... is the home folder (shells leave a "~" after "folder:" alone).
    const home = Deno.env.get("HOME");
    Deno.env.set("HOME", path.dirname(dir));
    try {
      const r = await loadDataset(`folder:~/${path.basename(dir)}`, quiet);
      assertEquals(r.report?.root, dir);
    } finally {
      if (home === undefined) Deno.env.delete("HOME");
      else Deno.env.set("HOME", home);
    }
  });
});
