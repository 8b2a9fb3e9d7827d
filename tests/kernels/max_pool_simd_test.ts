import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { MAX_POOL_SIMD } from "../../lib/kernels/max_pool_simd_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, valuesOn } from "../numeric.ts";

type Shape4 = [number, number, number, number];

/** `maxPool(x, 2, 2, pad)` and the gradient of `sum(pool · r)`. */
function poolAndGrad(
  backend: "cpu" | "wasm",
  shape: Shape4,
  pad: "valid" | "same",
): Promise<Float32Array[]> {
  return valuesOn(backend, () => {
    const x = tf.tensor4d(randomArray(shape.reduce((a, b) => a * b, 1), 61), shape);
    const y = tf.maxPool(x, 2, 2, pad);
    const r = tf.tensor(randomArray(y.size, 62), y.shape);
    return [y, tf.grad((t) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, pad), r)))(x)];
  });
}

// The article CNN's pools (26 → 13, 11 → 5 dropping the last row and column, 3 → 1), the
// ResNet's ("same" on even sizes), and what the kernel leaves to the backend's (odd "same",
// whose last window is padded below and right, and 6 channels).
const cases: [Shape4, "valid" | "same"][] = [
  [[3, 26, 26, 16], "valid"],
  [[2, 11, 11, 16], "valid"],
  [[2, 3, 3, 32], "valid"],
  [[2, 8, 8, 64], "same"],
  [[2, 7, 7, 8], "valid"],
  [[2, 7, 7, 8], "same"],
  [[2, 5, 6, 4], "same"],
  [[2, 6, 6, 6], "valid"],
];

for (const [shape, pad] of cases) {
  const label = `[${shape}] ${pad}`;
  Deno.test(`2x2 max pool on SIMD matches cpu, with its gradient: ${label}`, async () => {
    await initBackend("wasm");
    const ref = await poolAndGrad("cpu", shape, pad);
    const before = tf.memory().numTensors;
    for (const enabled of [false, true]) {
      MAX_POOL_SIMD.enabled = enabled;
      const got = await poolAndGrad("wasm", shape, pad).finally(() => {
        MAX_POOL_SIMD.enabled = true;
      });
      assertEquals(got[0], ref[0], `${label} (simd ${enabled}): pool`);
      assert(relativeError(ref[1], got[1]) < 1e-6, `${label} (simd ${enabled}): gradient`);
    }
    assertEquals(tf.memory().numTensors, before, "tensors alive");
  });
}

Deno.test("2x2 max pool on SIMD: NaN never wins (all NaN: -Infinity), ties keep the first", async () => {
  await initBackend("wasm");
  const n = Number.NaN;
  const values = [[n, 1, 2, n], [n, n, n, n], [-0, 0, 0, -0], [-3, -1, -2, -5]];
  // One 2x2 window per channel: the window's four pixels hold values[k][0..3] in channel k.
  const data = [0, 1, 2, 3].flatMap((p) => values.map((v) => v[p]));
  const x = tf.tensor4d(data, [1, 2, 2, 4]);
  const y = tf.maxPool(x, 2, 2, "valid");
  const got = Array.from(await y.data());
  assertEquals(got.slice(0, 2), [2, -Infinity]);
  assert(Object.is(got[2], -0) && got[3] === -1, `ties and negatives: ${got}`);
  tf.dispose([x, y]);
});
