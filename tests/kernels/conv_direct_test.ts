import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../../lib/backend.ts";
import { directConv2d } from "../../lib/kernels/conv2d_direct_wasm.ts";
import { CONV_PATHS, directConvFaster } from "../../lib/kernels/conv2d_paths_wasm.ts";
import { winogradApplies, winogradConv2d } from "../../lib/kernels/conv2d_winograd_wasm.ts";
import { filterGradWinograd } from "../../lib/kernels/conv2d_backprop_filter_winograd_wasm.ts";
import {
  directFilterGradApplies,
  filterGradDirect,
} from "../../lib/kernels/conv2d_backprop_filter_direct_wasm.ts";
import { fusedAvailable } from "../../lib/kernels/simd_at_b_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, sizeOf, valuesOn } from "../numeric.ts";

type Shape4 = [number, number, number, number];
type Pad = "valid" | "same" | tf.backend_util.ExplicitPadding;

/** Forward, input gradient and filter gradient of `conv2d(x, f, 1, pad)` against `sum(y · r)`. */
function convAndGrads(
  backend: "cpu" | "wasm",
  xShape: Shape4,
  fShape: Shape4,
  pad: Pad,
): Promise<Float32Array[]> {
  return valuesOn(backend, () => {
    const x = tf.tensor4d(randomArray(sizeOf(xShape), 1), xShape);
    const f = tf.tensor4d(randomArray(sizeOf(fShape), 2), fShape);
    const y = tf.conv2d(x, f, 1, pad);
    const r = tf.tensor(randomArray(y.size, 3), y.shape);
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), r));
    return [y, ...tf.grads(loss)([x, f])];
  });
}

// Tails of every kind: 1 or 2 pixels after the tiles of 3, channel blocks of 4, 8 and 12 after
// the blocks of 16, 1x1 and 5x5 filters, "valid", "same" and uneven explicit padding; for
// Winograd's kernel, chunks of block rows with a last row of blocks after the tiles of 3.
const cases: [Shape4, Shape4, Pad][] = [
  [[2, 7, 7, 3], [3, 3, 3, 16], "same"], // the ResNet stem's shape, small
  [[2, 8, 5, 3], [3, 3, 3, 20], "valid"],
  [[3, 6, 7, 4], [3, 3, 4, 8], "same"],
  [[2, 9, 8, 16], [3, 3, 16, 16], "same"],
  [[2, 5, 5, 32], [3, 3, 32, 64], "same"],
  [[3, 8, 8, 16], [3, 3, 16, 32], "same"], // Winograd's: even outputs, 4k channels
  [[2, 10, 6, 8], [3, 3, 8, 4], "valid"],
  [[2, 8, 12, 12], [3, 3, 12, 20], [[0, 0], [2, 0], [1, 1], [0, 0]]],
  [[2, 6, 4, 8], [1, 1, 8, 12], "valid"],
  [[2, 7, 6, 2], [5, 5, 2, 4], "same"],
  [[2, 7, 7, 6], [3, 3, 6, 28], [[0, 0], [2, 0], [0, 1], [0, 0]]],
];

for (const [xShape, fShape, pad] of cases) {
  const label = `x[${xShape}] f[${fShape}] ${JSON.stringify(pad)}`;
  Deno.test(`direct convolution kernels match cpu, forward and gradients: ${label}`, async () => {
    await initBackend("wasm");
    const ref = await convAndGrads("cpu", xShape, fShape, pad);
    // The direct kernel on every shape it takes, the default choice (Winograd's kernel on 3x3
    // layers of 4k channels with an even output), and the default without Winograd's kernel.
    const saved = { ...CONV_PATHS };
    for (const variant of ["every shape direct", "default", "no winograd"]) {
      CONV_PATHS.everyShape = variant === "every shape direct";
      CONV_PATHS.winograd = variant !== "no winograd";
      const before = tf.memory().numTensors;
      const got = await convAndGrads("wasm", xShape, fShape, pad).finally(() =>
        Object.assign(CONV_PATHS, saved)
      );
      for (const [i, name] of ["forward", "input gradient", "filter gradient"].entries()) {
        const e = relativeError(ref[i], got[i]);
        assert(e < 1e-4, `${label} (${variant}): ${name} relative error ${e}`);
      }
      assertEquals(tf.memory().numTensors, before, "tensors alive");
    }
  });
}

Deno.test("direct and Winograd kernels: fused and unfused variants agree, no buffer left behind", async () => {
  await initBackend("wasm");
  const backend = tf.backend() as unknown as BackendWasm;
  const x = tf.tensor4d(randomArray(2 * 6 * 8 * 16, 4), [2, 6, 8, 16]);
  const w = tf.tensor4d(randomArray(9 * 16 * 32, 5), [3, 3, 16, 32]);
  const dy = tf.tensor4d(randomArray(2 * 6 * 8 * 32, 6), [2, 6, 8, 32]);
  const info = tf.backend_util.computeConv2DInfo([2, 6, 8, 16], [3, 3, 16, 32], 1, 1, "same");
  assert(directFilterGradApplies(info, x, dy), "a 3x3 stride-1 conv takes the direct path");
  const buffers = backend.numDataIds();
  const pad = { top: 1, bottom: 1, left: 1, right: 1 };
  const variants = fusedAvailable() ? [false, true] : [false];
  const read = (t: tf.TensorInfo) => {
    const v = (backend.readSync(t.dataId) as Float32Array).slice();
    backend.disposeData(t.dataId);
    return v;
  };
  const ys = variants.map((fused) => read(directConv2d(backend, x, w, pad, fused)));
  const ws = variants.map((fused) => read(winogradConv2d(backend, x, w, pad, fused)));
  const dws = variants.map((fused) => read(filterGradDirect(backend, x, dy, info, fused)));
  const wdws = variants.map((fused) => read(filterGradWinograd(backend, x, dy, info, fused)));
  assert(relativeError(ys[0], ys.at(-1)!) < 1e-5, "forward variants");
  assert(relativeError(ys[0], ws[0]) < 1e-5, "Winograd against direct");
  assert(relativeError(ws[0], ws.at(-1)!) < 1e-5, "Winograd variants");
  assert(relativeError(dws[0], dws.at(-1)!) < 1e-5, "filter-gradient variants");
  assert(relativeError(dws[0], wdws[0]) < 1e-5, "Winograd's filter gradient against direct");
  assert(relativeError(wdws[0], wdws.at(-1)!) < 1e-5, "Winograd's filter-gradient variants");
  assertEquals(backend.numDataIds(), buffers, "backend buffers alive");
  tf.dispose([x, w, dy]);
});

Deno.test("the direct forward takes few-channel inputs, Winograd's 3x3 stride-1 layers", () => {
  assertEquals([1, 3, 4, 8, 16, 64].map(directConvFaster), [true, true, true, false, false, false]);
  const t = (shape: number[]) => ({ shape, dtype: "float32" }) as unknown as tf.TensorInfo;
  const x = t([2, 8, 8, 16]);
  assert(winogradApplies(x, t([3, 3, 16, 32]), 8, 8), "3x3, 16 → 32, 8x8 out");
  assert(!winogradApplies(x, t([3, 3, 16, 32]), 7, 8), "odd output");
  assert(!winogradApplies(x, t([1, 1, 16, 32]), 8, 8), "1x1");
  assert(!winogradApplies(t([2, 8, 8, 3]), t([3, 3, 3, 16]), 8, 8), "3 input channels");
});
