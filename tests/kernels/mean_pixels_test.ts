import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, valuesOn } from "../numeric.ts";

/** Means of `x` over `axis` (keepDims or not) and the gradient of `sum(mean · r)`. */
function meanAndGrad(
  backend: "cpu" | "wasm",
  shape: number[],
  axis: number[],
  keepDims: boolean,
): Promise<Float32Array[]> {
  return valuesOn(backend, () => {
    const x = tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), 41), shape);
    const m = tf.mean(x, axis, keepDims);
    const r = tf.tensor(randomArray(m.size, 42), m.shape);
    return [m, tf.grad((t) => tf.sum(tf.mul(tf.mean(t, axis, keepDims), r)))(x)];
  });
}

// Global average pooling (the ResNet's last layer, keepDims or not, negative axes), and means the
// kernel leaves to the backend's own (other axes, channels not a multiple of 4).
const cases: [number[], number[], boolean][] = [
  [[4, 8, 8, 64], [1, 2], false],
  [[3, 5, 7, 8], [-3, -2], true],
  [[2, 4, 4, 6], [1, 2], false],
  [[2, 4, 4, 8], [1, 2, 3], false],
  [[2, 4, 4, 8], [0], false],
];

for (const [shape, axis, keepDims] of cases) {
  const label = `[${shape}] axes ${axis}${keepDims ? " keepDims" : ""}`;
  Deno.test(`Mean over pixels matches cpu, with its gradient: ${label}`, async () => {
    await initBackend("wasm");
    const ref = await meanAndGrad("cpu", shape, axis, keepDims);
    const before = tf.memory().numTensors;
    const got = await meanAndGrad("wasm", shape, axis, keepDims);
    assert(relativeError(ref[0], got[0]) < 1e-6, `${label}: mean ${relativeError(ref[0], got[0])}`);
    assert(relativeError(ref[1], got[1]) < 1e-6, `${label}: gradient`);
    assertEquals(tf.memory().numTensors, before, "tensors alive");
  });
}
