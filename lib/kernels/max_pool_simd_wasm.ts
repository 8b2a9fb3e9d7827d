/**
 * A faster 2x2 stride-2 `MaxPool` for the wasm backend (the article CNN's and the ResNet's pools,
 * NHWC float32, channels a multiple of 4, no padding before the image): per output pixel, the
 * four input vectors of 4 channels and three `f32x4.pmax` after a start of -∞ (tfjs's
 * `pixel > max ? pixel : max`: NaN never wins, -∞ where all four are NaN, the first of equal
 * values kept). One module per image shape, every offset a constant. The backend's own kernel took
 * 9 ms on the article step's `[1024, 26, 26, 16]` (44 MB read, 11 MB written), about four times
 * what the memory needs. Other pools go to the original kernel.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // wraps the backend's MaxPool with this kernel
 * const x = tf.tensor4d([1, 5, 3, 2, 4, 0, 7, 6].flatMap((v) => [v, -v, v, -v]), [1, 2, 4, 4]);
 * console.log(await tf.maxPool(x, 2, 2, "valid").data()); // [5, -1, 5, -1, 7, 0, 7, 0]
 * x.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  advanceBy,
  functionBody,
  I32,
  instantiateOnHeap,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
} from "./wasm_simd_builder.ts";

/** The switch benchmarks turn off to time the backend's own kernel (on by default). */
export const MAX_POOL_SIMD: { enabled: boolean } = { enabled: true };

/** `pool(x, out, images)`: every image of `h` x `w` x `c` into `outH` x `outW` x `c`. */
function poolModuleBytes(
  shared: boolean,
  h: number,
  w: number,
  c: number,
  outH: number,
  outW: number,
): Uint8Array {
  const [X, OUT, IMAGES] = [0, 1, 2];
  const low = 3; // -∞ in every lane
  const acc = 4;
  let next = 5;
  const imgX = next++;
  const rowX = next++;
  const px = next++;
  const rowsLeft = next++;
  const colsLeft = next++;
  const code: number[] = [
    ...op.f32Const(-Infinity),
    ...op.f32x4Splat,
    ...op.localSet(low),
    ...op.localGet(X),
    ...op.localSet(imgX),
    ...op.loop, // images
    ...op.localGet(imgX),
    ...op.localSet(rowX),
    ...op.i32Const(outH),
    ...op.localSet(rowsLeft),
    ...op.loop, // output rows
    ...op.localGet(rowX),
    ...op.localSet(px),
    ...op.i32Const(outW),
    ...op.localSet(colsLeft),
    ...op.loop, // output pixels
  ];
  const window = [0, 4 * c, 4 * w * c, 4 * (w + 1) * c]; // (0, 0), (0, 1), (1, 0), (1, 1)
  for (let v = 0; v < c / 4; v++) {
    code.push(...op.localGet(low), ...op.localSet(acc));
    for (const at of window) {
      code.push(
        ...op.localGet(acc),
        ...op.localGet(px),
        ...op.v128Load(at + 16 * v),
        ...op.f32x4Pmax, // acc < x ? x : acc
        ...op.localSet(acc),
      );
    }
    code.push(...op.localGet(OUT), ...op.localGet(acc), ...op.v128Store(16 * v));
  }
  code.push(
    ...advanceBy(px, 4 * 2 * c),
    ...advanceBy(OUT, 4 * c),
    ...loopWhileCountingDown(colsLeft),
    ...op.end, // output pixels
    ...advanceBy(rowX, 4 * 2 * w * c),
    ...loopWhileCountingDown(rowsLeft),
    ...op.end, // output rows
    ...advanceBy(imgX, 4 * h * w * c),
    ...loopWhileCountingDown(IMAGES),
    ...op.end, // images
  );
  return moduleBytes(shared, 3, [
    { name: "pool", body: functionBody([[2, V128], [next - 5, I32]], code) },
  ]);
}

/**
 * Whether {@linkcode maxPoolSimd} takes a pool of `x` with this `info`: 2x2 windows, stride 2,
 * no padding above or left, NHWC float32, channels a multiple of 4 (at most 256), a non-empty
 * output.
 */
export function maxPoolSimdApplies(x: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): boolean {
  const c = x.shape[3];
  return x.shape.length === 4 && x.dtype === "float32" && info.filterHeight === 2 &&
    info.filterWidth === 2 && info.strideHeight === 2 && info.strideWidth === 2 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && info.padInfo.top === 0 &&
    info.padInfo.left === 0 && 2 * info.outHeight <= x.shape[1] &&
    2 * info.outWidth <= x.shape[2] && info.outHeight > 0 && info.outWidth > 0 &&
    info.batchSize > 0 && c % 4 === 0 && c > 0 && c <= 256 && info.dataFormat === "channelsLast";
}

/** The 2x2 stride-2 max pool of `x` described by `info` ({@linkcode maxPoolSimdApplies}). */
export function maxPoolSimd(
  backend: BackendWasm,
  x: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  if (!maxPoolSimdApplies(x, info)) throw new Error("maxPoolSimd: takes 2x2 stride-2 NHWC pools");
  const [batch, h, w, c] = x.shape;
  const { outHeight: outH, outWidth: outW } = info;
  const out = backend.makeOutput([batch, outH, outW, c], "float32");
  const fns = instantiateOnHeap<{ pool: (x: number, out: number, images: number) => void }>(
    backend,
    `maxPool2x2-${h}-${w}-${c}-${outH}-${outW}`,
    (shared) => poolModuleBytes(shared, h, w, c, outH, outW),
  );
  fns.pool(
    backend.typedArrayFromHeap(x).byteOffset,
    backend.typedArrayFromHeap(out).byteOffset,
    batch,
  );
  return out;
}

/** Builds the kernel config around `original`, the backend's own `MaxPool`. */
export function maxPoolSimdConfig(original: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: Parameters<tf.KernelFunc>[0]) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const attrs = args.attrs as unknown as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: "valid" | "same" | number;
      dimRoundingMode?: "floor" | "round" | "ceil";
    };
    if (!MAX_POOL_SIMD.enabled || x.shape.length !== 4) return original(args);
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    if (!maxPoolSimdApplies(x, info)) return original(args);
    return maxPoolSimd(args.backend as BackendWasm, x, info);
  };
  return { kernelName: "MaxPool", backendName: "wasm", kernelFunc };
}
