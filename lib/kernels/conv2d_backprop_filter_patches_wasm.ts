/**
 * The filter gradient of a 2-D convolution as one long matrix product,
 * `dW = Pᵀ·dy`, for the wasm backend: the path `conv2d_backprop_filter_wasm.ts`
 * takes whenever the output channels are a multiple of 4.
 *
 * For a forward conv with `x: [B, H, W, Ci]`, filter `[Kh, Kw, Ci, Co]` and
 * `dy: [B, Ho, Wo, Co]`, row `n = (b, i, j)` of the patches matrix `P`
 * (`[B·Ho·Wo, Kh·Kw·Ci]`, im2col) holds the input pixels output pixel `n`
 * read, in the filter's `(kh, kw, ci)` order; `dy`, read as `[B·Ho·Wo, Co]`,
 * needs no copy. Nor does `P`: in NHWC, the `Kw·Ci` entries of one filter row
 * `kh` are contiguous in `x`, and from one output pixel to the next they move
 * by a fixed stride (`sw·Ci` floats along a row, `sh·W·Ci` from row to row,
 * `H·W·Ci` from image to image). So for each `kh`, `accumulateWalkAtB`
 * (`simd_at_b_wasm.ts`) walks `x` in place and folds rows `kh·Kw·Ci ...` of
 * `dW` in, a group of images at a time (their `dy` stays in cache). Padding
 * ("same" or explicit, from `tf.backend_util.computeConv2DInfo` as in the
 * convolution path) is made real first, by one copy of `x` with zero borders;
 * a "valid" conv needs none, and strides are the walk's.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { filterGradByPatches } from "./conv2d_backprop_filter_patches_wasm.ts";
 * await initBackend("wasm");
 * const x = tf.ones([1, 5, 5, 1]);
 * const dy = tf.ones([1, 3, 3, 4]); // a 3x3 valid conv with 4 output channels
 * const info = tf.backend_util.computeConv2DInfo([1, 5, 5, 1], [3, 3, 1, 4], 1, 1, "valid");
 * const dw = filterGradByPatches(tf.backend() as unknown as BackendWasm, x, dy, info);
 * // dw: [3, 3, 1, 4], every entry 9 (nine output pixels, each reading a 1)
 * (tf.backend() as unknown as BackendWasm).disposeData(dw.dataId);
 * tf.dispose([x, dy]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { accumulateWalkAtB, atBSupported, ROWS } from "./simd_at_b_wasm.ts";

/** Bytes of `dy` one pass over a group of images reads (kept within cache). */
export const GROUP_BYTES = 128 * 1024;

/** Whether {@linkcode filterGradByPatches} handles a filter with `outChannels`. */
export function patchesSupported(outChannels: number): boolean {
  return atBSupported(outChannels);
}

/**
 * `dW` (shaped `[Kh, Kw, Ci, Co]`) from `x` and `dy` by patches; `info` is
 * `computeConv2DInfo` of the forward conv (dilation 1). `maxRows` is passed
 * on to `accumulateWalkAtB` (benchmarks only).
 */
export function filterGradByPatches(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  maxRows = ROWS,
): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const [batch, height, width, ci] = x.shape;
  const [, outH, outW, co] = dy.shape;
  // Padding the forward conv read beyond the input (negative: trailing rows it never read).
  const bottom = Math.max((outH - 1) * sh + kh - height - top, 0);
  const right = Math.max((outW - 1) * sw + kw - width - left, 0);
  const padded = top + bottom + left + right > 0
    ? padSpatially(backend, x, top, bottom, left, right)
    : x;
  const out = backend.makeOutput([kh, kw, ci, co], "float32");
  try {
    // Views and addresses after the allocations, which may grow (and move) the heap.
    const dw = backend.typedArrayFromHeap(out) as Float32Array;
    dw.fill(0);
    const [, ph, pw] = padded.shape;
    const xAddress = backend.typedArrayFromHeap(padded).byteOffset;
    const dyAddress = backend.typedArrayFromHeap(dy).byteOffset;
    const run = kw * ci; // one filter row's entries, contiguous in x (NHWC)
    // Images per pass: enough that one pass over their dy (once per block of
    // dW) stays in cache.
    const group = Math.max(1, Math.floor(GROUP_BYTES / (4 * outH * outW * co)));
    for (let b = 0; b < batch; b += group) {
      const images = Math.min(group, batch - b);
      const dyImages = dyAddress + 4 * b * outH * outW * co;
      for (let fh = 0; fh < kh; fh++) {
        const walk = {
          address: xAddress + 4 * (b * ph + fh) * pw * ci,
          images,
          rows: outH,
          cols: outW,
          imageStride: 4 * ph * pw * ci,
          rowStride: 4 * sh * pw * ci,
          colStride: 4 * sw * ci,
        };
        accumulateWalkAtB(
          backend,
          walk,
          dyImages,
          dw.byteOffset + 4 * fh * run * co,
          run,
          co,
          maxRows,
        );
      }
    }
    return out;
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    if (padded !== x) backend.disposeData(padded.dataId);
  }
}

/**
 * `x` with `top`/`bottom` zero rows and `left`/`right` zero columns around each
 * image, copied a row at a time (the backend's `PadV2` moves one channel
 * vector at a time: 7 ms for `[255, 28, 28, 1]`, this about 1 ms).
 */
export function padSpatially(
  backend: BackendWasm,
  x: tf.TensorInfo,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.TensorInfo {
  const [batch, height, width, channels] = x.shape;
  const ph = height + top + bottom;
  const pw = width + left + right;
  const out = backend.makeOutput([batch, ph, pw, channels], "float32");
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  dst.fill(0);
  const row = width * channels;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < height; i++) {
      const from = (b * height + i) * row;
      dst.set(src.subarray(from, from + row), ((b * ph + top + i) * pw + left) * channels);
    }
  }
  return out;
}
