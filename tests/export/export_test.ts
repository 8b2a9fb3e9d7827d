/**
 * Exports (lib/export/): the files hold tfjs's standard layers only, which a plain tfjs loads
 * and runs to the same outputs as our models; loading checks the card against the data; the
 * embedding files (.npy, CSV, neighbour page) read back; an export can be made from a
 * pre-training checkpoint and from a fine-tuned arm of the notebooks' cache.
 */
import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initBackend, pretrain } from "../../lib/mod.ts";
import { modernCnn } from "../../lib/models/modern_cnn.ts";
import { batchNorm } from "../../lib/models/batch_norm.ts";
import { dropout } from "../../lib/models/dropout.ts";
import { layerClassNames } from "../../lib/models/standard_layers.ts";
import { resnetBackbone } from "../../lib/models/resnet.ts";
import {
  exportModel,
  loadExportedModel,
  ModelDataMismatch,
} from "../../lib/export/export_model.ts";
import { exportFromCheckpoint } from "../../lib/export/from_checkpoint.ts";
import { embedToFiles, parseNpy } from "../../lib/export/embed.ts";
import { CheckpointError } from "../../lib/train/checkpoint.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { barDataset } from "../train/train_helpers.ts";

/** Layers the tfjs → Keras converter maps to Keras's own (the ones our models use). */
const KERAS_LAYERS = new Set([
  "Sequential",
  "Model",
  "Functional",
  "InputLayer",
  "Conv2D",
  "BatchNormalization",
  "ReLU",
  "Activation",
  "MaxPooling2D",
  "AveragePooling2D",
  "GlobalAveragePooling2D",
  "Flatten",
  "Dense",
  "Dropout",
  "Add",
  "ZeroPadding2D",
]);

/** A classifier head with our BN and dropout: dense → BN → ReLU → dropout → dense. */
function head(inputDim: number, classes: number) {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputDim], units: 12, useBias: false }),
      batchNorm({ name: "head_bn" }),
      tf.layers.reLU(),
      dropout({ rate: 0.3, seed: 1 }),
      tf.layers.dense({ units: classes }),
    ],
  });
}

/** Moves BN's moving statistics away from 0 and 1 (training-mode calls), so they matter. */
function warm(model: tf.LayersModel, shape: number[]) {
  tf.tidy(() => {
    for (let i = 0; i < 3; i++) {
      model.apply(tf.randomUniform([8, ...shape], 0, 1, "float32", i + 1), { training: true });
    }
  });
}

