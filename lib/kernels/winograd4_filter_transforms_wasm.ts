/**
 * The filter transforms of Winograd's F(4x4, 3x3) on WebAssembly SIMD, for every channel pair of
 * a layer at once: {@linkcode transformFilter4Simd}, `U = G·g·Gᵀ` (each 3x3 filter into its 6x6
 * transform, four channel pairs a vector, in float32), which the forward pass and the input
 * gradient take (`conv2d_winograd_f4_wasm.ts`), and {@linkcode filterFromSums4Simd},
 * `dg = Gᵀ·dU·G` (the filter gradient from its float64 sums over the blocks, two channel pairs a
 * vector, in float64, rounded once), which the filter gradient takes
 * (`conv2d_backprop_filter_winograd4_wasm.ts`). Both ran in JavaScript (about 4 ms of a ResNet
 * step, profiled: 0.5 and 0.9 ms for a 64 → 64 layer, where these take a few hundredths).
 * `G` is the 6x3 matrix of the forward pass's module doc; every plane is `n` floats (`n` the
 * channel pairs, a multiple of 4), so one module per `n` has every offset a constant.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { transformFilter4Simd } from "./winograd4_filter_transforms_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const g = tf.ones([3, 3, 2, 2]); // 4 channel pairs
 * const u = tf.zeros([36, 2, 2]);
 * const at = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
 * transformFilter4Simd(backend, at(g), at(u), 4);
 * console.log((await u.data())[35 * 4]); // U[5][5] = g[2][2] = 1
 * tf.dispose([g, u]);
 * ```
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  advanceBy,
  blockUnlessAnyZero,
  functionBody,
  instantiateOnHeap,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
} from "./wasm_simd_builder.ts";

/** The switch benchmarks turn off to time the JavaScript transforms of before (on by default). */
export const WINOGRAD4_FILTER_SIMD: { enabled: boolean } = { enabled: true };

/** The rows of G (6x3) of F(4x4, 3x3). */
export const G4: readonly (readonly number[])[] = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];

/** Lane arithmetic of one precision: constants splatted, multiply, add. */
interface Lanes {
  splat: (v: number) => number[];
  mul: number[];
  add: number[];
}

const F32_LANES: Lanes = {
  splat: (v) => [...op.f32Const(v), ...op.f32x4Splat],
  mul: op.f32x4Mul,
  add: op.f32x4Add,
};
const F64_LANES: Lanes = {
  splat: (v) => [...op.f64Const(v), ...op.f64x2Splat],
  mul: op.f64x2Mul,
  add: op.f64x2Add,
};

/**
 * `Σ coef[k] · value(k)` over the nonzero coefficients, in order; `constant(c)` is the local that
 * holds `c` in every lane (a coefficient of 1 multiplies nothing).
 */
function combination(
  coef: readonly number[],
  value: (k: number) => number[],
  constant: (c: number) => number,
  lanes: Lanes,
): number[] {
  const code: number[] = [];
  let first = true;
  coef.forEach((c, k) => {
    if (c === 0) return;
    code.push(...value(k), ...(c === 1 ? [] : [...op.localGet(constant(c)), ...lanes.mul]));
    if (!first) code.push(...lanes.add);
    first = false;
  });
  return code;
}

/** The coefficients of `G` other than 0 and 1, each once, and their locals from `from` on. */
function constants(from: number): { values: number[]; local: (c: number) => number } {
  const values = [...new Set(G4.flat().filter((c) => c !== 0 && c !== 1))];
  return { values, local: (c) => from + values.indexOf(c) };
}

/**
 * `forward(w, u, vectors)`: `U = G·g·Gᵀ`, `w` `[9][n]`, `u` `[36][n]`, 4 floats a trip; and
 * `backward(s, dw, pairs)`: `dg = Gᵀ·S·G` from float64 sums `s` `[36][n]` into float32 `dw`
 * `[9][n]`, 2 pairs a trip.
 */
