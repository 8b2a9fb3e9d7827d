/**
 * Label-free diagnostics of an embedding matrix's spectrum: how many directions the
 * embeddings really use. A method that collapses dimensionally (Jing et al. 2022,
 * "Understanding Dimensional Collapse in Contrastive Self-supervised Learning") spreads its
 * embeddings over far fewer directions than it has dimensions, and its downstream accuracy
 * follows; RankMe (Garrido, Balestriero, Najman & LeCun 2023, "RankMe: Assessing the
 * Downstream Performance of Pretrained Self-Supervised Representations by Their Rank") reads
 * it off the singular values, without labels.
 *
 * - {@linkcode singularValues}: the singular values of the N x d matrix Z, its columns
 *   centred first (by default), sorted descending. They are the square roots of the
 *   eigenvalues of the d x d scatter matrix ZᵀZ (or of the N x N Gram matrix ZZᵀ when N < d:
 *   the same non-zero eigenvalues, a smaller problem), formed in float64 and solved exactly
 *   by {@linkcode symmetricEigenvalues} (Householder tridiagonalisation, then bisection).
 *   Through ZᵀZ each value is exact to float64 rounding of σ_1²: singular values below
 *   about 1e-7·σ_1 are rounding noise, too small to change a rank or a chart.
 * - {@linkcode effectiveRank}: RankMe, `exp(-Σ p_k log p_k)` with `p_k = σ_k / Σσ + 1e-7`,
 *   between 1 and min(N, d): 1 for a rank-1 matrix, k for k orthogonal directions of equal
 *   spread, near d for a full-rank Gaussian cloud. {@linkcode rankMe} is the same on given
 *   singular values.
 * - {@linkcode spectrum}: the singular values sorted descending as a plain array, optionally
 *   divided by the largest, for a log-scale chart (values of 0, from a rank-deficient matrix,
 *   are left out of a log axis by the chart).
 *
 * Centring removes the mean embedding, which would otherwise count as one direction of its
 * own (RankMe's paper does not centre; `{ centre: false }` gives its numbers).
 *
 * Cost: forming ZᵀZ is N·d²/2 multiply-adds, the eigenvalues about 2·m³ more for
 * m = min(N, d): well under a second for N = 1024, d = 512, milliseconds for d = 64.
 *
 * @example
 * ```ts
 * import { effectiveRank, spectrum } from "./rank.ts";
 * // Four 3-D embeddings spread along two directions only.
 * const z = new Float32Array([1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0]);
 * effectiveRank(z, 4, 3); // about 2
 * spectrum(z, 4, 3); // [1.414..., 1.414..., 0]
 * ```
 *
 * @module
 */

/** How {@linkcode singularValues} and the functions on it read the embedding matrix. */
export interface SpectrumOptions {
  /** Subtract each column's mean first (default true). */
  centre?: boolean;
}

/** RankMe's epsilon, added to every normalised singular value. */
const RANKME_EPSILON = 1e-7;

/**
 * The eigenvalues of the symmetric `n` x `n` matrix `matrix` (row-major; it must be symmetric),
 * sorted descending. Two exact steps: Householder reflections bring the matrix to tridiagonal
 * form with the same eigenvalues (about 2n³ multiply-adds, backward stable), then bisection
 * with Sturm counts finds each eigenvalue of the tridiagonal matrix to within a few float64
 * units of its norm. The input is not changed.
 *
 * Throws a `RangeError` unless `matrix` holds `n`·`n` finite values.
 *
 * @example
 * ```ts
 * import { symmetricEigenvalues } from "./rank.ts";
 * symmetricEigenvalues(new Float64Array([2, 1, 1, 2]), 2); // Float64Array [3, 1]
 * ```
 */
export function symmetricEigenvalues(matrix: ArrayLike<number>, n: number): Float64Array {
  if (!Number.isInteger(n) || n < 1 || matrix.length !== n * n) {
    throw new RangeError(
      `symmetricEigenvalues: need an n x n matrix, got ${matrix.length} values for n = ${n}`,
    );
  }
  for (let i = 0; i < matrix.length; i++) {
    if (!Number.isFinite(matrix[i])) {
      throw new RangeError(`symmetricEigenvalues: entry ${i} is not finite (${matrix[i]})`);
    }
  }
  const { diagonal, offDiagonal } = tridiagonalise(Float64Array.from(matrix), n);
  return tridiagonalEigenvalues(diagonal, offDiagonal);
}

