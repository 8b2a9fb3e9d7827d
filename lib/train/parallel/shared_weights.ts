/**
 * The one true copy of the weights in data-parallel SSL training:
 * {@linkcode SharedWeights} holds the main thread's variables of the online
 * models (backbone, head, and a predictor for BYOL and SimSiam) and of any
 * models the step runs but never trains (BYOL's momentum network: main moves
 * it by an EMA), lays them out in a `SharedArrayBuffer` the workers read (`publish`),
 * keeps one gradient slot per worker, and adds the workers' slots up and hands
 * the sum to the optimizer (`applyGradients`); the weights without gradients
 * (batch normalisation's moving statistics, and every weight of the untrained
 * models) come back in one state slot per worker and are averaged
 * (`averageState`: a weight no worker changed stays bit-for-bit the same). The trainable weights are kept
 * in the optimizer's order, so Adam's moments line up as in single-thread
 * training. `SslWorkers` (`ssl_workers.ts`) owns one.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { SharedWeights } from "./shared_weights.ts";
 * const backbone = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
 * const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
 * const weights = new SharedWeights([backbone, head], 2); // 2 workers' gradient slots
 * weights.publish(); // the workers now read the current weights from weights.buffer
 * const copies = weights.get(); // backbone.weights then head.weights
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightSpec } from "./protocol.ts";
import type { Reply } from "./worker_pool.ts";
import { readInto } from "./tensor_io.ts";

const FLOAT = 4;

/** Main's weights of the models, their shared-memory layout and the workers' gradient slots. */
export class SharedWeights {
  /** Main's weights: every online model's `weights`, then every untrained model's. */
  readonly variables: tf.Variable[];
  /** Where each of `variables` lives in `buffer` (float32 elements). */
  readonly specs: WeightSpec[];
  /** Indices into `variables` of the trainable weights, in the optimizer's order. */
  readonly trainable: number[];
  /** Floats in one gradient slot: the trainable weights, `trainable` order. */
  readonly gradSize: number;
  /** The weights, float32, laid out by `specs` (written by `publish`). */
  readonly buffer: SharedArrayBuffer;
  /** One gradient slot of `gradSize` float32 per worker. */
  readonly gradBuffer: SharedArrayBuffer;
  /**
   * Indices into `variables` of the weights without gradients (the moving statistics of batch
   * normalisation): the workers send them back after each step.
   */
  readonly state: number[];
  /** Floats in one state slot: the `state` weights, in order. */
  readonly stateSize: number;
  /** One state slot of `stateSize` float32 per worker. */
  readonly stateBuffer: SharedArrayBuffer;

  /**
   * Lays out the weights of the `online` models (trained: their trainable weights get gradient
   * slots) then of the `untrained` ones (all state), with slots for `slots` workers.
   */
  constructor(online: tf.LayersModel[], slots: number, untrained: tf.LayersModel[] = []) {
    const onlineVars = online.flatMap((m) => m.weights);
    const layerVars = [...onlineVars, ...untrained.flatMap((m) => m.weights)];
    this.variables = layerVars.map((w) => w.read() as tf.Variable);
    let offset = 0;
    this.specs = this.variables.map((v) => {
      const spec = { shape: v.shape.slice(), offset, size: v.size };
      offset += v.size;
      return spec;
    });
    // The optimizer's order: Adam keeps its moments by position, and `minimize`
    // hands it the gradients in the order the variables were registered.
    const registered = Object.keys(tf.engine().registeredVariables);
    const position = new Map(registered.map((name, i) => [name, i]));
    this.trainable = onlineVars.map((w, i) => ({ w, i }))
      .filter(({ w }) => w.trainable)
      .sort((a, b) =>
        (position.get(this.variables[a.i].name) ?? 0) -
        (position.get(this.variables[b.i].name) ?? 0)
      )
      .map(({ i }) => i);
    if (this.trainable.length === 0) {
      throw new Error("SslWorkers: the models have no trainable weights");
    }
    this.gradSize = this.trainable.reduce((s, k) => s + this.specs[k].size, 0);
    this.buffer = new SharedArrayBuffer(offset * FLOAT);
    this.gradBuffer = new SharedArrayBuffer(slots * this.gradSize * FLOAT);
    const trainable = new Set(this.trainable);
    this.state = this.variables.map((_, i) => i).filter((i) => !trainable.has(i));
    this.stateSize = this.state.reduce((s, k) => s + this.specs[k].size, 0);
    this.stateBuffer = new SharedArrayBuffer(slots * this.stateSize * FLOAT);
  }

  /** Copies the current weights into `buffer`, where the workers read them. */
  publish(): void {
    const all = new Float32Array(this.buffer);
    this.variables.forEach((v, i) => readInto(v, all, this.specs[i].offset));
  }

  /** The weights (`variables` order), as copies. */
  get(): Float32Array[] {
    return this.variables.map((v) => (v.dataSync() as Float32Array).slice());
  }

  /** Sets the weights (`get` order), after checking their number and sizes. */
  set(weights: Float32Array[]): void {
    if (weights.length !== this.variables.length) {
      throw new Error(
        `SslWorkers.setWeights: expected ${this.variables.length} arrays, got ${weights.length}`,
      );
    }
    weights.forEach((w, i) => {
      if (w.length !== this.specs[i].size) {
        throw new Error(
          `SslWorkers.setWeights: weight ${i} needs ${this.specs[i].size} values, got ${w.length}`,
        );
      }
    });
    tf.tidy(() =>
      weights.forEach((w, i) =>
        this.variables[i].assign(tf.tensor(w, this.specs[i].shape, "float32"))
      )
    );
  }

  /**
   * Sets every state weight to the mean of the state slots of workers 0..active-1 (in slot
   * order, in float64: a weight no worker changed stays bit-for-bit what it was). Each worker
   * started the step from the published weights, so for batch normalisation's moving statistics
   * `(1 - m) · moving + m · batch` the mean is the moving average of the workers' mean batch
   * statistic.
   */
  averageState(active: number): void {
    if (this.stateSize === 0) return;
    const size = this.stateSize;
    const mean = new Float64Array(size);
    for (let w = 0; w < active; w++) {
      const slot = new Float32Array(this.stateBuffer, w * size * FLOAT, size);
      for (let j = 0; j < size; j++) mean[j] += slot[j];
    }
    for (let j = 0; j < size; j++) mean[j] /= active;
    tf.tidy(() => {
      let offset = 0;
      for (const k of this.state) {
        const spec = this.specs[k];
        const values = Float32Array.from(mean.subarray(offset, offset + spec.size));
        this.variables[k].assign(tf.tensor(values, spec.shape, "float32"));
        offset += spec.size;
      }
    });
  }

  /** Adds the gradient slots of workers 0..active-1 (in slot order) and applies `optimizer`. */
  applyGradients(active: number, replies: Reply<"grads">[], optimizer: tf.Optimizer): void {
    const size = this.gradSize;
    const sum = new Float32Array(this.gradBuffer, 0, size).slice();
    for (let w = 1; w < active; w++) {
      const slot = new Float32Array(this.gradBuffer, w * size * FLOAT, size);
      for (let j = 0; j < size; j++) sum[j] += slot[j];
    }
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      let offset = 0;
      this.trainable.forEach((k, pos) => {
        const spec = this.specs[k];
        if (replies.some((r) => r.hasGrad[pos])) {
          named[this.variables[k].name] = tf.tensor(
            sum.subarray(offset, offset + spec.size),
            spec.shape,
            "float32",
          );
        }
        offset += spec.size;
      });
      optimizer.applyGradients(named);
    });
  }
}
