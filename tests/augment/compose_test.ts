import { Rng } from "../../lib/rng.ts";
import { augmentBatch, compose, identityAugment, twoViews } from "../../lib/augment/compose.ts";
import {
  COLOUR_AUGMENT_DEFAULTS,
  colourAugment,
  DIGIT_AUGMENT_DEFAULTS,
  digitAugment,
} from "../../lib/augment/presets.ts";
import { randomHorizontalFlip } from "../../lib/augment/colour.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

/** `count` images that look a bit like digits: a bright blob on black, plus noise. */
function fakeDigits(count: number, seed: number, channels = 1): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(count * 28 * 28 * channels);
  for (let i = 0; i < count; i++) {
    const cx = rng.uniform(9, 19);
    const cy = rng.uniform(9, 19);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const d = Math.hypot(x - cx, (y - cy) * 0.5);
        const v = Math.min(1, Math.max(0, 1.2 - d / 6) + 0.05 * rng.next());
        for (let c = 0; c < channels; c++) {
          a[((i * 28 + y) * 28 + x) * channels + c] = channels === 1
            ? v
            : v * (0.5 + 0.5 * rng.next());
        }
      }
    }
  }
  return a;
}

const IMG = 28 * 28;
const differs = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);
const image = (a: Float32Array, i: number, n = IMG) => a.subarray(i * n, (i + 1) * n);
const meanAbsDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

Deno.test("identity pipelines return the input bit for bit, in a new array", () => {
  const grey = fakeDigits(8, 1);
  const rgb = fakeDigits(8, 2, 3);
  const copyGrey = grey.slice();
  const cases: [string, Float32Array, number, ReturnType<typeof identityAugment>][] = [
    ["identityAugment", grey, 1, identityAugment()],
    ["compose()", grey, 1, compose()],
    ["digitAugment strength 0", grey, 1, digitAugment({ strength: 0 })],
    [
      "digitAugment zero settings",
      grey,
      1,
      digitAugment({
        rotationDeg: [0, 0],
        translate: [0, 0],
        scale: [1, 1],
        shearDeg: [0, 0],
        perspectives: [{ distortion: 0.4, p: 0 }],
        blurs: [{ kernelSize: 3, sigma: [0.1, 2], p: 0 }],
      }),
    ],
    [
      "colourAugment zero settings",
      rgb,
      3,
      colourAugment({ cropScale: [1, 1], cropRatio: [1, 1], flipP: 0, jitterP: 0, greyscaleP: 0 }),
    ],
    [
      "colourAugment strength 0 on grey",
      grey,
      1,
      colourAugment({
        cropScale: [1, 1],
        cropRatio: [1, 1],
        flipP: 0,
        colourStrength: 0,
        greyscaleP: 1,
      }),
    ],
  ];
  for (const [name, data, c, t] of cases) {
    const out = augmentBatch(data, 8, 28, 28, c, t, new Rng(3));
    assert(out !== data, `${name}: new array`);
    assertEquals(out, data, name);
    const [v1, v2] = twoViews(data, 8, 28, 28, c, t, new Rng(3));
    assertEquals(v1, data, `${name} view 1`);
    assertEquals(v2, data, `${name} view 2`);
  }
  assertEquals(grey, copyGrey, "input never mutated");
});

Deno.test("digitAugment: same seed -> bit-identical, other seed -> different", () => {
  const data = fakeDigits(16, 4);
  const t = digitAugment();
  const a = augmentBatch(data, 16, 28, 28, 1, t, new Rng(42));
  const b = augmentBatch(data, 16, 28, 28, 1, digitAugment(), new Rng(42));
  assertEquals(a, b);
  const c = augmentBatch(data, 16, 28, 28, 1, t, new Rng(43));
  for (let i = 0; i < 16; i++) assert(differs(image(a, i), image(c, i)), `image ${i}`);
  const rng = new Rng(42);
  const first = augmentBatch(data, 16, 28, 28, 1, t, rng);
  const second = augmentBatch(data, 16, 28, 28, 1, t, rng);
  assertEquals(first, a);
  assert(differs(first, second), "the rng advances: the next call augments anew");
});

Deno.test("per-image independence: identical images in one batch get different augmentations", () => {
  const one = fakeDigits(1, 5);
  const n = 32;
  const data = new Float32Array(n * IMG);
  for (let i = 0; i < n; i++) data.set(one, i * IMG);
  const out = augmentBatch(data, n, 28, 28, 1, digitAugment(), new Rng(5));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      assert(differs(image(out, i), image(out, j)), `images ${i} and ${j} share a transform`);
    }
  }
  const rgbOne = fakeDigits(1, 6, 3);
  const rgb = new Float32Array(8 * IMG * 3);
  for (let i = 0; i < 8; i++) rgb.set(rgbOne, i * IMG * 3);
  const o = augmentBatch(rgb, 8, 28, 28, 3, colourAugment(), new Rng(6));
  for (let i = 1; i < 8; i++) {
    assert(differs(image(o, 0, 3 * IMG), image(o, i, 3 * IMG)), `rgb ${i}`);
  }
});

