/**
 * `conv2d_lazy_gradients_wasm.ts`: on wasm, a convolution with nothing to fuse, under a gradient
 * tape, computes only the gradients asked for (no `Conv2DBackpropInput` for an image that is not
 * differentiated), and its values and gradients match tfjs's fused op on `cpu` (relative error
 * < 1e-4); an image passed to `tf.grad` still gets its gradient; a convolution with a bias or an
 * activation keeps tfjs's fused op; nothing leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { LAZY_CONV_GRADIENTS } from "../../lib/kernels/conv2d_lazy_gradients_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError } from "../numeric.ts";

const X_SHAPE: [number, number, number, number] = [2, 10, 10, 3];
const W_SHAPE: [number, number, number, number] = [3, 3, 3, 8];

/** The conv's output, the filter's gradient and (with `image`) the image's, of Σ v·conv. */
function convAndGrads(
  image: boolean,
  extra: Partial<Parameters<typeof tf.fused.conv2d>[0]> = {},
): tf.Tensor[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(randomArray(2 * 10 * 10 * 3, 1), X_SHAPE);
    const w = tf.tensor4d(randomArray(3 * 3 * 3 * 8, 2), W_SHAPE);
    const v = tf.tensor4d(randomArray(2 * 10 * 10 * 8, 3), [2, 10, 10, 8]);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D) =>
      tf.sum(tf.mul(tf.fused.conv2d({ x: a, filter: b, strides: 1, pad: "same", ...extra }), v));
    const y = tf.fused.conv2d({ x, filter: w, strides: 1, pad: "same", ...extra });
    if (image) {
      return [y, ...tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)([x, w]).reverse()];
    }
    return [y, tf.grad((b: tf.Tensor) => f(x, b as tf.Tensor4D))(w)];
  });
}

/** The kernels one run of `f` calls. */
async function kernelsOf(f: () => tf.Tensor[]): Promise<string[]> {
  const names: string[] = [];
  const profile = await tf.profile(() => {
    const out = f();
    tf.dispose(out);
  });
  for (const k of profile.kernels) names.push(k.name);
  return names;
}

async function valuesOn(backend: string, image: boolean): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = convAndGrads(image);
  const data = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(out);
  assertEquals(tf.memory().numTensors, before, `${backend}: no tensor left behind`);
  return data;
}

Deno.test("wasm: a conv's gradient to its filter alone runs no input gradient, and matches cpu", async () => {
  await initBackend("wasm");
  assert(LAZY_CONV_GRADIENTS.enabled);
  const kernels = await kernelsOf(() => convAndGrads(false));
  assert(kernels.includes("Conv2DBackpropFilter"), kernels.join());
  assert(!kernels.includes("Conv2DBackpropInput"), `the image's gradient ran: ${kernels.join()}`);
  const wasm = await valuesOn("wasm", false);
  const cpu = await valuesOn("cpu", false);
  await tf.setBackend("wasm");
  ["y", "dw"].forEach((name, i) => {
    const err = relativeError(cpu[i], wasm[i]);
    assert(err < 1e-4, `${name}: wasm vs cpu relative error ${err}`);
  });
});

Deno.test("wasm: an image passed to tf.grad still gets its gradient, equal to cpu's", async () => {
  await initBackend("wasm");
  const kernels = await kernelsOf(() => convAndGrads(true));
  assert(kernels.includes("Conv2DBackpropInput"), kernels.join());
  const wasm = await valuesOn("wasm", true);
  const cpu = await valuesOn("cpu", true);
  await tf.setBackend("wasm");
  ["y", "dw", "dx"].forEach((name, i) => {
    const err = relativeError(cpu[i], wasm[i]);
    assert(err < 1e-4, `${name}: wasm vs cpu relative error ${err}`);
  });
});

Deno.test("wasm: a conv with a bias, or with the switch off, keeps tfjs's fused op", async () => {
  await initBackend("wasm");
  const bias = tf.tensor1d(randomArray(8, 4));
  try {
    const kernels = await kernelsOf(() => convAndGrads(false, { bias }));
    assert(kernels.includes("FusedConv2D"), kernels.join());
    LAZY_CONV_GRADIENTS.enabled = false;
    const off = await kernelsOf(() => convAndGrads(false));
    assert(off.includes("FusedConv2D") && off.includes("Conv2DBackpropInput"), off.join());
  } finally {
    LAZY_CONV_GRADIENTS.enabled = true;
    bias.dispose();
  }
  // Inference (no tape) keeps the fused kernel.
  const inference = await kernelsOf(() => [
    tf.tidy(() =>
      tf.fused.conv2d({
        x: tf.ones(X_SHAPE) as tf.Tensor4D,
        filter: tf.ones(W_SHAPE) as tf.Tensor4D,
        strides: 1,
        pad: "same",
      })
    ),
  ]);
  assert(inference.includes("FusedConv2D"), inference.join());
});
