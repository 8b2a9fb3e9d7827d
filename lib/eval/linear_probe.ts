/**
 * The linear probe: multinomial logistic regression (one dense layer and a
 * softmax) trained on FROZEN features, the standard measure of a
 * self-supervised representation (SimCLR's "linear evaluation protocol").
 * The backbone is never touched: the probe only sees the feature arrays.
 *
 * Features are standardised with the training set's per-feature mean and
 * standard deviation (optional), the weights start from a seeded small
 * normal, and Adam minimises the mean cross-entropy plus an optional L2
 * penalty on the weights, full batch or in minibatches shuffled by a seeded
 * {@linkcode Rng}: the same seed gives the same probe.
 *
 * @example
 * ```ts
 * import { trainLinearProbe } from "./linear_probe.ts";
 * const trainH = new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]); // four 2-D feature rows
 * const trainLabels = new Int32Array([0, 0, 1, 1]);
 * const testH = new Float32Array([0.8, 0.2, 0.2, 0.8]);
 * const testLabels = new Int32Array([0, 1]);
 * const probe = trainLinearProbe(trainH, trainLabels, 2, 2, { epochs: 200, seed: 1 });
 * const pred = probe.predict(testH); // Int32Array, one class per test row
 * probe.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { onHostBackend } from "../backend_webgpu.ts";
import { Rng } from "../rng.ts";
import { accuracy, argmaxRows } from "./metrics.ts";

/** Options of {@linkcode trainLinearProbe}. */
export interface LinearProbeOptions {
  /** Passes over the training set (default 100). */
  epochs?: number;
  /** Adam learning rate (default 0.01). */
  learningRate?: number;
  /** Rows per step (default 256); a value >= the number of rows (e.g. `Infinity`) is full batch. */
  batchSize?: number;
  /** L2 penalty `weightDecay / 2 * |W|^2` on the weights, not the bias (default 0). */
  weightDecay?: number;
  /** Seed of the initial weights and the minibatch order (default 0). */
  seed?: number;
  /** Standardise every feature with the training mean and standard deviation (default true). */
  standardize?: boolean;
  /** Called after every epoch with its mean training objective. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** A trained linear probe; call `dispose()` when done with it. */
export interface LinearProbe {
  /** Feature size it expects. */
  readonly dim: number;
  /** Number of classes it predicts. */
  readonly numClasses: number;
  /** Mean training objective (cross-entropy + penalty) of every epoch. */
  readonly lossHistory: number[];
  /** Per-feature training mean and standard deviation, or `null` when not standardising. */
  readonly standardization: { mean: Float32Array; std: Float32Array } | null;
  /** Logits (`count * numClasses`, row-major) for row-major features (`count * dim`). */
  logits(features: Float32Array): Float32Array;
  /** The predicted class of every row of `features` (`count * dim` values). */
  predict(features: Float32Array): Int32Array;
  /** Copies of the weights: `kernel` is `dim x numClasses` row-major, `bias` has `numClasses`. */
  weights(): { kernel: Float32Array; bias: Float32Array };
  /** Frees the probe's tensors. */
  dispose(): void;
}

/** Rows pushed through the probe at once when predicting. */
const PREDICT_ROWS = 8192;

function checkRows(fn: string, name: string, features: Float32Array, dim: number): number {
  if (features.length % dim !== 0) {
    throw new Error(`${fn}: ${name} has ${features.length} values, not a multiple of dim = ${dim}`);
  }
  return features.length / dim;
}

/**
 * Trains a linear probe (softmax regression) on frozen `trainFeatures`
 * (row-major, `dim` per row) and their `trainLabels` in `[0, numClasses)`.
 * Deterministic for a given `seed`. Leaks no tensors beyond the probe's own.
 *
 * @example
 * ```ts
 * import { trainLinearProbe } from "./linear_probe.ts";
 * import { accuracy } from "./metrics.ts";
 * const trainH = new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]); // four 2-D feature rows
 * const trainLabels = new Int32Array([0, 0, 1, 1]);
 * const testH = new Float32Array([0.8, 0.2, 0.2, 0.8]);
 * const testLabels = new Int32Array([0, 1]);
 * const probe = trainLinearProbe(trainH, trainLabels, 2, 2, { epochs: 300, batchSize: Infinity });
 * accuracy(probe.predict(testH), testLabels);
 * probe.dispose();
 * ```
 */
export function trainLinearProbe(
  trainFeatures: Float32Array,
  trainLabels: Int32Array,
  dim: number,
  numClasses: number,
  options: LinearProbeOptions = {},
): LinearProbe {
  return onHostBackend(() =>
    trainLinearProbeHere(trainFeatures, trainLabels, dim, numClasses, options)
  );
}

function trainLinearProbeHere(
  trainFeatures: Float32Array,
  trainLabels: Int32Array,
  dim: number,
  numClasses: number,
  options: LinearProbeOptions = {},
): LinearProbe {
  const fn = "trainLinearProbe";
  if (!Number.isInteger(dim) || dim < 1) {
    throw new Error(`${fn}: dim must be a positive integer, got ${dim}`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new Error(`${fn}: numClasses must be an integer >= 2, got ${numClasses}`);
  }
  const n = checkRows(fn, "trainFeatures", trainFeatures, dim);
  if (n !== trainLabels.length) {
    throw new Error(
      `${fn}: trainFeatures has ${n} rows (of dim ${dim}) but trainLabels has ` +
        `${trainLabels.length} entries; they must match`,
    );
  }
  if (n === 0) throw new Error(`${fn}: no training rows`);
  for (let i = 0; i < n; i++) {
    const l = trainLabels[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new Error(`${fn}: trainLabels[${i}] = ${l} is not a class in [0, ${numClasses})`);
    }
  }
  const epochs = options.epochs ?? 100;
  const lr = options.learningRate ?? 0.01;
  const weightDecay = options.weightDecay ?? 0;
  const batchSize = Math.min(options.batchSize ?? 256, n);
  if (!Number.isInteger(epochs) || epochs < 0) {
    throw new Error(`${fn}: epochs must be a non-negative integer, got ${epochs}`);
  }
  if (!(lr > 0)) throw new Error(`${fn}: learningRate must be > 0, got ${lr}`);
  if (!(weightDecay >= 0)) throw new Error(`${fn}: weightDecay must be >= 0, got ${weightDecay}`);
  if (!(batchSize >= 1) || (batchSize < n && !Number.isInteger(batchSize))) {
    throw new Error(`${fn}: batchSize must be a positive integer, got ${options.batchSize}`);
  }

  const standardization = (options.standardize ?? true) ? meanStd(trainFeatures, n, dim) : null;
  const x = standardization ? applyStandardization(trainFeatures, standardization) : trainFeatures;

  const rng = new Rng(options.seed ?? 0);
  const initRng = rng.fork("linear-probe init");
  const orderRng = rng.fork("linear-probe order");
  const w0 = new Float32Array(dim * numClasses);
  for (let i = 0; i < w0.length; i++) w0[i] = initRng.normal(0, 0.01);
  const [kernel, bias] = tf.tidy(() => [
    tf.variable(tf.tensor2d(w0, [dim, numClasses])),
    tf.variable(tf.zeros([numClasses])),
  ]);
  const lossHistory: number[] = [];

  const xT = tf.tensor2d(x, [n, dim]);
  const yT = tf.tidy(() =>
    tf.oneHot(tf.tensor1d(trainLabels, "int32"), numClasses).toFloat() as tf.Tensor2D
  );
  const optimizer = tf.train.adam(lr);
  try {
    const fullBatch = batchSize >= n;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = fullBatch ? null : orderRng.permutation(n);
      let total: tf.Tensor = tf.scalar(0);
      for (let start = 0; start < n; start += batchSize) {
        const rows = Math.min(batchSize, n - start);
        const cost = tf.tidy(() => {
          let xb: tf.Tensor2D = xT;
          let yb: tf.Tensor2D = yT;
          if (order) {
            const idx = tf.tensor1d(order.subarray(start, start + rows), "int32");
            xb = tf.gather(xT, idx);
            yb = tf.gather(yT, idx);
          }
          const c = optimizer.minimize(
            () => {
              const logits = tf.add(tf.matMul(xb, kernel), bias);
              const ce = tf.neg(tf.mean(tf.sum(tf.mul(yb, tf.logSoftmax(logits)), 1)));
              if (weightDecay === 0) return ce as tf.Scalar;
              return tf.add(ce, tf.mul(weightDecay / 2, tf.sum(tf.square(kernel)))) as tf.Scalar;
            },
            true,
            [kernel, bias],
          )!;
          return c.mul(rows);
        });
        const next = total.add(cost);
        total.dispose();
        cost.dispose();
        total = next;
      }
      const loss = total.dataSync()[0] / n;
      total.dispose();
      lossHistory.push(loss);
      options.onEpoch?.(epoch, loss);
    }
  } catch (e) {
    kernel.dispose();
    bias.dispose();
    throw e;
  } finally {
    optimizer.dispose();
    xT.dispose();
    yT.dispose();
  }

  let disposed = false;
  const logits = (features: Float32Array): Float32Array =>
    onHostBackend(() => logitsHere(features));
  const logitsHere = (features: Float32Array): Float32Array => {
    if (disposed) throw new Error("LinearProbe: used after dispose()");
    const count = checkRows("LinearProbe.logits", "features", features, dim);
    const out = new Float32Array(count * numClasses);
    for (let start = 0; start < count; start += PREDICT_ROWS) {
      const rows = Math.min(PREDICT_ROWS, count - start);
      let chunk = features.subarray(start * dim, (start + rows) * dim);
      if (standardization) chunk = applyStandardization(chunk, standardization);
      const y = tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(chunk, [rows, dim]), kernel), bias));
      try {
        out.set(y.dataSync() as Float32Array, start * numClasses);
      } finally {
        y.dispose();
      }
    }
    return out;
  };
  return {
    dim,
    numClasses,
    lossHistory,
    standardization,
    logits,
    predict: (features) => argmaxRows(logits(features), numClasses),
    weights: () =>
      onHostBackend(() => ({
        kernel: new Float32Array(kernel.dataSync()),
        bias: new Float32Array(bias.dataSync()),
      })),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      kernel.dispose();
      bias.dispose();
    },
  };
}

