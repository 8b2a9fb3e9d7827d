/** The monitor's one pass over the fixed views: z's metrics as before, and the ranks of h and z. */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { extractFeatures } from "../../lib/eval/features.ts";
import { collapseIndicator, contrastiveAccuracy } from "../../lib/eval/monitor.ts";
import { effectiveRank } from "../../lib/eval/rank.ts";
import { blockHead } from "../../lib/models/heads/block_head.ts";
import { Rng } from "../../lib/rng.ts";
import { pretrainMonitor } from "../../lib/train/pretrain_monitor.ts";
import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";

await initBackend();

const SHAPE: [number, number, number] = [6, 6, 1];

Deno.test("pretrainMonitor: rankH and rankZ beside the spread; a rank-1 head reads 1; no leaks", async () => {
  const rng = new Rng(0);
  const count = 40;
  const images = Float32Array.from({ length: count * 36 }, () => rng.next());
  const labels = Int32Array.from({ length: count }, (_, i) => i % 2);
  let views = new Float32Array(0);
  const monitor = pretrainMonitor({
    images,
    shape: SHAPE,
    indices: Int32Array.from({ length: count }, (_, i) => i),
    // Two different views: the image and its negative (kept, to check the metrics on them).
    makeViews: (b) => {
      views = new Float32Array(2 * b.length);
      views.set(b, 0);
      views.set(b.map((v) => 1 - v), b.length);
      return [views.subarray(0, b.length), views.subarray(b.length)];
    },
    rng: new Rng(1),
    monitor: {
      labels,
      labelled: Int32Array.from({ length: 20 }, (_, i) => i),
      validation: Int32Array.from({ length: 10 }, (_, i) => 20 + i),
      k: 3,
      pairs: 16,
    },
  });
  const f = tf.sequential({ layers: [tf.layers.flatten({ inputShape: SHAPE })] });
  const g = blockHead(36, [{ units: 8, activation: "tanh" }, { units: 4 }], "head", 3);
  const before = tf.memory().numTensors;
  const m = await monitor.measure(f, g);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  assertEquals([m.hDim, m.zDim], [36, 4]);
  assert(m.knnAccuracy !== undefined);
  // 16 images and their negatives (centred: the same 16 directions, and the gap between the
  // two means): h uses many directions, z (4 wide) up to 4.
  assert(m.rankH > 10 && m.rankH <= 17, `rankH ${m.rankH}`);
  assert(m.rankZ > 2 && m.rankZ <= 4, `rankZ ${m.rankZ}`);
  // The same numbers as computing h and z on their own.
  assertEquals(views.length, 32 * 36);
  const h = await extractFeatures(f, views, 32, SHAPE);
  const z = await extractFeatures((x) => g.apply(f.apply(x)) as tf.Tensor, views, 32, SHAPE);
  assertAlmostEquals(m.rankH, effectiveRank(h.features, 32, 36), 1e-9);
  assertAlmostEquals(m.rankZ, effectiveRank(z.features, 32, 4), 1e-9);
  assertAlmostEquals(m.zStd, collapseIndicator(z.features, 32, 4), 1e-9);
  assertEquals(m.contrastiveAccuracy, contrastiveAccuracy(z.features, 16, 4));
  // A rank-1 last layer: every z on one line.
  const last = g.layers.at(-1)!;
  const [, bias] = last.getWeights();
  const k1 = tf.tensor2d(
    Float32Array.from({ length: 32 }, (_, i) => Math.sin(i >> 2) * (1 + (i & 3))),
    [8, 4],
  );
  last.setWeights([k1, bias]);
  k1.dispose();
  const collapsed = await monitor.measure(f, g);
  assertAlmostEquals(collapsed.rankZ, 1, 1e-3, "rank-1 z");
  assertAlmostEquals(collapsed.rankH, m.rankH, 1e-9, "h does not depend on the head");
  f.dispose();
  g.dispose();
});
