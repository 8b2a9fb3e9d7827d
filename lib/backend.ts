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
 * On a GPU, `initBackend("webgpu")` starts tfjs's WebGPU backend on Deno's
 * built-in `navigator.gpu` (see `backend_webgpu.ts`), and `initBackend("auto")`
 * takes WebGPU when a hardware adapter exists and wasm otherwise (a software
 * adapter such as lavapipe is slower than wasm), saying so in one log line.
 *
 * @example
 * ```ts
 * import { initBackend, trainingWorkers } from "./backend.ts";
 * const name = await initBackend(); // "wasm"
 * const workers = trainingWorkers("auto"); // one per core on wasm; 1 on webgpu (one device)
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { batchMatMulTransposedWasmConfig } from "./kernels/batch_mat_mul_transposed_wasm.ts";
import { biasAddWasmConfig } from "./kernels/bias_add_wasm.ts";
import { singleChannelConv2dConfig } from "./kernels/conv2d_single_channel_wasm.ts";
import { useReluGradWasm } from "./kernels/relu_grad_wasm.ts";
import { useBiasReluWasm } from "./kernels/bias_relu_wasm.ts";
import { conv2dBackpropFilterWasmConfig } from "./kernels/conv2d_backprop_filter_wasm.ts";
import { conv2dBackpropInputWasmConfig } from "./kernels/conv2d_backprop_input_wasm.ts";
import { explicitSamePaddingConfig } from "./kernels/conv_same_padding_wasm.ts";
import { fastConv2dConfig } from "./kernels/conv2d_paths_wasm.ts";
import { maxPoolGradWasmConfig } from "./kernels/max_pool_grad_wasm.ts";
import { maxPoolSimdConfig } from "./kernels/max_pool_simd_wasm.ts";
import { sumLeadingAxesWasmConfig } from "./kernels/sum_leading_axes_wasm.ts";
import { meanPixelsWasmConfig, useMeanPixelsGrad } from "./kernels/mean_pixels_wasm.ts";
import { identitySharedWasmConfig } from "./kernels/identity_shared_wasm.ts";
import { castSharedWasmConfig } from "./kernels/cast_shared_wasm.ts";
import { useLazyConvGradients } from "./kernels/conv2d_lazy_gradients_wasm.ts";
import { useAdamWasm } from "./kernels/adam_wasm.ts";

import { gpuProbe, startWebgpu } from "./backend_webgpu.ts";
export { onHostBackend } from "./backend_webgpu.ts";

/** The backends `initBackend` accepts ("auto": webgpu on a hardware GPU, wasm otherwise). */
export type BackendName = "wasm" | "cpu" | "webgpu" | "auto";

/** Every {@linkcode BackendName}. */
export const BACKEND_NAMES: readonly BackendName[] = ["wasm", "webgpu", "cpu", "auto"];

/** Folder holding the wasm binaries of `@tensorflow/tfjs-backend-wasm`. */
export const WASM_DIR = fileURLToPath(
  new URL("../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url),
);

/**
 * Importing `@tensorflow/tfjs-backend-wasm` registers wasm above cpu, yet wasm
 * starts only asynchronously (in {@linkcode initBackend}): until then, any
 * tensor made by code that imported this module threw "backend 'wasm' has not
 * yet been initialized", depending on what else had been imported. Wasm is
 * re-registered below cpu, so tfjs works (on cpu) before `initBackend` and
 * `initBackend` chooses explicitly.
 */
function demoteWasmBelowCpu(): void {
  const engine = tf.engine() as unknown as {
    registry: Record<string, unknown>;
    registryFactory: Record<string, { priority: number }>;
  };
  const entry = engine.registryFactory.wasm;
  // Started already, or demoted already: nothing to do.
  if (entry === undefined || entry.priority < 1 || "wasm" in engine.registry) return;
  const factory = tf.findBackendFactory("wasm");
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", factory, 0);
}
demoteWasmBelowCpu();

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
 * gradient, a fast bias-gradient sum, transposed matrix products on XNNPACK
 * (the backend's own loop for them is ten times slower), a one-pass bias add
 * and ReLU gradient on SIMD, a SIMD convolution of single-channel images, a
 * zero-copy Identity and same-dtype Cast, and explicit
 * "same" padding for `Conv2D` / `FusedConv2D`; and convolutions whose gradient
 * computes only what is asked for (no gradient of the images:
 * `kernels/conv2d_lazy_gradients_wasm.ts`); `Mean`'s gradient over pixels as copies, and
 * `tf.AdamOptimizer`'s update as one SIMD kernel call (`kernels/adam_wasm.ts`).
 */
export function registerWasmTrainingKernels(): void {
  if (kernelsRegistered) return;
  if (tf.getKernel("Conv2DBackpropFilter", "wasm") === undefined) {
    tf.registerKernel(conv2dBackpropFilterWasmConfig);
  }
  wrapWasmKernel("Conv2DBackpropInput", conv2dBackpropInputWasmConfig);
  wrapWasmKernel("MaxPoolGrad", () => maxPoolGradWasmConfig);
  wrapWasmKernel("MaxPool", maxPoolSimdConfig);
  wrapWasmKernel("Sum", sumLeadingAxesWasmConfig);
  wrapWasmKernel("Mean", meanPixelsWasmConfig);
  useMeanPixelsGrad();
  wrapWasmKernel("BatchMatMul", batchMatMulTransposedWasmConfig);
  wrapWasmKernel("Add", biasAddWasmConfig);
  useReluGradWasm();
  useBiasReluWasm();
  wrapWasmKernel("Identity", () => identitySharedWasmConfig);
  wrapWasmKernel("Cast", castSharedWasmConfig);
  wrapWasmKernel("Conv2D", (f) => explicitSamePaddingConfig("Conv2D", f));
  wrapWasmKernel("Conv2D", singleChannelConv2dConfig);
  wrapWasmKernel("FusedConv2D", (f) => explicitSamePaddingConfig("FusedConv2D", f));
  wrapWasmKernel("Conv2D", (f) => fastConv2dConfig("Conv2D", f));
  wrapWasmKernel("FusedConv2D", (f) => fastConv2dConfig("FusedConv2D", f));
  useLazyConvGradients();
  useAdamWasm();
  kernelsRegistered = true;
}

function prepareWasm(): void {
  if (!existsSync(WASM_DIR)) {
    throw new Error(
      `initBackend: the wasm binaries are missing (${WASM_DIR}); run \`deno install\` in the project root`,
    );
  }
  setWasmPaths(WASM_DIR);
  registerWasmTrainingKernels();
}

