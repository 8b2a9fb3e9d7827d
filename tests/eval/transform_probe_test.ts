/** The transformation probe: the quarter-turns and the mirror, and what a probe reads of them. */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import {
  MIRROR,
  ROTATIONS,
  transformedCopies,
  transformProbe,
} from "../../lib/eval/transform_probe.ts";
import { blockHead } from "../../lib/models/heads/block_head.ts";
import { Rng } from "../../lib/rng.ts";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../assert.ts";

await initBackend();

const SHAPE: [number, number, number] = [6, 6, 1];
const PROBE = { epochs: 80, batchSize: Infinity, learningRate: 0.05, seed: 0 };

Deno.test("quarter-turns are counter-clockwise and four make a whole turn; the mirror reverses rows", () => {
  // [a b; c d] with two channels per pixel.
  const img = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]);
  const shape: [number, number, number] = [2, 2, 2];
  assertEquals(Array.from(ROTATIONS.apply(img, 1, shape, 1)), [2, 20, 4, 40, 1, 10, 3, 30]);
  assertEquals(Array.from(ROTATIONS.apply(img, 1, shape, 2)), [4, 40, 3, 30, 2, 20, 1, 10]);
  assertEquals(Array.from(ROTATIONS.apply(img, 1, shape, 3)), [3, 30, 1, 10, 4, 40, 2, 20]);
  const rng = new Rng(0);
  const many = Float32Array.from({ length: 3 * 25 }, () => rng.next());
  let turned: Float32Array = many;
  for (let i = 0; i < 4; i++) turned = ROTATIONS.apply(turned, 3, [5, 5, 1], 1);
  assertEquals(Array.from(turned), Array.from(many));
  assertEquals(Array.from(MIRROR.apply(img, 1, shape, 1)), [2, 20, 1, 10, 4, 40, 3, 30]);
  assertEquals(Array.from(MIRROR.apply(img, 1, shape, 0)), Array.from(img));
  const copies = transformedCopies(img, shape, ROTATIONS);
  assertEquals(copies.count, 4);
  assertEquals(Array.from(copies.labels), [0, 1, 2, 3]);
  assertThrows(() => ROTATIONS.apply(new Float32Array(6), 1, [2, 3, 1], 1), "square", "2 x 3");
  assertThrows(() => transformedCopies(new Float32Array(7), shape, MIRROR), "7 values");
});

/** `n` images with a brightness ramp down the rows (an orientation) and noise. */
function oriented(n: number, rng: Rng): Float32Array {
  return Float32Array.from(
    { length: n * 36 },
    (_, i) => (Math.floor((i % 36) / 6) / 6) + 0.5 * rng.next(),
  );
}

Deno.test("transformProbe: pixels tell the rotation; a rotation-invariant backbone is at chance", async () => {
  const rng = new Rng(4);
  const images = { train: oriented(40, rng), test: oriented(20, rng) };
  const pixels = tf.sequential({ layers: [tf.layers.flatten({ inputShape: SHAPE })] });
  const meanPixel = tf.sequential({
    layers: [tf.layers.globalAveragePooling2d({ inputShape: SHAPE })],
  });
  const g36 = blockHead(36, [{ units: 16, activation: "relu" }, { units: 4 }], "head", 1);
  const g1 = blockHead(1, [{ units: 8, activation: "relu" }, { units: 4 }], "head", 1);
  const before = tf.memory().numTensors;
  const keeps = await transformProbe(pixels, g36, images, { shape: SHAPE, probe: PROBE });
  const blind = await transformProbe(meanPixel, g1, images, { shape: SHAPE, probe: PROBE });
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  assertEquals(keeps.transformation, "rotation");
  assertEquals(keeps.chance, 0.25);
  assertEquals([keeps.trainImages, keeps.testImages], [40, 20]);
  assertEquals(keeps.rows.map((r) => r.layer), ["h", "block 1", "z"]);
  assertEquals(keeps.rows.map((r) => r.dim), [36, 16, 4]);
  assert(
    keeps.rows[0].accuracy >= 0.95,
    `h = pixels tells the rotation: ${keeps.rows[0].accuracy}`,
  );
  // The mean pixel is the same in every rotation: the probe can only guess.
  for (const r of blind.rows) assertAlmostEquals(r.accuracy, 0.25, 1e-9, `${r.layer}`);
  assertEquals(JSON.parse(JSON.stringify(keeps)), keeps, "plain JSON");
  const mirror = await transformProbe(pixels, g36, images, {
    shape: SHAPE,
    transformation: "mirror",
    probe: { ...PROBE, epochs: 1 },
  });
  assertEquals([mirror.transformation, mirror.chance], ["mirror", 0.5]);
  pixels.dispose();
  meanPixel.dispose();
  g36.dispose();
  g1.dispose();
});

Deno.test("transformProbe: bad input is one line", async () => {
  const f = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 3, 1] })] });
  const g = blockHead(6, [{ units: 2 }]);
  const six = new Float32Array(12);
  await assertRejects(
    () => transformProbe(f, g, { train: six, test: six }, { shape: [2, 3, 1] }),
    "quarter-turns need square images, got 2 x 3",
  );
  await assertRejects(
    () => transformProbe(f, g, { train: six, test: new Float32Array(0) }, { shape: [2, 3, 1] }),
    "test has 0 values",
  );
  await assertRejects(
    () =>
      transformProbe(f, g, { train: six, test: six }, {
        shape: [2, 3, 1],
        transformation: "hue" as unknown as "rotation", // what untyped JavaScript could pass
      }),
    '"hue"',
  );
  f.dispose();
  g.dispose();
});
