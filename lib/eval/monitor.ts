/**
 * Live metrics of contrastive pre-training, computed on projections z of a
 * fixed batch of view pairs (rows `i` and `i + n` are the two views of one
 * image) — what lightly, solo-learn and the Keras SimCLR example show while
 * training, because a falling loss alone says nothing about collapse:
 *
 * - **contrastive top-1 accuracy**: the share of views whose most similar
 *   other view (cosine) is their twin; chance is about 1 / (2n - 1);
 * - **collapse indicator**: the mean over dimensions of the standard
 *   deviation of the L2-normalised z across views — about 1/√d when the
 *   views spread over the sphere, 0 when every view maps to one point.
 *
 * @example
 * ```ts
 * import { collapseIndicator, contrastiveAccuracy, isCollapsing } from "./monitor.ts";
 * // Two pairs in 2-D: each view's twin is its nearest neighbour.
 * const z = new Float32Array([1, 0, 0, 1, 0.9, 0.1, 0.1, 0.9]);
 * contrastiveAccuracy(z, 2, 2); // 1
 * const s = collapseIndicator(z, 4, 2); // about 0.5; 1/√2 ≈ 0.71 is the spread of random views
 * isCollapsing(s, 2); // false
 * ```
 *
 * @module
 */

/** Rows of `z` (row-major, `dim` each) scaled to unit length; an all-zero row stays zero. */
export function normaliseRows(z: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(z.length);
  for (let r = 0; r < z.length / dim; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += z[r * dim + j] ** 2;
    const norm = Math.sqrt(s) + 1e-12;
    for (let j = 0; j < dim; j++) out[r * dim + j] = z[r * dim + j] / norm;
  }
  return out;
}

function checkShape(fn: string, z: Float32Array, rows: number, dim: number): void {
  if (!Number.isInteger(dim) || dim < 1 || z.length !== rows * dim || rows < 2) {
    throw new RangeError(
      `${fn}: z must hold rows x dim = ${rows} x ${dim} values (at least 2 rows), got ${z.length}`,
    );
  }
}

/**
 * The share of the `2n` views (rows `i` and `i + n` are twins) whose most
 * similar other view, by cosine similarity, is their twin.
 */
export function contrastiveAccuracy(z: Float32Array, n: number, dim: number): number {
  checkShape("contrastiveAccuracy", z, 2 * n, dim);
  const zn = normaliseRows(z, dim);
  const rows = 2 * n;
  let hits = 0;
  for (let i = 0; i < rows; i++) {
    let best = -1;
    let bestSim = -Infinity;
    for (let j = 0; j < rows; j++) {
      if (j === i) continue;
      let s = 0;
      for (let d = 0; d < dim; d++) s += zn[i * dim + d] * zn[j * dim + d];
      if (s > bestSim) {
        bestSim = s;
        best = j;
      }
    }
    if (best === (i + n) % rows) hits++;
  }
  return hits / rows;
}

/** Mean over dimensions of the standard deviation of the L2-normalised rows of `z`. */
export function collapseIndicator(z: Float32Array, rows: number, dim: number): number {
  checkShape("collapseIndicator", z, rows, dim);
  const zn = normaliseRows(z, dim);
  let total = 0;
  for (let d = 0; d < dim; d++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += zn[r * dim + d];
    mean /= rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (zn[r * dim + d] - mean) ** 2;
    total += Math.sqrt(v / rows);
  }
  return total / dim;
}

/**
 * Below this fraction of 1/√d, the collapse indicator raises a warning. A
 * freshly initialised network already sits near 0.2/√d (its ReLU features are
 * all positive, so its views point one way); a collapsing run falls far below.
 */
export const COLLAPSE_FRACTION = 0.1;

/** Whether a collapse indicator of `std` for `dim`-wide z means the features are collapsing. */
export function isCollapsing(std: number, dim: number): boolean {
  return std < COLLAPSE_FRACTION / Math.sqrt(dim);
}

/** The warning a collapsing run prints (in the log and the notebook). */
export function collapseWarning(std: number, dim: number, epoch: number): string {
  return `warning: the projections are collapsing at epoch ${epoch + 1}: the spread of the ` +
    `normalised z is ${std.toFixed(4)}, under ${COLLAPSE_FRACTION} x 1/√${dim} = ${
      (COLLAPSE_FRACTION / Math.sqrt(dim)).toFixed(4)
    } (healthy: about ${(1 / Math.sqrt(dim)).toFixed(4)}); lower the learning rate, raise the ` +
    `temperature or check the augmentation`;
}
