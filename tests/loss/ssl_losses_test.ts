import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { barlowTwinsLoss } from "../../lib/loss/barlow_twins.ts";
import { ntXentLoss } from "../../lib/loss/ntxent.ts";
import {
  negativeCosineSimilarity,
  stopGradient,
  symmetricNegativeCosineLoss,
} from "../../lib/loss/negative_cosine.ts";
import { vicregLoss, vicregTerms } from "../../lib/loss/vicreg.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";
import { randomArray } from "../numeric.ts";

/** The references of tools/fixtures/ssl_losses.py (PyTorch, float64 from float32 inputs). */
interface Fixture {
  inputs: { z1: number[][]; z2: number[][]; p1: number[][]; p2: number[][] };
  negative_cosine: { value: number; grad_p1: number[][] };
  barlow_twins: { lambda: number; value: number; grad_z1: number[][] };
  vicreg: {
    weights: [number, number, number];
    value: number;
    invariance: number;
    variance: number;
    covariance: number;
    grad_z1: number[][];
  };
  nt_xent: { temperature: number; value: number };
}

const fixture: Fixture = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/ssl_losses.json", import.meta.url)),
);

/** The fixture's four inputs as tensors (the caller disposes them). */
function inputs(): Record<"z1" | "z2" | "p1" | "p2", tf.Tensor2D> {
  const { z1, z2, p1, p2 } = fixture.inputs;
  return { z1: tf.tensor2d(z1), z2: tf.tensor2d(z2), p1: tf.tensor2d(p1), p2: tf.tensor2d(p2) };
}

/** The value of a scalar tensor, which is then disposed. */
function value(t: tf.Scalar): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** max |got - expected| over a matrix. */
function maxError(got: Float32Array, expected: number[][]): number {
  const flat = expected.flat();
  assertEquals(got.length, flat.length, "sizes");
  return flat.reduce((m, e, i) => Math.max(m, Math.abs(got[i] - e)), 0);
}

/** `rows` x `dim` pseudo-random numbers in [-1, 1), as a tensor. */
function random(rows: number, dim: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(randomArray(rows * dim, seed), [rows, dim]);
}