Deno.test("an export holds standard layers only, and a plain tfjs computes what our models do", async () => {
  await initBackend();
  const root = await Deno.makeTempDir({ prefix: "ssl-export-" });
  const encoder = modernCnn({ inputShape: [28, 28, 1], seed: 0 });
  const classifier = head(32, 2);
  try {
    warm(encoder, [28, 28, 1]);
    warm(classifier, [32]);
    const dir = join(root, "model");
    const card = await exportModel(dir, { encoder, classifier }, {
      dataset: "bars",
      classNames: ["left", "right"],
      backbone: "cnn",
      seeds: [0],
      testAccuracy: { ssl_new_head: [0.9] },
      command: "deno task experiment --quick --save-model model",
    });
    assertEquals(card.input, {
      height: 28,
      width: 28,
      channels: 1,
      layout: "NHWC",
      range: [0, 1],
      normalisation: card.input.normalisation,
    });
    assertEquals(card.encoder.featureDim, 32);
    assertEquals(card.classifier?.classes, 2);
    const md = readFileSync(join(dir, "MODEL_CARD.md"), "utf8");
    for (const part of ["bars", "left, right", "28x28", "[0, 1]", "ssl_new_head", "90.0%"]) {
      assert(md.includes(part), `MODEL_CARD.md mentions ${part}`);
    }
    const x = tf.randomUniform([6, 28, 28, 1], 0, 1, "float32", 9);
    for (const [name, model] of [["encoder", encoder], ["classifier", classifier]] as const) {
      const json = JSON.parse(readFileSync(join(dir, name, "model.json"), "utf8"));
      const names = layerClassNames(json.modelTopology);
      assert(names.every((n) => KERAS_LAYERS.has(n)), `${name}: ${names.join(", ")}`);
      // A plain tfjs: tf.loadLayersModel on the files, without our layer classes involved.
      const plain = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: readFileSync(join(dir, name, "weights.bin")).buffer,
      }));
      const input = name === "encoder" ? x : encoder.predict(x) as tf.Tensor;
      const ours = model.predict(input) as tf.Tensor;
      const theirs = plain.predict(input) as tf.Tensor;
      const diff = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0];
      assert(diff < 1e-4, `${name}: a plain tfjs differs by ${diff}`);
      tf.dispose([ours, theirs, ...(input === x ? [] : [input])]);
      plain.dispose();
    }
    // Loaded back with this library: our layers again, the same outputs exactly.
    const before = tf.memory().numTensors;
    const loaded = await loadExportedModel(dir, {
      data: { name: "bars", height: 28, width: 28, channels: 1, classNames: ["left", "right"] },
    });
    const images = x.dataSync() as Float32Array;
    const h = await loaded.features(images, 6);
    const direct = encoder.predict(x) as tf.Tensor;
    assertEquals(Array.from(h.features), Array.from(direct.dataSync()));
    direct.dispose();
    assertEquals((await loaded.predict(images, 6)).length, 6);
    loaded.dispose();
    assertEquals(tf.memory().numTensors, before, "no tensor left behind");
    x.dispose();
  } finally {
    encoder.dispose();
    classifier.dispose();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a ResNet (residual adds, zero-gamma BN) exports to standard layers too", async () => {
  await initBackend();
  const root = await Deno.makeTempDir({ prefix: "ssl-export-" });
  const encoder = resnetBackbone({ inputShape: [16, 16, 3], width: 4, depth: 2, seed: 0 });
  try {
    warm(encoder, [16, 16, 3]);
    await exportModel(join(root, "r"), { encoder }, { dataset: "x", classNames: ["a", "b"] });
    const json = JSON.parse(readFileSync(join(root, "r", "encoder", "model.json"), "utf8"));
    const names = layerClassNames(json.modelTopology);
    assert(names.includes("Add") && names.includes("BatchNormalization"), names.join());
    assert(names.every((n) => KERAS_LAYERS.has(n)), names.join(", "));
    const plain = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: readFileSync(join(root, "r", "encoder", "weights.bin")).buffer,
    }));
    const x = tf.randomUniform([3, 16, 16, 3], 0, 1, "float32", 4);
    const diff = tf.tidy(() =>
      tf.max(tf.abs(tf.sub(encoder.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor)))
        .dataSync()[0]
    );
    assert(diff < 1e-4, `a plain tfjs differs by ${diff}`);
    x.dispose();
    plain.dispose();
  } finally {
    encoder.dispose();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loading checks the card against the data: one line naming the folder and both sides", async () => {
  await initBackend();
  const root = await Deno.makeTempDir({ prefix: "ssl-export-" });
  const encoder = modernCnn({ inputShape: [28, 28, 1], seed: 0 });
  const classifier = head(32, 2);
  const dir = join(root, "model");
  try {
    await exportModel(dir, { encoder, classifier }, { dataset: "bars", classNames: ["l", "r"] });
    const colour = { name: "photos", height: 32, width: 32, channels: 3, classNames: ["l", "r"] };
    await assertRejects(
      () => loadExportedModel(dir, { data: colour }),
      `the model in ${dir} takes 28x28 grey images (1 channel); photos has 32x32 RGB images`,
      "--size 28x28 --channels 1",
    );
    const other = { name: "digits", height: 28, width: 28, channels: 1, classNames: ["0", "1"] };
    await assertRejects(
      () => loadExportedModel(dir, { data: other }),
      "classifies 2 (l, r) classes; digits has 2 (0, 1)",
      "use its encoder only",
    );
    try {
      await loadExportedModel(dir, { data: colour });
    } catch (e) {
      assert(e instanceof ModelDataMismatch);
      assertEquals(e.message.split("\n").length, 1);
    }
    (await loadExportedModel(dir, { data: other, classes: false })).dispose(); // the encoder only
    // A damaged export is the checkpoint's one line.
    const weights = join(dir, "encoder", "weights.bin");
    const bytes = readFileSync(weights);
    bytes[7] ^= 1;
    Deno.writeFileSync(weights, bytes);
    await assertRejects(() => loadExportedModel(dir), "encoder/weights.bin does not match");
    await assertRejects(async () => {
      try {
        await loadExportedModel(dir);
      } catch (e) {
        assert(e instanceof CheckpointError);
        throw e;
      }
    }, "checksum");
  } finally {
    encoder.dispose();
    classifier.dispose();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("embeddings: .npy (float32 [n, d]), CSV rows in order, a neighbour page", async () => {
  await initBackend();
  const root = await Deno.makeTempDir({ prefix: "ssl-embed-" });
  const encoder = modernCnn({ inputShape: [28, 28, 1], seed: 0 });
  try {
    await exportModel(join(root, "m"), { encoder }, { dataset: "bars", classNames: ["l", "r"] });
    const model = await loadExportedModel(join(root, "m"));
    const train = {
      ...barDataset(10, 1),
      paths: Array.from({ length: 10 }, (_, i) => `a,${i}.png`),
    };
    const test = barDataset(4, 2);
    const r = await embedToFiles(
      model.features,
      [
        { split: "train", data: train },
        { split: "test", data: test },
      ],
      join(root, "emb.npy"),
      { spec: "bars", sample: 3, k: 2 },
    );
    assertEquals([r.count, r.dim], [14, 32]);
    const npy = parseNpy(Deno.readFileSync(r.files.npy));
    assertEquals(npy.shape, [14, 32]);
    const direct = await model.features(test.images, 4);
    assertEquals(Array.from(npy.data.subarray(10 * 32)), Array.from(direct.features));
    const csv = Deno.readTextFileSync(r.files.csv).trimEnd().split("\n");
    assertEquals(csv.length, 15);
    assertEquals(csv[0], "index,split,path,label,class");
    assertEquals(csv[1], `0,train,"a,0.png",0,left`);
    assertEquals(csv[11], "10,test,bars:test:0,0,left");
    const html = Deno.readTextFileSync(r.files.html);
    assertEquals((html.match(/<section>/g) ?? []).length, 3);
    assertEquals((html.match(/data:image\/png;base64,/g) ?? []).length, 3 * 3);
    model.dispose();
  } finally {
    encoder.dispose();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an export from a pre-training checkpoint: the encoder and the projection head", async () => {
  await initBackend();
  const root = await Deno.makeTempDir({ prefix: "ssl-export-" });
  const data = barDataset(32, 3);
  try {
    const pre = await pretrain(data, {
      epochs: 1,
      batchSize: 16,
      maxStepsPerEpoch: 1,
      head: { kind: "linear", outputDim: 8 },
      checkpointDir: join(root, "ckpt"),
    });
    const { card, kind } = await exportFromCheckpoint(join(root, "ckpt"), join(root, "out"), {
      test: data,
      dataset: "bars",
      command: "deno task export --from ckpt --out out",
    });
    assertEquals(kind, "pretrain");
    assertEquals(card.dataset.classNames, ["left", "right"]);
    assertEquals(card.projectionHead, "linear:8");
    assertEquals(card.projection?.outputDim, 8);
    assertEquals(card.classifier, undefined);
    const model = await loadExportedModel(join(root, "out"), { data });
    const h = await model.features(data.images, 3);
    const x = tf.tensor4d(data.images.subarray(0, 3 * 784), [3, 28, 28, 1]);
    const direct = pre.encoder.predict(x) as tf.Tensor;
    assertEquals(Array.from(h.features), Array.from(direct.dataSync()));
    tf.dispose([x, direct]);
    model.dispose();
    pre.dispose();
    await assertRejects(
      () => exportFromCheckpoint(join(root, "nothing"), join(root, "o2")),
      "no checkpoint in",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
