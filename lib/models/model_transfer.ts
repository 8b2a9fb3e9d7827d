/**
 * A trained tfjs model as plain data that crosses a worker boundary (`postMessage`) and back:
 * its topology (`model.toJSON`) and its weights as `Float32Array`s, moving statistics of batch
 * normalisation included. The arm workers of `lib/experiment/arm_pool.ts` receive the
 * pre-trained encoder and teachers this way and send trained models back.
 *
 * @example
 * ```ts
 * import { modelFromTransfer, modelToTransfer } from "./model_transfer.ts";
 * import { modernCnn } from "./modern_cnn.ts";
 * const f = modernCnn({ inputShape: [28, 28, 1], seed: 0 });
 * const copy = await modelFromTransfer(modelToTransfer(f)); // same layers, same weights
 * f.dispose();
 * copy.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
// Register our layers, so that models holding them can be rebuilt from their topology.
import "./batch_norm.ts";
import "./dropout.ts";

/** A model as plain, structured-clonable data. */
export interface ModelTransfer {
  /** `model.toJSON(null, false)`. */
  topology: unknown;
  /** `model.getWeights()`, in order, as copies. */
  weights: Float32Array[];
  /** Their shapes. */
  shapes: number[][];
}

/** The model's topology and a copy of its weights, given the weights' values in order. */
function transferOf(model: tf.LayersModel, values: Float32Array[]): ModelTransfer {
  return {
    topology: model.toJSON(null, false),
    weights: values.map((v) => v.slice()),
    shapes: model.getWeights().map((w) => w.shape.slice()),
  };
}

/** The model's topology and a copy of its weights (a synchronous read: wasm and cpu). */
export function modelToTransfer(model: tf.LayersModel): ModelTransfer {
  return transferOf(model, model.getWeights().map((w) => w.dataSync() as Float32Array));
}

/** The buffers of a transfer, to hand `postMessage` as transferables. */
export function transferables(t: ModelTransfer | undefined): ArrayBuffer[] {
  return t ? t.weights.map((w) => w.buffer as ArrayBuffer) : [];
}

/** Rebuilds a model from a transfer (same layers, same weights). */
export async function modelFromTransfer(t: ModelTransfer): Promise<tf.LayersModel> {
  const model = await tf.models.modelFromJSON({
    modelTopology: t.topology as tf.io.ModelJSON["modelTopology"],
  });
  const mine = model.getWeights();
  if (mine.length !== t.weights.length) {
    model.dispose();
    throw new Error(
      `modelFromTransfer: the topology has ${mine.length} weights, the transfer ${t.weights.length}`,
    );
  }
  tf.tidy(() => model.setWeights(t.weights.map((w, i) => tf.tensor(w, t.shapes[i], "float32"))));
  return model;
}

/**
 * A copy of `model` (same layers, same weights). Its weights are read asynchronously, so it works
 * on webgpu, where a synchronous read fails.
 */
export async function cloneModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  const values = await Promise.all(
    model.getWeights().map((w) => w.data() as Promise<Float32Array>),
  );
  return modelFromTransfer(transferOf(model, values));
}
