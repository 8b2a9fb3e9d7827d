/** The per-layer table: one row a layer, rank and spectrum sensible, the probe, no leaks. */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { layerDiagnostics } from "../../lib/eval/layer_diagnostics.ts";
import { blockHead } from "../../lib/models/heads/block_head.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";

await initBackend();

const SHAPE: [number, number, number] = [4, 4, 1];
const PROBE = { epochs: 60, batchSize: Infinity, learningRate: 0.05, seed: 0 };

/** `n` noisy 4x4 images; class c lights pixel c (of 3 classes). */
function labelled(n: number, rng: Rng): { images: Float32Array; labels: Int32Array } {
  const images = new Float32Array(n * 16);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 16; p++) images[i * 16 + p] = 0.3 * rng.next();
    images[i * 16 + labels[i]] += 1;
  }
  return { images, labels };
}

function pixels(): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.flatten({ inputShape: SHAPE })] });
}

Deno.test("layerDiagnostics: a row per layer; a rank-1 z has rank 1, Gaussian h nearly its width", async () => {
  const rng = new Rng(1);
  const train = labelled(90, rng);
  const test = labelled(30, rng);
  const f = pixels();
  const g = blockHead(16, [{ units: 12, activation: "relu" }, { units: 6 }], "head", 2);
  // The last layer's kernel made rank 1 (an outer product): z spans one direction.
  const last = g.layers.at(-1)!;
  const [, bias] = last.getWeights(); // the variables themselves: not to dispose
  const u = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
  const v = Float32Array.from({ length: 6 }, (_, j) => Math.cos(j + 1));
  const k1 = tf.tensor2d(Float32Array.from({ length: 72 }, (_, i) => u[i / 6 | 0] * v[i % 6]), [
    12,
    6,
  ]);
  last.setWeights([k1, bias]);
  k1.dispose();
  const gaussian = Float32Array.from({ length: 400 * 16 }, () => rng.normal(0, 1));
  const before = tf.memory().numTensors;
  const rows = await layerDiagnostics(f, g, { train, test }, { shape: SHAPE, probe: PROBE });
  const onGaussian = await layerDiagnostics(f, g, { train, test }, {
    shape: SHAPE,
    probe: { ...PROBE, epochs: 1 },
    rankImages: gaussian,
  });
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  assertEquals(rows.map((r) => r.layer), ["h", "block 1", "z"]);
  assertEquals(rows.map((r) => r.dim), [16, 12, 6]);
  for (const r of rows) {
    assertEquals(r.spectrum.length, Math.min(90, r.dim), `${r.layer}: spectrum length`);
    assertAlmostEquals(r.spectrum[0], 1, 1e-12, `${r.layer}: normalised`);
    assert(r.spectrum.every((s, i) => i === 0 || s <= r.spectrum[i - 1]), "descending");
    assert(
      r.effectiveRank >= 1 - 1e-6 && r.effectiveRank <= r.dim,
      `${r.layer}: ${r.effectiveRank}`,
    );
    assertAlmostEquals(r.rankShare, r.effectiveRank / Math.min(90, r.dim), 1e-12);
  }
  assertAlmostEquals(rows[2].effectiveRank, 1, 1e-3, "rank-1 z");
  assert(rows[0].effectiveRank > 8, `noisy pixels use many directions: ${rows[0].effectiveRank}`);
  assert(rows[0].probeAccuracy >= 0.9, `h tells the classes: ${rows[0].probeAccuracy}`);
  assert(onGaussian[0].effectiveRank > 0.9 * 16, `Gaussian h: ${onGaussian[0].effectiveRank}`);
  assertEquals(JSON.parse(JSON.stringify(rows)), rows, "plain JSON");
  // Deterministic: the same seed, the same table.
  const again = await layerDiagnostics(f, g, { train, test }, { shape: SHAPE, probe: PROBE });
  assertEquals(again, rows);
  f.dispose();
  g.dispose();
});

Deno.test("layerDiagnostics: a constant z has rank 0; mismatched labels are one line", async () => {
  const rng = new Rng(2);
  const train = labelled(12, rng);
  const test = labelled(6, rng);
  const f = pixels();
  const g = blockHead(16, [{ units: 4 }], "head", 0);
  const [kernel, bias] = g.layers[0].getWeights();
  const zero = tf.zerosLike(kernel);
  g.layers[0].setWeights([zero, bias]);
  zero.dispose();
  const rows = await layerDiagnostics(f, g, { train, test }, {
    shape: SHAPE,
    probe: { epochs: 1 },
  });
  assertEquals(rows[1].effectiveRank, 0, "every z the same: no direction used");
  assertEquals(rows[1].spectrum, [0, 0, 0, 0]);
  const e = await assertRejects(
    () =>
      layerDiagnostics(f, g, { train: { ...train, labels: train.labels.subarray(1) }, test }, {
        shape: SHAPE,
      }),
    "train has 12 images but 11 labels",
  );
  assert(!e.message.includes("\n"));
  await assertRejects(
    () =>
      layerDiagnostics(f, g, { train, test: { ...test, images: new Float32Array(5) } }, {
        shape: SHAPE,
      }),
    "test.images has 5 values",
  );
  f.dispose();
  g.dispose();
});
