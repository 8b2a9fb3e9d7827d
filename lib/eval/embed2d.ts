/**
 * 2-D maps of feature vectors for scatter plots: UMAP (McInnes et al. 2018,
 * the `umap-js` package) or PCA (our own power iteration, fast and exact).
 *
 * UMAP is slow (about 4 s for 2,000 points of 32 features), so {@linkcode embed2d} and
 * {@linkcode umap2d} first draw a seeded subsample (2,000 points by default)
 * and return the indices they kept, to look up the labels to colour by. Every
 * random choice (subsample, neighbour search, initial layout, negative
 * sampling) comes from an {@linkcode Rng}: the same seed draws the same map.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { embed2d } from "./embed2d.ts";
 * const rng = new Rng(0);
 * const testH = Float32Array.from({ length: 100 * 32 }, () => rng.normal()); // 100 rows x 32
 * const testLabels = Int32Array.from({ length: 100 }, (_, i) => i % 10);
 * const { coords, indices } = embed2d(testH, 32, { seed: 0 });
 * // point p is at (coords[2p], coords[2p + 1]) and has label testLabels[indices[p]]
 * ```
 *
 * @module
 */
import { UMAP } from "umap-js";
import { Rng } from "../rng.ts";

/** A 2-D map of (a subsample of) the rows of a feature matrix. */
export interface Embedding2D {
  /** `2 * indices.length` coordinates: point `p` is at `(coords[2p], coords[2p + 1])`. */
  coords: Float32Array;
  /** The original row of every point, ascending. */
  indices: Int32Array;
}

/** Options of {@linkcode umap2d} and {@linkcode embed2d}. */
export interface Embed2DOptions {
  /** `"umap"` (default) or `"pca"` (for {@linkcode embed2d}). */
  method?: "umap" | "pca";
  /** At most this many rows are embedded, a seeded subsample of them (default 2000). */
  maxPoints?: number;
  /** Seed of the subsample and of UMAP (default 0). */
  seed?: number;
  /** `"euclidean"` (default) or `"cosine"` (rows are L2-normalised first). */
  metric?: "euclidean" | "cosine";
  /** UMAP: size of the local neighbourhood (default 15; at most the number of points - 1). */
  nNeighbors?: number;
  /** UMAP: how tightly points may pack (default 0.1). */
  minDist?: number;
  /** UMAP: optimisation epochs (default: umap-js's choice, 500 for up to 2,500 points). */
  nEpochs?: number;
}

function checkRows(fn: string, features: Float32Array, dim: number): number {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new Error(`${fn}: dim must be a positive integer, got ${dim}`);
  }
  if (features.length % dim !== 0) {
    throw new Error(
      `${fn}: features has ${features.length} values, not a multiple of dim = ${dim}`,
    );
  }
  return features.length / dim;
}

/**
 * `min(count, maxPoints)` distinct rows out of `count`, drawn uniformly by
 * `seed`, in ascending order (all rows when `count <= maxPoints`).
 *
 * @example
 * ```ts
 * import { subsampleIndices } from "./embed2d.ts";
 * subsampleIndices(60000, 2000, 0).length; // 2000
 * ```
 */
export function subsampleIndices(count: number, maxPoints: number, seed: number): Int32Array {
  if (!Number.isInteger(maxPoints) || maxPoints < 1) {
    throw new Error(`subsampleIndices: maxPoints must be a positive integer, got ${maxPoints}`);
  }
  if (count <= maxPoints) return Int32Array.from({ length: count }, (_, i) => i);
  return new Rng(seed).fork("embed2d subsample").permutation(count).slice(0, maxPoints).sort();
}

/** The chosen rows of `features`, L2-normalised for `"cosine"`. */
function pickRows(
  features: Float32Array,
  dim: number,
  indices: Int32Array,
  metric: "euclidean" | "cosine",
): Float32Array {
  const out = new Float32Array(indices.length * dim);
  indices.forEach((row, p) => {
    const src = features.subarray(row * dim, (row + 1) * dim);
    let scale = 1;
    if (metric === "cosine") {
      let sq = 0;
      for (const v of src) sq += v * v;
      scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    }
    for (let j = 0; j < dim; j++) out[p * dim + j] = src[j] * scale;
  });
  return out;
}

