import { embed2d, pca2d, subsampleIndices, umap2d } from "../../lib/eval/embed2d.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

const DIM = 10;

/** `n` points of each of two unit-variance blobs in 10-D whose centres are 20 apart. */
function twoBlobs(n: number, seed: number) {
  const rng = new Rng(seed);
  const features = new Float32Array(2 * n * DIM);
  const labels = new Int32Array(2 * n);
  for (let i = 0; i < 2 * n; i++) {
    labels[i] = i % 2;
    for (let j = 0; j < DIM; j++) {
      features[i * DIM + j] = rng.normal() + (j === 0 ? (i % 2 ? 10 : -10) : 0);
    }
  }
  return { features, labels };
}

/** Fraction of points nearer to their own blob's 2-D centroid than to the other's. */
function separation(coords: Float32Array, labels: ArrayLike<number>): number {
  const n = labels.length;
  const centroid = [[0, 0, 0], [0, 0, 0]]; // x sum, y sum, count
  for (let p = 0; p < n; p++) {
    const c = centroid[labels[p]];
    c[0] += coords[2 * p];
    c[1] += coords[2 * p + 1];
    c[2]++;
  }
  const [a, b] = centroid.map(([x, y, m]) => [x / m, y / m]);
  let right = 0;
  for (let p = 0; p < n; p++) {
    const x = coords[2 * p];
    const y = coords[2 * p + 1];
    const dA = Math.hypot(x - a[0], y - a[1]);
    const dB = Math.hypot(x - b[0], y - b[1]);
    if ((labels[p] === 0) === (dA < dB)) right++;
  }
  return right / n;
}

Deno.test("subsampleIndices: distinct, ascending, seeded", () => {
  const a = subsampleIndices(1000, 100, 1);
  assertEquals(a.length, 100);
  assert(a.every((v, i) => v >= 0 && v < 1000 && (i === 0 || v > a[i - 1])), "not ascending");
  assertEquals(subsampleIndices(1000, 100, 1), a);
  assert(subsampleIndices(1000, 100, 2).some((v, i) => v !== a[i]), "seed 2 = seed 1?");
  assertEquals(subsampleIndices(5, 100, 1), Int32Array.from([0, 1, 2, 3, 4]));
  assertThrows(() => subsampleIndices(5, 0, 1), "maxPoints");
});

Deno.test("umap2d: shape, subsample, determinism, and separated blobs stay separated", () => {
  const { features, labels } = twoBlobs(100, 3); // 200 points
  const opts = { maxPoints: 150, nNeighbors: 10, minDist: 0.1, seed: 4 };
  const map = umap2d(features, DIM, opts);
  assertEquals(map.indices.length, 150);
  assertEquals(map.coords.length, 300);
  assert(map.coords.every(Number.isFinite), "non-finite coordinates");
  assertEquals(map.indices, subsampleIndices(200, 150, 4));
  assertEquals(umap2d(features, DIM, opts).coords, map.coords, "same seed, different map");
  const other = umap2d(features, DIM, { ...opts, seed: 5 });
  assert(other.coords.some((v, i) => v !== map.coords[i]), "seed 5 gave seed 4's map");
  const kept = Array.from(map.indices, (i) => labels[i]);
  assertEquals(separation(map.coords, kept), 1);
  // Cosine on blobs at +-10 along one axis separates them as well.
  const cos = embed2d(features, DIM, { ...opts, metric: "cosine" });
  assertEquals(separation(cos.coords, kept), 1);
});

Deno.test("pca2d: principal axes of a hand-made set", () => {
  // +-3 e1, +-2 e2, +-1 e3 (and a shift): covariance diag(18, 8, 2) / 5.
  const rows = [[3, 0, 0], [-3, 0, 0], [0, 2, 0], [0, -2, 0], [0, 0, 1], [0, 0, -1]];
  const features = Float32Array.from(rows.flatMap(([x, y, z]) => [x + 1, y - 2, z + 5]));
  const { coords, components, variances, mean } = pca2d(features, 3);
  assertEquals(Array.from(mean), [1, -2, 5]);
  assertAlmostEquals(variances[0], 18 / 5, 1e-9);
  assertAlmostEquals(variances[1], 8 / 5, 1e-9);
  [[1, 0, 0], [0, 1, 0]].forEach((e, c) => {
    e.forEach((v, j) => assertAlmostEquals(components[c][j], v, 1e-6, `component ${c}[${j}]`));
  });
  const expected = [3, 0, -3, 0, 0, 2, 0, -2, 0, 0, 0, 0];
  expected.forEach((v, i) => assertAlmostEquals(coords[i], v, 1e-5, `coords[${i}]`));
});

Deno.test("pca2d: eigenvectors of the covariance on random data, deterministic", () => {
  const rng = new Rng(6);
  const n = 300;
  const d = 5;
  // Correlated data: x = A g with a fixed random A.
  const A = Array.from({ length: d * d }, () => rng.normal());
  const features = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const g = Array.from({ length: d }, () => rng.normal());
    for (let r = 0; r < d; r++) {
      features[i * d + r] = g.reduce((s, v, k) => s + A[r * d + k] * v, 0);
    }
  }
  const res = pca2d(features, d);
  // Dense covariance for the check.
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        cov[a][b] += (features[i * d + a] - res.mean[a]) * (features[i * d + b] - res.mean[b]) /
          (n - 1);
      }
    }
  }
  const trace = cov.reduce((s, row, a) => s + row[a], 0);
  for (let c = 0; c < 2; c++) {
    const v = res.components[c];
    for (let a = 0; a < d; a++) {
      const cv = cov[a].reduce((s, x, b) => s + x * v[b], 0);
      assertAlmostEquals(cv, res.variances[c] * v[a], 1e-4 * trace, `C v = lambda v, ${c}/${a}`);
    }
  }
  assert(res.variances[0] >= res.variances[1], "variances not sorted");
  const dot = res.components[0].reduce((s, x, j) => s + x * res.components[1][j], 0);
  assertAlmostEquals(dot, 0, 1e-9);
  assertEquals(pca2d(features, d).coords, res.coords);
});

Deno.test("embed2d with PCA: subsample, separated blobs, errors", () => {
  const { features, labels } = twoBlobs(500, 7);
  const map = embed2d(features, DIM, { method: "pca", maxPoints: 300, seed: 1 });
  assertEquals(map.indices.length, 300);
  assertEquals(map.coords.length, 600);
  assertEquals(separation(map.coords, Array.from(map.indices, (i) => labels[i])), 1);
  assertThrows(() => embed2d(features.subarray(1), DIM), "not a multiple of dim = 10");
  assertThrows(() => embed2d(features, DIM, { method: "tsne" as "pca" }), "unknown method");
  assertThrows(() => umap2d(features.subarray(0, 2 * DIM), DIM), "at least 3 points");
});
