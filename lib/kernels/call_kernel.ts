/**
 * Small helpers for writing tfjs kernels out of other kernels of the same
 * backend (the way tfjs's own backends compose kernels), without going back
 * through the engine and its gradient tape.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** Runs kernel `name` of `backend` directly and returns its raw output. */
export function callKernel(
  name: string,
  backend: BackendWasm,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Record<string, unknown> = {},
  kernelFunc?: tf.KernelFunc,
): tf.TensorInfo {
  const func = kernelFunc ?? tf.getKernel(name, "wasm")?.kernelFunc;
  if (func === undefined) throw new Error(`wasm backend has no ${name} kernel`);
  return func({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/**
 * Collects intermediate outputs of a composed kernel so they can all be freed
 * in one `finally`, whatever happens in between.
 */
export class Scratch {
  #temps: tf.TensorInfo[] = [];
  constructor(private readonly backend: BackendWasm) {}
  /** Remembers `t` for disposal and returns it. */
  keep(t: tf.TensorInfo): tf.TensorInfo {
    this.#temps.push(t);
    return t;
  }
  /** Frees every remembered intermediate. */
  free(): void {
    for (const t of this.#temps) this.backend.disposeData(t.dataId);
    this.#temps = [];
  }
}

/** The attributes tfjs passes to `Conv2DBackpropFilter` / `Conv2DBackpropInput`. */
export interface ConvBackpropAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** Throws the one clear error the wasm convolution path gives for NCHW data. */
export function requireNhwc(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat === "NCHW") {
    throw new Error(
      `${kernel} on the wasm backend supports dataFormat 'NHWC' only (as does wasm's Conv2D)`,
    );
  }
}
