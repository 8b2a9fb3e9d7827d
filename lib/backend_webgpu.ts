/**
 * The GPU path: what Deno's built-in WebGPU (`navigator.gpu`) offers, and
 * starting tfjs's `webgpu` backend on it.
 *
 * Deno ships WebGPU without a flag; it finds a GPU through the machine's
 * Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver. Mesa's software
 * Vulkan driver (lavapipe, reported as "llvmpipe") also gives an adapter: it
 * computes the same numbers as a GPU, but on the CPU and slower than the
 * `wasm` backend, so {@linkcode gpuProbe} says whether an adapter is software
 * and `initBackend("auto")` only picks WebGPU for a hardware one.
 *
 * tfjs reads a tensor synchronously on WebGPU through an `OffscreenCanvas`,
 * which Deno lacks: on this backend read with `await t.data()`, never
 * `dataSync()` or `arraySync()`.
 *
 * @example
 * ```ts
 * import { gpuProbe } from "./backend_webgpu.ts";
 * const probe = await gpuProbe();
 * console.log(probe.adapter ? `${probe.description} (software: ${probe.software})` : probe.reason);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** What Deno's WebGPU offers on this machine. */
export interface GpuProbe {
  /** An adapter was found. */
  adapter: boolean;
  /** The adapter is a software rasteriser (lavapipe / llvmpipe, WARP, SwiftShader). */
  software: boolean;
  /** The adapter's description ("llvmpipe (LLVM 15.0.6, 256 bits)", "NVIDIA GeForce …"). */
  description: string;
  /** Why there is no adapter (empty when there is one). */
  reason: string;
}

/** What to install when Deno sees no GPU adapter. */
export const GPU_INSTALL_HINT =
  "a GPU driver with Vulkan (Linux), Metal (macOS) or D3D12 (Windows); on Debian/Ubuntu " +
  "without a GPU, Mesa's software Vulkan driver: `apt-get install -y mesa-vulkan-drivers libvulkan1`";

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render|\bwarp\b/i;

/** True when an adapter description names a software rasteriser. */
export function isSoftwareAdapter(description: string, fallback = false): boolean {
  return fallback || SOFTWARE.test(description);
}

interface AdapterLike {
  info?: { description?: string; device?: string; vendor?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

/** Asks Deno's WebGPU for an adapter and describes it; never throws. */
export async function gpuProbe(): Promise<GpuProbe> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } })?.gpu;
  if (!gpu) {
    return { adapter: false, software: false, description: "", reason: "no navigator.gpu" };
  }
  let adapter: AdapterLike | null = null;
  try {
    adapter = await gpu.requestAdapter() as AdapterLike | null;
  } catch (e) {
    const reason = `requestAdapter failed: ${(e as Error).message}`;
    return { adapter: false, software: false, description: "", reason };
  }
  if (!adapter) {
    return { adapter: false, software: false, description: "", reason: "no WebGPU adapter" };
  }
  // Read the info now: Deno's adapter.info is not readable after requestDevice (Deno #28135).
  const info = adapter.info ?? {};
  const description = info.description || info.device || info.vendor || "unknown adapter";
  const fallback = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
  return {
    adapter: true,
    software: isSoftwareAdapter(description, fallback),
    description,
    reason: "",
  };
}

/**
 * Starts tfjs's `webgpu` backend (registered on first call) and returns the
 * probe of the adapter it runs on. Throws, naming what to install, when there
 * is no adapter.
 */
export async function startWebgpu(probe?: GpuProbe): Promise<GpuProbe> {
  const p = probe ?? await gpuProbe();
  if (!p.adapter) {
    throw new Error(
      `initBackend: the webgpu backend needs a WebGPU adapter and Deno sees none (${p.reason}); ` +
        `install ${GPU_INSTALL_HINT}`,
    );
  }
  await import("@tensorflow/tfjs-backend-webgpu"); // registers "webgpu" with tfjs
  const ok = await tf.setBackend("webgpu");
  if (!ok) {
    throw new Error(`initBackend: tfjs could not start the webgpu backend on ${p.description}`);
  }
  await tf.ready();
  return p;
}

/**
 * Runs `fn` on the wasm backend when webgpu is in use, and as is otherwise
 * (so on wasm and cpu nothing changes). For small computations on plain
 * arrays whose API reads synchronously (the linear probe, kNN; they import it
 * from here, which loads no backend): WebGPU has no synchronous read in Deno.
 * `fn` must create every tensor it uses from host
 * data (a tensor living on webgpu cannot be read synchronously) and return no
 * tensor. tfjs switches to a backend it has already started synchronously.
 */
export function onHostBackend<T>(fn: () => T): T {
  if (tf.getBackend() !== "webgpu") return fn();
  if (!tf.findBackend("wasm")) throw new Error("onHostBackend: wasm was not started beside webgpu");
  void tf.setBackend("wasm");
  try {
    return fn();
  } finally {
    void tf.setBackend("webgpu");
  }
}
