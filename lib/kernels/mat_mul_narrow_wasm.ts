/**
 * Matrix products with a narrow right operand, `C = op(A)·B` with `B` `[K, N]` of at most 16
 * columns and `A` `[M, K]` (or `[K, M]` read transposed), on WebAssembly SIMD: the gradients of
 * NT-Xent's logits `z·zᵀ` (`[2n, 2n]` by `[2n, d]`, `d` 10 in the article's head). XNNPACK, as
 * tfjs 4.22 builds it, ran the article step's two (1,024 x 1,024 by 1,024 x 10) at about
 * 2 GMAC/s, 6 ms each, the transposed one after a transpose of `A`; here each is one pass over
 * `A` (about 1 ms).
 *
 * `B` is copied into a block of `N'` columns (`N` rounded up to 4, zeros after), each 4 rows of
 * `C` keep `N'/4` accumulator vectors per row in registers while `k` runs over `K` (four splats of
 * `A` and `N'/4` vectors of `B` a step, `f32x4.relaxed_madd` where the engine has relaxed SIMD),
 * then their first `N` columns go to `C`. `A` is read where it lies on the backend's heap, by rows
 * (`C = A·B`) or by columns (`C = Aᵀ·B`: four neighbouring numbers of one row of `A` a step).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { matMulNarrow } from "./mat_mul_narrow_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const a = tf.ones([8, 64]);
 * const b = tf.ones([64, 3]);
 * const c = matMulNarrow(backend, a, b, false); // [8, 3], every entry 64
 * backend.disposeData(c.dataId);
 * tf.dispose([a, b]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { fusedAvailable } from "./simd_at_b_wasm.ts";
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

/** Rows of `C` a tile keeps in registers. */
const ROWS = 4;

/**
 * Whether {@linkcode matMulNarrow} takes `A` (`[M, K]`, or `[K, M]` transposed) by `B` (`[K, N]`):
 * float32, 2-D, `N` from 1 to 16, `M` a multiple of 4 and `K` at least 64 (smaller products are
 * not worth a module).
 */
export function matMulNarrowApplies(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): boolean {
  if (a.shape.length !== 2 || b.shape.length !== 2 || transposeB) return false;
  if (a.dtype !== "float32" || b.dtype !== "float32") return false;
  const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
  const n = b.shape[1];
  return b.shape[0] === k && n >= 1 && n <= 16 && m % ROWS === 0 && m > 0 && k >= 64;
}

/**
 * `mm(a, b, c, rows)`: `rows / 4` tiles of 4 rows of `C` (`[M, N']` scratch, `N'` = `vectors·4`)
 * from `A` (at the tile's first row) and `B` (`[K, N']`).
 */