function checkMetric(fn: string, metric: string): "euclidean" | "cosine" {
  if (metric !== "euclidean" && metric !== "cosine") {
    throw new Error(`${fn}: unknown metric "${metric}"; use "euclidean" or "cosine"`);
  }
  return metric;
}

/**
 * UMAP of (a seeded subsample of at most `maxPoints`) rows of row-major
 * `features` (`dim` values per row). Deterministic for a seed.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { umap2d } from "./embed2d.ts";
 * const rng = new Rng(0);
 * const testH = Float32Array.from({ length: 100 * 32 }, () => rng.normal());
 * const { coords, indices } = umap2d(testH, 32, { nNeighbors: 15, minDist: 0.1, seed: 1 });
 * ```
 */
export function umap2d(
  features: Float32Array,
  dim: number,
  options: Omit<Embed2DOptions, "method"> = {},
): Embedding2D {
  const fn = "umap2d";
  const count = checkRows(fn, features, dim);
  const metric = checkMetric(fn, options.metric ?? "euclidean");
  const seed = options.seed ?? 0;
  const indices = subsampleIndices(count, options.maxPoints ?? 2000, seed);
  const n = indices.length;
  if (n < 3) throw new Error(`${fn}: UMAP needs at least 3 points, got ${n}`);
  const nNeighbors = Math.min(options.nNeighbors ?? 15, n - 1);
  if (!Number.isInteger(nNeighbors) || nNeighbors < 2) {
    throw new Error(`${fn}: nNeighbors must be an integer >= 2, got ${options.nNeighbors}`);
  }
  const rows = pickRows(features, dim, indices, metric);
  const data: number[][] = [];
  for (let p = 0; p < n; p++) data.push(Array.from(rows.subarray(p * dim, (p + 1) * dim)));
  const rng = new Rng(seed).fork("embed2d umap");
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors,
    minDist: options.minDist ?? 0.1,
    nEpochs: options.nEpochs,
    random: () => rng.next(),
  });
  const embedding = umap.fit(data);
  const coords = new Float32Array(2 * n);
  embedding.forEach(([a, b], p) => {
    coords[2 * p] = a;
    coords[2 * p + 1] = b;
  });
  return { coords, indices };
}

/** Options of {@linkcode pca2d}. */
export interface Pca2DOptions {
  /** Seed of the power iteration's start vectors (default 0). */
  seed?: number;
  /** Power iterations per component at most (default 1000). */
  maxIterations?: number;
  /** Stop when a step moves the unit component by less than this (default 1e-10). */
  tolerance?: number;
}

/** The result of {@linkcode pca2d}. */
export interface Pca2D {
  /** `2 * count` coordinates: row `i` projected on the two components. */
  coords: Float32Array;
  /** The two unit principal directions, `dim` values each (the first, then the second). */
  components: [Float64Array, Float64Array];
  /** Per-feature mean that was subtracted. */
  mean: Float64Array;
  /** Variance along each component (the covariance's two largest eigenvalues). */
  variances: [number, number];
}

/**
 * Projects row-major `features` (`dim` values per row) on their two leading
 * principal components, found by power iteration on the covariance without
 * forming it (`O(count * dim)` per iteration, no copy of the data). Each
 * component's sign is fixed so that its largest-magnitude entry is positive;
 * deterministic for a seed (the start vectors).
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { pca2d } from "./embed2d.ts";
 * const rng = new Rng(0);
 * const testH = Float32Array.from({ length: 100 * 32 }, () => rng.normal());
 * const { coords, variances } = pca2d(testH, 32); // variances[0] >= variances[1]
 * ```
 */
