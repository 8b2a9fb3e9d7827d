import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../../lib/backend.ts";
import { filterFromTransformed4 } from "../../lib/kernels/conv2d_backprop_filter_winograd4_wasm.ts";
import { transformFilter4 } from "../../lib/kernels/conv2d_winograd_f4_wasm.ts";
import {
  filterFromSums4Simd,
  transformFilter4Simd,
} from "../../lib/kernels/winograd4_filter_transforms_wasm.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError } from "../numeric.ts";

// Channel pairs of the ResNet's layers (16 → 16 ... 64 → 64) and the smallest: 4.
for (const n of [4, 256, 512, 4096]) {
  Deno.test(`F(4x4) filter transforms on SIMD match the float64 JavaScript ones: ${n} pairs`, async () => {
    await initBackend("wasm");
    const backend = tf.backend() as unknown as BackendWasm;
    const before = tf.memory().numTensors;
    const g = tf.tensor1d(randomArray(9 * n, 81));
    const u = tf.zeros([36 * n]);
    const sums = tf.zeros([2 * 36 * n]); // float64 values: 8 bytes each
    const dw = tf.zeros([9 * n]);
    const heap = (t: tf.Tensor) => backend.typedArrayFromHeap(t);
    const s = new Float64Array(heap(sums).buffer, heap(sums).byteOffset, 36 * n);
    s.set(Array.from(randomArray(36 * n, 82), (v) => v * 1000 + 1e-3 * v));
    transformFilter4Simd(backend, heap(g).byteOffset, heap(u).byteOffset, n);
    filterFromSums4Simd(backend, heap(sums).byteOffset, heap(dw).byteOffset, n);
    const refU = new Float32Array(36 * n);
    transformFilter4(heap(g) as Float32Array, 1, n, refU);
    const refDw = new Float32Array(9 * n);
    filterFromTransformed4(
      new Float64Array(heap(sums).buffer, heap(sums).byteOffset, 36 * n),
      n,
      refDw,
    );
    const eU = relativeError(refU, await u.data() as Float32Array);
    assert(eU < 1e-6, `U: relative error ${eU}`);
    // The float64 path rounds once, as the JavaScript one does: the same floats.
    assertEquals([...await dw.data()], [...refDw], "dg");
    tf.dispose([g, u, sums, dw]);
    assertEquals(tf.memory().numTensors, before, "tensors alive");
  });
}
