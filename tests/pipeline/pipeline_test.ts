/** The public API on small synthetic data: what each call returns, and what it refuses. */
import * as tf from "@tensorflow/tfjs";
import {
  evaluate,
  fineTune,
  initBackend,
  knn,
  linearProbe,
  pretrain,
  splitLabels,
} from "../../lib/mod.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { ARTICLE_HEAD } from "../../lib/models/heads/head_setting.ts";
import { barDataset } from "../train/train_helpers.ts";

const bars = barDataset;

async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert(e instanceof RangeError, `a RangeError, got ${e}`);
    assert(pattern.test((e as Error).message), (e as Error).message);
    return;
  }
  throw new Error(`expected an error matching ${pattern}`);
}

/** The article's CNN and head, which these tests were written for (the defaults are the modern ones). */
const ARTICLE_MODELS = { backbone: { kind: "article" }, head: ARTICLE_HEAD } as const;
const train = bars(240, 1);
const test = bars(100, 2);

Deno.test({
  name: "pretrain → fineTune (new and kept head) → evaluate, on two separable classes",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const before = tf.memory().numTensors;
    const split = splitLabels(train, { labels: 20, seed: 0 });
    assertEquals([split.labelled.length, split.validation.length], [16, 4]);
    const pre = await pretrain(train, {
      indices: split.unlabelled,
      ...ARTICLE_MODELS,
      augment: { preset: "none" },
      epochs: 2,
      batchSize: 64,
      maxStepsPerEpoch: 2,
    });
    assertEquals(pre.history.length, 2);
    assertEquals([pre.featureDim, pre.numClasses], [32, 2]);
    const encoderWeights = pre.encoder.getWeights().map((w) => w.dataSync().slice());
    const tune = { epochs: 15, classifier: ARTICLE_HEAD, augment: { preset: "none" } } as const;
    const fresh = await fineTune(pre, train, split, { ...tune, head: "new" });
    const kept = await fineTune(pre, train, split, { ...tune, head: "keep" });
    // Fine-tuning copies the pre-trained models: they are unchanged.
    pre.encoder.getWeights().forEach((w, i) => assertEquals(w.dataSync(), encoderWeights[i]));
    for (const model of [fresh, kept]) {
      const r = await evaluate(model, test);
      assert(r.accuracy > 0.9, `bars are easy: ${r.accuracy}`);
      assertEquals(r.predictions.length, 100);
      assertEquals(r.confusion.flat().reduce((a, b) => a + b, 0), 100);
      assertEquals(r.confusion[0][0] + r.confusion[1][1], Math.round(r.accuracy * 100));
      assertEquals(model.result.selectedBy, "validation");
    }
    fresh.dispose();
    kept.dispose();
    pre.dispose();
    assertEquals(tf.memory().numTensors, before, "no tensor leaks");
  },
});

Deno.test({
  name: "head 'keep' needs one output per class: the error names both widths",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const split = splitLabels(train, { labels: 20, seed: 0 });
    const pre = await pretrain(train, {
      indices: split.unlabelled,
      head: { kind: "mlp", hidden: [32], outputDim: 16 },
      augment: { preset: "none" },
      epochs: 1,
      batchSize: 64,
      maxStepsPerEpoch: 1,
    });
    await rejects(
      () => fineTune(pre, train, split, { head: "keep", epochs: 1 }),
      /output width is 16 and the data has 2 classes/,
    );
    await rejects(() => fineTune(null, train, split, { head: "keep" }), /needs a pre-trained/);
    pre.dispose();
  },
});

Deno.test({
  name: "linearProbe and knn on raw pixels (encoder null) separate the bars; the split is seeded",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const split = splitLabels(train, { labels: 20, seed: 3 });
    assertEquals(split, splitLabels(train, { labels: 20, seed: 3 }));
    const capped = splitLabels(train, { labels: 20, seed: 3, maxUnlabelled: 50 });
    assertEquals(capped.unlabelled.length, 50);
    assert(capped.unlabelled.every((i) => split.unlabelled.includes(i)));
    const probe = await linearProbe(null, train, split.labelled, { epochs: 100 });
    const vote = await knn(null, train, split.labelled, { k: 3 });
    for (const model of [probe, vote]) {
      const { accuracy } = await evaluate(model, test);
      assert(accuracy > 0.9, `pixels separate bars: ${accuracy}`);
    }
    probe.dispose();
    assertThrows(
      () => splitLabels(train, { labels: 20, seed: 0, maxUnlabelled: -1 }),
      "maxUnlabelled",
    );
  },
});

Deno.test({
  name:
    "head { layers: k } keeps the first k pre-trained head layers, with their weights, + a new classifier",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const before = tf.memory().numTensors;
    const split = splitLabels(train, { labels: 20, seed: 0 });
    const pre = await pretrain(train, {
      indices: split.unlabelled,
      ...ARTICLE_MODELS,
      augment: { preset: "none" },
      epochs: 1,
      batchSize: 64,
      maxStepsPerEpoch: 2,
    });
    // The article's head has 3 layers (32, 16, classes).
    for (const k of [1, 2]) {
      const m = await fineTune(pre, train, split, { head: { layers: k }, epochs: 0 });
      assertEquals(m.head.layers.length, k + 1);
      for (let i = 0; i < k; i++) {
        const kept = m.head.layers[i].getWeights();
        pre.head.layers[i].getWeights().forEach((w, j) =>
          assertEquals(kept[j].dataSync(), w.dataSync())
        );
      }
      assertEquals(m.head.outputs[0].shape, [null, 2], "a new classifier, one output per class");
      m.dispose();
    }
    await rejects(
      () => fineTune(pre, train, split, { head: { layers: 4 } }),
      /has 3 layers; keep 1 to 3/,
    );
    const tuned = await fineTune(pre, train, split, { head: { layers: 1 }, epochs: 15 });
    assert((await evaluate(tuned, test)).accuracy > 0.9, "it trains");
    tuned.dispose();
    pre.dispose();
    assertEquals(tf.memory().numTensors, before, "no tensor leaks");
  },
});
