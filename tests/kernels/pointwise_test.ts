import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../../lib/backend.ts";
import { CONV_PATHS } from "../../lib/kernels/conv2d_paths_wasm.ts";
import {
  pointwiseApplies,
  pointwiseConv2d,
  pointwiseFilterGrad,
} from "../../lib/kernels/conv2d_pointwise_wasm.ts";
import { fusedAvailable } from "../../lib/kernels/simd_at_b_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, sizeOf, valuesOn } from "../numeric.ts";

type Shape4 = [number, number, number, number];

/** Forward, input and filter gradient of `conv2d(x, f, 1, "valid")` against `sum(y · r)`. */
function convAndGrads(
  backend: "cpu" | "wasm",
  xShape: Shape4,
  fShape: Shape4,
): Promise<Float32Array[]> {
  return valuesOn(backend, () => {
    const x = tf.tensor4d(randomArray(sizeOf(xShape), 51), xShape);
    const f = tf.tensor4d(randomArray(sizeOf(fShape), 52), fShape);
    const y = tf.conv2d(x, f, 1, "valid");
    const r = tf.tensor(randomArray(y.size, 53), y.shape);
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "valid"), r));
    return [y, ...tf.grads(loss)([x, f])];
  });
}

// The ResNet's projections (16 → 32, 32 → 64), pixels not a multiple of the tiles' 3, channel
// tails of 4 to 12 after blocks of 16, and more than 1,024 pixels (float64 sums of blocks).
const cases: [Shape4, Shape4][] = [
  [[3, 8, 8, 16], [1, 1, 16, 32]],
  [[2, 4, 4, 32], [1, 1, 32, 64]],
  [[1, 5, 7, 4], [1, 1, 4, 28]],
  [[2, 3, 5, 20], [1, 1, 20, 8]],
  [[5, 16, 16, 8], [1, 1, 8, 12]],
];

for (const [xShape, fShape] of cases) {
  const label = `x[${xShape}] f[${fShape}]`;
  Deno.test(`1x1 convolutions as products match cpu, with gradients: ${label}`, async () => {
    await initBackend("wasm");
    const ref = await convAndGrads("cpu", xShape, fShape);
    const before = tf.memory().numTensors;
    for (const on of [true, false]) {
      CONV_PATHS.pointwise = on;
      const got = await convAndGrads("wasm", xShape, fShape).finally(() => {
        CONV_PATHS.pointwise = true;
      });
      for (const [i, name] of ["forward", "input gradient", "filter gradient"].entries()) {
        const e = relativeError(ref[i], got[i]);
        assert(e < 1e-4, `${label} (pointwise ${on}): ${name} relative error ${e}`);
      }
    }
    assertEquals(tf.memory().numTensors, before, "tensors alive");
  });
}

Deno.test("1x1 products: what they take, fused and unfused agree, no buffer left", async () => {
  await initBackend("wasm");
  const backend = tf.backend() as unknown as BackendWasm;
  const t = (shape: number[]) => ({ shape, dtype: "float32" }) as unknown as tf.TensorInfo;
  assert(pointwiseApplies(t([2, 4, 4, 16]), t([1, 1, 16, 32])), "16 → 32");
  assert(!pointwiseApplies(t([2, 4, 4, 3]), t([1, 1, 3, 32])), "3 channels");
  assert(!pointwiseApplies(t([2, 4, 4, 16]), t([3, 3, 16, 32])), "3x3");
  const x = tf.tensor4d(randomArray(2 * 5 * 5 * 8, 54), [2, 5, 5, 8]);
  const w = tf.tensor4d(randomArray(8 * 20, 55), [1, 1, 8, 20]);
  const dy = tf.tensor4d(randomArray(2 * 5 * 5 * 20, 56), [2, 5, 5, 20]);
  const buffers = backend.numDataIds();
  const read = (r: tf.TensorInfo) => {
    const v = (backend.readSync(r.dataId) as Float32Array).slice();
    backend.disposeData(r.dataId);
    return v;
  };
  const variants = fusedAvailable() ? [false, true] : [false];
  const ys = variants.map((fused) => read(pointwiseConv2d(backend, x, w, fused)));
  const dws = variants.map((fused) => read(pointwiseFilterGrad(backend, x, dy, fused)));
  assert(relativeError(ys[0], ys.at(-1)!) < 1e-5, "forward variants");
  assert(relativeError(dws[0], dws.at(-1)!) < 1e-5, "filter-gradient variants");
  assertEquals(backend.numDataIds(), buffers, "backend buffers alive");
  tf.dispose([x, w, dy]);
});
