/**
 * Numeric helpers shared by the tests that compare backends.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "./assert.ts";

/** Deterministic pseudo-random floats in [-1, 1) (a linear congruential generator; tests only). */
export function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** max |a - b| / max |a|: the relative error the backend tests bound. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length, "lengths");
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  assert(scale > 0, "reference is all zeros: the test would be vacuous");
  return err / scale;
}

/** Elements of a tensor of `shape`. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * The values of the tensors `build` makes (inside `tf.tidy`) on `backend`; the tensors are
 * disposed once read.
 */
export async function valuesOn(
  backend: string,
  build: () => tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(build);
  const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  return values;
}
