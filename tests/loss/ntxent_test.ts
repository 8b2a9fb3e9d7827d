import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { ntXentLoss, ntXentLossRows } from "../../lib/loss/ntxent.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";
import { randomArray } from "../numeric.ts";

/**
 * SimCLR's Algorithm 1, in float64: normalise, s_ij = cos(z_i, z_j) / τ,
 * l(i, j) = -log(exp(s_ij) / Σ_{k≠i} exp(s_ik)). Rows i and i + N of the 2N
 * rows `z` are a positive pair; this is l(i, twin(i)).
 */
function referenceAnchorLoss(z: number[][], tau: number, i: number): number {
  const m = z.length;
  const unit = z.map((row) => {
    const len = Math.sqrt(row.reduce((a, v) => a + v * v, 0));
    return row.map((v) => v / len);
  });
  const s = (p: number, q: number) => unit[p].reduce((a, v, d) => a + v * unit[q][d], 0) / tau;
  let denominator = 0;
  for (let k = 0; k < m; k++) if (k !== i) denominator += Math.exp(s(i, k));
  return -Math.log(Math.exp(s(i, (i + m / 2) % m)) / denominator);
}

/** The reference NT-Xent: the mean of l(i, twin(i)) over the 2N anchors. */
function referenceLoss(z: number[][], tau: number): number {
  let total = 0;
  for (let i = 0; i < z.length; i++) total += referenceAnchorLoss(z, tau, i);
  return total / z.length;
}

/** `rows` x `dim` pseudo-random numbers in [-1, 1), as nested arrays. */
function randomRows(rows: number, dim: number, seed: number): number[][] {
  const flat = randomArray(rows * dim, seed);
  return Array.from({ length: rows }, (_, r) => Array.from(flat.subarray(r * dim, (r + 1) * dim)));
}

/** The loss of `ntXentLoss` on rows `z` (first half z1, second half z2), as a number. */
function libraryLoss(z: number[][], tau: number): number {
  const n = z.length / 2;
  return tf.tidy(() =>
    ntXentLoss(tf.tensor2d(z.slice(0, n)), tf.tensor2d(z.slice(n)), tau).dataSync()[0]
  );
}