export function pca2d(
  features: Float32Array,
  dim: number,
  options: Pca2DOptions = {},
): Pca2D {
  const fn = "pca2d";
  const count = checkRows(fn, features, dim);
  if (count < 2) throw new Error(`${fn}: needs at least 2 rows, got ${count}`);
  const maxIterations = options.maxIterations ?? 1000;
  const tolerance = options.tolerance ?? 1e-10;
  const rng = new Rng(options.seed ?? 0).fork("pca2d start");

  const mean = new Float64Array(dim);
  for (let i = 0; i < count * dim; i++) mean[i % dim] += features[i];
  for (let j = 0; j < dim; j++) mean[j] /= count;

  // u = Xc v (one value per row); returns Xc^T u / (count - 1) = C v.
  const proj = new Float64Array(count);
  const project = (v: Float64Array, out: Float64Array): void => {
    let mv = 0;
    for (let j = 0; j < dim; j++) mv += mean[j] * v[j];
    for (let i = 0; i < count; i++) {
      let s = -mv;
      const base = i * dim;
      for (let j = 0; j < dim; j++) s += features[base + j] * v[j];
      out[i] = s;
    }
  };
  const covTimes = (v: Float64Array): Float64Array => {
    project(v, proj);
    const out = new Float64Array(dim);
    let sumU = 0;
    for (let i = 0; i < count; i++) {
      const u = proj[i];
      sumU += u;
      const base = i * dim;
      for (let j = 0; j < dim; j++) out[j] += features[base + j] * u;
    }
    for (let j = 0; j < dim; j++) out[j] = (out[j] - mean[j] * sumU) / (count - 1);
    return out;
  };
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, j) => s + v * b[j], 0);
  /** Removes from `v` its parts along `against`, then scales it to unit length; false if ~0. */
  const orthonormalize = (v: Float64Array, against: Float64Array[]): boolean => {
    for (const a of against) {
      const d = dot(v, a);
      for (let j = 0; j < dim; j++) v[j] -= d * a[j];
    }
    const norm = Math.sqrt(dot(v, v));
    if (!(norm > 1e-300)) return false;
    for (let j = 0; j < dim; j++) v[j] /= norm;
    return true;
  };

  const components: Float64Array[] = [];
  const variances: number[] = [];
  for (let c = 0; c < 2; c++) {
    let v: Float64Array = new Float64Array(dim).map(() => rng.normal());
    let variance = 0;
    if (!orthonormalize(v, components)) v = new Float64Array(dim);
    else {
      for (let it = 0; it < maxIterations; it++) {
        const w = covTimes(v);
        variance = dot(w, v); // Rayleigh quotient
        if (!orthonormalize(w, components)) {
          // C v is (numerically) zero: no variance left in this direction.
          variance = 0;
          break;
        }
        const sign = dot(w, v) < 0 ? -1 : 1;
        let change = 0; // |w - sign v|, about the angle between the two
        for (let j = 0; j < dim; j++) change += (w[j] - sign * v[j]) ** 2;
        change = Math.sqrt(change);
        v = w;
        if (change < tolerance) break;
      }
      if (variance <= 0) variance = Math.max(0, dot(covTimes(v), v));
    }
    let big = 0;
    for (let j = 0; j < dim; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) { for (let j = 0; j < dim; j++) v[j] = -v[j]; }
    components.push(v);
    variances.push(variance);
  }

  const coords = new Float32Array(2 * count);
  for (let c = 0; c < 2; c++) {
    project(components[c], proj);
    for (let i = 0; i < count; i++) coords[2 * i + c] = proj[i];
  }
  return {
    coords,
    components: [components[0], components[1]],
    mean,
    variances: [variances[0], variances[1]],
  };
}

/**
 * A 2-D map of (a seeded subsample of at most `maxPoints`) rows of
 * `features`, by UMAP (default) or PCA. Deterministic for a seed.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { embed2d } from "./embed2d.ts";
 * const rng = new Rng(0);
 * const testH = Float32Array.from({ length: 100 * 32 }, () => rng.normal());
 * const map = embed2d(testH, 32, { method: "pca", maxPoints: 5000, seed: 0 });
 * ```
 */
export function embed2d(
  features: Float32Array,
  dim: number,
  options: Embed2DOptions = {},
): Embedding2D {
  const method = options.method ?? "umap";
  if (method === "umap") return umap2d(features, dim, options);
  if (method !== "pca") throw new Error(`embed2d: unknown method "${method}"; use "umap" or "pca"`);
  const count = checkRows("embed2d", features, dim);
  const metric = checkMetric("embed2d", options.metric ?? "euclidean");
  const seed = options.seed ?? 0;
  const indices = subsampleIndices(count, options.maxPoints ?? 2000, seed);
  const { coords } = pca2d(pickRows(features, dim, indices, metric), dim, { seed });
  return { coords, indices };
}
