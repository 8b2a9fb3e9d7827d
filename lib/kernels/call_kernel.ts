/**
 * Small helpers for writing tfjs kernels out of other kernels of the same
 * backend (the way tfjs's own backends compose kernels), without going back
 * through the engine and its gradient tape.
 *
 * @example
 * ```ts
 * import type * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { callKernel, Scratch } from "./call_kernel.ts";
 * // A kernel for `transpose(reverse(x))` of a matrix, out of the backend's own two kernels.
 * const flipTranspose: tf.KernelFunc = ({ inputs, backend }) => {
 *   const wasm = backend as BackendWasm;
 *   const { x } = inputs as { x: tf.TensorInfo };
 *   const scratch = new Scratch(wasm);
 *   try {
 *     const flipped = scratch.keep(callKernel("Reverse", wasm, { x }, { dims: [0] }));
 *     return callKernel("Transpose", wasm, { x: flipped }, { perm: [1, 0] });
 *   } finally {
 *     scratch.free(); // the intermediate `flipped`
 *   }
 * };
 * ```
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
