/**
 * 1x1 stride-1 convolutions (the ResNet's projections on the skip path where the width doubles)
 * as matrix products on WebAssembly SIMD, with the product kernels of the Winograd paths at one
 * position: the forward pass `y = x·W` (`[pixels, ci]` by `[ci, co]`) and the input gradient
 * `dx = dy·Wᵀ` by `productBody` of `winograd_products_wasm.ts` (tiles of 3 pixels x 16 channels),
 * the filter gradient `dW = xᵀ·dy` by `atbBody` of `winograd_products_wasm.ts`
 * (tiles of 3 input x 16 output channels, accumulators in registers along the pixels; float32
 * sums of 1,024 pixels joined in float64). XNNPACK ran the ResNet's 1x1 layers (16 → 32 on 16x16,
 * 32 → 64 on 8x8, 256 views) at 3 to 3.5 ms a pass.
 *
 * {@linkcode pointwiseApplies}: a 1x1 filter, stride 1, no padding, input and output channels
 * multiples of 4, float32.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { pointwiseConv2d } from "./conv2d_pointwise_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.ones([1, 2, 2, 4]);
 * const w = tf.ones([1, 1, 4, 8]);
 * const y = pointwiseConv2d(backend, x, w); // [1, 2, 2, 8], every entry 4
 * backend.disposeData(y.dataId);
 * tf.dispose([x, w]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { fusedAvailable } from "./simd_at_b_wasm.ts";
import { instantiateOnHeap, moduleBytes } from "./wasm_simd_builder.ts";
import { atbBody, productBody, type WinogradShape } from "./winograd_products_wasm.ts";

/** Pixels whose filter-gradient products are summed in float32 before they join float64. */
const SUM_PIXELS = 1024;

/** Whether {@linkcode pointwiseConv2d} computes the convolution of `x` with `filter` (no padding). */
export function pointwiseApplies(x: tf.TensorInfo, filter: tf.TensorInfo): boolean {
  const [kh, kw, ci, co] = filter.shape;
  return kh === 1 && kw === 1 && ci % 4 === 0 && co % 4 === 0 && ci > 0 && co > 0 &&
    x.shape.length === 4 && x.shape[3] === ci && x.dtype === "float32" &&
    filter.dtype === "float32";
}

type Fns = {
  mm: (v: number, u: number, m: number, blocks: number) => void;
  atb: (v: number, y: number, du: number, blocks: number) => void;
};

/** The module of `ci` → `co` channels: `mm` (`[n, ci]·[ci, co]`) and `atb` (`+= [n, ci]ᵀ·[n, co]`). */
function fnsFor(backend: BackendWasm, ci: number, co: number, fused: boolean): Fns {
  const shape: WinogradShape = { ci, co, padW: 0, blocksW: 1, chunk: 1 };
  return instantiateOnHeap<Fns>(
    backend,
    `pointwise-${ci}-${co}-${fused}`,
    (shared) =>
      moduleBytes(shared, 4, [
        { name: "mm", body: productBody(shape, fused, 1) },
        { name: "atb", body: atbBody(shape, fused, 1) },
      ]),
  );
}

/**
 * The 1x1 convolution of `x` (`[B, H, W, ci]`) with `filter` (`[1, 1, ci, co]`): a new
 * `[B, H, W, co]` tensor. `fused` picks the multiply-add variant.
 */
export function pointwiseConv2d(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  fused = fusedAvailable(),
): tf.TensorInfo {
  if (!pointwiseApplies(x, filter)) {
    throw new Error(
      `pointwiseConv2d: takes 1x1 filters and 4k channels; got x [${x.shape}], filter ` +
        `[${filter.shape}]`,
    );
  }
  const [batch, h, w, ci] = x.shape;
  const co = filter.shape[3];
  const out = backend.makeOutput([batch, h, w, co], "float32");
  const pixels = batch * h * w;
  if (pixels > 0) {
    fnsFor(backend, ci, co, fused).mm(
      backend.typedArrayFromHeap(x).byteOffset,
      backend.typedArrayFromHeap(filter).byteOffset,
      backend.typedArrayFromHeap(out).byteOffset,
      pixels,
    );
  }
  return out;
}

/**
 * `dW` (`[1, 1, ci, co]`) of a 1x1 stride-1 convolution without padding, from `x`
 * (`[B, H, W, ci]`) and `dy` (`[B, H, W, co]`). `fused` picks the multiply-add variant.
 */
export function pointwiseFilterGrad(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  fused = fusedAvailable(),
): tf.TensorInfo {
  const [batch, h, w, ci] = x.shape;
  const co = dy.shape[3];
  const filterLike = { shape: [1, 1, ci, co], dtype: dy.dtype } as unknown as tf.TensorInfo;
  if (!pointwiseApplies(x, filterLike) || dy.shape.slice(0, 3).join() !== [batch, h, w].join()) {
    throw new Error(
      `pointwiseFilterGrad: takes 4k channels and dy of x's pixels; got x [${x.shape}], dy ` +
        `[${dy.shape}]`,
    );
  }
  const dw = backend.makeOutput([1, 1, ci, co], "float32");
  const part = backend.makeOutput([ci, co], "float32");
  try {
    const fns = fnsFor(backend, ci, co, fused);
    const xAt = backend.typedArrayFromHeap(x).byteOffset;
    const dyAt = backend.typedArrayFromHeap(dy).byteOffset;
    const partAt = backend.typedArrayFromHeap(part).byteOffset;
    const sums = new Float64Array(ci * co);
    const pixels = batch * h * w;
    for (let p0 = 0; p0 < pixels; p0 += SUM_PIXELS) {
      const n = Math.min(SUM_PIXELS, pixels - p0);
      const p = backend.typedArrayFromHeap(part) as Float32Array;
      p.fill(0);
      fns.atb(xAt + 4 * p0 * ci, dyAt + 4 * p0 * co, partAt, n);
      for (let k = 0; k < sums.length; k++) sums[k] += p[k];
    }
    (backend.typedArrayFromHeap(dw) as Float32Array).set(sums);
    return dw;
  } finally {
    backend.disposeData(part.dataId);
  }
}
