import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../../lib/backend.ts";
import {
  chunk4Rows,
  WINOGRAD4_INPUT,
  winograd4Applies,
  winograd4Conv2d,
} from "../../lib/kernels/conv2d_winograd_f4_wasm.ts";
import { CONV_PATHS } from "../../lib/kernels/conv2d_paths_wasm.ts";
import {
  filterGradWinograd4,
  winograd4FilterGradApplies,
} from "../../lib/kernels/conv2d_backprop_filter_winograd4_wasm.ts";
import { filterGradWinograd } from "../../lib/kernels/conv2d_backprop_filter_winograd_wasm.ts";
import { filterGradDirect } from "../../lib/kernels/conv2d_backprop_filter_direct_wasm.ts";
import { fusedAvailable } from "../../lib/kernels/simd_at_b_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError, sizeOf, valuesOn } from "../numeric.ts";

type Shape4 = [number, number, number, number];
type Pad = "valid" | "same" | tf.backend_util.ExplicitPadding;

/** Forward, input and filter gradient of `conv2d(x, f, 1, pad)` against `sum(y · r)`. */
function convAndGrads(
  backend: "cpu" | "wasm",
  xShape: Shape4,
  fShape: Shape4,
  pad: Pad,
): Promise<Float32Array[]> {
  return valuesOn(backend, () => {
    const x = tf.tensor4d(randomArray(sizeOf(xShape), 11), xShape);
    const f = tf.tensor4d(randomArray(sizeOf(fShape), 12), fShape);
    const y = tf.conv2d(x, f, 1, pad);
    const r = tf.tensor(randomArray(y.size, 13), y.shape);
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), r));
    return [y, ...tf.grads(loss)([x, f])];
  });
}

// Chunks of several whole images (8x8, 4x4), of a few rows of one image (32x32 x 64 channels:
// 2 rows of 8 blocks; the filter gradient's float32 sums flushed into float64 every 1,024 blocks
// or fewer: the 40x40 case crosses it), tails of 1 and 2 blocks after the product's tiles of 3, channel blocks of
// 4, 8 and 12 after those of 16, "valid" and uneven explicit padding.
const cases: [Shape4, Shape4, Pad][] = [
  [[3, 8, 8, 16], [3, 3, 16, 32], "same"],
  [[5, 4, 4, 8], [3, 3, 8, 4], "same"],
  [[1, 32, 32, 64], [3, 3, 64, 16], "same"],
  [[12, 40, 40, 4], [3, 3, 4, 8], "same"],
  [[2, 16, 8, 12], [3, 3, 12, 20], "same"],
  [[3, 10, 6, 4], [3, 3, 4, 28], "valid"],
  [[2, 11, 11, 8], [3, 3, 8, 8], [[0, 0], [2, 1], [1, 2], [0, 0]]],
  // Outputs that are not multiples of 4 (the last blocks partly past the edge; forward, input and
  // filter gradients): the article
  // CNN's second layer (11x11, its input gradient 13x13), 7x9, and 9x9 out of 4 channels.
  [[3, 13, 13, 16], [3, 3, 16, 16], "valid"],
  [[2, 7, 9, 8], [3, 3, 8, 12], "same"],
  [[2, 11, 11, 4], [3, 3, 4, 4], "valid"],
];

for (const [xShape, fShape, pad] of cases) {
  const label = `x[${xShape}] f[${fShape}] ${JSON.stringify(pad)}`;
  Deno.test(`Winograd F(4x4, 3x3) matches cpu, forward and gradients: ${label}`, async () => {
    await initBackend("wasm");
    const ref = await convAndGrads("cpu", xShape, fShape, pad);
    const before = tf.memory().numTensors;
    const got = await convAndGrads("wasm", xShape, fShape, pad);
    for (const [i, name] of ["forward", "input gradient", "filter gradient"].entries()) {
      const e = relativeError(ref[i], got[i]);
      assert(e < 1e-4, `${label}: ${name} relative error ${e}`);
    }
    assertEquals(tf.memory().numTensors, before, "tensors alive");
  });
}

