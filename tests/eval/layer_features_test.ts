/** The features at every layer of backbone + head: names, widths, values, no leaks. */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { headLayerNames, layerFeatures } from "../../lib/eval/layer_features.ts";
import { blockHead } from "../../lib/models/heads/block_head.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";

await initBackend();

const SHAPE: [number, number, number] = [4, 4, 1];

function pixels(): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.flatten({ inputShape: SHAPE })] });
}

Deno.test("layerFeatures: h, every block, z — the last equals head.predict(h), h the backbone's", async () => {
  const rng = new Rng(3);
  const images = Float32Array.from({ length: 7 * 16 }, () => rng.next());
  const f = pixels();
  const g = blockHead(
    16,
    [
      { units: 8, batchNorm: true, activation: "relu" },
      { units: 5, activation: "tanh", dropout: 0.5 },
      { units: 3 },
    ],
    "head",
    1,
  );
  const before = tf.memory().numTensors;
  const layers = await layerFeatures(f, g, images, 7, SHAPE, 3);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  assertEquals(layers.map((l) => l.layer), ["h", "block 1", "block 2", "z"]);
  assertEquals(layers.map((l) => l.depth), [0, 1, 2, 3]);
  assertEquals(layers.map((l) => l.dim), [16, 8, 5, 3]);
  assertEquals(layers.map((l) => l.features.length), [7 * 16, 7 * 8, 7 * 5, 7 * 3]);
  assertEquals(layers[1].description, "dense 8 → batch norm → relu");
  assertEquals(layers[2].description, "dropout 0.5 → dense 5 → tanh");
  assertEquals(Array.from(layers[0].features), Array.from(images), "h = the pixels");
  const z = tf.tidy(() => (g.predict(tf.tensor2d(images, [7, 16])) as tf.Tensor).dataSync());
  layers[3].features.forEach((v, i) => assertAlmostEquals(v, z[i], 1e-5, `z[${i}]`));
  assertEquals(headLayerNames(g).map((l) => l.layer), ["h", "block 1", "block 2", "z"]);
  f.dispose();
  g.dispose();
});

Deno.test("layerFeatures: a head without blocks gives h alone; a misfit head is one line", async () => {
  const f = pixels();
  const identity = blockHead(16, []);
  const layers = await layerFeatures(f, identity, new Float32Array(2 * 16), 2, SHAPE);
  assertEquals(layers.map((l) => l.layer), ["h"]);
  const narrow = blockHead(10, [{ units: 2 }]);
  const e = await assertRejects(
    () => layerFeatures(f, narrow, new Float32Array(2 * 16), 2, SHAPE),
    "gives 16 features but the head takes 10",
  );
  assert(!e.message.includes("\n"), "one line");
  f.dispose();
  identity.dispose();
  narrow.dispose();
});
