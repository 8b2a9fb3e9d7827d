/**
 * A faster `Mean` over the pixels of NHWC feature maps on the wasm backend (global average
 * pooling: the ResNet's last layer, `[B, H, W, C]` → `[B, C]`): per image, the `H·W` rows of `C`
 * channels summed on SIMD (`sumRowsVectors` of `elementwise_simd_wasm.ts`), then divided by
 * `H·W`. The backend's own kernel transposes the reduced axes to the end first and then sums
 * them: 4.3 ms on the ResNet step's `[256, 8, 8, 64]`, where this reads the map once (about
 * 0.5 ms). Other means go to the original kernel.
 *
 * Its gradient on wasm ({@linkcode useMeanPixelsGrad}, kernel `SslMeanPixelsGrad`) writes
 * `dy / (H·W)` into every pixel of each image: the row of `C` values once, then doubled with
 * `copyWithin` (memory copies). tfjs's gradient of `Mean` builds `ones(x.shape)` in JavaScript,
 * uploads it and multiplies and divides (three passes and a 4 MB JavaScript array on the ResNet's
 * last map: about 4.5 ms a step, profiled). Other means keep tfjs's formula.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // wraps the backend's Mean with this kernel
 * const x = tf.ones([2, 3, 3, 4]);
 * console.log(await tf.mean(x, [1, 2]).data()); // eight 1s
 * x.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { sumRowsVectors } from "./elementwise_simd_wasm.ts";

/** Builds the kernel config around `original`, the backend's own `Mean`. */
/** The switch benchmarks turn off to time tfjs's gradient of `Mean` (on by default). */
export const MEAN_PIXELS_GRAD: { enabled: boolean } = { enabled: true };

/** The gradient kernel's name. */
export const MEAN_PIXELS_GRAD_KERNEL = "SslMeanPixelsGrad";

/** True when `Mean` over `axes` of `x` is over the pixels of an NHWC map (any channel count). */
function overPixels(shape: readonly number[], axes: number[]): boolean {
  return shape.length === 4 && axes.length === 2 && axes[0] === 1 && axes[1] === 2 &&
    shape[1] * shape[2] > 0;
}

export function meanPixelsWasmConfig(original: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: Parameters<tf.KernelFunc>[0]) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    if (x.shape.length !== 4 || x.dtype !== "float32") return original(args);
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const [batch, h, w, c] = x.shape;
    if (axes.length !== 2 || axes[0] !== 1 || axes[1] !== 2 || c % 4 !== 0 || h * w === 0) {
      return original(args);
    }
    const out = backend.makeOutput(keepDims ? [batch, 1, 1, c] : [batch, c], "float32");
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    dst.fill(0);
    for (let b = 0; b < batch; b++) {
      sumRowsVectors(
        backend,
        src.byteOffset + 4 * b * h * w * c,
        dst.byteOffset + 4 * b * c,
        h * w,
        c / 4,
      );
    }
    const n = h * w;
    for (let i = 0; i < dst.length; i++) dst[i] = dst[i] / n;
    return out;
  };
  return { kernelName: "Mean", backendName: "wasm", kernelFunc };
}

/** `dx[b, y, x, :] = dy[b, :] / (H·W)`: `dy` holds B·C floats, `shape` is x's `[B, H, W, C]`. */
function meanPixelsGradWasm(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy } = args.inputs as { dy: tf.TensorInfo };
  const { shape } = args.attrs as unknown as { shape: number[] };
  const [batch, h, w, c] = shape;
  const out = backend.makeOutput(shape, "float32");
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const n = h * w;
  const image = n * c;
  for (let b = 0; b < batch; b++) {
    const at = b * image;
    for (let k = 0; k < c; k++) o[at + k] = g[b * c + k] / n;
    // Double the filled rows until the image is full: log2(H·W) memory copies.
    for (let filled = c; filled < image; filled *= 2) {
      o.copyWithin(at + filled, at, at + Math.min(filled, image - filled));
    }
  }
  return out;
}

/** tfjs's gradient of `Mean` (its formula, for every other case and backend). */
function meanGradTfjs(dy: tf.Tensor, x: tf.Tensor, axes: number[]): tf.Tensor {
  const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const reduceSize = axes.reduce((s, a) => s * x.shape[a], 1);
  return tf.div(tf.mul(tf.reshape(dy, expanded), tf.ones(x.shape, "float32")), reduceSize);
}

/**
 * Makes `Mean`'s gradient one pass of copies on wasm for means over the pixels of float32 NHWC
 * maps (registers the kernel `SslMeanPixelsGrad` and the gradient, globally; tfjs's formula
 * everywhere else). The kernel's own gradient (to `dy`) is the mean over the pixels again.
 */
export function useMeanPixelsGrad(): void {
  if (tf.getKernel(MEAN_PIXELS_GRAD_KERNEL, "wasm") === undefined) {
    tf.registerKernel({
      kernelName: MEAN_PIXELS_GRAD_KERNEL,
      backendName: "wasm",
      kernelFunc: meanPixelsGradWasm as unknown as tf.KernelFunc,
    });
  }
  tf.registerGradient({
    kernelName: MEAN_PIXELS_GRAD_KERNEL,
    gradFunc: (ddx, _saved, attrs) => {
      const { shape } = attrs as unknown as { shape: number[] };
      return { dy: () => tf.reshape(tf.mean(ddx as tf.Tensor, [1, 2]), [shape[0], shape[3]]) };
    },
  });
  tf.registerGradient({
    kernelName: "Mean",
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { axis } = attrs as unknown as { axis: number | number[] };
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      const g = dy as tf.Tensor;
      const fast = MEAN_PIXELS_GRAD.enabled && tf.getBackend() === "wasm" &&
        g.dtype === "float32" && overPixels(x.shape, axes);
      return {
        x: () =>
          fast
            ? tf.engine().runKernel(
              MEAN_PIXELS_GRAD_KERNEL,
              { dy: g } as unknown as tf.NamedTensorMap,
              { shape: x.shape } as unknown as tf.NamedAttrMap,
            ) as tf.Tensor
            : meanGradTfjs(g, x, axes),
      };
    },
  });
}