Deno.test("ntXentLoss matches SimCLR's Algorithm 1 on random inputs, at every temperature", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  for (const [n, dim, seed] of [[2, 3, 1], [4, 8, 2], [7, 5, 3], [16, 10, 4]]) {
    const z = randomRows(2 * n, dim, seed);
    for (const tau of [0.05, 0.1, 0.2, 0.5, 1]) {
      const expected = referenceLoss(z, tau);
      const got = libraryLoss(z, tau);
      const rel = Math.abs(got - expected) / Math.abs(expected);
      assert(rel < 1e-4, `N=${n}, τ=${tau}: got ${got}, reference ${expected} (rel ${rel})`);
    }
  }
  // N = 1: the positive is each anchor's only candidate, so the loss is 0.
  assertAlmostEquals(libraryLoss(randomRows(2, 3, 5), 0.1), 0, 1e-6);
  // The default temperature is 0.5.
  const z = randomRows(6, 4, 9);
  const byDefault = tf.tidy(() =>
    ntXentLoss(tf.tensor2d(z.slice(0, 3)), tf.tensor2d(z.slice(3))).dataSync()[0]
  );
  assertEquals(byDefault, libraryLoss(z, 0.5));
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("ntXentLoss: identical views and all-zero rows give log(2N - 1), finite", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  for (const n of [1, 2, 5, 32]) {
    const expected = Math.log(2 * n - 1);
    const same = Array.from({ length: 2 * n }, () => [0.3, -1.2, 0.7, 2]);
    const zeros = Array.from({ length: 2 * n }, () => [0, 0, 0, 0]);
    for (const tau of [0.05, 0.5, 1]) {
      // Every candidate is as similar as the positive: a uniform softmax over 2N - 1.
      assertAlmostEquals(
        libraryLoss(same, tau),
        expected,
        1e-4,
        `identical rows, N=${n}, τ=${tau}`,
      );
      const zero = libraryLoss(zeros, tau);
      assert(Number.isFinite(zero), `all-zero rows gave ${zero}`);
      assertAlmostEquals(zero, expected, 1e-5, `all-zero rows, N=${n}, τ=${tau}`);
    }
  }
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("ntXentLossRows: the parts of a partition add up to the whole", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const n = 5;
  const z = tf.tensor2d(randomRows(2 * n, 6, 11));
  const [z1, z2] = tf.split(z, 2, 0) as tf.Tensor2D[];
  for (const tau of [0.1, 0.5]) {
    const whole = tf.tidy(() => ntXentLoss(z1, z2, tau).dataSync()[0]);
    // ntXentLoss is the rows function over [0, 2N): the same arithmetic, bit for bit.
    assertEquals(tf.tidy(() => ntXentLossRows(z, 0, 2 * n, tau).dataSync()[0]), whole);
    for (
      const cuts of [[0, 5, 10], [0, 1, 2, 7, 10], [0, 3, 4, 9, 10], [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
      ]]
    ) {
      let sum = 0;
      for (let p = 0; p + 1 < cuts.length; p++) {
        sum += tf.tidy(() => ntXentLossRows(z, cuts[p], cuts[p + 1], tau).dataSync()[0]);
      }
      assertAlmostEquals(sum, whole, 1e-5, `cuts ${cuts}, τ=${tau}`);
    }
    // One anchor's part is its own loss / 2N.
    const zs = randomRows(2 * n, 6, 11);
    for (const i of [0, 4, 7]) {
      const part = tf.tidy(() => ntXentLossRows(z, i, i + 1, tau).dataSync()[0]);
      const expected = referenceAnchorLoss(zs, tau, i) / (2 * n);
      assert(Math.abs(part - expected) < 1e-4 * expected, `anchor ${i}: ${part} vs ${expected}`);
    }
  }
  tf.dispose([z, z1, z2]);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("ntXentLoss: the gradient is finite, non-zero, and a small step against it lowers the loss", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const n = 8;
  const z1 = tf.tensor2d(randomRows(n, 5, 21));
  const z2 = tf.tensor2d(randomRows(n, 5, 22));
  for (const tau of [0.05, 0.2, 1]) {
    const f = (a: tf.Tensor, b: tf.Tensor) => ntXentLoss(a as tf.Tensor2D, b as tf.Tensor2D, tau);
    const { value, grads } = tf.valueAndGrads(f)([z1, z2]);
    const loss = value.dataSync()[0];
    const g = grads.map((t) => t.dataSync() as Float32Array);
    assert(g.every((a) => a.every(Number.isFinite)), `τ=${tau}: gradient not finite`);
    assert(g.some((a) => a.some((v) => v !== 0)), `τ=${tau}: gradient is zero`);
    const lr = 1e-3 * tau;
    const after = tf.tidy(() =>
      f(tf.sub(z1, tf.mul(grads[0], lr)), tf.sub(z2, tf.mul(grads[1], lr))).dataSync()[0]
    );
    assert(after < loss, `τ=${tau}: a gradient step went from ${loss} to ${after}`);
    tf.dispose([value, ...grads]);
  }
  // The rows function's gradient, too (with respect to the whole z).
  const z = tf.concat([z1, z2]);
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) =>
    ntXentLossRows(t as tf.Tensor2D, 3, 11, 0.2)
  )(z);
  assert((grad.dataSync() as Float32Array).every(Number.isFinite), "rows gradient not finite");
  tf.dispose([value, grad, z, z1, z2]);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("ntXentLoss and ntXentLossRows reject bad shapes, row ranges and temperatures", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const a = tf.zeros([3, 4]) as tf.Tensor2D;
  const b = tf.zeros([3, 5]) as tf.Tensor2D;
  const c = tf.zeros([2, 4]) as tf.Tensor2D;
  const empty = tf.zeros([0, 4]) as tf.Tensor2D;
  const flat = tf.zeros([4]) as unknown as tf.Tensor2D;
  const odd = tf.zeros([5, 4]) as tf.Tensor2D;
  const z = tf.zeros([6, 4]) as tf.Tensor2D;
  assertThrows(() => ntXentLoss(a, b), "same shape", "[3,4]", "[3,5]");
  assertThrows(() => ntXentLoss(a, c), "same shape");
  assertThrows(() => ntXentLoss(flat, flat), "2-D");
  assertThrows(() => ntXentLoss(empty, empty), "empty");
  for (const t of [0, -0.5, NaN, Infinity]) {
    const err = assertThrows(() => ntXentLoss(a, a, t), "ntXentLoss", "temperature", String(t));
    assert(err instanceof RangeError, `temperature ${t}: ${err.name}`);
    const rowsErr = assertThrows(() => ntXentLossRows(z, 0, 6, t), "temperature");
    assert(rowsErr instanceof RangeError, `rows temperature ${t}: ${rowsErr.name}`);
  }
  assertThrows(() => ntXentLossRows(odd, 0, 5), "even number of rows", "[5,4]");
  assertThrows(() => ntXentLossRows(flat, 0, 4), "2-D");
  for (const [s, e] of [[3, 3], [4, 2], [-1, 3], [0, 7], [0.5, 3], [0, NaN]]) {
    const err = assertThrows(() => ntXentLossRows(z, s, e), "start < end", `${s}..${e}`);
    assert(err instanceof RangeError, `rows ${s}..${e}: ${err.name}`);
  }
  tf.dispose([a, b, c, empty, flat, odd, z]);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("ntXentLossRows: the fused pass and the masked tfjs formulation agree, loss and gradient, on wasm and cpu", async () => {
  await initBackend();
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    // 2N = 20 takes the SIMD rows on wasm where τ > 2/80, 2N = 18 the JavaScript loop; τ = 0.002
    // finds each row's maximum, τ = 0.02 uses the bound 1/τ.
    for (const n of [9, 10]) {
      const z = tf.tensor2d(randomRows(2 * n, 7, 21));
      for (const tau of [0.002, 0.02, 0.05, 0.2, 1]) {
        for (const [start, end] of [[0, 2 * n], [0, n], [n, 2 * n], [3, 11], [17, 18]]) {
          const run = (fused: boolean) =>
            tf.tidy(() => {
              const f = (t: tf.Tensor) => ntXentLossRows(t as tf.Tensor2D, start, end, tau, fused);
              const { value, grad } = tf.valueAndGrad(f)(z);
              return { value: value.dataSync()[0], grad: grad.dataSync() as Float32Array };
            });
          const fused = run(true);
          const masked = run(false);
          const where = `${backend}, 2N=${2 * n}, τ=${tau}, anchors ${start}..${end}`;
          assert(Math.abs(fused.value - masked.value) < 1e-5 * Math.abs(masked.value), where);
          let num = 0, den = 0;
          for (let i = 0; i < masked.grad.length; i++) {
            num += (fused.grad[i] - masked.grad[i]) ** 2;
            den += masked.grad[i] ** 2;
          }
          assert(den > 0, `${where}: the gradient is not zero`);
          assert(
            Math.sqrt(num / den) < 1e-4,
            `${where}: gradient relative error ${Math.sqrt(num / den)}`,
          );
        }
      }
      z.dispose();
    }
    assertEquals(tf.memory().numTensors, before, `tensors leaked on ${backend}`);
  }
  await tf.setBackend("wasm");
});