Deno.test("the SSL losses match the PyTorch references within 1e-5, and their gradients too", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const x = inputs();
  const errors: Record<string, number> = {};
  const check = (name: string, got: number, expected: number, tolerance = 1e-5) => {
    errors[name] = Math.abs(got - expected);
    assertAlmostEquals(got, expected, tolerance, name);
  };
  check(
    "negative cosine",
    value(symmetricNegativeCosineLoss(x.p1, x.p2, x.z1, x.z2)),
    fixture.negative_cosine.value,
  );
  check("Barlow Twins", value(barlowTwinsLoss(x.z1, x.z2)), fixture.barlow_twins.value);
  check("VICReg", value(vicregLoss(x.z1, x.z2)), fixture.vicreg.value);
  const t = vicregTerms(x.z1, x.z2);
  check("VICReg invariance", value(t.invariance), fixture.vicreg.invariance);
  check("VICReg variance", value(t.variance), fixture.vicreg.variance);
  check("VICReg covariance", value(t.covariance), fixture.vicreg.covariance);
  check(
    "NT-Xent",
    value(ntXentLoss(x.z1, x.z2, fixture.nt_xent.temperature)),
    fixture.nt_xent.value,
  );
  // Gradients with respect to the first argument, against torch.autograd.
  const gradients: [string, (v: tf.Tensor2D) => tf.Scalar, tf.Tensor2D, number[][]][] = [
    [
      "negative cosine, d/dp1",
      (p1) => symmetricNegativeCosineLoss(p1, x.p2, x.z1, x.z2),
      x.p1,
      fixture.negative_cosine.grad_p1,
    ],
    ["Barlow Twins, d/dz1", (z1) => barlowTwinsLoss(z1, x.z2), x.z1, fixture.barlow_twins.grad_z1],
    ["VICReg, d/dz1", (z1) => vicregLoss(z1, x.z2), x.z1, fixture.vicreg.grad_z1],
  ];
  for (const [name, f, at, expected] of gradients) {
    const g = tf.grad(f as (v: tf.Tensor) => tf.Scalar)(at);
    errors[name] = maxError(g.dataSync() as Float32Array, expected);
    g.dispose();
    assert(errors[name] < 1e-5, `${name}: max error ${errors[name]}`);
  }
  console.log(
    "max |TS - PyTorch|:",
    Object.entries(errors).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(", "),
  );
  tf.dispose(Object.values(x));
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("negative cosine: -1 for predictions along their targets, 1 against; no gradient into the targets", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const z = random(8, 6, 1);
  assertAlmostEquals(value(negativeCosineSimilarity(z, z)), -1, 1e-6);
  // Scale does not matter, direction does.
  const scaled = tf.mul(z, 3.5) as tf.Tensor2D;
  const opposite = tf.neg(z) as tf.Tensor2D;
  assertAlmostEquals(value(symmetricNegativeCosineLoss(scaled, scaled, z, z)), -1, 1e-6);
  assertAlmostEquals(value(negativeCosineSimilarity(opposite, z)), 1, 1e-6);
  // The stop-gradient: only the predictions are trained.
  const p = random(8, 6, 2);
  const [gp1, gp2, gz1, gz2] = tf.grads((p1, p2, z1, z2) =>
    symmetricNegativeCosineLoss(
      p1 as tf.Tensor2D,
      p2 as tf.Tensor2D,
      z1 as tf.Tensor2D,
      z2 as tf.Tensor2D,
    )
  )([p, p, z, scaled]);
  assert(gz1.dataSync().every((v) => v === 0), "a gradient reached the targets z1");
  assert(gz2.dataSync().every((v) => v === 0), "a gradient reached the targets z2");
  for (const g of [gp1, gp2]) {
    const v = g.dataSync();
    assert(v.every(Number.isFinite) && v.some((e) => e !== 0), "prediction gradient");
  }
  // stopGradient on its own: the value passes, the gradient does not.
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, stopGradient(v))))(z);
  assertAlmostEquals(tf.tidy(() => tf.max(tf.abs(tf.sub(g, z))).dataSync()[0]), 0, 1e-7);
  // An all-zero row has cosine 0 and a finite gradient.
  const zero = tf.zeros([2, 6]) as tf.Tensor2D;
  const some = random(2, 6, 3);
  assertAlmostEquals(value(negativeCosineSimilarity(zero, some)), 0, 1e-7);
  const gz = tf.grad((v: tf.Tensor) => negativeCosineSimilarity(v as tf.Tensor2D, some))(zero);
  assert(gz.dataSync().every(Number.isFinite), "zero row: gradient not finite");
  assertThrows(() => negativeCosineSimilarity(z, some), "same shape", "[8,6]", "[2,6]");
  tf.dispose([z, scaled, opposite, p, gp1, gp2, gz1, gz2, g, zero, some, gz]);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

/**
 * `n` x `d` embeddings whose columns are centred, orthogonal and of standard deviation 1
 * (Sylvester-Hadamard columns 1..d, n a power of 2): their correlation matrix is the identity.
 */
function whitened(n: number, d: number): tf.Tensor2D {
  const h = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) {
      // H[r][c+1] = (-1)^popcount(r & (c + 1)).
      let bits = r & (c + 1);
      let parity = 0;
      while (bits) {
        parity ^= bits & 1;
        bits >>= 1;
      }
      h[r * d + c] = parity ? -1 : 1;
    }
  }
  return tf.tensor2d(h, [n, d]);
}