/** Per-feature mean and standard deviation (population; 1 where a feature is constant). */
function meanStd(
  features: Float32Array,
  n: number,
  dim: number,
): { mean: Float32Array; std: Float32Array } {
  const sum = new Float64Array(dim);
  for (let i = 0; i < n * dim; i++) sum[i % dim] += features[i];
  const mean = new Float64Array(dim).map((_, j) => sum[j] / n);
  const sq = new Float64Array(dim);
  for (let i = 0; i < n * dim; i++) sq[i % dim] += (features[i] - mean[i % dim]) ** 2;
  const std = new Float32Array(dim);
  for (let j = 0; j < dim; j++) {
    const s = Math.sqrt(sq[j] / n);
    std[j] = s > 1e-6 * (1 + Math.abs(mean[j])) ? s : 1;
  }
  return { mean: Float32Array.from(mean), std };
}

function applyStandardization(
  features: Float32Array,
  { mean, std }: { mean: Float32Array; std: Float32Array },
): Float32Array {
  const dim = mean.length;
  const out = new Float32Array(features.length);
  for (let i = 0; i < features.length; i++) {
    const j = i % dim;
    out[i] = (features[i] - mean[j]) / std[j];
  }
  return out;
}

/**
 * Trains a probe on the training features, returns its accuracy on the test
 * features and frees it.
 *
 * @example
 * ```ts
 * import { linearProbeAccuracy } from "./linear_probe.ts";
 * const trainH = new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]); // four 2-D feature rows
 * const trainY = new Int32Array([0, 0, 1, 1]);
 * const testH = new Float32Array([0.8, 0.2, 0.2, 0.8]);
 * const testY = new Int32Array([0, 1]);
 * const acc = linearProbeAccuracy(trainH, trainY, testH, testY, 2, 2, { epochs: 200, seed: 0 });
 * ```
 */
export function linearProbeAccuracy(
  trainFeatures: Float32Array,
  trainLabels: Int32Array,
  testFeatures: Float32Array,
  testLabels: Int32Array,
  dim: number,
  numClasses: number,
  options: LinearProbeOptions = {},
): number {
  const nTest = checkRows("linearProbeAccuracy", "testFeatures", testFeatures, dim);
  if (nTest !== testLabels.length) {
    throw new Error(
      `linearProbeAccuracy: testFeatures has ${nTest} rows (of dim ${dim}) but testLabels has ` +
        `${testLabels.length} entries; they must match`,
    );
  }
  const probe = trainLinearProbe(trainFeatures, trainLabels, dim, numClasses, options);
  try {
    return accuracy(probe.predict(testFeatures), testLabels);
  } finally {
    probe.dispose();
  }
}
