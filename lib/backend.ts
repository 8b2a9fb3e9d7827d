/**
 * Making tfjs ready to train our models, fast, on an ordinary CPU.
 *
 * The `wasm` backend (XNNPACK, SIMD) runs convolutions about 80x faster than
 * tfjs's pure-JavaScript `cpu` backend, but it cannot train a CNN out of the
 * box: it has no kernel for the filter gradient of a convolution
 * (`Conv2DBackpropFilter`), its input gradient is a slow scalar loop, and its
 * "same"-padded strided convolutions are wrong in some shapes. `initBackend`
 * registers our kernels for all three (see `lib/kernels/`) and selects the
 * backend.
 *
 * @example
 * ```ts
 * import { initBackend } from "./backend.ts";
 * const name = await initBackend(); // "wasm"
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { conv2dBackpropFilterWasmConfig } from "./kernels/conv2d_backprop_filter_wasm.ts";
import { conv2dBackpropInputWasmConfig } from "./kernels/conv2d_backprop_input_wasm.ts";
import { explicitSamePaddingConfig } from "./kernels/conv_same_padding_wasm.ts";
import { maxPoolGradWasmConfig } from "./kernels/max_pool_grad_wasm.ts";
import { sumLeadingAxesWasmConfig } from "./kernels/sum_leading_axes_wasm.ts";
import { identitySharedWasmConfig } from "./kernels/identity_shared_wasm.ts";

/** The backends `initBackend` accepts. */
export type BackendName = "wasm" | "cpu";

/** Folder holding the wasm binaries of `@tensorflow/tfjs-backend-wasm`. */
export const WASM_DIR = fileURLToPath(
  new URL("../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url),
);

let kernelsRegistered = false;

/** Replaces the wasm kernel `name` with `make(original)`. */
function wrapWasmKernel(name: string, make: (original: tf.KernelFunc) => tf.KernelConfig): void {
  const original = tf.getKernel(name, "wasm");
  if (original === undefined) throw new Error(`wasm backend has no ${name} kernel to wrap`);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ ...make(original.kernelFunc), setupFunc: original.setupFunc });
}

/**
 * Registers, once, the kernels the wasm backend lacks for training:
 * the conv filter gradient, a fast stride-1 input gradient, a fast max-pool
 * gradient, a fast bias-gradient sum, a zero-copy Identity, and explicit
 * "same" padding for `Conv2D` / `FusedConv2D`.
 */
export function registerWasmTrainingKernels(): void {
  if (kernelsRegistered) return;
  if (tf.getKernel("Conv2DBackpropFilter", "wasm") === undefined) {
    tf.registerKernel(conv2dBackpropFilterWasmConfig);
  }
  wrapWasmKernel("Conv2DBackpropInput", conv2dBackpropInputWasmConfig);
  wrapWasmKernel("MaxPoolGrad", () => maxPoolGradWasmConfig);
  wrapWasmKernel("Sum", sumLeadingAxesWasmConfig);
  wrapWasmKernel("Identity", () => identitySharedWasmConfig);
  wrapWasmKernel("Conv2D", (f) => explicitSamePaddingConfig("Conv2D", f));
  wrapWasmKernel("FusedConv2D", (f) => explicitSamePaddingConfig("FusedConv2D", f));
  kernelsRegistered = true;
}

/**
 * Makes tfjs ready to train and returns the name of the backend in use.
 * `wasm` (the default) gets every gradient kernel our models need; `cpu` is
 * the slow pure-JavaScript fallback.
 */
export async function initBackend(name: BackendName = "wasm"): Promise<string> {
  if (name !== "wasm" && name !== "cpu") {
    throw new Error(`initBackend: unknown backend "${name}"; use "wasm" or "cpu"`);
  }
  tf.enableProdMode(); // no "install tfjs-node" banner, no debug-mode checks
  if (name === "wasm") {
    if (!existsSync(WASM_DIR)) {
      throw new Error(
        `initBackend: the wasm binaries are missing (${WASM_DIR}); run \`deno install\` in the project root`,
      );
    }
    setWasmPaths(WASM_DIR);
    registerWasmTrainingKernels();
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`initBackend: tfjs could not start the ${name} backend`);
  await tf.ready();
  return tf.getBackend();
}
