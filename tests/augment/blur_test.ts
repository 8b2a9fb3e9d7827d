import { Rng } from "../../lib/rng.ts";
import { blurImage, gaussianKernel, randomGaussianBlur } from "../../lib/augment/blur.ts";
import { batchOf } from "../../lib/augment/types.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

function randomImages(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next();
  return a;
}

function meanVar(a: ArrayLike<number>): [number, number] {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const m = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return [m, v / a.length];
}

Deno.test("gaussianKernel: normalised, symmetric, known values", () => {
  const k = gaussianKernel(3, 1);
  const e = Math.exp(-0.5);
  assertAlmostEquals(k[0], e / (1 + 2 * e), 1e-12);
  assertAlmostEquals(k[1], 1 / (1 + 2 * e), 1e-12);
  assertEquals(k[0], k[2]);
  const k7 = gaussianKernel(7, 1.7);
  assertAlmostEquals(k7.reduce((a, b) => a + b, 0), 1, 1e-12);
  assert(k7[3] > k7[2] && k7[2] > k7[1] && k7[1] > k7[0], "peaks in the middle");
  assertThrows(() => gaussianKernel(4, 1), "odd");
  assertThrows(() => gaussianKernel(3, 0), "sigma");
});

Deno.test("blur: a constant image stays constant, borders included (mean preserved)", () => {
  for (const channels of [1, 3]) {
    const data = new Float32Array(3 * 10 * 12 * channels).fill(0.7);
    const out = randomGaussianBlur({ kernelSize: 5, sigma: [0.1, 3], p: 1 }).apply(
      batchOf(data, 3, 10, 12, channels),
      new Rng(1),
    ).data;
    for (const v of out) assertAlmostEquals(v, 0.7, 1e-6);
    assertAlmostEquals(meanVar(out)[0], 0.7, 1e-6);
  }
});

Deno.test("blur: reduces the variance of noise, keeps its mean and range", () => {
  const data = randomImages(8 * 28 * 28, 2);
  const out = randomGaussianBlur({ kernelSize: 3, sigma: [1, 2], p: 1 }).apply(
    batchOf(data, 8, 28, 28, 1),
    new Rng(2),
  ).data;
  const [m0, v0] = meanVar(data);
  const [m1, v1] = meanVar(out);
  assertAlmostEquals(m1, m0, 0.01);
  assert(v1 < 0.5 * v0, `variance ${v0} -> ${v1}`);
  assert(out.every((v) => v >= 0 && v <= 1), "range");
});

Deno.test("blur: an impulse spreads into the outer product of the 1-D kernel", () => {
  const img = new Float32Array(7 * 7 * 2);
  img[(3 * 7 + 3) * 2 + 1] = 1; // channel 1 only
  const out = new Float32Array(img.length);
  const k = gaussianKernel(3, 1);
  blurImage(img, 0, out, 0, 7, 7, 2, k, new Float32Array(img.length));
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      assertAlmostEquals(out[((3 + dy) * 7 + 3 + dx) * 2 + 1], k[dy + 1] * k[dx + 1], 1e-6);
    }
  }
  assertAlmostEquals(out.reduce((a, b) => a + b, 0), 1, 1e-6);
  assert(out.every((v, i) => i % 2 === 1 || v === 0), "channel 0 stays dark");
  // a corner impulse keeps its mass: clamped borders reuse the edge pixel
  const corner = new Float32Array(5 * 5);
  corner[0] = 1;
  const co = new Float32Array(25);
  blurImage(corner, 0, co, 0, 5, 5, 1, k, new Float32Array(25));
  assertAlmostEquals(co[0], (k[0] + k[1]) ** 2, 1e-6);
});

Deno.test("blur: p = 0 and kernel size 1 are identities (bit for bit)", () => {
  const data = randomImages(4 * 28 * 28, 3);
  const batch = batchOf(data, 4, 28, 28, 1);
  assertEquals(
    randomGaussianBlur({ kernelSize: 3, sigma: [0.1, 2], p: 0 }).apply(batch, new Rng(3)).data,
    data,
  );
  assertEquals(
    randomGaussianBlur({ kernelSize: 1, sigma: [0.1, 2], p: 1 }).apply(batch, new Rng(3)).data,
    data,
  );
});

Deno.test("blur: per-image sigma and coin; p = 0.25 blurs about a quarter; seeded", () => {
  const img = randomImages(28 * 28, 4);
  const data = new Float32Array(2 * 784);
  data.set(img, 0);
  data.set(img, 784);
  const t = randomGaussianBlur({ kernelSize: 3, sigma: [0.1, 2], p: 1 });
  const out = t.apply(batchOf(data, 2, 28, 28, 1), new Rng(4)).data;
  assert(out.subarray(0, 784).some((v, i) => v !== out[784 + i]), "different sigma per image");
  assertEquals(t.apply(batchOf(data, 2, 28, 28, 1), new Rng(4)).data, out);

  const many = randomImages(400 * 8 * 8, 5);
  const q = randomGaussianBlur({ kernelSize: 3, sigma: [0.5, 2], p: 0.25 }).apply(
    batchOf(many, 400, 8, 8, 1),
    new Rng(5),
  ).data;
  let blurred = 0;
  for (let i = 0; i < 400; i++) {
    if (q.subarray(i * 64, (i + 1) * 64).some((v, k) => v !== many[i * 64 + k])) blurred++;
  }
  assert(blurred > 60 && blurred < 140, `blurred ${blurred} of 400`);
});

Deno.test("blur: bad settings are rejected", () => {
  assertThrows(() => randomGaussianBlur({ kernelSize: 2, sigma: [1, 1], p: 1 }), "kernelSize");
  assertThrows(() => randomGaussianBlur({ kernelSize: 3, sigma: [0, 1], p: 1 }), "sigma");
  assertThrows(() => randomGaussianBlur({ kernelSize: 3, sigma: [1, 2], p: -0.1 }), "p");
});
