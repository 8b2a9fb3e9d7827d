/**
 * `padded_rows_wasm.ts`: the rows it hands out equal the zero-padded tensor's (`padOnHeap`) for
 * every range, image and padding (even, uneven, none); and Winograd's
 * forward and filter gradient, which read their input through it a chunk of rows at a time, match
 * `cpu` on a layer of many chunks (relative error < 1e-4), leaving no buffer behind.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../../lib/backend.ts";
import { type Padding, padOnHeap } from "../../lib/kernels/conv2d_direct_wasm.ts";
import { filterGradWinograd } from "../../lib/kernels/conv2d_backprop_filter_winograd_wasm.ts";
import { chunkRows, winogradConv2d } from "../../lib/kernels/conv2d_winograd_wasm.ts";
import { PaddedRows } from "../../lib/kernels/padded_rows_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError } from "../numeric.ts";

const PADS: Padding[] = [
  { top: 1, bottom: 1, left: 1, right: 1 },
  { top: 2, bottom: 0, left: 0, right: 3 },
  { top: 0, bottom: 0, left: 0, right: 0 },
];

Deno.test("PaddedRows hands out the padded tensor's rows, for every range, image and padding", async () => {
  await initBackend("wasm");
  const backend = tf.backend() as unknown as BackendWasm;
  const [batch, h, w, c] = [2, 5, 6, 4];
  const x = tf.tensor4d(randomArray(batch * h * w * c, 1), [batch, h, w, c]);
  const ids = backend.numDataIds();
  for (const pad of PADS) {
    const padded = padOnHeap(backend, x, pad);
    const [, ph, pw] = padded.shape;
    const row = pw * c;
    for (const count of [1, 3, ph]) {
      const rows = new PaddedRows(backend, x, pad, count);
      for (let b = 0; b < batch; b++) {
        for (let r0 = 0; r0 + count <= ph; r0++) {
          const at = rows.at(b, r0, count);
          const heap = backend.typedArrayFromHeap(padded) as Float32Array;
          const got = new Float32Array(heap.buffer, at, count * row);
          const want = heap.subarray((b * ph + r0) * row, (b * ph + r0 + count) * row);
          assertEquals(Array.from(got), Array.from(want), `${JSON.stringify(pad)} b ${b} r ${r0}`);
        }
      }
      rows.free();
    }
    backend.disposeData(padded.dataId);
  }
  assertEquals(backend.numDataIds(), ids, "no buffer left behind");
  x.dispose();
});

Deno.test("Winograd's forward and filter gradient over many chunks of rows match cpu", async () => {
  await initBackend("wasm");
  const backend = tf.backend() as unknown as BackendWasm;
  const [xShape, fShape]: [number, number, number, number][] = [[2, 12, 32, 64], [3, 3, 64, 64]];
  assert(chunkRows(16, 6, 64, 64) < 6, "several chunks an image");
  const xv = randomArray(2 * 12 * 32 * 64, 2);
  const fv = randomArray(3 * 3 * 64 * 64, 3);
  const dyv = randomArray(2 * 12 * 32 * 64, 4);
  await tf.setBackend("cpu");
  const [yRef, dwRef] = tf.tidy(() => {
    const [x, f, dy] = [tf.tensor4d(xv, xShape), tf.tensor4d(fv, fShape), tf.tensor4d(dyv, xShape)];
    return [
      tf.conv2d(x, f, 1, "same").dataSync() as Float32Array,
      tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, "same"), dy)))(f)
        .dataSync() as Float32Array,
    ];
  });
  await tf.setBackend("wasm");
  const [x, f, dy] = [tf.tensor4d(xv, xShape), tf.tensor4d(fv, fShape), tf.tensor4d(dyv, xShape)];
  const ids = backend.numDataIds();
  const pad = { top: 1, bottom: 1, left: 1, right: 1 };
  const y = winogradConv2d(backend, x, f, pad);
  const info = tf.backend_util.computeConv2DInfo(xShape, fShape, 1, 1, "same");
  const dw = filterGradWinograd(backend, x, dy, info);
  const read = (t: tf.TensorInfo) => (backend.typedArrayFromHeap(t) as Float32Array).slice();
  const errY = relativeError(yRef, read(y));
  const errW = relativeError(dwRef, read(dw));
  backend.disposeData(y.dataId);
  backend.disposeData(dw.dataId);
  assertEquals(backend.numDataIds(), ids, "no buffer left behind");
  tf.dispose([x, f, dy]);
  assert(errY < 1e-4, `forward: relative error ${errY}`);
  assert(errW < 1e-4, `filter gradient: relative error ${errW}`);
});
