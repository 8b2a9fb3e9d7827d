import {
  effectiveRank,
  rankMe,
  singularValues,
  spectrum,
  symmetricEigenvalues,
} from "../../lib/eval/rank.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

/** The spectrum part of tools/fixtures/ssl_losses.py's fixture (NumPy's SVD, float64). */
interface SpectrumFixture {
  matrix: number[][];
  singular_values_centred: number[];
  effective_rank_centred: number;
  singular_values_raw: number[];
  effective_rank_raw: number;
}

const fixture: SpectrumFixture = JSON.parse(
  Deno.readTextFileSync(new URL("../loss/fixtures/ssl_losses.json", import.meta.url)),
).spectrum;

/** `rows` x `dim` standard normal deviates from `rng`. */
function gaussian(rows: number, dim: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: rows * dim }, () => rng.normal());
}

/** `k` orthonormal vectors of length `dim` (Gram-Schmidt on Gaussian vectors), row-major. */
function orthonormal(k: number, dim: number, rng: Rng): Float64Array {
  const q = gaussian(k, dim, rng);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < i; j++) {
      let dot = 0;
      for (let t = 0; t < dim; t++) dot += q[i * dim + t] * q[j * dim + t];
      for (let t = 0; t < dim; t++) q[i * dim + t] -= dot * q[j * dim + t];
    }
    let norm = 0;
    for (let t = 0; t < dim; t++) norm += q[i * dim + t] ** 2;
    for (let t = 0; t < dim; t++) q[i * dim + t] /= Math.sqrt(norm);
  }
  return q;
}

/** Entry (r, c) of the Sylvester-Hadamard matrix: (-1)^popcount(r & c). */
function hadamard(r: number, c: number): number {
  let bits = r & c;
  let parity = 0;
  while (bits) {
    parity ^= bits & 1;
    bits >>= 1;
  }
  return parity ? -1 : 1;
}

/**
 * `rows` embeddings along `k` orthonormal directions of R^dim with coefficients from Hadamard
 * columns 1..k: centred, orthogonal and of equal norm, so the k singular values are equal.
 */
function kDirections(rows: number, k: number, dim: number, rng: Rng): Float64Array {
  const q = orthonormal(k, dim, rng);
  const z = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const a = hadamard(r, j + 1);
      for (let t = 0; t < dim; t++) z[r * dim + t] += a * q[j * dim + t];
    }
  }
  return z;
}

Deno.test("singular values match NumPy's SVD, centred and not, through either Gram matrix", () => {
  const m = fixture.matrix;
  const [rows, dim] = [m.length, m[0].length];
  const z = Float64Array.from(m.flat());
  let maxError = 0;
  const compare = (got: ArrayLike<number>, expected: number[], what: string) => {
    assertEquals(got.length, expected.length, `${what}: count`);
    for (let i = 0; i < expected.length; i++) {
      maxError = Math.max(maxError, Math.abs(got[i] - expected[i]));
      assertAlmostEquals(got[i], expected[i], 1e-9, `${what}: σ_${i}`);
    }
  };
  compare(singularValues(z, rows, dim), fixture.singular_values_centred, "centred");
  compare(singularValues(z, rows, dim, { centre: false }), fixture.singular_values_raw, "raw");
  // The transpose has the same singular values; with rows < dim the N x N Gram matrix is used.
  const t = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) t[c * rows + r] = z[r * dim + c];
  compare(singularValues(t, dim, rows, { centre: false }), fixture.singular_values_raw, "ZZᵀ");
  // Float32 input: the fixture's values are float32 numbers, so nothing changes.
  compare(singularValues(Float32Array.from(z), rows, dim), fixture.singular_values_centred, "f32");
  assertAlmostEquals(effectiveRank(z, rows, dim), fixture.effective_rank_centred, 1e-9);
  assertAlmostEquals(
    effectiveRank(z, rows, dim, { centre: false }),
    fixture.effective_rank_raw,
    1e-9,
  );
  console.log(`max |σ - NumPy σ|: ${maxError.toExponential(1)}`);
});

