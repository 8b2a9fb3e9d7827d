/**
 * A convolution's bias and ReLU as one op in training on the wasm backend: `y = relu(z + b)` in
 * one SIMD pass (`SslBiasRelu`), and its gradient in one pass too (`SslBiasReluGrad`:
 * `dz = dy · step(y)` and the bias gradient `db = Σ dz` over every pixel, from `dy` and `y`).
 * tfjs fuses bias and activation into a convolution only outside a gradient tape; under one (every
 * training step) `tf.fused.conv2d` is a convolution, a bias add and a ReLU, and their gradients a
 * ReLU gradient and a sum: four passes over the layer's output where these are two (the article
 * CNN's first layer: 44 MB a pass on 1,024 views). `conv2d_lazy_gradients_wasm.ts` sends a
 * convolution with a bias and a ReLU here ({@linkcode biasRelu}).
 *
 * The ReLU is `f32x4.pmax(v, 0)` (tfjs's `v < 0 ? 0 : v`, NaN kept); the gradient's mask is
 * `y > 0` (NaN where `y` is NaN, as tfjs's `dy · step(y)`), and the bias sums run in float32 over
 * 1,024 pixels at a time, then in float64.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * import { biasRelu } from "./bias_relu_wasm.ts";
 * await initBackend("wasm"); // registers the kernels and their gradient
 * const z = tf.tensor2d([[-1, 2, 0.5, -3]]);
 * const b = tf.tensor1d([0.5, -3, 1, 4]);
 * console.log(await biasRelu(z, b).data()); // [0, 0, 1.5, 1]
 * const db = tf.grad((bias) => tf.sum(biasRelu(z, bias as tf.Tensor1D)))(b); // [0, 0, 1, 1]
 * tf.dispose([z, b, db]);
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

/** The kernels' names. */
export const BIAS_RELU = "SslBiasRelu";
export const BIAS_RELU_GRAD = "SslBiasReluGrad";

/** The switch benchmarks turn off to time tfjs's bias add + ReLU (on by default). */
export const BIAS_RELU_FUSED: { enabled: boolean } = { enabled: true };

/** Pixels whose bias gradients are summed in float32 before they join the float64 sums. */
const SUM_ROWS = 1024;

/** Whether {@linkcode biasRelu} runs its own kernels on `z` (`[..., C]`) and `b` (`[C]`). */
export function biasReluApplies(z: tf.TensorInfo, b: tf.TensorInfo): boolean {
  const c = z.shape[z.shape.length - 1];
  return z.dtype === "float32" && b.dtype === "float32" && b.shape.length === 1 &&
    b.shape[0] === c && c % 4 === 0 && c > 0 && c <= 64;
}

/**
 * `fwd(z, b, y, rows)`: `y = pmax(z + b, 0)` over `rows` pixels of `c` channels.
 * `grad(dy, y, dz, sums, rows)`: `dz = y > 0 ? dy : 0` (NaN where `y` is) and `sums = Σ dz` over
 * the pixels, per channel.
 */
function moduleFor(c: number, shared: boolean): Uint8Array {
  const vectors = c / 4;
  // fwd: params z, b, y, rows; locals: zero, bias vectors, then i32s.
  const fwd = (() => {
    const zero = 4;
    const bias = (v: number) => 5 + v;
    const left = 5 + vectors;
    const code: number[] = [...op.f32Const(0), ...op.f32x4Splat, ...op.localSet(zero)];
    for (let v = 0; v < vectors; v++) {
      code.push(...op.localGet(1), ...op.v128Load(16 * v), ...op.localSet(bias(v)));
    }
    code.push(...op.localGet(3), ...op.localSet(left), ...op.loop);
    for (let v = 0; v < vectors; v++) {
      code.push(
        ...op.localGet(2),
        ...op.localGet(0),
        ...op.v128Load(16 * v),
        ...op.localGet(bias(v)),
        ...op.f32x4Add,
        ...op.localGet(zero),
        ...op.f32x4Pmax,
        ...op.v128Store(16 * v),
      );
    }
    code.push(
      ...advanceBy(0, 4 * c),
      ...advanceBy(2, 4 * c),
      ...loopWhileCountingDown(left),
      ...op.end,
    );
    return functionBody([[1 + vectors, V128], [1, I32]], code);
  })();
  // grad: params dy, y, dz, sums, rows; locals: zero, y, out, sums vectors, then i32s.
  const grad = (() => {
    const zero = 5;
    const yv = 6;
    const out = 7;
    const acc = (v: number) => 8 + v;
    const left = 8 + vectors;
    const code: number[] = [...op.f32Const(0), ...op.f32x4Splat, ...op.localSet(zero)];
    for (let v = 0; v < vectors; v++) {
      code.push(...op.localGet(zero), ...op.localSet(acc(v)));
    }
    code.push(...op.localGet(4), ...op.localSet(left), ...op.loop);
    for (let v = 0; v < vectors; v++) {
      code.push(
        ...op.localGet(1),
        ...op.v128Load(16 * v),
        ...op.localSet(yv),
        // out = y > 0 ? dy : 0
        ...op.localGet(0),
        ...op.v128Load(16 * v),
        ...op.localGet(zero),
        ...op.localGet(yv),
        ...op.localGet(zero),
        ...op.f32x4Gt,
        ...op.v128Bitselect,
        ...op.localSet(out),
        // where y is NaN, y
        ...op.localGet(yv),
        ...op.localGet(out),
        ...op.localGet(yv),
        ...op.localGet(yv),
        ...op.f32x4Ne,
        ...op.v128Bitselect,
        ...op.localSet(out),
        ...op.localGet(2),
        ...op.localGet(out),
        ...op.v128Store(16 * v),
        ...op.localGet(acc(v)),
        ...op.localGet(out),
        ...op.f32x4Add,
        ...op.localSet(acc(v)),
      );
    }
    code.push(
      ...advanceBy(0, 4 * c),
      ...advanceBy(1, 4 * c),
      ...advanceBy(2, 4 * c),
      ...loopWhileCountingDown(left),
      ...op.end,
    );
    for (let v = 0; v < vectors; v++) {
      code.push(...op.localGet(3), ...op.localGet(acc(v)), ...op.v128Store(16 * v));
    }
    return functionBody([[3 + vectors, V128], [1, I32]], code);
  })();
  return moduleBytes(shared, 4, [
    { name: "fwd", body: fwd },
    { name: "grad", body: grad, params: [I32, I32, I32, I32, I32] },
  ]);
}

