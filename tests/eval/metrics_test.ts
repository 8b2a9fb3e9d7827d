import {
  accuracy,
  argmaxRows,
  confusionMatrix,
  meanAndSpread,
  perClassAccuracy,
} from "../../lib/eval/metrics.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

const i32 = (xs: number[]) => Int32Array.from(xs);

Deno.test("accuracy counts matching positions", () => {
  assertEquals(accuracy(i32([0, 1, 2, 2]), i32([0, 1, 1, 2])), 0.75);
  assertEquals(accuracy(i32([3]), i32([3])), 1);
  assertEquals(accuracy(i32([0, 0, 0]), i32([1, 2, 1])), 0);
});

Deno.test("accuracy names the arrays and their lengths on a mismatch", () => {
  assertThrows(() => accuracy(i32([0, 1, 2]), i32([0, 1])), "pred has 3", "labels has 2");
  assertThrows(() => accuracy(i32([]), i32([])), "empty");
});

Deno.test("confusionMatrix puts true classes on rows (hand example)", () => {
  //            i:  0  1  2  3  4  5  6
  const labels = i32([0, 0, 1, 1, 1, 2, 2]);
  const pred = i32([0, 1, 1, 1, 2, 2, 0]);
  assertEquals(confusionMatrix(pred, labels, 3), [
    [1, 1, 0],
    [0, 2, 1],
    [1, 0, 1],
  ]);
  // A class that never occurs keeps a row and a column of zeros.
  assertEquals(confusionMatrix(i32([1]), i32([1]), 3), [[0, 0, 0], [0, 1, 0], [0, 0, 0]]);
});

Deno.test("confusionMatrix rejects bad lengths and out-of-range classes", () => {
  assertThrows(() => confusionMatrix(i32([0]), i32([0, 1]), 2), "pred has 1", "labels has 2");
  assertThrows(() => confusionMatrix(i32([0, 2]), i32([0, 1]), 2), "pred[1] = 2", "[0, 2)");
  assertThrows(() => confusionMatrix(i32([0, 1]), i32([-1, 1]), 2), "labels[0] = -1");
  assertThrows(() => confusionMatrix(i32([]), i32([]), 0), "numClasses");
});

Deno.test("perClassAccuracy is the diagonal over the row sums, NaN for empty classes", () => {
  const acc = perClassAccuracy([[1, 1, 0], [0, 2, 1], [1, 0, 1]]);
  assertAlmostEquals(acc[0], 0.5);
  assertAlmostEquals(acc[1], 2 / 3);
  assertAlmostEquals(acc[2], 0.5);
  const withEmpty = perClassAccuracy([[0, 0], [1, 3]]);
  assert(Number.isNaN(withEmpty[0]));
  assertEquals(withEmpty[1], 0.75);
  assertThrows(() => perClassAccuracy([[1, 0], [0]]), "square");
});

Deno.test("argmaxRows takes the largest entry per row, first on ties", () => {
  const logits = Float32Array.from([1, 3, 2, 5, 4, 0, -1, -1, -2, 0, 7, 7]);
  assertEquals(argmaxRows(logits, 3), i32([1, 0, 0, 1]));
  assertEquals(argmaxRows(Float32Array.from([NaN, 1, 0]), 3), i32([1]));
  assertEquals(argmaxRows(new Float32Array(0), 10), i32([]));
  assertThrows(() => argmaxRows(new Float32Array(7), 3), "7", "dim = 3");
  assertThrows(() => argmaxRows(new Float32Array(6), 0), "dim");
});

Deno.test("meanAndSpread: mean, sample std, min, max, n", () => {
  const s = meanAndSpread([0.9, 0.92, 0.94]);
  assertAlmostEquals(s.mean, 0.92, 1e-12);
  assertAlmostEquals(s.std, 0.02, 1e-12);
  assertEquals([s.min, s.max, s.n], [0.9, 0.94, 3]);
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample variance 32 / 7.
  const t = meanAndSpread([2, 4, 4, 4, 5, 5, 7, 9]);
  assertEquals(t.mean, 5);
  assertAlmostEquals(t.std, Math.sqrt(32 / 7), 1e-12);
  assertEquals(meanAndSpread([0.5]), { mean: 0.5, std: 0, min: 0.5, max: 0.5, n: 1 });
  assertThrows(() => meanAndSpread([]), "no values");
  assertThrows(() => meanAndSpread([1, NaN]), "finite");
});
