/**
 * Adam's update in one WebAssembly SIMD pass per variable, every variable in one kernel call
 * (`SslAdam`), for tfjs's own `tf.AdamOptimizer` on the wasm backend. tfjs's `applyGradients`
 * runs about 13 kernels a variable (the moments' `mul`s and `add`s, `square`, the bias
 * corrections' `div`s, `sqrt`, the step): on the ResNet step's 33 variables some 430 kernel
 * calls, about half of all the step's calls. {@linkcode useAdamWasm} makes `applyGradients` read
 * each variable, its gradient and its two moments once and write the three new tensors, with
 * tfjs's float32 operations in tfjs's order (the same values; tails of fewer than 4 floats in
 * JavaScript with `Math.fround`). The optimiser's state is tfjs's own (the moments' variables,
 * `accBeta1`, `accBeta2`, the iteration count), so checkpoints (`getWeights` / `setWeights`)
 * are unchanged; other backends, and variables that are not float32, keep tfjs's update.
 * {@linkcode ADAM_FUSED} switches it off for comparisons.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // calls useAdamWasm()
 * const w = tf.variable(tf.tensor1d([1, 2, 3, 4, 5]));
 * const opt = tf.train.adam(0.1);
 * opt.applyGradients([{ name: w.name, tensor: tf.tensor1d([1, -1, 1, -1, 0]) }]); // one kernel call
 * console.log(await w.data()); // about [0.9, 2.1, 2.9, 4.1, 5]
 * opt.dispose();
 * w.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  advanceBy,
  blockUnlessAnyZero,
  F32,
  functionBody,
  I32,
  instantiateOnHeap,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
} from "./wasm_simd_builder.ts";

/** The switch benchmarks turn off to time tfjs's own update (on by default). */
export const ADAM_FUSED: { enabled: boolean } = { enabled: true };

/** The kernel's name. */
export const ADAM_KERNEL = "SslAdam";

/** The float32 coefficients of one update (see {@linkcode adamStep}). */
export interface AdamCoefficients {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** `1 - beta1^t`. */
  correction1: number;
  /** `1 - beta2^t`. */
  correction2: number;
  epsilon: number;
  /** `-learningRate`. */
  negLr: number;
}

const COEFFICIENTS: (keyof AdamCoefficients)[] = [
  "beta1",
  "oneMinusBeta1",
  "beta2",
  "oneMinusBeta2",
  "correction1",
  "correction2",
  "epsilon",
  "negLr",
];

/**
 * `adam(x, g, m, v, xOut, mOut, vOut, vectors, ...coefficients)`: per vector of 4 floats
 * `m' = m·β1 + g·(1-β1)`, `v' = v·β2 + g²·(1-β2)`, `x' = (m'/c1) / (√(v'/c2) + ε) · (-lr) + x`.
 */