/**
 * Householder tridiagonalisation of the symmetric `a` (overwritten): for each column k, the
 * reflection H = I - 2vvᵀ that maps the entries below the subdiagonal to 0, applied on both
 * sides of the trailing block as `A ← A - 2vqᵀ - 2qvᵀ` with `p = Av`, `q = p - (vᵀp)v`.
 * Returns the diagonal and the subdiagonal (n - 1 values) of the result.
 */
function tridiagonalise(
  a: Float64Array,
  n: number,
): { diagonal: Float64Array; offDiagonal: Float64Array } {
  const offDiagonal = new Float64Array(Math.max(n - 1, 0));
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // x = A[k+1.., k]; the reflection maps it to (alpha, 0, ..., 0).
    let norm2 = 0;
    for (let i = k + 1; i < n; i++) norm2 += a[i * n + k] ** 2;
    const x0 = a[(k + 1) * n + k];
    if (norm2 === x0 * x0) { // already tridiagonal in this column
      offDiagonal[k] = x0;
      continue;
    }
    const alpha = x0 > 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    let vNorm2 = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = a[i * n + k] - (i === k + 1 ? alpha : 0);
      vNorm2 += v[i] * v[i];
    }
    const scale = 1 / Math.sqrt(vNorm2);
    for (let i = k + 1; i < n; i++) v[i] *= scale;
    let vp = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      for (let j = k + 1; j < n; j++) s += a[i * n + j] * v[j];
      p[i] = s;
      vp += v[i] * s;
    }
    for (let i = k + 1; i < n; i++) p[i] -= vp * v[i]; // now q
    for (let i = k + 1; i < n; i++) {
      const vi = 2 * v[i];
      const qi = 2 * p[i];
      for (let j = k + 1; j < n; j++) a[i * n + j] -= vi * p[j] + qi * v[j];
    }
    offDiagonal[k] = alpha;
  }
  if (n >= 2) offDiagonal[n - 2] = a[(n - 1) * n + n - 2];
  const diagonal = new Float64Array(n);
  for (let i = 0; i < n; i++) diagonal[i] = a[i * n + i];
  return { diagonal, offDiagonal };
}

/**
 * The eigenvalues, descending, of the symmetric tridiagonal matrix with `d` on its diagonal and
 * `e` beside it, by bisection: the number of eigenvalues below x is the number of negative
 * pivots of the LDLᵀ factorisation of T - xI (Sylvester's law of inertia), and each eigenvalue
 * is bisected inside the Gershgorin interval until the bracket is 4 float64 units of the
 * matrix's norm wide. An eigenvalue within that width of 0 is returned as 0.
 */
function tridiagonalEigenvalues(d: Float64Array, e: Float64Array): Float64Array {
  const n = d.length;
  let lo = Infinity;
  let hi = -Infinity;
  let maxE2 = 0;
  for (let i = 0; i < n; i++) {
    const r = (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0);
    lo = Math.min(lo, d[i] - r);
    hi = Math.max(hi, d[i] + r);
    if (i < n - 1) maxE2 = Math.max(maxE2, e[i] * e[i]);
  }
  const norm = Math.max(Math.abs(lo), Math.abs(hi));
  if (norm === 0) return new Float64Array(n);
  const tolerance = 4 * Number.EPSILON * norm;
  const pivotFloor = Number.MIN_VALUE * 1e10 * Math.max(1, maxE2);
  const below = (x: number): number => {
    let count = 0;
    let q = 1;
    for (let i = 0; i < n; i++) {
      q = d[i] - x - (i > 0 ? (e[i - 1] * e[i - 1]) / q : 0);
      if (Math.abs(q) < pivotFloor) q = -pivotFloor;
      if (q < 0) count++;
    }
    return count;
  };
  const values = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // The k-th smallest: below(x) > k exactly when x is above it.
    let a = lo;
    let b = hi;
    for (let step = 0; step < 200 && b - a > tolerance; step++) {
      const mid = (a + b) / 2;
      if (below(mid) > k) b = mid;
      else a = mid;
    }
    const value = (a + b) / 2;
    // Within the bracket's width of 0 is as good as 0: a rank-deficient matrix gets exact zeros.
    values[n - 1 - k] = Math.abs(value) <= tolerance ? 0 : value;
  }
  return values;
}

