import { Rng } from "../../lib/rng.ts";
import {
  affineHomography,
  type AffineParams,
  identityMat3,
  invertMat3,
  type Mat3,
  mulMat3,
  quadHomography,
  randomAffine,
  randomAffinePerspective,
  randomPerspective,
  warpImage,
} from "../../lib/augment/affine_perspective.ts";
import { batchOf } from "../../lib/augment/types.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

const NO_AFFINE: AffineParams = {
  angleDeg: 0,
  tx: 0,
  ty: 0,
  scale: 1,
  shearXDeg: 0,
  shearYDeg: 0,
};

function randomImages(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next();
  return a;
}

/** A size x size x channels image, 0 except `value` at (row, col) in every channel. */
function onePixel(size: number, channels: number, row: number, col: number, value = 1) {
  const img = new Float32Array(size * size * channels);
  for (let c = 0; c < channels; c++) img[(row * size + col) * channels + c] = value;
  return img;
}

/** The (row, col) of the largest value of channel 0 and that value. */
function argmax(img: Float32Array, size: number, channels: number): [number, number, number] {
  let best = -Infinity;
  let at = 0;
  for (let i = 0; i < size * size; i++) {
    if (img[i * channels] > best) {
      best = img[i * channels];
      at = i;
    }
  }
  return [Math.floor(at / size), at % size, best];
}

function apply(h: Mat3, p: [number, number]): [number, number] {
  const w = h[6] * p[0] + h[7] * p[1] + h[8];
  return [(h[0] * p[0] + h[1] * p[1] + h[2]) / w, (h[3] * p[0] + h[4] * p[1] + h[5]) / w];
}

const IDENTITY_AFFINE = {
  rotationDeg: [0, 0] as [number, number],
  translate: [0, 0] as [number, number],
  scale: [1, 1] as [number, number],
  shearDeg: [0, 0] as [number, number],
};

Deno.test("affine+perspective: identity settings return the input bit for bit", () => {
  for (const channels of [1, 3]) {
    const data = randomImages(6 * 28 * 28 * channels, 1);
    const batch = batchOf(data, 6, 28, 28, channels);
    const copy = data.slice();
    const t = randomAffinePerspective({
      affine: IDENTITY_AFFINE,
      perspectives: [{ distortion: 0.4, p: 0 }, { distortion: 0, p: 1 }],
    });
    const out = t.apply(batch, new Rng(5));
    assert(out.data !== data, "a new array is returned");
    assertEquals(out.data, copy);
    assertEquals(data, copy, "input not mutated");
    assertEquals([out.count, out.height, out.width, out.channels], [6, 28, 28, channels]);
  }
});

Deno.test("affine: rotation by +90 degrees turns a pixel counter-clockwise about the centre", () => {
  const rot90 = randomAffine({ ...IDENTITY_AFFINE, rotationDeg: [90, 90] });
  // 9x9, centre (4, 4): the pixel above the centre goes to the left of it
  let out = rot90.apply(batchOf(onePixel(9, 1, 1, 4), 1, 9, 9, 1), new Rng(0)).data;
  let [r, c, v] = argmax(out, 9, 1);
  assertEquals([r, c], [4, 1]);
  assertAlmostEquals(v, 1, 1e-6);
  assertAlmostEquals(out.reduce((s, x) => s + x, 0), 1, 1e-6, "nothing else lights up");
  // 28x28, centre (13.5, 13.5): (row 3, col 13) -> (row 14, col 3)
  out = rot90.apply(batchOf(onePixel(28, 1, 3, 13), 1, 28, 28, 1), new Rng(0)).data;
  [r, c, v] = argmax(out, 28, 1);
  assertEquals([r, c], [14, 3]);
  assertAlmostEquals(v, 1, 1e-6);
  // -90 turns clockwise: above the centre -> right of it; colour channels move together
  const rotM90 = randomAffine({ ...IDENTITY_AFFINE, rotationDeg: [-90, -90] });
  out = rotM90.apply(batchOf(onePixel(9, 3, 1, 4, 0.5), 1, 9, 9, 3), new Rng(0)).data;
  [r, c, v] = argmax(out, 9, 3);
  assertEquals([r, c], [4, 7]);
  for (let k = 0; k < 3; k++) assertAlmostEquals(out[(4 * 9 + 7) * 3 + k], 0.5, 1e-6);
});

Deno.test("affine: translation, scaling and rotation homographies map points as documented", () => {
  const t = affineHomography({ ...NO_AFFINE, tx: 2, ty: -1 }, 9, 9);
  const out = new Float32Array(81);
  warpImage(onePixel(9, 1, 4, 4), 0, out, 0, 9, 9, 1, t);
  assertEquals(argmax(out, 9, 1).slice(0, 2), [3, 6], "right 2, up 1");
  // scale 2 about the centre (13.5, 13.5) of a 28x28 image doubles offsets from it
  const s = affineHomography({ ...NO_AFFINE, scale: 2 }, 28, 28);
  const [x, y] = apply(s, [15.5, 10.5]);
  assertAlmostEquals(x, 17.5, 1e-12);
  assertAlmostEquals(y, 7.5, 1e-12);
  // rotation keeps distances to the centre
  const r = affineHomography({ ...NO_AFFINE, angleDeg: 37 }, 28, 28);
  const [rx, ry] = apply(r, [20, 5]);
  assertAlmostEquals(Math.hypot(rx - 13.5, ry - 13.5), Math.hypot(6.5, -8.5), 1e-12);
  // horizontal shear by 45 degrees: x' = x + (y - cy)
  const sh = affineHomography({ ...NO_AFFINE, shearXDeg: 45 }, 28, 28);
  const [shx, shy] = apply(sh, [13.5, 20.5]);
  assertAlmostEquals(shx, 20.5, 1e-12);
  assertAlmostEquals(shy, 20.5, 1e-12);
});