export function adamModuleBytes(shared: boolean): Uint8Array {
  const [X, G, M, V, XO, MO, VO, N] = [0, 1, 2, 3, 4, 5, 6, 7];
  const coef = (i: number) => 8 + i; // f32 parameters
  const splat = (i: number) => 16 + i; // their v128 splats
  const GV = 24;
  const MV = 25;
  const VV = 26;
  const code: number[] = [
    ...COEFFICIENTS.flatMap((_, i) => [
      ...op.localGet(coef(i)),
      ...op.f32x4Splat,
      ...op.localSet(splat(i)),
    ]),
    ...blockUnlessAnyZero(N),
    ...op.loop,
    ...op.localGet(G),
    ...op.v128Load(0),
    ...op.localSet(GV),
    // m' = m·β1 + g·(1-β1)
    ...op.localGet(MO),
    ...op.localGet(M),
    ...op.v128Load(0),
    ...op.localGet(splat(0)),
    ...op.f32x4Mul,
    ...op.localGet(GV),
    ...op.localGet(splat(1)),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.localTee(MV),
    ...op.v128Store(0),
    // v' = v·β2 + (g·g)·(1-β2)
    ...op.localGet(VO),
    ...op.localGet(V),
    ...op.v128Load(0),
    ...op.localGet(splat(2)),
    ...op.f32x4Mul,
    ...op.localGet(GV),
    ...op.localGet(GV),
    ...op.f32x4Mul,
    ...op.localGet(splat(3)),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.localTee(VV),
    ...op.v128Store(0),
    // x' = (m'/c1) / (√(v'/c2) + ε) · (-lr) + x
    ...op.localGet(XO),
    ...op.localGet(MV),
    ...op.localGet(splat(4)),
    ...op.f32x4Div,
    ...op.localGet(VV),
    ...op.localGet(splat(5)),
    ...op.f32x4Div,
    ...op.f32x4Sqrt,
    ...op.localGet(splat(6)),
    ...op.f32x4Add,
    ...op.f32x4Div,
    ...op.localGet(splat(7)),
    ...op.f32x4Mul,
    ...op.localGet(X),
    ...op.v128Load(0),
    ...op.f32x4Add,
    ...op.v128Store(0),
    ...[X, G, M, V, XO, MO, VO].flatMap((p) => advanceBy(p, 16)),
    ...loopWhileCountingDown(N),
    ...op.end,
    ...op.end,
  ];
  const params = [...new Array(8).fill(I32), ...new Array(8).fill(F32)];
  return moduleBytes(shared, 0, [
    { name: "adam", body: functionBody([[11, V128]], code), params },
  ]);
}

type AdamFn = (...args: number[]) => void;

/** One variable's update: `xo`, `mo`, `vo` from `x`, `g`, `m`, `v` (views of the heap). */
function adamStep(
  backend: BackendWasm,
  [x, g, m, v, xo, mo, vo]: Float32Array[],
  k: AdamCoefficients,
): void {
  const n = x.length;
  const vectors = Math.floor(n / 4);
  const { adam } = instantiateOnHeap<{ adam: AdamFn }>(backend, "adam", adamModuleBytes);
  const at = [x, g, m, v, xo, mo, vo].map((a) => a.byteOffset);
  adam(...at, vectors, ...COEFFICIENTS.map((key) => k[key]));
  // The tail, in float32 arithmetic.
  const f = Math.fround;
  for (let i = 4 * vectors; i < n; i++) {
    const m1 = f(f(m[i] * k.beta1) + f(g[i] * k.oneMinusBeta1));
    const v1 = f(f(v[i] * k.beta2) + f(f(g[i] * g[i]) * k.oneMinusBeta2));
    const denom = f(f(Math.sqrt(f(v1 / k.correction2))) + k.epsilon);
    xo[i] = f(f(f(f(m1 / k.correction1) / denom) * k.negLr) + x[i]);
    mo[i] = m1;
    vo[i] = v1;
  }
}

/**
 * The kernel: inputs `x{i}`, `g{i}`, `m{i}`, `v{i}` for i < `count`; outputs, in order, every
 * variable's new value, then every first moment, then every second moment.
 */
function adamWasm(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const inputs = args.inputs as unknown as Record<string, tf.TensorInfo>;
  const { count, ...k } = args.attrs as unknown as AdamCoefficients & { count: number };
  const heap = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const values: tf.TensorInfo[] = [];
  const firsts: tf.TensorInfo[] = [];
  const seconds: tf.TensorInfo[] = [];
  for (let i = 0; i < count; i++) {
    const x = inputs[`x${i}`];
    const [xo, mo, vo] = [0, 1, 2].map(() => backend.makeOutput(x.shape, "float32"));
    values.push(xo);
    firsts.push(mo);
    seconds.push(vo);
    const ins = [x, inputs[`g${i}`], inputs[`m${i}`], inputs[`v${i}`]];
    adamStep(backend, [...ins, xo, mo, vo].map(heap), k);
  }
  return [...values, ...firsts, ...seconds];
}

/** Kernel registration for `tf.registerKernel`. */
export const adamWasmConfig: tf.KernelConfig = {
  kernelName: ADAM_KERNEL,
  backendName: "wasm",
  kernelFunc: adamWasm as unknown as tf.KernelFunc,
};