Deno.test("Winograd F(4x4, 3x3): applies to 4k outputs, fused and unfused agree, no buffer left", async () => {
  await initBackend("wasm");
  const backend = tf.backend() as unknown as BackendWasm;
  const t = (shape: number[]) => ({ shape, dtype: "float32" }) as unknown as tf.TensorInfo;
  assert(winograd4Applies(t([2, 8, 8, 16]), t([3, 3, 16, 32]), 8, 8), "8x8 out");
  assert(!winograd4Applies(t([2, 6, 6, 16]), t([3, 3, 16, 32]), 6, 6), "6x6 out: F(2x2, 3x3)");
  assert(winograd4Applies(t([2, 13, 13, 16]), t([3, 3, 16, 16]), 11, 11), "11x11 out");
  assert(!winograd4Applies(t([2, 5, 5, 16]), t([3, 3, 16, 16]), 3, 3), "3x3 out");
  assert(!winograd4Applies(t([2, 8, 8, 3]), t([3, 3, 3, 16]), 8, 8), "3 channels");
  assertEquals(chunk4Rows(2, 2, 64, 64, 256), 6, "8x8x64: three images a chunk");
  assertEquals(chunk4Rows(2, 2, 64, 64, 1), 2, "no more images than the batch");
  assertEquals(chunk4Rows(8, 8, 64, 64, 4), 1, "32x32x64: a row a chunk");
  const x = tf.tensor4d(randomArray(3 * 8 * 12 * 16, 14), [3, 8, 12, 16]);
  const w = tf.tensor4d(randomArray(9 * 16 * 32, 15), [3, 3, 16, 32]);
  const buffers = backend.numDataIds();
  const pad = { top: 1, bottom: 1, left: 1, right: 1 };
  const variants = fusedAvailable() ? [false, true] : [false];
  const ys = variants.map((fused) => {
    const y = winograd4Conv2d(backend, x, w, pad, fused);
    const v = (backend.readSync(y.dataId) as Float32Array).slice();
    backend.disposeData(y.dataId);
    return v;
  });
  assert(relativeError(ys[0], ys.at(-1)!) < 1e-5, "fused and unfused");
  WINOGRAD4_INPUT.direct = false; // from padded rows, as for other paddings
  const padded = winograd4Conv2d(backend, x, w, pad);
  WINOGRAD4_INPUT.direct = true;
  const pv = (backend.readSync(padded.dataId) as Float32Array).slice();
  backend.disposeData(padded.dataId);
  assertEquals(pv, ys.at(-1)!, "straight from the image and from padded rows");
  assertEquals(backend.numDataIds(), buffers, "backend buffers alive");
  const saved = CONV_PATHS.winograd4;
  CONV_PATHS.winograd4 = false;
  const f2 = tf.conv2d(x, w, 1, "same");
  CONV_PATHS.winograd4 = saved;
  assert(relativeError(await f2.data() as Float32Array, ys[0]) < 1e-5, "against F(2x2, 3x3)");
  tf.dispose([x, w, f2]);
});

Deno.test("Winograd F(4x4, 3x3) filter gradient: fused and unfused agree, no buffer left", async () => {
  await initBackend("wasm");
  const backend = tf.backend() as unknown as BackendWasm;
  const x = tf.tensor4d(randomArray(3 * 8 * 12 * 16, 16), [3, 8, 12, 16]);
  const dy = tf.tensor4d(randomArray(3 * 8 * 12 * 8, 17), [3, 8, 12, 8]);
  const info = tf.backend_util.computeConv2DInfo([3, 8, 12, 16], [3, 3, 16, 8], 1, 1, "same");
  assert(winograd4FilterGradApplies(info, x, dy), "3x3, 8x12 out");
  const buffers = backend.numDataIds();
  const variants = fusedAvailable() ? [false, true] : [false];
  const dws = variants.map((fused) => {
    const dw = filterGradWinograd4(backend, x, dy, info, fused);
    const v = (backend.readSync(dw.dataId) as Float32Array).slice();
    backend.disposeData(dw.dataId);
    return v;
  });
  const f2 = filterGradWinograd(backend, x, dy, info);
  const f2v = (backend.readSync(f2.dataId) as Float32Array).slice();
  backend.disposeData(f2.dataId);
  assert(relativeError(dws[0], dws.at(-1)!) < 1e-5, "fused and unfused");
  assert(relativeError(f2v, dws[0]) < 1e-5, "against F(2x2, 3x3)");
  // Odd outputs (11x11, the path leaves them to the direct kernel): called directly.
  const xo = tf.tensor4d(randomArray(3 * 13 * 13 * 8, 18), [3, 13, 13, 8]);
  const dyo = tf.tensor4d(randomArray(3 * 11 * 11 * 12, 19), [3, 11, 11, 12]);
  const infoOdd = tf.backend_util.computeConv2DInfo([3, 13, 13, 8], [3, 3, 8, 12], 1, 1, "valid");
  assert(!winograd4FilterGradApplies(infoOdd, xo, dyo), "odd outputs keep the direct kernel");
  const odd = filterGradWinograd4(backend, xo, dyo, infoOdd);
  const direct = filterGradDirect(backend, xo, dyo, infoOdd);
  const [ov, dv] = [odd, direct].map((t) => (backend.readSync(t.dataId) as Float32Array).slice());
  [odd, direct].forEach((t) => backend.disposeData(t.dataId));
  assert(relativeError(dv, ov) < 1e-4, `11x11 against the direct kernel: ${relativeError(dv, ov)}`);
  tf.dispose([xo, dyo]);
  assertEquals(backend.numDataIds(), buffers, "backend buffers alive");
  tf.dispose([x, dy]);
});