function productBody(k: number, m: number, vectors: number, transposed: boolean, fused: boolean) {
  const P = 4;
  const acc = (r: number, v: number) => P + r * vectors + v;
  const bv = (v: number) => P + ROWS * vectors + v;
  const splat = P + ROWS * vectors + vectors;
  let next = splat + 1;
  const ak = next++;
  const bk = next++;
  const kLeft = next++;
  const tiles = next++;
  const rowOf = (r: number) => 4 * (transposed ? r : r * k); // A[row r of the tile, k = 0]
  const kStep = transposed ? 4 * m : 4; // from one k to the next in A
  const code: number[] = [
    ...op.localGet(3),
    ...op.i32Const(ROWS),
    0x6e, // i32.div_u
    ...op.localSet(tiles),
    ...op.loop, // tiles
  ];
  for (let r = 0; r < ROWS; r++) {
    for (let v = 0; v < vectors; v++) {
      code.push(...op.f32Const(0), ...op.f32x4Splat, ...op.localSet(acc(r, v)));
    }
  }
  code.push(
    ...op.localGet(0),
    ...op.localSet(ak),
    ...op.localGet(1),
    ...op.localSet(bk),
    ...op.i32Const(k),
    ...op.localSet(kLeft),
    ...op.loop, // k
  );
  for (let v = 0; v < vectors; v++) {
    code.push(...op.localGet(bk), ...op.v128Load(16 * v), ...op.localSet(bv(v)));
  }
  for (let r = 0; r < ROWS; r++) {
    code.push(...op.localGet(ak), ...op.v128Load32Splat(rowOf(r)), ...op.localSet(splat));
    for (let v = 0; v < vectors; v++) {
      code.push(
        ...(fused
          ? [
            ...op.localGet(splat),
            ...op.localGet(bv(v)),
            ...op.localGet(acc(r, v)),
            ...op.f32x4RelaxedMadd,
          ]
          : [
            ...op.localGet(acc(r, v)),
            ...op.localGet(splat),
            ...op.localGet(bv(v)),
            ...op.f32x4Mul,
            ...op.f32x4Add,
          ]),
        ...op.localSet(acc(r, v)),
      );
    }
  }
  code.push(
    ...advanceBy(ak, kStep),
    ...advanceBy(bk, 16 * vectors),
    ...loopWhileCountingDown(kLeft),
    ...op.end, // k
  );
  for (let r = 0; r < ROWS; r++) {
    for (let v = 0; v < vectors; v++) {
      code.push(
        ...op.localGet(2),
        ...op.localGet(acc(r, v)),
        ...op.v128Store(16 * (r * vectors + v)),
      );
    }
  }
  code.push(
    ...advanceBy(0, 4 * ROWS * (transposed ? 1 : k)),
    ...advanceBy(2, 16 * ROWS * vectors),
    ...loopWhileCountingDown(tiles),
    ...op.end, // tiles
  );
  return functionBody([[ROWS * vectors + vectors + 1, V128], [next - splat - 1, I32]], code);
}

type Fns = { mm: (a: number, b: number, c: number, rows: number) => void };

/**
 * `op(A)·B` (`A` transposed when `transposeA`) as a new `[M, N]` tensor on the backend, shaped
 * `outShape` when given (as many numbers: `[1, M, N]` for `BatchMatMul`);
 * {@linkcode matMulNarrowApplies} says what it takes. `fused` picks the multiply-add variant.
 */
export function matMulNarrow(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  fused = fusedAvailable(),
  outShape?: number[],
): tf.TensorInfo {
  if (!matMulNarrowApplies(a, b, transposeA, false)) {
    throw new Error(
      `matMulNarrow: takes 2-D float32 A [M, K] (M a multiple of 4, K ≥ 64) and B [K, N ≤ 16]; ` +
        `got A [${a.shape}]${transposeA ? "ᵀ" : ""}, B [${b.shape}]`,
    );
  }
  const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
  const n = b.shape[1];
  const vectors = Math.ceil(n / 4);
  const wide = 4 * vectors;
  const bPad = backend.makeOutput([k, wide], "float32");
  const cPad = backend.makeOutput([m, wide], "float32");
  try {
    const out = backend.makeOutput(outShape ?? [m, n], "float32");
    const bSrc = backend.typedArrayFromHeap(b) as Float32Array;
    const bDst = backend.typedArrayFromHeap(bPad) as Float32Array;
    if (wide === n) bDst.set(bSrc);
    else {
      bDst.fill(0);
      for (let i = 0; i < k; i++) bDst.set(bSrc.subarray(i * n, i * n + n), i * wide);
    }
    const fns = instantiateOnHeap<Fns>(
      backend,
      `matMulNarrow-${k}-${m}-${vectors}-${transposeA}-${fused}`,
      (shared) =>
        moduleBytes(shared, 4, [
          { name: "mm", body: productBody(k, m, vectors, transposeA, fused) },
        ]),
    );
    fns.mm(
      backend.typedArrayFromHeap(a).byteOffset,
      bDst.byteOffset,
      backend.typedArrayFromHeap(cPad).byteOffset,
      m,
    );
    const cSrc = backend.typedArrayFromHeap(cPad) as Float32Array;
    const cDst = backend.typedArrayFromHeap(out) as Float32Array;
    if (wide === n) cDst.set(cSrc);
    else for (let i = 0; i < m; i++) cDst.set(cSrc.subarray(i * wide, i * wide + n), i * n);
    return out;
  } finally {
    backend.disposeData(bPad.dataId);
    backend.disposeData(cPad.dataId);
  }
}