/** tfjs's `AdamOptimizer` fields the update reads (protected or private in its typings). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

type Grads = tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[];

/**
 * tfjs's `applyGradients` with the fused kernel: the moments are made as tfjs makes them (zeros,
 * not trainable, named `<variable>/m` and `/v`), the variables without a gradient are skipped,
 * and `accBeta1`, `accBeta2` and the iteration count advance as in tfjs.
 */
function applyFused(self: AdamState, grads: Grads): void {
  const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
  const f = Math.fround;
  const a1 = self.accBeta1.dataSync()[0];
  const a2 = self.accBeta2.dataSync()[0];
  const inputs: Record<string, tf.Tensor> = {};
  const updated: { value: tf.Variable; m: tf.Variable; v: tf.Variable }[] = [];
  names.forEach((name, i) => {
    const value = tf.engine().registeredVariables[name];
    self.accumulatedFirstMoment[i] ??= {
      originalName: `${name}/m`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    };
    self.accumulatedSecondMoment[i] ??= {
      originalName: `${name}/v`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    };
    const gradient = Array.isArray(grads) ? grads[i].tensor : grads[name];
    if (gradient == null) return;
    const j = updated.length;
    const m = self.accumulatedFirstMoment[i].variable;
    const v = self.accumulatedSecondMoment[i].variable;
    Object.assign(inputs, { [`x${j}`]: value, [`g${j}`]: gradient, [`m${j}`]: m, [`v${j}`]: v });
    updated.push({ value, m, v });
  });
  const attrs = {
    count: updated.length,
    beta1: f(self.beta1),
    oneMinusBeta1: f(1 - self.beta1),
    beta2: f(self.beta2),
    oneMinusBeta2: f(1 - self.beta2),
    correction1: f(1 - a1),
    correction2: f(1 - a2),
    epsilon: f(self.epsilon),
    negLr: f(-self.learningRate),
  };
  tf.tidy(() => {
    const outs = tf.engine().runKernel(
      ADAM_KERNEL,
      inputs as unknown as tf.NamedTensorMap,
      attrs as unknown as tf.NamedAttrMap,
    ) as tf.Tensor[];
    const n = updated.length;
    updated.forEach(({ value, m, v }, j) => {
      m.assign(outs[n + j]);
      v.assign(outs[2 * n + j]);
      value.assign(outs[j]);
    });
    self.accBeta1.assign(tf.scalar(f(a1 * f(self.beta1)))); // float32 products, as tfjs's `mul`
    self.accBeta2.assign(tf.scalar(f(a2 * f(self.beta2))));
  });
  self.incrementIterations();
}

let installed = false;

/**
 * Registers the kernel and makes `tf.AdamOptimizer`'s `applyGradients` use it on wasm while
 * {@linkcode ADAM_FUSED} is on and every variable given a gradient is float32 (tfjs's own update
 * otherwise). Calling it again does nothing.
 */
export function useAdamWasm(): void {
  if (installed) return;
  if (tf.getKernel(ADAM_KERNEL, "wasm") === undefined) tf.registerKernel(adamWasmConfig);
  const proto = tf.AdamOptimizer.prototype as unknown as {
    applyGradients(this: AdamState, grads: Grads): void;
  };
  const original = proto.applyGradients;
  proto.applyGradients = function (this: AdamState, grads: Grads): void {
    const fused = ADAM_FUSED.enabled && tf.getBackend() === "wasm" && allFloat32(grads);
    if (!fused) return original.call(this, grads);
    applyFused(this, grads);
  };
  installed = true;
}

/** True when every variable and gradient given is float32. */
function allFloat32(grads: Grads): boolean {
  const entries = Array.isArray(grads)
    ? grads.map((g) => [g.name, g.tensor] as const)
    : Object.entries(grads);
  return entries.every(([name, g]) =>
    (g == null || g.dtype === "float32") &&
    tf.engine().registeredVariables[name]?.dtype === "float32"
  );
}
