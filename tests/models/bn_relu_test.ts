/**
 * BN and its ReLU as one layer (`batchNorm({ relu: true })`, what the ResNet uses since issue 22),
 * and a block's end, `relu(BN(x) + residual)`, as one layer too (`residual: true`): a training
 * step of the ResNet in training mode gives, on wasm and on cpu, the same loss, weights and moving
 * statistics as the ResNet of before (each BN followed by a separate ReLU layer, each block ending
 * in an Add and a ReLU layer); checkpoints of before load; the export splits the layers into
 * tfjs's standard ones.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { ntXentLoss } from "../../lib/loss/ntxent.ts";
import { type BatchNorm, batchNorm } from "../../lib/models/batch_norm.ts";
import { BN_RESIDUAL_FUSED } from "../../lib/kernels/batch_norm_wasm.ts";
import { articleHead } from "../../lib/models/heads/projection_heads.ts";
import { resnetBackbone } from "../../lib/models/resnet.ts";
import {
  fromStandardTopology,
  layerClassNames,
  toStandardTopology,
} from "../../lib/models/standard_layers.ts";
import { loadModel, saveModel } from "../../lib/train/checkpoint.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError } from "../numeric.ts";

const SHAPE: [number, number, number] = [16, 16, 3];

/**
 * The ResNet as it was before issue 22: every BN + ReLU layer split into BN and a ReLU layer, every
 * block's end into BN, Add and ReLU, the Add's inputs in the order of before (the branch, then the
 * skip: the weights then come in the order of before too).
 */
async function splitResnet(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = fromStandardTopology(toStandardTopology(model.toJSON(null, false) as object));
  type Layer = { class_name: string; inbound_nodes: [string, ...unknown[]][][] };
  for (const layer of (topology.config as { layers: Layer[] }).layers) {
    if (layer.class_name !== "Add") continue;
    const branchFirst = (refs: [string, ...unknown[]][]) =>
      [...refs].sort((a, b) => Number(b[0].includes("_conv2")) - Number(a[0].includes("_conv2")));
    layer.inbound_nodes = layer.inbound_nodes.map(branchFirst);
  }
  const split = await tf.models.modelFromJSON({
    modelTopology: topology as tf.io.ModelJSON["modelTopology"],
  });
  split.setWeights(model.getWeights());
  return split;
}

/** Non-zero weights everywhere (gamma of the zero-init BNs too), so every layer matters. */
function randomise(model: tf.LayersModel, seed: number): void {
  tf.tidy(() =>
    model.setWeights(
      model.getWeights().map((w, i) => {
        const v = randomArray(w.size, seed + i);
        const positive = model.weights[i].name.includes("variance");
        return tf.tensor(positive ? v.map((a) => 1 + 0.5 * a) : v, w.shape);
      }),
    )
  );
}

/** One SGD step in training mode: [loss, backbone weights after it (moving statistics included)]. */
async function trainingStep(backbone: tf.LayersModel): Promise<Float32Array[]> {
  const head = articleHead(8, 8);
  tf.tidy(() =>
    head.setWeights(
      head.getWeights().map((w, i) => tf.tensor(randomArray(w.size, 90 + i), w.shape)),
    )
  );
  const x = tf.tensor4d(randomArray(8 * 16 * 16 * 3, 5), [8, ...SHAPE]);
  const { value, grads } = tf.variableGrads(() => {
    const z = head.apply(backbone.apply(x, { training: true }), { training: true }) as tf.Tensor2D;
    const [a, b] = tf.split(z, 2, 0) as tf.Tensor2D[];
    return ntXentLoss(a, b, 0.5);
  });
  const sgd = tf.train.sgd(0.1);
  sgd.applyGradients(grads);
  const out = [value, ...backbone.getWeights()];
  const data = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([value, x, ...Object.values(grads)]);
  sgd.dispose();
  head.dispose();
  return data;
}

Deno.test("a ResNet training step with BN + ReLU layers equals the split layers', on wasm and cpu", async () => {
  await initBackend("wasm");
  const results: Record<string, Float32Array[]> = {};
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    // "fused, three passes": the fused layers with BN_RESIDUAL_FUSED off (BN, add, ReLU).
    for (const kind of ["fused", "fused, three passes", "split"]) {
      const fused = resnetBackbone({ inputShape: SHAPE, width: 4, depth: 2, seed: 3 });
      randomise(fused, 40);
      const model = kind === "split" ? await splitResnet(fused) : fused;
      if (kind === "split") {
        fused.dispose();
        assertEquals(model.layers.filter((l) => l.getClassName() === "ReLU").length, 5);
        assertEquals(model.layers.filter((l) => l.getClassName() === "Add").length, 2);
      } else {
        assertEquals(model.layers.filter((l) => (l as BatchNorm).relu === true).length, 5);
        assertEquals(model.layers.filter((l) => (l as BatchNorm).residual === true).length, 2);
      }
      BN_RESIDUAL_FUSED.enabled = kind !== "fused, three passes";
      results[`${backend} ${kind}`] = await trainingStep(model).finally(() => {
        BN_RESIDUAL_FUSED.enabled = true;
      });
      model.dispose();
    }
    assertEquals(tf.memory().numTensors, before, `${backend}: no tensor left behind`);
  }
  await tf.setBackend("wasm");
  const ref = results["cpu split"];
  for (const [name, got] of Object.entries(results)) {
    ref.forEach((r, i) => {
      const err = relativeError(r, got[i]);
      assert(err < 1e-4, `${name}, tensor ${i}: relative error ${err} against cpu split`);
    });
  }
  // The moving statistics moved (training mode: weight i was randomArray(·, 40 + i)).
  const probe = resnetBackbone({ inputShape: SHAPE, width: 4, depth: 2 });
  const mean = probe.weights.findIndex((w) => /moving_mean(_\d+)?$/.test(w.name));
  probe.dispose();
  assert(mean > 0);
  assert(relativeError(randomArray(ref[mean + 1].length, 40 + mean), ref[mean + 1]) > 1e-3);
});

