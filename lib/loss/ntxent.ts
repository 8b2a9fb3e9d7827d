/**
 * NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR
 * (Chen et al. 2020), also called InfoNCE: one implementation,
 * {@linkcode ntXentLossRows}, of which {@linkcode ntXentLoss} is the whole.
 *
 * The 2N rows of `z = concat(z1, z2)` are the projections of two augmented
 * views of N images: rows `i` and `i + N` are a positive pair. Every row is
 * L2-normalised, so dot products are cosine similarities; each row is an
 * anchor whose positive is its twin and whose 2N - 2 negatives are all the
 * other rows. Its loss is a softmax cross-entropy over its 2N - 1 candidates
 * (itself excluded):
 *
 *   loss_i = -log( exp(s(i, pos(i)) / τ) / Σ_{k ≠ i} exp(s(i, k) / τ) )
 *
 * and NT-Xent is the mean of loss_i over the 2N anchors. The softmax
 * cross-entropy is computed with a log-sum-exp, so large logits (small τ)
 * stay finite.
 *
 * Split by anchors: once every z is known the anchors are independent, so the
 * part of anchors `[start, end)`, `Σ_{i ∈ [start, end)} loss_i / 2N`, is a
 * piece of the loss, and the parts of a partition of `[0, 2N)` add up to it
 * (and so do their gradients with respect to the whole z). The parallel
 * trainer (`lib/train/parallel/`) gives each worker a block of anchors.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { ntXentLoss, ntXentLossRows } from "./ntxent.ts";
 * const z1 = tf.tensor2d([[1, 0], [0, 1]]); // first views of 2 images
 * const z2 = tf.tensor2d([[0.9, 0.1], [0.2, 0.8]]); // their second views
 * const loss = ntXentLoss(z1, z2, 0.5);
 * const z = tf.concat([z1, z2]);
 * const parts = tf.add(ntXentLossRows(z, 0, 1, 0.5), ntXentLossRows(z, 1, 4, 0.5));
 * console.log(loss.dataSync()[0], parts.dataSync()[0]); // equal up to rounding
 * tf.dispose([z1, z2, loss, z, parts]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { expRowVectors, scaleRowVectors, sumRowVectors } from "../kernels/exp_rows_simd_wasm.ts";

/** Large enough that exp(-MASK) is exactly 0 in float32, small enough to stay finite. */
const MASK = 1e9;

function checkTemperature(where: string, temperature: number): void {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(
      `${where}: temperature must be a finite number > 0, got ${temperature}`,
    );
  }
}

/**
 * The part of NT-Xent contributed by anchors `start..end-1`: the sum of their
 * losses divided by 2N. `z` holds all 2N projections, the first views in rows
 * `0..N-1` and their twins in rows `N..2N-1`. Over `[0, 2N)` it is the whole
 * loss, `ntXentLoss(z1, z2)`.
 *
 * `fused` (default: on the `cpu` and `wasm` backends) computes the cross-entropy and its
 * gradient in one pass over the anchors' logits, without the `2N x 2N` self mask and one-hot
 * targets of the tfjs formulation (which runs otherwise, e.g. on WebGPU, where synchronous
 * reads are not allowed). The two agree to float32 rounding (tests/loss/ntxent_test.ts).
 *
 * Throws an `Error` when `z` is not 2-D with an even, positive number of
 * rows, and a `RangeError` unless `0 <= start < end <= 2N` are integers and
 * `temperature` is a finite number > 0.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { ntXentLossRows } from "./ntxent.ts";
 * const z = tf.tensor2d([[1, 0], [0, 1], [1, 0.1], [0.1, 1]]); // N = 2
 * const firstHalf = ntXentLossRows(z, 0, 2, 0.5); // anchors 0 and 1
 * tf.dispose([z, firstHalf]);
 * ```
 */
