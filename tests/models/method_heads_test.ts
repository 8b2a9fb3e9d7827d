import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { barlowTwinsLoss } from "../../lib/loss/barlow_twins.ts";
import { vicregLoss } from "../../lib/loss/vicreg.ts";
import {
  byolPredictor,
  predictionBlocks,
  simsiamPredictor,
  wideProjector,
  wideProjectorBlocks,
} from "../../lib/models/heads/method_heads.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

/** Parameters of a dense layer without bias followed by our batch norm (gamma, beta, moving mean and variance). */
const denseBn = (inputs: number, units: number) => inputs * units + 4 * units;
/** Parameters of a dense layer with bias. */
const dense = (inputs: number, units: number) => inputs * units + units;

Deno.test("prediction heads: d → hidden → d, BN and ReLU in the middle, the papers' widths by default", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const q = byolPredictor({ dim: 8, hidden: 32, seed: 0 });
  assertEquals(q.name, "predictor_byol");
  assertEquals(q.outputs[0].shape, [null, 8]);
  assertEquals(q.countParams(), denseBn(8, 32) + dense(32, 8));
  assertEquals(q.layers.map((l) => l.getClassName()), [
    "Dense",
    "SslBatchNorm",
    "Activation",
    "Dense",
  ]);
  const h = simsiamPredictor({ dim: 16, bottleneck: 4, seed: 0 });
  assertEquals(h.name, "predictor_simsiam");
  assertEquals(h.outputs[0].shape, [null, 16]);
  assertEquals(h.countParams(), denseBn(16, 4) + dense(4, 16));
  // The defaults: BYOL's 256 → 4096 → 256 and SimSiam's 2048 → 512 → 2048.
  const byol = byolPredictor();
  assertEquals(byol.countParams(), denseBn(256, 4096) + dense(4096, 256));
  assertEquals(byol.outputs[0].shape, [null, 256]);
  byol.dispose();
  assertEquals(predictionBlocks(2048, 512), [
    { units: 512, batchNorm: true, activation: "relu" },
    { units: 2048 },
  ]);
  const simsiam = simsiamPredictor();
  assertEquals(simsiam.countParams(), denseBn(2048, 512) + dense(512, 2048));
  simsiam.dispose();
  const x = tf.randomNormal([5, 8], 0, 1, "float32", 1);
  const y = q.apply(x, { training: true }) as tf.Tensor;
  assertEquals(y.shape, [5, 8]);
  assert(y.dataSync().every(Number.isFinite), "finite outputs");
  assertThrows(() => byolPredictor({ dim: 8, hidden: 0 }), "positive integer width");
  tf.dispose([x, y]);
  q.dispose();
  h.dispose();
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("the wide projector: depth - 1 BN-ReLU blocks of `width`, then a linear one", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const g = wideProjector({ inputDim: 8, width: 24, seed: 0 });
  assertEquals(g.name, "projector_wide");
  assertEquals(g.outputs[0].shape, [null, 24]);
  assertEquals(g.countParams(), denseBn(8, 24) + denseBn(24, 24) + dense(24, 24));
  const shallow = wideProjector({ inputDim: 8, width: 24, depth: 1 });
  assertEquals(shallow.countParams(), dense(8, 24));
  // The papers' projector, 8192-8192-8192, checked by its blocks (134M parameters to build).
  const paper = wideProjectorBlocks({ inputDim: 2048 });
  assertEquals(paper, [
    { units: 8192, batchNorm: true, activation: "relu" },
    { units: 8192, batchNorm: true, activation: "relu" },
    { units: 8192 },
  ]);
  assertThrows(() => wideProjectorBlocks({ inputDim: 8, depth: 0 }), "depth");
  g.dispose();
  shallow.dispose();
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("method heads: a seed reproduces every weight; another seed changes them", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const builds: [string, (seed: number) => tf.Sequential][] = [
    ["BYOL", (seed) => byolPredictor({ dim: 8, hidden: 16, seed })],
    ["SimSiam", (seed) => simsiamPredictor({ dim: 16, bottleneck: 4, seed })],
    ["wide", (seed) => wideProjector({ inputDim: 8, width: 12, seed })],
  ];
  for (const [name, build] of builds) {
    const weights = (seed: number) => {
      const model = build(seed);
      const values = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return values;
    };
    const a = weights(3);
    assertEquals(weights(3), a, `${name}: seed 3 twice`);
    assert(a[0].some((v, i) => v !== weights(4)[0][i]), `${name}: seeds 3 and 4 agree`);
  }
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("the wide projector's last bias gets no gradient from Barlow Twins or VICReg", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const g = wideProjector({ inputDim: 8, width: 12, seed: 1 });
  const x1 = tf.randomNormal([16, 8], 0, 1, "float32", 2);
  const x2 = tf.randomNormal([16, 8], 0, 1, "float32", 3);
  const bias = g.layers[g.layers.length - 1].getWeights()[1];
  for (const loss of [barlowTwinsLoss, (a: tf.Tensor2D, b: tf.Tensor2D) => vicregLoss(a, b)]) {
    const { grads, value } = tf.variableGrads(() =>
      loss(
        g.apply(x1, { training: true }) as tf.Tensor2D,
        g.apply(x2, { training: true }) as tf.Tensor2D,
      )
    );
    const biasGrad = grads[(bias as tf.Variable).name];
    assert(biasGrad !== undefined, "the bias is a trainable variable");
    const largest = tf.tidy(() => tf.max(tf.abs(biasGrad)).dataSync()[0]);
    assert(largest < 1e-5, `bias gradient ${largest}`);
    const kernelGrad = grads[(g.layers[0].getWeights()[0] as tf.Variable).name];
    assert(tf.tidy(() => tf.max(tf.abs(kernelGrad)).dataSync()[0]) > 1e-4, "the kernel learns");
    tf.dispose([value, ...Object.values(grads)]);
  }
  tf.dispose([x1, x2]);
  g.dispose();
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});
