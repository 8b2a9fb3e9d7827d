/**
 * Batch normalisation's moments of a convolution's output, gathered by the convolution itself
 * while the rows it has just written are still in cache. In a training step the output of a
 * convolution is read again by the batch norm's moments pass (`SslChannelMoments`) from main
 * memory, at about half the speed the same pass reaches on data in cache (the ResNet step's
 * `[256, 32, 32, 16]` maps: 1.8 ms a call in the step, 1.1 ms alone). {@linkcode OutputMoments}
 * takes the output piece by piece as the convolution stores it (Winograd F(4x4, 3x3)'s forward
 * pass, `conv2d_winograd_f4_wasm.ts`: rows of blocks a chunk at a time), sums it with the moments
 * pass's own SIMD code (`statsRows`: float32 sums of `x - K`, `K` the mean of the first 16
 * pixels, added in float64 every {@linkcode FOLD_PIXELS} pixels or more) and records the mean and biased variance against
 * the output's data; the moments kernel then returns them without reading the map
 * ({@linkcode cachedMoments}). Plain convolutions (`Conv2D`) take them in training steps (while a
 * gradient tape records the forward pass; inference normalises with the moving statistics); a map
 * no batch norm reads then costs the sums only, on data in cache. {@linkcode CONV_OUTPUT_MOMENTS}
 * switches it off.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { cachedMoments, OutputMoments } from "./conv_output_moments_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const y = tf.tensor2d([[1, 2, 3, 4], [3, 6, 9, 12]]); // 2 pixels, 4 channels
 * const moments = new OutputMoments(backend, 4);
 * moments.add(backend.typedArrayFromHeap(y).byteOffset, 2); // as a convolution stores them
 * moments.finish(y);
 * console.log(cachedMoments(y)); // mean [2, 4, 6, 8], variance [1, 4, 9, 16]
 * y.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { statsRowsOf } from "./batch_norm_simd_wasm.ts";

/** The switch benchmarks turn off to time the moments pass of before (on by default). */
export const CONV_OUTPUT_MOMENTS: { enabled: boolean } = { enabled: true };

/** A map's per-channel mean and biased variance. */
export interface Moments {
  mean: Float32Array;
  variance: Float32Array;
}

/** Moments by the data they were taken of (a tensor's data never changes). */
const recorded = new WeakMap<object, Moments>();

/** The moments recorded for `x`'s data by the convolution that wrote it, if any. */
export function cachedMoments(x: tf.TensorInfo): Moments | undefined {
  return recorded.get(x.dataId);
}

/** Pixels whose mean is each channel's shift `K` (as the moments pass takes it). */
const SHIFT_PIXELS = 16;

/** Pixels summed in float32 (whole pieces, at least this many) before a float64 fold. */
export const FOLD_PIXELS = 512;

/**
 * The moments of a map of `c` channels (a multiple of 4) taken piece by piece: {@linkcode add}
 * every pixel once, then {@linkcode finish}; {@linkcode free} when the map is abandoned.
 */
export class OutputMoments {
  readonly #backend: BackendWasm;
  readonly #c: number;
  #work: tf.TensorInfo | undefined; // shift, sum and sq rows of c floats
  #at = 0; // its heap address
  readonly #stats: (x: number, shift: number, sum: number, sq: number, rows: number) => void;
  readonly #shift: Float64Array;
  readonly #sum: Float64Array;
  readonly #sq: Float64Array;
  #pixels = 0;
  #unfolded = 0; // pixels in the float32 sums

  constructor(backend: BackendWasm, c: number) {
    if (c % 4 !== 0 || c <= 0) throw new Error(`OutputMoments: channels ${c} not a multiple of 4`);
    this.#backend = backend;
    this.#c = c;
    this.#work = backend.makeOutput([3 * c], "float32");
    this.#at = backend.typedArrayFromHeap(this.#work).byteOffset;
    this.#stats = statsRowsOf(backend, c / 4);
    this.#shift = new Float64Array(c);
    this.#sum = new Float64Array(c);
    this.#sq = new Float64Array(c);
  }

  /** The scratch rows (a fresh view: the heap may have grown since). */
  #view(): Float32Array {
    return this.#backend.typedArrayFromHeap(this.#work!) as Float32Array;
  }

  /** Adds `pixels` pixels of the map, stored from heap byte address `at`. */
  add(at: number, pixels: number): void {
    if (pixels <= 0 || this.#work === undefined) return;
    const c = this.#c;
    if (this.#pixels === 0) {
      const w = this.#view();
      const x = new Float32Array(w.buffer, at, Math.min(pixels, SHIFT_PIXELS) * c);
      const first = x.length / c;
      for (let i = 0; i < x.length; i++) this.#shift[i % c] += x[i];
      for (let k = 0; k < c; k++) this.#shift[k] = Math.fround(this.#shift[k] / first);
      w.set(this.#shift, 0);
      w.fill(0, c);
    }
    const w0 = this.#at;
    this.#stats(at, w0, w0 + 4 * c, w0 + 8 * c, pixels);
    this.#pixels += pixels;
    this.#unfolded += pixels;
    if (this.#unfolded >= FOLD_PIXELS) this.#fold();
  }

  /** Adds the float32 sums into the float64 ones and zeroes them. */
  #fold(): void {
    const c = this.#c;
    const w = this.#view();
    for (let k = 0; k < c; k++) {
      this.#sum[k] += w[c + k];
      this.#sq[k] += w[2 * c + k];
    }
    w.fill(0, c);
    this.#unfolded = 0;
  }

  /** Records the moments for `out`, the map whose pixels were all added, and frees the scratch. */
  finish(out: tf.TensorInfo): void {
    if (this.#work !== undefined && this.#unfolded > 0) this.#fold();
    const c = this.#c;
    const pixels = this.#pixels;
    this.free();
    if (pixels * c !== out.shape.reduce((a, b) => a * b, 1) || pixels === 0) return;
    const mean = new Float32Array(c);
    const variance = new Float32Array(c);
    for (let k = 0; k < c; k++) {
      const m = this.#sum[k] / pixels;
      mean[k] = this.#shift[k] + m;
      variance[k] = Math.max(this.#sq[k] / pixels - m * m, 0);
    }
    recorded.set(out.dataId, { mean, variance });
  }

  /** Frees the scratch (idempotent). */
  free(): void {
    if (this.#work !== undefined) this.#backend.disposeData(this.#work.dataId);
    this.#work = undefined;
  }
}