type Fns = {
  fwd: (z: number, b: number, y: number, rows: number) => void;
  grad: (dy: number, y: number, dz: number, sums: number, rows: number) => void;
};

const fnsFor = (backend: BackendWasm, c: number) =>
  instantiateOnHeap<Fns>(backend, `biasRelu-${c}`, (shared) => moduleFor(c, shared));

function biasReluWasm(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, bias } = args.inputs as { x: tf.TensorInfo; bias: tf.TensorInfo };
  const c = bias.shape[0];
  const y = backend.makeOutput(x.shape, "float32");
  const rows = tf.util.sizeFromShape(x.shape) / c;
  if (rows > 0) {
    fnsFor(backend, c).fwd(
      backend.typedArrayFromHeap(x).byteOffset,
      backend.typedArrayFromHeap(bias).byteOffset,
      backend.typedArrayFromHeap(y).byteOffset,
      rows,
    );
  }
  return y;
}

function biasReluGradWasm(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { dy, y } = args.inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  const c = y.shape[y.shape.length - 1];
  const rows = tf.util.sizeFromShape(y.shape) / c;
  const dz = backend.makeOutput(y.shape, "float32");
  const db = backend.makeOutput([c], "float32");
  const part = backend.makeOutput([c], "float32");
  try {
    const fns = fnsFor(backend, c);
    const dyAt = backend.typedArrayFromHeap(dy).byteOffset;
    const yAt = backend.typedArrayFromHeap(y).byteOffset;
    const dzAt = backend.typedArrayFromHeap(dz).byteOffset;
    const partAt = backend.typedArrayFromHeap(part).byteOffset;
    const sums = new Float64Array(c);
    for (let r0 = 0; r0 < rows; r0 += SUM_ROWS) {
      const n = Math.min(SUM_ROWS, rows - r0);
      const at = 4 * r0 * c;
      fns.grad(dyAt + at, yAt + at, dzAt + at, partAt, n);
      const p = backend.typedArrayFromHeap(part) as Float32Array;
      for (let k = 0; k < c; k++) sums[k] += p[k];
    }
    (backend.typedArrayFromHeap(db) as Float32Array).set(sums);
    return [dz, db];
  } finally {
    backend.disposeData(part.dataId);
  }
}

/**
 * `relu(z + b)` (`b` along the last axis of `z`): the one-pass kernels on wasm where
 * {@linkcode biasReluApplies}, tfjs's ops elsewhere. Differentiable in `z` and `b`.
 */
export function biasRelu(z: tf.Tensor, b: tf.Tensor1D): tf.Tensor {
  const fast = BIAS_RELU_FUSED.enabled && tf.getBackend() === "wasm" &&
    tf.getKernel(BIAS_RELU, "wasm") !== undefined && biasReluApplies(z, b);
  if (!fast) return tf.relu(tf.add(z, b));
  return tf.engine().runKernel(
    BIAS_RELU,
    { x: z, bias: b } as unknown as tf.NamedTensorMap,
  ) as tf.Tensor;
}

/** Registers the two kernels on wasm and the gradient of `SslBiasRelu`. */
export function useBiasReluWasm(): void {
  if (tf.getKernel(BIAS_RELU, "wasm") === undefined) {
    tf.registerKernel({
      kernelName: BIAS_RELU,
      backendName: "wasm",
      kernelFunc: biasReluWasm as unknown as tf.KernelFunc,
    });
    tf.registerKernel({
      kernelName: BIAS_RELU_GRAD,
      backendName: "wasm",
      kernelFunc: biasReluGradWasm as unknown as tf.KernelFunc,
    });
  }
  tf.registerGradient({
    kernelName: BIAS_RELU,
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      // Both gradients in one pass, now: the tensors live in the backward pass's scope, which
      // disposes whichever the engine does not take.
      const [y] = saved;
      const [dz, db] = tf.engine().runKernel(
        BIAS_RELU_GRAD,
        { dy: dy as tf.Tensor, y } as unknown as tf.NamedTensorMap,
      ) as tf.Tensor[];
      return { x: () => dz, bias: () => db };
    },
  });
}