Deno.test("Barlow Twins: 0 for identical, decorrelated views; d for constant or unrelated ones", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const d = 6;
  const z = whitened(16, d);
  // C = var / (var + 1e-5) · I: the minimum up to the standardisation's epsilon.
  assertAlmostEquals(value(barlowTwinsLoss(z, z)), d * (1e-5 / (1 + 1e-5)) ** 2, 1e-6);
  // A scale or a shift of a feature changes nothing: the columns are standardised.
  const moved = tf.tidy(() => tf.add(tf.mul(z, 4), 7) as tf.Tensor2D);
  assertAlmostEquals(value(barlowTwinsLoss(z, moved)), 0, 1e-6);
  // Collapse to a constant: every standardised column is 0, so C = 0 and the loss is d.
  const constant = tf.fill([16, d], 0.3) as tf.Tensor2D;
  assertAlmostEquals(value(barlowTwinsLoss(constant, constant)), d, 1e-5);
  // One signal in every feature: C is all ones, the loss λ·d(d - 1).
  const column = tf.slice(z, [0, 0], [-1, 1]);
  const same = tf.tile(column, [1, d]) as tf.Tensor2D;
  assertAlmostEquals(value(barlowTwinsLoss(same, same, 0.01)), 0.01 * d * (d - 1), 1e-5);
  const other = random(16, d, 4);
  const [g1, g2] = tf.grads((a, b) => barlowTwinsLoss(a as tf.Tensor2D, b as tf.Tensor2D))([
    constant,
    other,
  ]);
  assert(g1.dataSync().every(Number.isFinite) && g2.dataSync().every(Number.isFinite), "finite");
  const row = random(1, d, 5);
  assertThrows(() => barlowTwinsLoss(row, row), "at least 2 rows");
  assertThrows(() => barlowTwinsLoss(z, z, -1), "lambda");
  tf.dispose([z, moved, constant, column, same, other, row, g1, g2]);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("VICReg: identical views give invariance 0; collapse gives the largest variance penalty", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const z = random(16, 6, 7);
  const same = vicregTerms(z, z);
  assertEquals(value(same.invariance), 0);
  value(same.variance);
  value(same.covariance);
  // Every row the same: each feature's std is sqrt(1e-4), the hinge 0.99 per branch.
  const collapsed = tf.tidy(() => tf.tile(tf.slice(z, [0, 0], [1, -1]), [16, 1]) as tf.Tensor2D);
  const c = vicregTerms(collapsed, collapsed);
  assertAlmostEquals(value(c.invariance), 0, 0);
  assertAlmostEquals(value(c.variance), 2 * (1 - Math.sqrt(1e-4)), 1e-6);
  assertAlmostEquals(value(c.covariance), 0, 1e-12);
  assertAlmostEquals(value(vicregLoss(collapsed, collapsed)), 25 * 1.98, 1e-4);
  // Whitened features with std above 1: no variance or covariance penalty at all.
  const spread = tf.tidy(() => tf.mul(whitened(16, 6), 2) as tf.Tensor2D);
  const s = vicregTerms(spread, spread);
  value(s.invariance);
  assertEquals(value(s.variance), 0);
  assertAlmostEquals(value(s.covariance), 0, 1e-10);
  // The weights: each term on its own.
  const w = random(16, 6, 8);
  const t = vicregTerms(z, w);
  const [inv, vari, cov] = [value(t.invariance), value(t.variance), value(t.covariance)];
  const only = (weights: Parameters<typeof vicregLoss>[2]) => value(vicregLoss(z, w, weights));
  assertAlmostEquals(only({ invariance: 1, variance: 0, covariance: 0 }), inv, 1e-6);
  assertAlmostEquals(only({ invariance: 0, variance: 1, covariance: 0 }), vari, 1e-6);
  assertAlmostEquals(only({ invariance: 0, variance: 0, covariance: 1 }), cov, 1e-6);
  assertAlmostEquals(only({}), 25 * inv + 25 * vari + cov, 1e-4);
  // Finite gradients, also at collapse (the epsilon keeps the square root's slope finite).
  for (const [a, b] of [[collapsed, collapsed], [z, w]]) {
    const gs = tf.grads((x, y) => vicregLoss(x as tf.Tensor2D, y as tf.Tensor2D))([a, b]);
    assert(gs.every((g) => g.dataSync().every(Number.isFinite)), "gradient not finite");
    tf.dispose(gs);
  }
  assertThrows(() => vicregLoss(z, w, { variance: -1 }), "variance weight");
  const narrow = random(16, 5, 9);
  assertThrows(() => vicregLoss(z, narrow), "same shape");
  tf.dispose([z, collapsed, spread, w, narrow]);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("the SSL losses train inside optimizer.minimize without leaking tensors", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const w = tf.tidy(() => tf.variable(random(6, 6, 10)));
  const x1 = random(16, 6, 11);
  const x2 = random(16, 6, 12);
  const optimizer = tf.train.sgd(0.01);
  const losses: ((a: tf.Tensor2D, b: tf.Tensor2D) => tf.Scalar)[] = [
    (a, b) => barlowTwinsLoss(a, b),
    (a, b) => vicregLoss(a, b),
    (a, b) => symmetricNegativeCosineLoss(a, b, b, a),
  ];
  for (const loss of losses) {
    for (let step = 0; step < 2; step++) {
      const l = optimizer.minimize(
        () => loss(tf.matMul(x1, w) as tf.Tensor2D, tf.matMul(x2, w) as tf.Tensor2D),
        true,
      )!;
      assert(Number.isFinite(value(l)), "loss not finite");
    }
  }
  assert(w.dataSync().every(Number.isFinite), "weights not finite");
  optimizer.dispose();
  tf.dispose([w, x1, x2]);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});
