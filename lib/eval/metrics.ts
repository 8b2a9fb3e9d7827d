/**
 * Classification metrics on plain typed arrays: accuracy, the confusion
 * matrix and per-class accuracy, the arg-max of rows of logits, and the
 * mean ± spread of a metric over repeated runs (seeds).
 *
 * Labels and predictions are class indices `0 .. numClasses - 1` in
 * `Int32Array`s; logits are row-major `Float32Array`s of `count * dim`.
 *
 * @example
 * ```ts
 * import { accuracy, argmaxRows } from "./metrics.ts";
 * const pred = argmaxRows(new Float32Array([0.1, 0.9, 0.8, 0.2]), 2); // [1, 0]
 * accuracy(pred, new Int32Array([1, 1])); // 0.5
 * ```
 *
 * @module
 */

/** Throws unless `a` and `b` have the same length, naming both arrays and their lengths. */
export function checkSameLength(
  fn: string,
  nameA: string,
  a: ArrayLike<unknown>,
  nameB: string,
  b: ArrayLike<unknown>,
): void {
  if (a.length !== b.length) {
    throw new Error(
      `${fn}: ${nameA} has ${a.length} entries but ${nameB} has ${b.length}; they must match`,
    );
  }
}

/**
 * The fraction of positions where `pred` equals `labels` (in [0, 1]).
 *
 * @example
 * ```ts
 * import { accuracy } from "./metrics.ts";
 * accuracy(new Int32Array([0, 1, 2, 2]), new Int32Array([0, 1, 1, 2])); // 0.75
 * ```
 */
export function accuracy(pred: Int32Array, labels: Int32Array): number {
  checkSameLength("accuracy", "pred", pred, "labels", labels);
  if (pred.length === 0) throw new Error("accuracy: pred and labels are empty");
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) correct++;
  return correct / pred.length;
}

function checkClass(fn: string, what: string, v: number, i: number, numClasses: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
    throw new Error(`${fn}: ${what}[${i}] = ${v} is not a class in [0, ${numClasses})`);
  }
}

/**
 * The `numClasses x numClasses` confusion matrix: `m[t][p]` counts the
 * examples of true class `t` (rows) predicted as class `p` (columns).
 *
 * @example
 * ```ts
 * import { confusionMatrix } from "./metrics.ts";
 * confusionMatrix(new Int32Array([0, 1, 1]), new Int32Array([0, 0, 1]), 2);
 * // [[1, 1],
 * //  [0, 1]]
 * ```
 */
export function confusionMatrix(
  pred: Int32Array,
  labels: Int32Array,
  numClasses: number,
): number[][] {
  checkSameLength("confusionMatrix", "pred", pred, "labels", labels);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`confusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
  }
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < pred.length; i++) {
    checkClass("confusionMatrix", "labels", labels[i], i, numClasses);
    checkClass("confusionMatrix", "pred", pred[i], i, numClasses);
    m[labels[i]][pred[i]]++;
  }
  return m;
}

/**
 * Per-class accuracy (recall) from a confusion matrix with true classes as
 * rows: `m[c][c] / sum(m[c])`, `NaN` for a class with no examples.
 *
 * @example
 * ```ts
 * import { perClassAccuracy } from "./metrics.ts";
 * perClassAccuracy([[1, 1], [0, 2]]); // [0.5, 1]
 * ```
 */
export function perClassAccuracy(confusion: number[][]): number[] {
  return confusion.map((row, c) => {
    if (row.length !== confusion.length) {
      throw new Error(
        `perClassAccuracy: the confusion matrix must be square; row ${c} has ${row.length} ` +
          `entries for ${confusion.length} rows`,
      );
    }
    const total = row.reduce((s, v) => s + v, 0);
    return total === 0 ? NaN : row[c] / total;
  });
}

/**
 * The index of the largest entry of each row of row-major `logits`
 * (`count * dim` values); ties go to the lowest index.
 *
 * @example
 * ```ts
 * import { argmaxRows } from "./metrics.ts";
 * argmaxRows(new Float32Array([1, 3, 2, 5, 4, 0]), 3); // Int32Array [1, 0]
 * ```
 */
export function argmaxRows(logits: Float32Array, dim: number): Int32Array {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new Error(`argmaxRows: dim must be a positive integer, got ${dim}`);
  }
  if (logits.length % dim !== 0) {
    throw new Error(
      `argmaxRows: logits has ${logits.length} values, not a multiple of dim = ${dim}`,
    );
  }
  const rows = logits.length / dim;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let best = 0;
    let bestValue = logits[base];
    for (let j = 1; j < dim; j++) {
      const v = logits[base + j];
      if (v > bestValue || (Number.isNaN(bestValue) && !Number.isNaN(v))) {
        best = j;
        bestValue = v;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Summary statistics of a metric over repeated runs; see {@linkcode meanAndSpread}. */
export interface Spread {
  /** Arithmetic mean. */
  mean: number;
  /** Sample standard deviation (divides by n - 1; 0 for a single value). */
  std: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Number of values. */
  n: number;
}

/**
 * Mean, sample standard deviation (n - 1), min and max of `values`, e.g. the
 * test accuracy of one method over several seeds.
 *
 * @example
 * ```ts
 * import { meanAndSpread } from "./metrics.ts";
 * meanAndSpread([0.9, 0.92, 0.94]); // { mean: 0.92, std: 0.02, min: 0.9, max: 0.94, n: 3 }
 * ```
 */
export function meanAndSpread(values: readonly number[]): Spread {
  const n = values.length;
  if (n === 0) throw new Error("meanAndSpread: no values");
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) throw new Error(`meanAndSpread: values must be finite, got ${v}`);
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  const std = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  return { mean, std, min, max, n };
}