function checkShape(fn: string, z: ArrayLike<number>, rows: number, dim: number): void {
  if (
    !Number.isInteger(rows) || !Number.isInteger(dim) || rows < 1 || dim < 1 ||
    z.length !== rows * dim
  ) {
    throw new RangeError(
      `${fn}: z must hold rows x dim = ${rows} x ${dim} values, got ${z.length}`,
    );
  }
}

/**
 * The min(`rows`, `dim`) singular values of the `rows` x `dim` matrix `z` (row-major), its
 * columns centred first unless `options.centre` is false, sorted descending (module notes).
 *
 * Throws a `RangeError` unless `z` holds `rows`·`dim` finite values.
 */
export function singularValues(
  z: ArrayLike<number>,
  rows: number,
  dim: number,
  options: SpectrumOptions = {},
): Float64Array {
  checkShape("singularValues", z, rows, dim);
  const x = Float64Array.from(z);
  if (options.centre ?? true) {
    for (let j = 0; j < dim; j++) {
      let mean = 0;
      for (let r = 0; r < rows; r++) mean += x[r * dim + j];
      mean /= rows;
      for (let r = 0; r < rows; r++) x[r * dim + j] -= mean;
    }
  }
  // The smaller of ZᵀZ (dim x dim) and ZZᵀ (rows x rows).
  const m = Math.min(rows, dim);
  const gram = new Float64Array(m * m);
  if (dim <= rows) {
    for (let r = 0; r < rows; r++) {
      const o = r * dim;
      for (let i = 0; i < dim; i++) {
        const v = x[o + i];
        if (v === 0) continue;
        for (let j = i; j < dim; j++) gram[i * m + j] += v * x[o + j];
      }
    }
  } else {
    for (let i = 0; i < rows; i++) {
      for (let j = i; j < rows; j++) {
        let s = 0;
        for (let k = 0; k < dim; k++) s += x[i * dim + k] * x[j * dim + k];
        gram[i * m + j] = s;
      }
    }
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) gram[i * m + j] = gram[j * m + i];
  const eigen = symmetricEigenvalues(gram, m);
  // Round-off can leave a zero eigenvalue slightly negative.
  return eigen.map((v) => Math.sqrt(Math.max(v, 0)));
}

/**
 * RankMe on given singular values: `exp(-Σ p_k log p_k)`, `p_k = σ_k / Σσ + eps` (eps 1e-7,
 * the paper's). 0 when every singular value is 0 (no direction used at all).
 *
 * Throws a `RangeError` if a value is negative or not finite, or there are none.
 */
export function rankMe(singular: ArrayLike<number>, eps = RANKME_EPSILON): number {
  if (singular.length === 0) throw new RangeError("rankMe: no singular values");
  let total = 0;
  for (let k = 0; k < singular.length; k++) {
    const s = singular[k];
    if (!(s >= 0) || !Number.isFinite(s)) {
      throw new RangeError(`rankMe: singular value ${k} must be finite and >= 0, got ${s}`);
    }
    total += s;
  }
  if (total === 0) return 0;
  let entropy = 0;
  for (let k = 0; k < singular.length; k++) {
    const p = singular[k] / total + eps;
    entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

/**
 * The effective rank (RankMe) of the `rows` x `dim` embedding matrix `z`: between 1 and
 * min(`rows`, `dim`), 0 for a matrix whose centred columns are all zero (module notes).
 *
 * Throws a `RangeError` unless `z` holds `rows`·`dim` finite values.
 */
export function effectiveRank(
  z: ArrayLike<number>,
  rows: number,
  dim: number,
  options: SpectrumOptions = {},
): number {
  return rankMe(singularValues(z, rows, dim, options));
}

/**
 * The singular values of `z` sorted descending, as a plain array for a chart (a log y-axis
 * shows how fast they fall); with `normalise`, divided by the largest (so runs of different
 * scales share an axis; all zeros stay zeros).
 *
 * Throws a `RangeError` unless `z` holds `rows`·`dim` finite values.
 */
export function spectrum(
  z: ArrayLike<number>,
  rows: number,
  dim: number,
  options: SpectrumOptions & { normalise?: boolean } = {},
): number[] {
  const values = Array.from(singularValues(z, rows, dim, options));
  if (!options.normalise || values[0] === 0) return values;
  return values.map((v) => v / values[0]);
}
