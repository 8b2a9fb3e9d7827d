import path from "node:path";
import {
  formatReport,
  type ImageFolderOptions,
  loadImageFolder,
} from "../../lib/data/image_folder.ts";
import { classCounts } from "../../lib/data/dataset.ts";
import { assert, assertEquals } from "../assert.ts";
import { makePatternFolder, withTempDir } from "./image_folder_helpers.ts";

const quiet: ImageFolderOptions = { cacheDir: null, quiet: true };

/** Images per class over both sides, in class order. */
function totals(r: Awaited<ReturnType<typeof loadImageFolder>>): number[] {
  const test = classCounts(r.test);
  return classCounts(r.train).map((n, c) => n + test[c]);
}

Deno.test("image folder links: a loop back up the tree and a second link to a file are read once", async () => {
  await withTempDir(async (dir) => {
    await makePatternFolder(dir, { perClass: 6, classes: ["checker"] }); // checker = "a"
    await makePatternFolder(dir, { perClass: 5, classes: ["disc"], seed: 2 }); // disc = "b"
    await Deno.symlink("..", path.join(dir, "disc", "loop"));
    await Deno.symlink("../checker/0002.png", path.join(dir, "disc", "again.png"));

    const r = await loadImageFolder(dir, quiet);
    assertEquals(r.train.classNames, ["checker", "disc"]);
    assertEquals(totals(r), [6, 5], "every real image once, none through the links");
    assertEquals(r.train.count + r.test.count, 11);
    assertEquals(r.report.filesFound, 11);
    assertEquals(r.report.repeats, {
      count: 2,
      examples: [path.join(dir, "disc", "again.png"), path.join(dir, "disc", "loop")],
    });
    assertEquals(r.report.duplicates.testInTrain, 0, "the linked file is not on both sides");
    assertEquals(r.report.duplicates.withinTrain, 0);
    assertEquals(r.report.warnings, []);
    const text = formatReport(r.report);
    assert(text.includes("skipped 2 repeat(s)") && text.includes("disc/loop"), text);
  });
});

Deno.test("image folder links: real entries win over links, links out of the tree are followed", async () => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "images");
    await makePatternFolder(root, { perClass: 4, classes: ["checker", "disc"] });
    await makePatternFolder(path.join(root, "disc", "sub"), {
      perClass: 3,
      classes: ["disc"],
      seed: 5,
    });
    // "checker" sorts first, but its links must not take disc's sub-folder or files away.
    await Deno.symlink("../disc/sub", path.join(root, "checker", "steal"));
    await Deno.symlink("../disc/0001.png", path.join(root, "checker", "stolen.png"));
    // A folder outside the root, linked in: its images belong to the class linking to it.
    await makePatternFolder(path.join(dir, "elsewhere"), {
      perClass: 2,
      classes: ["checker"],
      seed: 7,
    });
    await Deno.symlink(path.join(dir, "elsewhere", "checker"), path.join(root, "checker", "ext"));
    // A whole class folder that is a link to another one is dropped, with a warning.
    await Deno.symlink("disc", path.join(root, "twin"));

    const r = await loadImageFolder(root, quiet);
    assertEquals(r.train.classNames, ["checker", "disc"]);
    assertEquals(totals(r), [4 + 2, 4 + 3]);
    assertEquals(r.report.repeats.count, 3, "steal, stolen.png, twin");
    const w = r.report.warnings.join("\n");
    assert(w.includes(path.join(root, "twin")) && w.includes('class "twin" dropped'), w);
  });
});

Deno.test("image folder links: loops in a test folder, and links from test into train", async () => {
  await withTempDir(async (dir) => {
    await makePatternFolder(path.join(dir, "train"), { perClass: 5, classes: ["checker", "disc"] });
    await makePatternFolder(path.join(dir, "test"), {
      perClass: 2,
      classes: ["checker", "disc"],
      unlabelled: 1,
      seed: 3,
    });
    await Deno.symlink("../..", path.join(dir, "test", "disc", "up"));
    await Deno.symlink("..", path.join(dir, "test", "unlabeled", "loop"));
    await Deno.symlink("../../train/disc/0000.png", path.join(dir, "test", "disc", "leak.png"));

    const r = await loadImageFolder(dir, quiet);
    assertEquals(r.report.split, "folder");
    assertEquals(r.train.count, 10);
    assertEquals(classCounts(r.test), [2, 2], "the link to a training image is not a test image");
    assertEquals(r.report.repeats.count, 2, "test/disc/up and test/disc/leak.png");
    assertEquals(r.report.duplicates.testInTrain, 0);
    const w = r.report.warnings.join("\n");
    assert(w.includes("1 unlabelled files in the test folder are ignored"), w);
  });
});