Deno.test("perspective: quadHomography maps the image corners onto the quad", () => {
  const quad = [3, 1, 25, 4, 22, 26, 2, 21];
  const h = quadHomography(quad, 28, 28);
  const corners: [number, number][] = [[0, 0], [27, 0], [27, 27], [0, 27]];
  corners.forEach((p, k) => {
    const [x, y] = apply(h, p);
    assertAlmostEquals(x, quad[2 * k], 1e-9, `corner ${k} x`);
    assertAlmostEquals(y, quad[2 * k + 1], 1e-9, `corner ${k} y`);
  });
  assert(h[6] !== 0 || h[7] !== 0, "a non-parallelogram needs a projective part");
  const id = quadHomography([0, 0, 27, 0, 27, 27, 0, 27], 28, 28);
  id.forEach((v, k) => assertAlmostEquals(v, identityMat3()[k], 1e-12));
});

Deno.test("homographies: inverse and product", () => {
  const a = affineHomography({ ...NO_AFFINE, angleDeg: 20, tx: 1, scale: 1.3 }, 28, 28);
  const q = quadHomography([3, 1, 25, 4, 22, 26, 2, 21], 28, 28);
  const h = mulMat3(q, a);
  const [x1, y1] = apply(q, apply(a, [5, 7]));
  const [x2, y2] = apply(h, [5, 7]);
  assertAlmostEquals(x1, x2, 1e-9);
  assertAlmostEquals(y1, y2, 1e-9);
  const back = mulMat3(invertMat3(h)!, h);
  back.forEach((v, k) => assertAlmostEquals(v, identityMat3()[k], 1e-12));
  assertEquals(invertMat3([1, 2, 3, 2, 4, 6, 0, 0, 1]), null, "singular");
});

Deno.test("affine: fills 0 outside the source and keeps values in [0, 1]", () => {
  const ones = new Float32Array(2 * 28 * 28).fill(1);
  const shrink = randomAffine({ ...IDENTITY_AFFINE, scale: [0.5, 0.5] });
  const out = shrink.apply(batchOf(ones, 2, 28, 28, 1), new Rng(1)).data;
  assertEquals(out[0], 0, "corner is outside the shrunken image");
  assertEquals(out[14 * 28 + 14], 1, "centre is inside");
  const t = randomAffinePerspective({
    affine: {
      rotationDeg: [-50, 50],
      translate: [0.1, 0.1],
      scale: [0.5, 1.5],
      shearDeg: [-20, 20],
    },
    perspectives: [{ distortion: 0.9, p: 1 }],
  });
  const data = randomImages(64 * 28 * 28, 2);
  const o = t.apply(batchOf(data, 64, 28, 28, 1), new Rng(2)).data;
  assertEquals(o.length, data.length);
  assert(o.every((v) => v >= 0 && v <= 1), "range");
});

Deno.test("affine+perspective: every image gets its own parameters; seeded", () => {
  const img = randomImages(28 * 28, 3);
  const data = new Float32Array(2 * 28 * 28);
  data.set(img, 0);
  data.set(img, 28 * 28);
  const batch = batchOf(data, 2, 28, 28, 1);
  for (
    const t of [
      randomAffine({ ...IDENTITY_AFFINE, rotationDeg: [-50, 50] }),
      randomPerspective({ distortion: 0.5, p: 1 }),
    ]
  ) {
    const out = t.apply(batch, new Rng(4)).data;
    const a = out.subarray(0, 784);
    const b = out.subarray(784);
    assert(a.some((v, i) => v !== b[i]), `${t.name}: identical inputs, different outputs`);
    assertEquals(t.apply(batch, new Rng(4)).data, out, `${t.name}: same seed, same output`);
    const other = t.apply(batch, new Rng(5)).data;
    assert(other.some((v, i) => v !== out[i]), `${t.name}: another seed, another output`);
  }
});

Deno.test("perspective: p = 0.5 warps about half of the images", () => {
  const data = randomImages(200 * 8 * 8, 6);
  const out = randomPerspective({ distortion: 0.5, p: 0.5 }).apply(
    batchOf(data, 200, 8, 8, 1),
    new Rng(6),
  ).data;
  let changed = 0;
  for (let i = 0; i < 200; i++) {
    if (out.subarray(i * 64, (i + 1) * 64).some((v, k) => v !== data[i * 64 + k])) changed++;
  }
  assert(changed > 70 && changed < 130, `changed ${changed} of 200`);
});

Deno.test("affine+perspective: bad settings are rejected", () => {
  const ok = IDENTITY_AFFINE;
  assertThrows(() => randomAffine({ ...ok, translate: [2, 0] }), "translate");
  assertThrows(() => randomAffine({ ...ok, scale: [0, 1] }), "scale");
  assertThrows(() => randomAffine({ ...ok, rotationDeg: [10, -10] }), "rotationDeg");
  assertThrows(() => randomPerspective({ distortion: 0.2, p: 1.5 }), "p");
  assertThrows(() => randomPerspective({ distortion: 2, p: 0.5 }), "distortion");
  assertThrows(
    () =>
      randomAffine(ok).apply({
        data: new Float32Array(5),
        count: 1,
        height: 2,
        width: 2,
        channels: 1,
      }, new Rng(0)),
    "data has 5 values",
  );
});