Deno.test("twoViews: two different views per image, fresh every call, fixed by the seed", () => {
  const data = fakeDigits(16, 7);
  const t = digitAugment();
  const rng = new Rng(7);
  const [a1, a2] = twoViews(data, 16, 28, 28, 1, t, rng);
  const [b1, b2] = twoViews(data, 16, 28, 28, 1, t, rng);
  for (let i = 0; i < 16; i++) {
    assert(differs(image(a1, i), image(a2, i)), `pair ${i}: views differ`);
    assert(differs(image(a1, i), image(b1, i)), `image ${i}: next step, new view`);
  }
  const again = new Rng(7);
  const [c1, c2] = twoViews(data, 16, 28, 28, 1, t, again);
  const [d1, d2] = twoViews(data, 16, 28, 28, 1, t, again);
  assertEquals(
    [c1, c2, d1, d2].map((x) => Array.from(x)),
    [a1, a2, b1, b2].map((x) => Array.from(x)),
  );
});

Deno.test("presets: shapes right, values in [0, 1]", () => {
  const grey = fakeDigits(64, 8);
  const out = augmentBatch(grey, 64, 28, 28, 1, digitAugment(), new Rng(8));
  assertEquals(out.length, grey.length);
  assert(out.every((v) => v >= 0 && v <= 1), "digit range");
  const rgb = fakeDigits(16, 9, 3);
  for (const t of [colourAugment(), colourAugment({ colourStrength: 1, blurP: 0.5 })]) {
    const o = augmentBatch(rgb, 16, 28, 28, 3, t, new Rng(9));
    assertEquals(o.length, rgb.length);
    assert(o.every((v) => v >= 0 && v <= 1), `${t.name} range`);
  }
  const g = augmentBatch(grey, 64, 28, 28, 1, colourAugment(), new Rng(10));
  assert(g.every((v) => v >= 0 && v <= 1) && differs(g, grey), "colour preset on grey images");
});

Deno.test("digitAugment: strength dials the amount of change", () => {
  const data = fakeDigits(64, 10);
  const change = (s: number) =>
    meanAbsDiff(
      augmentBatch(data, 64, 28, 28, 1, digitAugment({ strength: s }), new Rng(10)),
      data,
    );
  const [c0, c1, c2, c3] = [0, 0.1, 0.5, 1].map(change);
  assertEquals(c0, 0);
  assert(c1 > 0 && c1 < c2 && c2 < c3, `change ${c1} < ${c2} < ${c3}`);
});

Deno.test("presets: defaults are the article's and SimCLR's; options are checked", () => {
  assertEquals(DIGIT_AUGMENT_DEFAULTS.rotationDeg, [-50, 50]);
  assertEquals(DIGIT_AUGMENT_DEFAULTS.translate, [0.1, 0.1]);
  assertEquals(DIGIT_AUGMENT_DEFAULTS.scale, [0.5, 1.5]);
  assertEquals(DIGIT_AUGMENT_DEFAULTS.perspectives.map((p) => [p.distortion, p.p]), [
    [0.4, 0.5],
    [0.2, 0.5],
    [0.2, 0.5],
  ]);
  assertEquals(DIGIT_AUGMENT_DEFAULTS.blurs, [
    { kernelSize: 3, sigma: [0.1, 2.0], p: 0.25 },
    { kernelSize: 3, sigma: [0.1, 2.0], p: 0.25 },
  ]);
  assertEquals(COLOUR_AUGMENT_DEFAULTS.cropScale, [0.08, 1]);
  const t = digitAugment({ strength: 0.5 });
  assertEquals(JSON.parse(JSON.stringify(t.config)), { ...DIGIT_AUGMENT_DEFAULTS, strength: 0.5 });
  assertThrows(() => digitAugment({ rotation: [0, 1] } as never), 'unknown option "rotation"');
  assertThrows(() => digitAugment({ strength: -1 }), "strength");
  assertThrows(() => colourAugment({ flip: 0.5 } as never), 'unknown option "flip"');
  assertThrows(
    () => augmentBatch(new Float32Array(10), 1, 28, 28, 1, identityAugment(), new Rng(0)),
    "data has 10 values",
  );
});

Deno.test("compose: applies transforms in order, each drawing per image", () => {
  const data = fakeDigits(4, 11);
  const flipFlip = compose(randomHorizontalFlip({ p: 1 }), randomHorizontalFlip({ p: 1 }));
  assertEquals(augmentBatch(data, 4, 28, 28, 1, flipFlip, new Rng(0)), data);
  const flip = augmentBatch(
    data,
    4,
    28,
    28,
    1,
    compose(randomHorizontalFlip({ p: 1 })),
    new Rng(0),
  );
  assertEquals(flip[0], data[27]);
  assert(flipFlip.name.includes("->"), flipFlip.name);
});