/** Starts wasm once beside webgpu, for {@linkcode onHostBackend}. */
async function startHostBackend(): Promise<void> {
  prepareWasm();
  if (!(await tf.setBackend("wasm"))) throw new Error("initBackend: tfjs could not start wasm");
  await tf.ready();
}

/** Options of {@linkcode initBackend}. */
export interface InitBackendOptions {
  /** Where the line naming the backend chosen goes for "webgpu" and "auto" (default console.log). */
  log?: (line: string) => void;
}

/**
 * Makes tfjs ready to train and returns the name of the backend in use.
 * `wasm` (the default) gets every gradient kernel our models need; `cpu` is
 * the slow pure-JavaScript fallback; `webgpu` runs on Deno's WebGPU (an error
 * naming what to install when there is no adapter); `auto` takes webgpu on a
 * hardware adapter and wasm otherwise. Env `SSL_BACKEND` is not read here
 * (the commands and the notebooks' set-up do).
 */
export async function initBackend(
  name: BackendName = "wasm",
  options: InitBackendOptions = {},
): Promise<string> {
  if (!BACKEND_NAMES.includes(name)) {
    throw new Error(
      `initBackend: unknown backend "${name}"; use ${
        BACKEND_NAMES.map((b) => `"${b}"`).join(", ")
      }`,
    );
  }
  const log = options.log ?? console.log;
  tf.enableProdMode(); // no "install tfjs-node" banner, no debug-mode checks
  if (name === "webgpu" || name === "auto") {
    const probe = await gpuProbe();
    if (name === "webgpu") {
      await startHostBackend();
      await startWebgpu(probe);
      log(
        `backend webgpu on ${probe.description}` +
          (probe.software ? " (a software adapter: slower than the wasm backend)" : ""),
      );
      return tf.getBackend();
    }
    if (probe.adapter && !probe.software) {
      await startHostBackend();
      await startWebgpu(probe);
      log(`backend webgpu (auto): hardware adapter ${probe.description}`);
      return tf.getBackend();
    }
    log(
      probe.adapter
        ? `backend wasm (auto): the only WebGPU adapter, ${probe.description}, is software and ` +
          "slower than wasm (--backend webgpu uses it anyway)"
        : `backend wasm (auto): no WebGPU adapter (${probe.reason})`,
    );
    name = "wasm";
  }
  if (name === "wasm") prepareWasm();
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`initBackend: tfjs could not start the ${name} backend`);
  await tf.ready();
  return tf.getBackend();
}

/** The most workers `"auto"` starts: each holds a model replica and a slice of the batch. */
export const MAX_AUTO_WORKERS = 8;

/**
 * The worker count `"auto"` means: one per core the runtime reports
 * (`navigator.hardwareConcurrency`), at least 1 and at most {@linkcode MAX_AUTO_WORKERS}.
 */
export function autoWorkers(cores: number | undefined = navigator.hardwareConcurrency): number {
  const n = Number.isInteger(cores) && cores! > 0 ? cores! : 1;
  return Math.min(n, MAX_AUTO_WORKERS);
}

/**
 * Worker threads for data-parallel pre-training on the backend in use: as
 * requested on wasm and cpu (one core each; `"auto"` is {@linkcode autoWorkers}), 1 on
 * webgpu (one device, and the workers would each run wasm on the CPU).
 */
export function trainingWorkers(requested: number | "auto"): number {
  if (tf.getBackend() === "webgpu") return 1;
  return requested === "auto" ? autoWorkers() : requested;
}
