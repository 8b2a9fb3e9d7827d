/**
 * The browser page (web/, `deno task serve`) in the system Chromium, headless, with real model
 * files: a tiny model is pre-trained and fine-tuned on MNIST here and exported; the page loads
 * it with tfjs (from node_modules, over loopback), computes h of 120 reference images, labels
 * 2 per class, classifies the rest by kNN, takes 3 images given as PNG files, and shows the
 * nearest neighbours of the first. Every answer must match this side's (lib/eval/knn.ts, the
 * exported model loaded with lib/export/): features, kNN classes, neighbours, the classifier's
 * classes, the accuracy. It saves a screenshot (env `SSL_PAGE_SCREENSHOT=FILE` to keep one;
 * docs/browser_page.png was made so). On CI (`CI` set) a missing Chromium fails the test.
 */
import { join } from "node:path";
import { initBackend, loadDataset, pretrain, splitLabels } from "../../lib/mod.ts";
import { fineTune } from "../../lib/pipeline/fine_tune.ts";
import { subset } from "../../lib/data/dataset.ts";
import { exportModel, loadExportedModel } from "../../lib/export/export_model.ts";
import { imagesToPng } from "../../lib/augment/grid_png.ts";
import { knnClassify, knnNeighbours } from "../../lib/eval/knn.ts";
import { referenceSetOf, startPageServer } from "../../tools/browser/server.ts";
import { launchChromium, openPage, waitFor } from "../../tools/notebooks/chromium.ts";
import { assert, assertEquals } from "../assert.ts";
import { chromiumMissing } from "./jupyter_available.ts";

const onCi = Deno.env.get("CI") !== undefined;

interface Snapshot {
  backend: string;
  dim: number;
  k: number;
  classNames: string[];
  accuracy: number | null;
  classifierAccuracy: number | null;
  items: {
    name: string;
    source: string;
    truth: number;
    given: number | null;
    pred: number | null;
    classifierPred: number | null;
  }[];
  features: number[];
  neighbours: number[];
}