Deno.test("a checkpoint of a ResNet with separate ReLU layers loads, and its weights fit the new one", async () => {
  await initBackend("wasm");
  const now = resnetBackbone({ inputShape: SHAPE, width: 4, depth: 2, seed: 1 });
  randomise(now, 60);
  const old = await splitResnet(now);
  const dir = await Deno.makeTempDir();
  try {
    await saveModel(old, dir);
    const loaded = await loadModel(dir);
    const fresh = resnetBackbone({ inputShape: SHAPE, width: 4, depth: 2, seed: 2 });
    const names = (m: tf.LayersModel) => m.weights.map((w) => w.name.replace(/_\d+$/, ""));
    assertEquals(names(fresh), names(loaded));
    fresh.setWeights(loaded.getWeights());
    const x = tf.tensor4d(randomArray(2 * 16 * 16 * 3, 3), [2, ...SHAPE]);
    const [a, b] = [loaded.predict(x) as tf.Tensor, fresh.predict(x) as tf.Tensor];
    assert(relativeError(await a.data() as Float32Array, await b.data() as Float32Array) < 1e-6);
    tf.dispose([x, a, b]);
    loaded.dispose();
    fresh.dispose();
  } finally {
    old.dispose();
    now.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the export splits BN + ReLU into BatchNormalization and ReLU, wherever its output goes", async () => {
  await initBackend("wasm");
  // The BN + ReLU's output feeds two layers and is a model output too.
  const input = tf.input({ shape: [4, 4, 4] });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", name: "c" });
  const y = batchNorm({ name: "b", relu: true }).apply(conv.apply(input)) as tf.SymbolicTensor;
  const p = tf.layers.globalAveragePooling2d({ name: "p" }).apply(y) as tf.SymbolicTensor;
  const q = tf.layers.globalMaxPooling2d({ name: "q" }).apply(y) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [p, y, q] });
  randomise(model, 10);
  const ours = model.toJSON(null, false) as object;
  assert(JSON.stringify(ours).includes('"relu":true'));
  const standard = toStandardTopology(ours);
  assertEquals(layerClassNames(standard), [
    "InputLayer",
    "Conv2D",
    "BatchNormalization",
    "ReLU",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "Model",
  ]);
  assert(!JSON.stringify(standard).includes('"relu":true'));
  const plain = await tf.models.modelFromJSON({
    modelTopology: standard as tf.io.ModelJSON["modelTopology"],
  });
  plain.setWeights(model.getWeights());
  const x = tf.randomNormal([2, 4, 4, 4], 0, 1, "float32", 1);
  const a = model.predict(x) as tf.Tensor[];
  const b = plain.predict(x) as tf.Tensor[];
  for (let i = 0; i < 3; i++) {
    const err = relativeError(await a[i].data() as Float32Array, await b[i].data() as Float32Array);
    assert(err < 1e-5, `output ${i}: a plain tfjs differs by ${err}`);
  }
  assert((await a[1].data()).some((v) => v === 0), "the ReLU cut something");
  // A layer without `relu` keeps its topology as before (no `relu` key).
  assertEquals("relu" in batchNorm({}).getConfig(), false);
  tf.dispose([x, ...a, ...b]);
  plain.dispose();
  model.dispose();
});

Deno.test("the export splits BN + residual + ReLU into BatchNormalization, Add and ReLU", async () => {
  await initBackend("wasm");
  // relu(BN(conv(x)) + x), whose output feeds a pooling layer and is a model output too.
  const input = tf.input({ shape: [4, 4, 4] });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", name: "c" });
  const y = batchNorm({ name: "b", relu: true, residual: true })
    .apply([conv.apply(input) as tf.SymbolicTensor, input]) as tf.SymbolicTensor;
  const p = tf.layers.globalAveragePooling2d({ name: "p" }).apply(y) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [p, y] });
  randomise(model, 20);
  const standard = toStandardTopology(model.toJSON(null, false) as object);
  assertEquals(layerClassNames(standard), [
    "InputLayer",
    "Conv2D",
    "BatchNormalization",
    "Add",
    "ReLU",
    "GlobalAveragePooling2D",
    "Model",
  ]);
  assert(!JSON.stringify(standard).includes('"residual":true'));
  const plain = await tf.models.modelFromJSON({
    modelTopology: standard as tf.io.ModelJSON["modelTopology"],
  });
  plain.setWeights(model.getWeights());
  const x = tf.randomNormal([2, 4, 4, 4], 0, 1, "float32", 2);
  // Inference (moving statistics) and training mode (the batch's: the fused kernel on wasm).
  const outputs = [model.predict(x), plain.predict(x)] as tf.Tensor[][];
  const trained = [model, plain].map((m) => m.apply(x, { training: true }) as tf.Tensor[]);
  for (const [a, b] of [outputs, trained]) {
    for (let i = 0; i < 2; i++) {
      const err = relativeError(
        await a[i].data() as Float32Array,
        await b[i].data() as Float32Array,
      );
      assert(err < 1e-5, `output ${i}: a plain tfjs differs by ${err}`);
    }
  }
  assert((await outputs[0][1].data()).some((v) => v === 0), "the ReLU cut something");
  assertEquals("residual" in batchNorm({ relu: true }).getConfig(), false);
  tf.dispose([x, ...outputs.flat(), ...trained.flat()]);
  plain.dispose();
  model.dispose();
});
