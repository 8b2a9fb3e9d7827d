import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../../lib/backend.ts";
import { NARROW_MAT_MUL } from "../../lib/kernels/batch_mat_mul_transposed_wasm.ts";
import { matMulNarrow, matMulNarrowApplies } from "../../lib/kernels/mat_mul_narrow_wasm.ts";
import { fusedAvailable } from "../../lib/kernels/simd_at_b_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, valuesOn } from "../numeric.ts";

/** `matMul(a, b, transposeA, transposeB)` and its gradients against `sum(c · r)`. */
function productAndGrads(
  backend: "cpu" | "wasm",
  aShape: [number, number],
  bShape: [number, number],
  transposeA: boolean,
  transposeB: boolean,
): Promise<Float32Array[]> {
  return valuesOn(backend, () => {
    const a = tf.tensor2d(randomArray(aShape[0] * aShape[1], 21), aShape);
    const b = tf.tensor2d(randomArray(bShape[0] * bShape[1], 22), bShape);
    const c = tf.matMul(a, b, transposeA, transposeB);
    const r = tf.tensor(randomArray(c.size, 23), c.shape);
    const loss = (x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, transposeA, transposeB), r));
    return [c, ...tf.grads(loss)([a, b])];
  });
}

// NT-Xent's logits and their gradients (z·zᵀ on 2n x d projections: d = 10, 3, 16), a dense
// layer's product with 12 outputs, and shapes the kernel leaves to XNNPACK (K < 64, N > 16).
const cases: [[number, number], [number, number], boolean, boolean][] = [
  [[256, 10], [256, 10], false, true],
  [[128, 3], [128, 3], false, true],
  [[96, 16], [96, 16], false, true],
  [[100, 64], [64, 12], false, false],
  [[20, 12], [12, 8], false, false],
  [[80, 20], [20, 24], false, false],
];

for (const [aShape, bShape, ta, tb] of cases) {
  const label = `A[${aShape}]${ta ? "ᵀ" : ""} B[${bShape}]${tb ? "ᵀ" : ""}`;
  Deno.test(`narrow matrix products match cpu, with their gradients: ${label}`, async () => {
    await initBackend("wasm");
    const ref = await productAndGrads("cpu", aShape, bShape, ta, tb);
    const before = tf.memory().numTensors;
    for (const enabled of [true, false]) {
      NARROW_MAT_MUL.enabled = enabled;
      const got = await productAndGrads("wasm", aShape, bShape, ta, tb).finally(() => {
        NARROW_MAT_MUL.enabled = true;
      });
      for (const [i, name] of ["product", "gradient of A", "gradient of B"].entries()) {
        const e = relativeError(ref[i], got[i]);
        assert(e < 1e-4, `${label} (narrow ${enabled}): ${name} relative error ${e}`);
      }
    }
    assertEquals(tf.memory().numTensors, before, "tensors alive");
  });
}

Deno.test("narrow matrix product: what it takes, fused and unfused agree, no buffer left", async () => {
  await initBackend("wasm");
  const backend = tf.backend() as unknown as BackendWasm;
  const t = (shape: number[]) => ({ shape, dtype: "float32" }) as unknown as tf.TensorInfo;
  assert(matMulNarrowApplies(t([1024, 1024]), t([1024, 10]), false, false), "G·z");
  assert(matMulNarrowApplies(t([1024, 1024]), t([1024, 10]), true, false), "Gᵀ·z");
  assert(!matMulNarrowApplies(t([1024, 1024]), t([1024, 17]), false, false), "17 columns");
  assert(!matMulNarrowApplies(t([1022, 1024]), t([1024, 10]), false, false), "M not 4k");
  assert(!matMulNarrowApplies(t([64, 32]), t([32, 10]), false, false), "K < 64");
  const a = tf.tensor2d(randomArray(72 * 64, 24), [72, 64]);
  const b = tf.tensor2d(randomArray(72 * 7, 25), [72, 7]);
  const buffers = backend.numDataIds();
  const variants = fusedAvailable() ? [false, true] : [false];
  const cs = variants.map((fused) => {
    const c = matMulNarrow(backend, a, b, true, fused);
    assertEquals(c.shape, [64, 7]);
    const v = (backend.readSync(c.dataId) as Float32Array).slice();
    backend.disposeData(c.dataId);
    return v;
  });
  assert(relativeError(cs[0], cs.at(-1)!) < 1e-5, "fused and unfused");
  assertEquals(backend.numDataIds(), buffers, "backend buffers alive");
  tf.dispose([a, b]);
});