Deno.test({
  name: "browser page: loads an exported model, classifies, and agrees with Deno's predictions",
  ignore: !onCi && chromiumMissing !== undefined,
  async fn() {
    assertEquals(chromiumMissing, undefined, "CI must have Chromium");
    await initBackend();
    const root = await Deno.makeTempDir({ prefix: "ssl-page-" });
    const { train, test } = await loadDataset("mnist");
    // A tiny model: a short pre-training and fine-tune of the default (modern) CNN.
    const split = splitLabels(train, { labels: 100, seed: 0, maxUnlabelled: 1024 });
    const pre = await pretrain(train, {
      indices: split.unlabelled,
      backbone: { kind: "cnn", channels: [8, 8, 16] },
      head: { kind: "mlp", hidden: [32], outputDim: 16 },
      epochs: 1,
      batchSize: 128,
      maxStepsPerEpoch: 4,
    });
    const tuned = await fineTune(pre, train, split, { head: "new", steps: 40, batchSize: 32 });
    const dir = join(root, "model");
    await exportModel(dir, tuned, {
      dataset: "mnist",
      classNames: train.classNames,
      backbone: "cnn:8,8,16",
      classifier: { arm: "ssl_new_head" },
    });
    tuned.dispose();
    pre.dispose();

    const reference = subset(test, Array.from({ length: 120 }, (_, i) => i), "mnist test");
    const dropped = subset(test, [500, 501, 502], "dropped");
    const files: string[] = [];
    for (let i = 0; i < dropped.count; i++) {
      const png = await imagesToPng(dropped.images.subarray(i * 784), 1, 28, 28, 1, {
        columns: 1,
        scale: 1,
        separator: 0,
      });
      files.push(join(root, `digit-${i}.png`));
      await Deno.writeFile(files.at(-1)!, png);
    }
    const server = startPageServer({
      modelDir: dir,
      reference: referenceSetOf(reference, 120, "mnist test"),
    });
    const browser = await launchChromium();
    try {
      const { page, log } = await openPage(browser, { width: 1100, height: 1000 });
      const k = 3;
      await page.goto(`${server.url}?backend=cpu&shots=2&k=${k}`);
      await waitFor(
        page,
        "window.sslPage && (window.sslPage.ready || window.sslPage.error)",
        120_000,
        "the page",
      );
      assertEquals(await page.evaluate("window.sslPage.error"), null, log.errors.join("; "));
      const input = await page.$("#files");
      await input!.uploadFile(...files);
      await waitFor(page, "window.sslPage.items.length === 123", 60_000, "the dropped images");
      const snap = await page.evaluate("window.sslPage.snapshot()") as Snapshot;
      assertEquals(snap.backend, "cpu");
      assertEquals(log.errors, [], "no error in the page");

      // This side: the same exported files, loaded with lib/export/.
      const model = await loadExportedModel(dir, { data: test });
      const images = new Float32Array(123 * 784);
      images.set(reference.images, 0);
      images.set(dropped.images, 120 * 784);
      const { features, dim } = await model.features(images, 123);
      assertEquals(snap.dim, dim);
      let worst = 0;
      features.forEach((v, i) => worst = Math.max(worst, Math.abs(v - snap.features[i])));
      assert(worst < 1e-4, `the page's features differ from Deno's by up to ${worst}`);

      // Labels: 2 per class, the first of each class in the reference set's order.
      const labelled: number[] = [];
      const perClass = new Map<number, number>();
      for (let i = 0; i < 120; i++) {
        const c = reference.labels[i];
        if ((perClass.get(c) ?? 0) < 2) {
          labelled.push(i);
          perClass.set(c, (perClass.get(c) ?? 0) + 1);
        }
      }
      assertEquals(
        snap.items.flatMap((it, i) => it.given === null ? [] : [i]),
        labelled,
        "labelled images",
      );
      const rest = Array.from({ length: 123 }, (_, i) => i).filter((i) => !labelled.includes(i));
      const rows = (idx: number[]) => {
        const out = new Float32Array(idx.length * dim);
        idx.forEach((i, r) => out.set(features.subarray(i * dim, (i + 1) * dim), r * dim));
        return out;
      };
      const denoPred = knnClassify(
        rows(labelled),
        Int32Array.from(labelled, (i) => reference.labels[i]),
        rows(rest),
        dim,
        { k, numClasses: 10 },
      );
      const pagePred = rest.map((i) => snap.items[i].pred);
      assertEquals(pagePred, Array.from(denoPred), "kNN classes: the page vs Deno");
      const right = rest.filter((i, r) => i < 120 && denoPred[r] === reference.labels[i]).length;
      const scored = rest.filter((i) => i < 120).length;
      assert(Math.abs(snap.accuracy! - right / scored) < 1e-12, `accuracy ${snap.accuracy}`);

      // The exported classifier, in the page and here.
      const classes = await model.predict(images, 123);
      assertEquals(snap.items.map((it) => it.classifierPred), Array.from(classes));

      // The nearest neighbours of the first dropped image, among every other image.
      const others = Array.from({ length: 123 }, (_, i) => i).filter((i) => i !== 120);
      const near = knnNeighbours(rows(others), rows([120]), dim, 8);
      assertEquals(snap.neighbours, Array.from(near.indices, (j) => others[j]), "neighbours");
      model.dispose();

      const shot = Deno.env.get("SSL_PAGE_SCREENSHOT") ?? join(root, "page.png");
      await page.screenshot({ path: shot as `${string}.png`, fullPage: false });
      const png = await Deno.readFile(shot);
      assertEquals([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
      console.log(
        `page: ${snap.items.length} images, kNN ${
          ((snap.accuracy ?? 0) * 100).toFixed(1)
        }% with 2 ` +
          `labels a class, classifier ${((snap.classifierAccuracy ?? 0) * 100).toFixed(1)}%; ` +
          `features within ${worst.toExponential(1)}; screenshot ${shot}`,
      );
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(root, { recursive: true });
    }
  },
});
