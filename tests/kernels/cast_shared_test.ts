/**
 * `cast_shared_wasm.ts`: on wasm a cast to the tensor's own dtype shares its buffer (no new data),
 * other casts convert as the backend's kernel did, values match `cpu`; the gradient through a
 * `clone` (tfjs's Identity gradient is such a cast) matches `cpu`; nothing leaks.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../../lib/backend.ts";
import { assert, assertEquals } from "../assert.ts";
import { randomArray, relativeError } from "../numeric.ts";

Deno.test("wasm: a float32 → float32 cast shares the buffer and outlives its source", async () => {
  await initBackend("wasm");
  const backend = tf.backend() as unknown as BackendWasm;
  const before = tf.memory().numTensors;
  const x = tf.tensor1d(randomArray(1000, 1));
  const ids = backend.numDataIds();
  const y = tf.cast(x, "float32");
  assertEquals(backend.numDataIds(), ids, "no new buffer");
  const expected = Array.from(await x.data());
  x.dispose();
  assertEquals(Array.from(await y.data()), expected);
  y.dispose();
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("wasm: casts that change the dtype convert as on cpu", async () => {
  await initBackend("wasm");
  const values = [-2.7, -0.5, 0, 0.4, 1, 3.9, 1e6];
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor1d(values);
    // (float32 → bool is left out: the backend's own kernel differs from cpu there, before and
    // after this wrapper, which hands every dtype-changing cast to it.)
    const outs = [tf.cast(x, "int32"), tf.cast(tf.cast(x, "int32"), "float32")];
    const data = await Promise.all(outs.map((t) => t.data()));
    tf.dispose([x, ...outs]);
    return data.map((d) => Array.from(d as ArrayLike<number>));
  };
  const wasm = await run("wasm");
  const cpu = await run("cpu");
  await tf.setBackend("wasm");
  assertEquals(wasm, cpu);
});

Deno.test("wasm: the gradient through a clone (Identity's, a cast of dy) matches cpu", async () => {
  await initBackend("wasm");
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(randomArray(64, 2), [8, 8]);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.add(tf.clone(t), t))))(x);
    const out = await dx.data() as Float32Array;
    tf.dispose([x, dx]);
    assertEquals(tf.memory().numTensors, before, `${backend}: no tensor left behind`);
    return out;
  };
  const wasm = await run("wasm");
  const cpu = await run("cpu");
  await tf.setBackend("wasm");
  assert(relativeError(cpu, wasm) < 1e-6);
});