export function filterTransformsModuleBytes(shared: boolean, n: number): Uint8Array {
  const [SRC, DST, COUNT] = [0, 1, 2];
  const C0 = 3;
  const { values, local } = constants(C0);
  const CV = C0 + values.length; // the values of the current vector(s) from here on

  // Forward: g (9) → t = G·g (18) → U (36); locals g at CV.., t at CV + 9...
  const g = (i: number, j: number) => CV + i * 3 + j;
  const t = (i: number, j: number) => CV + 9 + i * 3 + j;
  const fwd: number[] = [
    ...values.flatMap((c) => [...F32_LANES.splat(c), ...op.localSet(local(c))]),
    ...blockUnlessAnyZero(COUNT),
    ...op.loop,
  ];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      fwd.push(...op.localGet(SRC), ...op.v128Load(4 * (i * 3 + j) * n), ...op.localSet(g(i, j)));
    }
  }
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 3; j++) {
      fwd.push(
        ...combination(G4[i], (k) => op.localGet(g(k, j)), local, F32_LANES),
        ...op.localSet(t(i, j)),
      );
    }
  }
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 6; j++) {
      fwd.push(
        ...op.localGet(DST),
        ...combination(G4[j], (k) => op.localGet(t(i, k)), local, F32_LANES),
        ...op.v128Store(4 * (i * 6 + j) * n),
      );
    }
  }
  fwd.push(
    ...advanceBy(SRC, 16),
    ...advanceBy(DST, 16),
    ...loopWhileCountingDown(COUNT),
    ...op.end,
    ...op.end,
  );

  // Backward: S (36, loaded as used) → r = Gᵀ·S (3x6) → dg = r·G (3x3); r at CV...
  const r = (a: number, j: number) => CV + a * 6 + j;
  const column = (a: number) => G4.map((row) => row[a]);
  const bwd: number[] = [
    ...values.flatMap((c) => [...F64_LANES.splat(c), ...op.localSet(local(c))]),
    ...blockUnlessAnyZero(COUNT),
    ...op.loop,
  ];
  for (let a = 0; a < 3; a++) {
    for (let j = 0; j < 6; j++) {
      const s = (i: number) => [...op.localGet(SRC), ...op.v128Load(8 * (i * 6 + j) * n)];
      bwd.push(...combination(column(a), s, local, F64_LANES), ...op.localSet(r(a, j)));
    }
  }
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      bwd.push(
        ...op.localGet(DST),
        ...combination(column(b), (j) => op.localGet(r(a, j)), local, F64_LANES),
        ...op.f32x4DemoteF64x2Zero,
        ...op.v128Store64Lane(4 * (a * 3 + b) * n, 0),
      );
    }
  }
  bwd.push(
    ...advanceBy(SRC, 16),
    ...advanceBy(DST, 8),
    ...loopWhileCountingDown(COUNT),
    ...op.end,
    ...op.end,
  );
  return moduleBytes(shared, 3, [
    { name: "forward", body: functionBody([[values.length + 27, V128]], fwd) },
    { name: "backward", body: functionBody([[values.length + 18, V128]], bwd) },
  ]);
}

type Fns = Record<"forward" | "backward", (src: number, dst: number, count: number) => void>;

function fns(backend: BackendWasm, n: number): Fns {
  return instantiateOnHeap<Fns>(
    backend,
    `winograd4FilterTransforms-${n}`,
    (shared) => filterTransformsModuleBytes(shared, n),
  );
}

/** `U = G·g·Gᵀ`: float32 `g` `[3, 3, n]` at heap address `w` into `[36, n]` at `u` (`n % 4 = 0`). */
export function transformFilter4Simd(backend: BackendWasm, w: number, u: number, n: number): void {
  if (n % 4 !== 0) throw new Error(`transformFilter4Simd: ${n} channel pairs, not a multiple of 4`);
  fns(backend, n).forward(w, u, n / 4);
}

/**
 * `dg = Gᵀ·S·G`: float64 sums `S` `[36, n]` at heap address `s` (8-byte aligned) into float32
 * `[3, 3, n]` at `dw` (`n` even).
 */
export function filterFromSums4Simd(backend: BackendWasm, s: number, dw: number, n: number): void {
  if (n % 2 !== 0) throw new Error(`filterFromSums4Simd: ${n} channel pairs, not even`);
  fns(backend, n).backward(s, dw, n / 2);
}