Deno.test("symmetricEigenvalues: known spectra, diagonal, repeated and negative eigenvalues", () => {
  const close = (got: Float64Array, expected: number[]) =>
    expected.forEach((e, i) => assertAlmostEquals(got[i], e, 1e-12, `λ_${i}`));
  close(symmetricEigenvalues([2, 1, 1, 2], 2), [3, 1]);
  close(symmetricEigenvalues([5], 1), [5]);
  close(symmetricEigenvalues([0, 0, 0, 0, 3, 0, 0, 0, -2], 3), [3, 0, -2]);
  // Q diag(4, 4, 1, -1) Qᵀ for a random orthonormal Q.
  const n = 4;
  const q = orthonormal(n, n, new Rng(1));
  const lambda = [4, 4, 1, -1];
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++) a[i * n + j] += q[k * n + i] * lambda[k] * q[k * n + j];
    }
  }
  close(symmetricEigenvalues(a, n), lambda);
  close(symmetricEigenvalues(new Float64Array(9), 3), [0, 0, 0]);
  assertThrows(() => symmetricEigenvalues([1, 2, 3], 2), "n x n");
  assertThrows(() => symmetricEigenvalues([1, NaN, NaN, 1], 2), "not finite");
});

Deno.test("effectiveRank: about d for a Gaussian cloud, 1 for rank 1, k for k orthogonal directions", () => {
  const rng = new Rng(0);
  const d = 16;
  const cloud = effectiveRank(gaussian(1024, d, rng), 1024, d);
  assert(cloud > 0.95 * d && cloud <= d, `Gaussian 1024 x ${d}: ${cloud}`);
  // Rank 1: every row a multiple of one vector.
  const u = gaussian(64, 1, rng);
  const v = gaussian(1, d, rng);
  const rank1 = Float64Array.from({ length: 64 * d }, (_, i) => u[Math.floor(i / d)] * v[i % d]);
  // k equal singular values and d - k zeros: k, but for RankMe's epsilon (the zeros add about
  // (d - k) · 1e-7 · ln(1e7), 2.4e-5 for k = 1).
  const ideal = (k: number) => rankMe(Array.from({ length: d }, (_, i) => (i < k ? 1 : 0)));
  assertAlmostEquals(ideal(1), 1, 3e-5);
  assertAlmostEquals(effectiveRank(rank1, 64, d), ideal(1), 1e-9);
  for (const k of [1, 2, 3, 5, 8, 16]) {
    const r = effectiveRank(kDirections(32, k, d, rng), 32, d);
    assertAlmostEquals(r, ideal(k), 1e-9, `k = ${k}`);
    assertAlmostEquals(r, k, 2e-4, `k = ${k}`);
  }
  // A shift of every row changes nothing once centred, but counts as a direction otherwise.
  const shifted = kDirections(32, 3, d, rng).map((x, i) => x + (i % d === 0 ? 10 : 0));
  assertAlmostEquals(effectiveRank(shifted, 32, d), ideal(3), 1e-9);
  const nonZero = (values: number[]) => values.filter((v) => v > 1e-9 * values[0]).length;
  assertEquals(nonZero(spectrum(shifted, 32, d)), 3);
  assertEquals(nonZero(spectrum(shifted, 32, d, { centre: false })), 4, "the mean's direction");
  // Every row the same: nothing is spread at all.
  const same = Float64Array.from({ length: 8 * d }, (_, i) => i % d);
  assertEquals(effectiveRank(same, 8, d), 0);
  assertThrows(() => effectiveRank(new Float32Array(10), 3, 4), "3 x 4", "got 10");
});

Deno.test("rankMe and spectrum: the formula, the order and the normalisation", () => {
  // Equal values: p_k = 1/k + eps, so the rank is k up to eps.
  assertAlmostEquals(rankMe([2, 2, 2, 2]), 4, 1e-5);
  assertAlmostEquals(rankMe([1, 0, 0]), 1, 1e-5);
  const p = [0.5 + 1e-7, 0.5 + 1e-7];
  assertAlmostEquals(rankMe([3, 3]), Math.exp(-p.reduce((a, x) => a + x * Math.log(x), 0)), 1e-12);
  assertEquals(rankMe([0, 0]), 0);
  assertThrows(() => rankMe([]), "no singular values");
  assertThrows(() => rankMe([1, -1]), "singular value 1");
  const m = fixture.matrix;
  const z = Float64Array.from(m.flat());
  const values = spectrum(z, m.length, m[0].length);
  assert(Array.isArray(values), "a plain array");
  assert(values.every((v, i) => i === 0 || v <= values[i - 1]), "descending");
  const normalised = spectrum(z, m.length, m[0].length, { normalise: true });
  assertEquals(normalised[0], 1);
  normalised.forEach((v, i) => assertAlmostEquals(v, values[i] / values[0], 1e-15));
  assertEquals(spectrum(new Float64Array(6), 3, 2, { normalise: true }), [0, 0]);
});