export function ntXentLossRows(
  z: tf.Tensor2D,
  start: number,
  end: number,
  temperature = 0.5,
  fused: boolean = readsSynchronously(),
): tf.Scalar {
  const rows = z.shape[0];
  if (z.rank !== 2 || rows < 2 || rows % 2 !== 0) {
    throw new Error(`ntXentLossRows: z must be 2-D with an even number of rows, got [${z.shape}]`);
  }
  if (
    !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > rows || start >= end
  ) {
    throw new RangeError(
      `ntXentLossRows: need integers 0 <= start < end <= ${rows}, got ${start}..${end}`,
    );
  }
  checkTemperature("ntXentLossRows", temperature);
  return tf.tidy(() => {
    const n = rows / 2;
    const m = end - start;
    // Normalise; the epsilon keeps an all-zero row finite (its similarities are 0).
    const zn = tf.div(z, tf.add(tf.norm(z, 2, 1, true), 1e-12));
    const anchors = tf.slice(zn, [start, 0], [m, -1]);
    const logits = tf.div(tf.matMul(anchors, zn, false, true), temperature) as tf.Tensor2D;
    if (fused) return anchorCrossEntropy(logits, start, temperature);
    const self = tf.oneHot(tf.range(start, end, 1, "int32"), rows).toFloat();
    const masked = tf.sub(logits, tf.mul(self, MASK));
    // Anchor i's positive is its twin: i + N in the first half, i - N in the second.
    const twin = Int32Array.from({ length: m }, (_, k) => (start + k + n) % rows);
    const targets = tf.oneHot(tf.tensor1d(twin, "int32"), rows);
    // softmaxCrossEntropy has a fused, log-sum-exp based gradient (softmax - target).
    const sum = tf.losses.softmaxCrossEntropy(targets, masked, undefined, 0, tf.Reduction.SUM);
    return tf.div(sum, rows) as tf.Scalar;
  });
}

/** True on the CPU backends, where reading a tensor synchronously is cheap and allowed. */
function readsSynchronously(): boolean {
  const name = tf.getBackend();
  return name === "wasm" || name === "cpu";
}

/**
 * The same cross-entropy as the masked `softmaxCrossEntropy` above, computed in one pass over
 * the `m x 2N` logits of anchors `start..start+m-1`, with no `2N x 2N` self mask and no one-hot
 * targets: per row a log-sum-exp over every column but the anchor's own, minus the twin's logit.
 * Its gradient, `(softmax - onehot(twin)) / 2N` with 0 on the anchor's own column, is written in
 * the same pass and handed back by a custom gradient. CPU backends only (it reads the logits
 * synchronously); elsewhere the masked formulation runs. On wasm the exponentials, row sums and
 * scaling run on SIMD (`lib/kernels/exp_rows_simd_wasm.ts`) where τ > 2/80 and 4 divides 2N;
 * otherwise, and on cpu, a JavaScript loop with float64 sums.
 */
function anchorCrossEntropy(logits: tf.Tensor2D, start: number, temperature: number): tf.Scalar {
  const rows = logits.shape[1];
  // Cosines are at most 1, so 1/τ bounds every logit and can stand for the row's maximum (one
  // pass fewer) as long as exp(-2/τ), the smallest term, stays a normal float64.
  const bound: number | undefined = 2 / temperature < 600 ? 1 / temperature : undefined;
  const simd = tf.getBackend() === "wasm" && rows % 4 === 0 && 2 / temperature < 80;
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const { grad, total } = simd
      ? anchorRowsSimd(x, start, 1 / temperature)
      : anchorRowsJs(x, start, bound);
    save([grad]);
    return {
      value: tf.scalar(total / rows),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0], dy),
    };
  });
  return loss(logits) as tf.Scalar;
}

