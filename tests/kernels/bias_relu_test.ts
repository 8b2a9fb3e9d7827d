import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { BIAS_RELU_FUSED, biasRelu } from "../../lib/kernels/bias_relu_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, sizeOf, valuesOn } from "../numeric.ts";

type Shape4 = [number, number, number, number];

/** `fused.conv2d` with a bias and a ReLU, and the gradients of `sum(y · r)` in x, w and b. */
function convBiasRelu(
  backend: "cpu" | "wasm",
  xShape: Shape4,
  fShape: Shape4,
): Promise<Float32Array[]> {
  return valuesOn(backend, () => {
    const x = tf.tensor4d(randomArray(sizeOf(xShape), 31), xShape);
    const f = tf.tensor4d(randomArray(sizeOf(fShape), 32), fShape);
    const b = tf.tensor1d(randomArray(fShape[3], 33));
    const layer = (xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) =>
      tf.fused.conv2d({
        x: xx as tf.Tensor4D,
        filter: ff as tf.Tensor4D,
        bias: bb,
        strides: 1,
        pad: "valid",
        activation: "relu",
      });
    const y = layer(x, f, b);
    const r = tf.tensor(randomArray(y.size, 34), y.shape);
    const loss = (xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(layer(xx, ff, bb), r));
    return [y, ...tf.grads(loss)([x, f, b])];
  });
}

// The article CNN's first layer (1 → 16 channels), its third (16 → 32), and 4 and 64 channels.
const cases: [Shape4, Shape4][] = [
  [[3, 12, 12, 1], [3, 3, 1, 16]],
  [[2, 7, 7, 16], [3, 3, 16, 32]],
  [[2, 6, 5, 3], [3, 3, 3, 4]],
  [[2, 5, 5, 8], [3, 3, 8, 64]],
];

for (const [xShape, fShape] of cases) {
  const label = `x[${xShape}] f[${fShape}]`;
  Deno.test(`conv + bias + ReLU in one pass matches cpu, with gradients: ${label}`, async () => {
    await initBackend("wasm");
    const ref = await convBiasRelu("cpu", xShape, fShape);
    const before = tf.memory().numTensors;
    for (const enabled of [true, false]) {
      BIAS_RELU_FUSED.enabled = enabled;
      const got = await convBiasRelu("wasm", xShape, fShape).finally(() => {
        BIAS_RELU_FUSED.enabled = true;
      });
      for (const [i, name] of ["forward", "dx", "dw", "db"].entries()) {
        const e = relativeError(ref[i], got[i]);
        assert(e < 1e-4, `${label} (fused ${enabled}): ${name} relative error ${e}`);
      }
    }
    assertEquals(tf.memory().numTensors, before, "tensors alive");
  });
}

Deno.test("biasRelu on wasm: tfjs's ReLU and step at 0 and NaN, sums over many pixels", async () => {
  await initBackend("wasm");
  const z = tf.tensor2d([[-1, 0, Number.NaN, 2], [3, -0.5, 1, -2]]);
  const b = tf.tensor1d([1, 0, 0, -2]);
  const y = biasRelu(z, b);
  assertEquals(Array.from(await y.data()), [0, 0, Number.NaN, 0, 4, 0, 1, 0]);
  const dy = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]]);
  const db = tf.grad((bb) => tf.sum(tf.mul(biasRelu(z, bb as tf.Tensor1D), dy)))(b);
  assertEquals(Array.from(await db.data()), [5, 0, Number.NaN, 0]);
  // 5,000 pixels: float32 blocks of 1,024 summed in float64.
  const big = tf.randomNormal([5000, 8], 0, 1, "float32", 35);
  const bb = tf.randomNormal([8], 0, 1, "float32", 36);
  const g = tf.grad((t) => tf.sum(biasRelu(big, t as tf.Tensor1D)))(bb);
  const expected = tf.sum(tf.cast(tf.greater(tf.add(big, bb), 0), "float32"), 0);
  assert(
    relativeError(await expected.data() as Float32Array, await g.data() as Float32Array) < 1e-6,
  );
  tf.dispose([z, b, y, dy, db, big, bb, g, expected]);
});
