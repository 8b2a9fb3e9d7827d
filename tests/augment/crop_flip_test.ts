import { Rng } from "../../lib/rng.ts";
import { augmentBatch, twoViews } from "../../lib/augment/compose.ts";
import { CROP_FLIP_DEFAULTS, cropFlipAugment, makeAugmenter } from "../../lib/augment/presets.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

/** `count` grey 28x28 "shirts": a bright upright rectangle with sleeves, plus noise. */
function fakeClothes(count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(count * 784);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const body = x >= 9 && x < 19 && y >= 4 && y < 26;
        const sleeve = y >= 4 && y < 10 && x >= 4 && x < 24;
        a[i * 784 + y * 28 + x] = (body || sleeve ? 0.8 : 0.05) + 0.1 * rng.next();
      }
    }
  }
  return a;
}

Deno.test("crop-flip: seeded, per-image, changes images, stays in [0, 1]; strength 0 is the identity", () => {
  const images = fakeClothes(6, 1);
  const pipeline = cropFlipAugment();
  const a = augmentBatch(images, 6, 28, 28, 1, pipeline, new Rng(3));
  const b = augmentBatch(images, 6, 28, 28, 1, pipeline, new Rng(3));
  assertEquals(a, b, "same seed, same views");
  assert(a.some((v, i) => v !== images[i]), "the images change");
  assert(a.every((v) => v >= 0 && v <= 1), "values stay in [0, 1]");
  const [v1, v2] = twoViews(images, 6, 28, 28, 1, pipeline, new Rng(4));
  assert(v1.some((v, i) => v !== v2[i]), "the two views differ");
  const off = augmentBatch(images, 6, 28, 28, 1, cropFlipAugment({ strength: 0 }), new Rng(3));
  assertEquals(off, images, "strength 0 returns the images bit for bit");
  // Colour images work too (saturation jitter applies).
  const rgb = new Float32Array(2 * 16 * 16 * 3).map((_, i) => (i % 7) / 7);
  const c = augmentBatch(rgb, 2, 16, 16, 3, pipeline, new Rng(5));
  assertEquals(c.length, rgb.length);
});

Deno.test("crop-flip: no big rotations (unlike the digit preset); options are checked", () => {
  assertEquals(CROP_FLIP_DEFAULTS.rotationDeg, [-10, 10]);
  assertThrows(() => cropFlipAugment({ strength: 2 }), "strength");
  // deno-lint-ignore no-explicit-any
  assertThrows(() => cropFlipAugment({ rotation: 5 } as any), "unknown option", "rotation");
  const aug = makeAugmenter({ preset: "crop-flip", strength: 0.5 }, [28, 28, 1])!;
  assertEquals((aug.pipeline.config as { strength: number }).strength, 0.5);
  const images = fakeClothes(2, 2);
  assert(aug.oneView(images, 2, new Rng(1)).some((v, i) => v !== images[i]));
});
