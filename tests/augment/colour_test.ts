import { Rng } from "../../lib/rng.ts";
import {
  colourJitter,
  randomGreyscale,
  randomHorizontalFlip,
  randomResizedCrop,
} from "../../lib/augment/colour.ts";
import { batchOf } from "../../lib/augment/types.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

function randomImages(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

const NO_JITTER = { brightness: 0, contrast: 0, saturation: 0, hue: 0, p: 1 };

Deno.test("flip: p = 1 reverses the columns, channels kept together; p = 0 is the identity", () => {
  const [H, W, C] = [3, 5, 3];
  const data = randomImages(2 * H * W * C, 1);
  const batch = batchOf(data, 2, H, W, C);
  const out = randomHorizontalFlip({ p: 1 }).apply(batch, new Rng(1)).data;
  for (let i = 0; i < 2; i++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < C; c++) {
          const at = (((i * H + y) * W + x) * C) + c;
          const from = (((i * H + y) * W + (W - 1 - x)) * C) + c;
          assertEquals(out[at], data[from]);
        }
      }
    }
  }
  const twice = randomHorizontalFlip({ p: 1 }).apply(batchOf(out, 2, H, W, C), new Rng(2)).data;
  assertEquals(twice, data);
  assertEquals(randomHorizontalFlip({ p: 0 }).apply(batch, new Rng(1)).data, data);
});

Deno.test("flip: p = 0.5 flips about half the images, each either flipped or untouched", () => {
  const data = randomImages(200 * 4 * 4, 2);
  const out = randomHorizontalFlip({ p: 0.5 }).apply(batchOf(data, 200, 4, 4, 1), new Rng(2)).data;
  let flipped = 0;
  for (let i = 0; i < 200; i++) {
    const o = i * 16;
    const same = out.subarray(o, o + 16).every((v, k) => v === data[o + k]);
    const mirrored = out.subarray(o, o + 16).every((v, k) =>
      v === data[o + Math.floor(k / 4) * 4 + 3 - (k % 4)]
    );
    assert(same !== mirrored, `image ${i} is either flipped or not`);
    if (mirrored) flipped++;
  }
  assert(flipped > 70 && flipped < 130, `flipped ${flipped} of 200`);
});

Deno.test("greyscale: p = 1 makes the three channels equal to the luma; grey input untouched", () => {
  const data = randomImages(3 * 6 * 6 * 3, 3);
  const out = randomGreyscale({ p: 1 }).apply(batchOf(data, 3, 6, 6, 3), new Rng(3)).data;
  for (let q = 0; q < out.length; q += 3) {
    assertEquals(out[q], out[q + 1]);
    assertEquals(out[q], out[q + 2]);
    assertAlmostEquals(out[q], 0.299 * data[q] + 0.587 * data[q + 1] + 0.114 * data[q + 2], 1e-6);
  }
  assertEquals(randomGreyscale({ p: 0 }).apply(batchOf(data, 3, 6, 6, 3), new Rng(3)).data, data);
  const grey = randomImages(2 * 36, 4);
  assertEquals(randomGreyscale({ p: 1 }).apply(batchOf(grey, 2, 6, 6, 1), new Rng(3)).data, grey);
});

Deno.test("crop: scale [1, 1] and ratio [1, 1] copy the image bit for bit", () => {
  for (const [H, W] of [[28, 28], [10, 14]]) {
    const data = randomImages(3 * H * W * 3, 5);
    const out = randomResizedCrop({ scale: [1, 1], ratio: [1, 1] }).apply(
      batchOf(data, 3, H, W, 3),
      new Rng(5),
    );
    assertEquals(out.data, data);
    assertEquals([out.height, out.width], [H, W]);
  }
});

Deno.test("crop: a quarter-area square crop zooms a ramp by 2 (slope halves)", () => {
  const [H, W] = [32, 32];
  const ramp = new Float32Array(4 * H * W);
  for (let i = 0; i < 4; i++) {
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) ramp[(i * H + y) * W + x] = x / (W - 1);
  }
  const out = randomResizedCrop({ scale: [0.25, 0.25], ratio: [1, 1] }).apply(
    batchOf(ramp, 4, H, W, 1),
    new Rng(6),
  ).data;
  const starts: number[] = [];
  for (let i = 0; i < 4; i++) {
    for (let y = 0; y < H; y++) {
      const row = (i * H + y) * W;
      for (let x = 1; x < W - 2; x++) {
        assertAlmostEquals(out[row + x + 1] - out[row + x], 0.5 / (W - 1), 1e-5, `slope ${i}`);
      }
      assertEquals(out[row], out[(i * H) * W], "each row reads the same columns");
    }
    starts.push(out[i * H * W]);
  }
  assert(new Set(starts).size === 4, "each image gets its own crop position");
});

