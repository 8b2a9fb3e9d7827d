/**
 * The gradient of 2-D max pooling (`MaxPoolGrad`) for tfjs's `wasm` backend.
 *
 * The backend's own kernel is a slow nested scalar loop. This one routes each
 * output gradient to the first maximum of its window (row-major order, as
 * tfjs's `cpu` backend does), working in place on the wasm heap with the
 * channel loop innermost, so memory is read in order.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // registers maxPoolGradWasmConfig in place of the backend's kernel
 * const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
 * const dx = tf.grad((x) => tf.maxPool(x as tf.Tensor4D, 2, 2, "valid").sum())(x); // [0, 0, 0, 1]
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { pool2x2GradRows, pool2x2SimdSupported } from "./max_pool_grad_simd_wasm.ts";

/** Kernel function: `dx` of a max pool from `dy` and the pool's input. */
export function maxPoolGradWasm(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const attrs = args.attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: "valid" | "same" | number;
    dimRoundingMode?: "floor" | "round" | "ceil";
  };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;

  const out = backend.makeOutput(input.shape, "float32");
  // Views are taken after the allocation above, which may grow the heap.
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  // "same" on an odd size pads below or right (7 → 4 windows): the last window would read past
  // the image, so only windows that lie inside it take the fast path.
  const inside = 2 * outHeight <= inHeight && 2 * outWidth <= inWidth;
  if (fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && inside) {
    const simd = pool2x2SimdSupported(c) ? backend : undefined;
    pool2x2Grad(x, g, dx, batchSize, inHeight, inWidth, c, outHeight, outWidth, simd);
    return out;
  }
  dx.fill(0);
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  let gi = 0;
  for (let b = 0; b < batchSize; b++) {
    const xb = b * inHeight * inWidth * c;
    for (let i = 0; i < outHeight; i++) {
      const r0 = i * sh - top;
      for (let j = 0; j < outWidth; j++) {
        const c0 = j * sw - left;
        best.fill(-Infinity);
        where.fill(-1);
        for (let r = Math.max(r0, 0); r < Math.min(r0 + fh, inHeight); r++) {
          for (let q = Math.max(c0, 0); q < Math.min(c0 + fw, inWidth); q++) {
            const base = xb + (r * inWidth + q) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k];
              if (v > best[k] || where[k] < 0) {
                best[k] = v;
                where[k] = base + k;
              }
            }
          }
        }
        for (let k = 0; k < c; k++, gi++) {
          if (where[k] >= 0) dx[where[k]] += g[gi];
        }
      }
    }
  }
  return out;
}

/**
 * The common case, 2x2 windows with stride 2 and no padding: windows do not
 * overlap, so every input element is written exactly once (no zero fill, no
 * accumulation). With `simd` (the backend, when `c % 4 === 0`) the full
 * windows go to the SIMD kernel (`max_pool_grad_simd_wasm.ts`).
 */
function pool2x2Grad(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  batch: number,
  height: number,
  width: number,
  c: number,
  outH: number,
  outW: number,
  simd?: BackendWasm,
): void {
  const row = width * c;
  let gi = 0;
  for (let b = 0; b < batch; b++) {
    const xb = b * height * row;
    // Rows and columns past the last full window get no gradient.
    if (height > 2 * outH) dx.fill(0, xb + 2 * outH * row, xb + height * row);
    for (let i = 0; i < outH; i++) {
      const r0 = xb + 2 * i * row;
      if (width > 2 * outW) {
        dx.fill(0, r0 + 2 * outW * c, r0 + row);
        dx.fill(0, r0 + row + 2 * outW * c, r0 + 2 * row);
      }
    }
    if (simd) {
      const at = (a: Float32Array, i: number) => a.byteOffset + 4 * i;
      pool2x2GradRows(simd, at(x, xb), at(g, gi), at(dx, xb), outH, outW, width, c);
      gi += outH * outW * c;
      continue;
    }
    for (let i = 0; i < outH; i++) {
      const r0 = xb + 2 * i * row;
      for (let j = 0; j < outW; j++) {
        const p00 = r0 + 2 * j * c;
        const p01 = p00 + c;
        const p10 = p00 + row;
        const p11 = p10 + c;
        for (let k = 0; k < c; k++, gi++) {
          const a = x[p00 + k], b1 = x[p01 + k], c1 = x[p10 + k], d = x[p11 + k];
          // First maximum in row-major order wins ties, as on tfjs's cpu backend.
          let m = a, w = 0;
          if (b1 > m) (m = b1, w = 1);
          if (c1 > m) (m = c1, w = 2);
          if (d > m) w = 3;
          const v = g[gi];
          dx[p00 + k] = w === 0 ? v : 0;
          dx[p01 + k] = w === 1 ? v : 0;
          dx[p10 + k] = w === 2 ? v : 0;
          dx[p11 + k] = w === 3 ? v : 0;
        }
      }
    }
  }
}

/** Kernel registration for `tf.registerKernel`. */
export const maxPoolGradWasmConfig: tf.KernelConfig = {
  kernelName: "MaxPoolGrad",
  backendName: "wasm",
  kernelFunc: maxPoolGradWasm as unknown as tf.KernelFunc,
};