/** The rows' loss sum and gradient, in JavaScript (float64 sums); `bound` as above. */
function anchorRowsJs(
  x: tf.Tensor2D,
  start: number,
  bound: number | undefined,
): { grad: tf.Tensor; total: number } {
  const [m, rows] = x.shape;
  const n = rows / 2;
  const l = x.dataSync() as Float32Array;
  const grad = new Float32Array(m * rows);
  let total = 0;
  for (let r = 0; r < m; r++) {
    const self = start + r;
    const twin = (self + n) % rows;
    const o = r * rows;
    let max = bound as number;
    if (bound === undefined) {
      max = -Infinity;
      for (let k = 0; k < rows; k++) if (k !== self && l[o + k] > max) max = l[o + k];
    }
    let sum = 0;
    for (let k = 0; k < rows; k++) {
      if (k === self) continue;
      const e = Math.exp(l[o + k] - max);
      grad[o + k] = e;
      sum += e;
    }
    total += max + Math.log(sum) - l[o + twin];
    const scale = 1 / (sum * rows);
    for (let k = 0; k < rows; k++) grad[o + k] *= scale;
    grad[o + twin] -= 1 / rows;
  }
  return { grad: tf.tensor2d(grad, [m, rows]), total };
}

/**
 * The same on the wasm heap with SIMD: per row, `exp(l - bound)` into a fresh gradient tensor,
 * the anchor's own entry zeroed, the row summed (float32), scaled by `1 / (sum · 2N)`, and
 * `1 / 2N` taken off the twin's entry.
 */
function anchorRowsSimd(
  x: tf.Tensor2D,
  start: number,
  bound: number,
): { grad: tf.Tensor; total: number } {
  const [m, rows] = x.shape;
  const n = rows / 2;
  const backend = tf.backend() as unknown as BackendWasm;
  const grad = tf.zeros([m, rows]); // fresh, written in place below
  const l = backend.typedArrayFromHeap(x) as Float32Array; // views after the allocation
  const g = backend.typedArrayFromHeap(grad) as Float32Array;
  const vectors = rows / 4;
  let total = 0;
  for (let r = 0; r < m; r++) {
    const self = start + r;
    const twin = (self + n) % rows;
    const o = r * rows;
    expRowVectors(backend, l.byteOffset + 4 * o, g.byteOffset + 4 * o, vectors, bound);
    g[o + self] = 0;
    const sum = sumRowVectors(backend, g.byteOffset + 4 * o, vectors);
    total += bound + Math.log(sum) - l[o + twin];
    scaleRowVectors(backend, g.byteOffset + 4 * o, vectors, 1 / (sum * rows));
    g[o + twin] -= 1 / rows;
  }
  return { grad, total };
}

/**
 * SimCLR's NT-Xent: rows of `z1` and `z2` are positive pairs; cosine
 * similarity divided by `temperature`; mean over the 2N anchors. It is
 * {@linkcode ntXentLossRows} over all rows `[0, 2N)` of `concat(z1, z2)`.
 *
 * Throws an `Error` unless `z1` and `z2` are 2-D with the same, non-empty
 * shape, and a `RangeError` unless `temperature` is a finite number > 0.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { ntXentLoss } from "./ntxent.ts";
 * const z1 = tf.tensor2d([[1, 0], [0, 1]]);
 * const z2 = tf.tensor2d([[1, 0.1], [0.1, 1]]);
 * const loss = ntXentLoss(z1, z2, 0.5); // low: each row is closest to its twin
 * tf.dispose([z1, z2, loss]);
 * ```
 */
export function ntXentLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature = 0.5): tf.Scalar {
  if (
    z1.rank !== 2 || z2.rank !== 2 || z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]
  ) {
    throw new Error(
      `ntXentLoss: z1 and z2 must be 2-D with the same shape, got [${z1.shape}] and [${z2.shape}]`,
    );
  }
  if (z1.shape[0] < 1) throw new Error("ntXentLoss: the batch is empty");
  checkTemperature("ntXentLoss", temperature);
  const rows = 2 * z1.shape[0];
  return tf.tidy(() => ntXentLossRows(tf.concat([z1, z2], 0), 0, rows, temperature));
}