Deno.test("crop: default SimCLR ranges keep shape and [0, 1] range", () => {
  const data = randomImages(16 * 32 * 32 * 3, 7);
  const out = randomResizedCrop({ scale: [0.08, 1], ratio: [3 / 4, 4 / 3] }).apply(
    batchOf(data, 16, 32, 32, 3),
    new Rng(7),
  );
  assertEquals([out.count, out.height, out.width, out.channels], [16, 32, 32, 3]);
  assert(out.data.every((v) => v >= 0 && v <= 1), "range");
});

Deno.test("jitter: p = 0 or all-zero settings are identities; grey images ignore colour terms", () => {
  const rgb = randomImages(4 * 8 * 8 * 3, 8);
  const b = batchOf(rgb, 4, 8, 8, 3);
  assertEquals(
    colourJitter({ brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, p: 0 }).apply(
      b,
      new Rng(8),
    ).data,
    rgb,
  );
  assertEquals(colourJitter(NO_JITTER).apply(b, new Rng(8)).data, rgb);
  const grey = randomImages(4 * 64, 9);
  const g = colourJitter({ ...NO_JITTER, saturation: 0.8, hue: 0.5 }).apply(
    batchOf(grey, 4, 8, 8, 1),
    new Rng(9),
  );
  assertEquals(g.data, grey);
  assertThrows(
    () => colourJitter(NO_JITTER).apply(batchOf(new Float32Array(8), 1, 2, 2, 2), new Rng(0)),
    "1 or 3 channels",
  );
});

Deno.test("jitter: brightness scales every value of an image by one factor", () => {
  for (const C of [1, 3]) {
    const data = randomImages(6 * 8 * 8 * C, 10, 0.1, 0.6);
    const out = colourJitter({ ...NO_JITTER, brightness: 0.5 }).apply(
      batchOf(data, 6, 8, 8, C),
      new Rng(10),
    ).data;
    const n = 64 * C;
    const factors = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const f = out[i * n] / data[i * n];
      for (let k = 0; k < n; k++) assertAlmostEquals(out[i * n + k], data[i * n + k] * f, 1e-5);
      assert(f >= 0.5 && f <= 1.5, `factor ${f}`);
      factors.add(f.toFixed(4));
    }
    assertEquals(factors.size, 6, "a factor per image");
  }
});

Deno.test("jitter: contrast keeps the mean grey, saturation keeps each pixel's luma", () => {
  const data = randomImages(4 * 8 * 8 * 3, 11, 0.4, 0.6);
  const con = colourJitter({ ...NO_JITTER, contrast: 0.5 }).apply(
    batchOf(data, 4, 8, 8, 3),
    new Rng(11),
  ).data;
  const luma = (a: Float32Array, q: number) => 0.299 * a[q] + 0.587 * a[q + 1] + 0.114 * a[q + 2];
  for (let i = 0; i < 4; i++) {
    let m0 = 0;
    let m1 = 0;
    for (let q = i * 192; q < (i + 1) * 192; q += 3) {
      m0 += luma(data, q);
      m1 += luma(con, q);
    }
    assertAlmostEquals(m1 / 64, m0 / 64, 1e-5);
  }
  assert(con.some((v, i) => v !== data[i]), "contrast changed something");
  const sat = colourJitter({ ...NO_JITTER, saturation: 0.5 }).apply(
    batchOf(data, 4, 8, 8, 3),
    new Rng(12),
  ).data;
  for (let q = 0; q < sat.length; q += 3) assertAlmostEquals(luma(sat, q), luma(data, q), 1e-5);
  assert(sat.some((v, i) => v !== data[i]), "saturation changed something");
});

Deno.test("jitter: hue rotation keeps each pixel's max and min, moves the colours", () => {
  const data = randomImages(4 * 8 * 8 * 3, 13);
  const out = colourJitter({ ...NO_JITTER, hue: 0.5 }).apply(batchOf(data, 4, 8, 8, 3), new Rng(13))
    .data;
  let moved = 0;
  for (let q = 0; q < out.length; q += 3) {
    const a = [data[q], data[q + 1], data[q + 2]];
    const b = [out[q], out[q + 1], out[q + 2]];
    assertAlmostEquals(Math.max(...b), Math.max(...a), 1e-5);
    assertAlmostEquals(Math.min(...b), Math.min(...a), 1e-5);
    if (a.some((v, k) => Math.abs(v - b[k]) > 1e-3)) moved++;
  }
  assert(moved > 200, `moved ${moved} of 256 pixels`);
});

Deno.test("jitter: full SimCLR settings stay in [0, 1], independent per image, seeded", () => {
  const img = randomImages(8 * 8 * 3, 14);
  const data = new Float32Array(2 * 192);
  data.set(img, 0);
  data.set(img, 192);
  const t = colourJitter({ brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, p: 1 });
  const out = t.apply(batchOf(data, 2, 8, 8, 3), new Rng(14)).data;
  assert(out.every((v) => v >= 0 && v <= 1), "range");
  assert(out.subarray(0, 192).some((v, i) => v !== out[192 + i]), "independent");
  assertEquals(t.apply(batchOf(data, 2, 8, 8, 3), new Rng(14)).data, out);
});
