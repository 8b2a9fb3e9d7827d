import {
  type SparseLabelSplit,
  sparseLabelSplit,
  stratifiedHoldOut,
} from "../../lib/data/split.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

/** `n` labels of `k` classes in a seeded random order (class c has about n/k). */
function randomLabels(n: number, k: number, seed = 123): Int32Array {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % k;
  return new Rng(seed).shuffle(labels);
}

function perClass(labels: Int32Array, indices: Int32Array, k: number): number[] {
  const counts = new Array(k).fill(0);
  for (const i of indices) counts[labels[i]]++;
  return counts;
}

/** Checks sizes, sortedness, disjointness and that the three cover every index once. */
function checkPartition(split: SparseLabelSplit, n: number, train: number, val: number): void {
  assertEquals(split.labelled.length, train, "labelled size");
  assertEquals(split.validation.length, val, "validation size");
  assertEquals(split.unlabelled.length, n - train - val, "unlabelled size");
  const seen = new Uint8Array(n);
  for (const part of [split.labelled, split.validation, split.unlabelled]) {
    assert(part instanceof Int32Array);
    for (let j = 0; j < part.length; j++) {
      if (j > 0) assert(part[j] > part[j - 1], "indices must be sorted ascending");
      assert(part[j] >= 0 && part[j] < n, `index ${part[j]} out of range`);
      assert(seen[part[j]] === 0, `index ${part[j]} appears twice`);
      seen[part[j]] = 1;
    }
  }
}

Deno.test("split: random draw has the right sizes, disjoint, carving validation from the budget", () => {
  const labels = randomLabels(6000, 10);
  const split = sparseLabelSplit(labels, { labelled: 200, validation: 40, seed: 0 });
  checkPartition(split, 6000, 160, 40);
  const noVal = sparseLabelSplit(labels, { labelled: 200, seed: 0 });
  checkPartition(noVal, 6000, 200, 0);
  // Validation is carved out of the same budget: labelled ∪ validation is the 200 drawn.
  assertEquals(
    [...split.labelled, ...split.validation].sort((a, b) => a - b),
    Array.from(noVal.labelled),
  );
});

Deno.test("split: same seed, same split; another seed, another split", () => {
  const labels = randomLabels(6000, 10);
  for (const opts of [{}, { balanced: true }, { firstN: true }]) {
    const a = sparseLabelSplit(labels, { labelled: 100, validation: 20, seed: 5, ...opts });
    const b = sparseLabelSplit(labels, { labelled: 100, validation: 20, seed: 5, ...opts });
    const c = sparseLabelSplit(labels, { labelled: 100, validation: 20, seed: 6, ...opts });
    assertEquals(a, b);
    assert(
      a.validation.some((v, i) => v !== c.validation[i]),
      `${JSON.stringify(opts)}: seeds 5 and 6 give the same validation set`,
    );
    if (!("firstN" in opts)) {
      assert(a.labelled.some((v, i) => v !== c.labelled[i]), "seeds 5 and 6 give one split");
    }
  }
});

Deno.test("split: balanced gives equal classes, the remainder spread one per class", () => {
  const labels = randomLabels(6000, 10);
  const split = sparseLabelSplit(labels, {
    labelled: 200,
    validation: 40,
    seed: 1,
    balanced: true,
  });
  checkPartition(split, 6000, 160, 40);
  assertEquals(perClass(labels, split.labelled, 10), new Array(10).fill(16));
  assertEquals(perClass(labels, split.validation, 10), new Array(10).fill(4));

  const odd = sparseLabelSplit(labels, { labelled: 23, validation: 5, seed: 2, balanced: true });
  checkPartition(odd, 6000, 18, 5);
  const total = perClass(labels, odd.labelled, 10).map((c, k) =>
    c + perClass(labels, odd.validation, 10)[k]
  );
  assertEquals([...total].sort(), [2, 2, 2, 2, 2, 2, 2, 3, 3, 3]);
  const train = perClass(labels, odd.labelled, 10);
  assert(Math.max(...train) - Math.min(...train) <= 1, `unbalanced training set ${train}`);
  // Which classes get the remainder depends on the seed.
  const remainderClasses = (seed: number) => {
    const s = sparseLabelSplit(labels, { labelled: 23, seed, balanced: true });
    return perClass(labels, s.labelled, 10).map((c) => c === 3);
  };
  assert(
    [3, 4, 5, 6, 7].some((s) => remainderClasses(s).join() !== remainderClasses(2).join()),
    "the remainder always goes to the same classes",
  );
});

Deno.test("split: an unbalanced random draw follows the data, not the classes", () => {
  // Class 0 is 90% of the data: a random draw of 500 takes mostly class 0.
  const labels = new Int32Array(10000).map((_, i) => (i % 10 === 0 ? 1 : 0));
  const split = sparseLabelSplit(labels, { labelled: 500, seed: 3 });
  const counts = perClass(labels, split.labelled, 2);
  assert(counts[0] > 400 && counts[1] > 20, `counts ${counts}`);
  const balanced = sparseLabelSplit(labels, { labelled: 500, seed: 3, balanced: true });
  assertEquals(perClass(labels, balanced.labelled, 2), [250, 250]);
});

Deno.test("split: firstN keeps the first N labelled indices (the article's choice)", () => {
  const labels = randomLabels(1000, 10);
  const split = sparseLabelSplit(labels, { labelled: 200, validation: 40, seed: 0, firstN: true });
  checkPartition(split, 1000, 160, 40);
  const kept = [...split.labelled, ...split.validation].sort((a, b) => a - b);
  assertEquals(kept, Array.from({ length: 200 }, (_, i) => i));
  assertEquals(split.unlabelled[0], 200);
  // Already-unlabelled examples (-1) are never part of the budget.
  const partly = labels.slice();
  partly[0] = -1;
  partly[5] = -1;
  const s2 = sparseLabelSplit(partly, { labelled: 10, seed: 0, firstN: true });
  assertEquals(Array.from(s2.labelled), [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
  assert(s2.unlabelled.includes(0) && s2.unlabelled.includes(5));
});

Deno.test("split: unlabelled examples (-1) are never drawn", () => {
  const labels = randomLabels(400, 4);
  for (let i = 0; i < 400; i += 2) labels[i] = -1;
  for (const balanced of [false, true]) {
    // All 200 labelled examples when not balanced; the classes are uneven, so fewer when balanced.
    const budget = balanced ? 160 : 200;
    const split = sparseLabelSplit(labels, { labelled: budget, validation: 20, seed: 9, balanced });
    checkPartition(split, 400, budget - 20, 20);
    for (const i of [...split.labelled, ...split.validation]) assert(labels[i] >= 0);
  }
  assertThrows(
    () => sparseLabelSplit(labels, { labelled: 201, seed: 0 }),
    "labelled budget 201 exceeds the 200 labelled examples available",
  );
});

Deno.test("split: edge cases: no labels, all labels", () => {
  const labels = randomLabels(50, 5);
  checkPartition(sparseLabelSplit(labels, { labelled: 0, seed: 0 }), 50, 0, 0);
  checkPartition(sparseLabelSplit(labels, { labelled: 0, seed: 0, balanced: true }), 50, 0, 0);
  const all = sparseLabelSplit(labels, { labelled: 50, validation: 10, seed: 0, balanced: true });
  checkPartition(all, 50, 40, 10);
  assertEquals(perClass(labels, all.validation, 5), [2, 2, 2, 2, 2]);
});

Deno.test("split: clear errors", () => {
  const labels = randomLabels(100, 10);
  assertThrows(
    () => sparseLabelSplit(labels, { labelled: 101, seed: 0 }),
    "labelled budget 101 exceeds the 100",
  );
  assertThrows(
    () => sparseLabelSplit(labels, { labelled: -1, seed: 0 }),
    "labelled must be a non-negative integer, got -1",
  );
  assertThrows(() => sparseLabelSplit(labels, { labelled: 2.5, seed: 0 }), "labelled", "2.5");
  assertThrows(
    () => sparseLabelSplit(labels, { labelled: 10, validation: -2, seed: 0 }),
    "validation must be a non-negative integer",
  );
  assertThrows(
    () => sparseLabelSplit(labels, { labelled: 10, validation: 10, seed: 0 }),
    "validation 10 must be smaller than the labelled budget 10",
  );
  assertThrows(
    () => sparseLabelSplit(labels, { labelled: 10, validation: 12, seed: 0 }),
    "validation 12",
  );
  assertThrows(
    () => sparseLabelSplit(labels, { labelled: 10, seed: 0, balanced: true, firstN: true }),
    "firstN and balanced",
  );
  assertThrows(() => sparseLabelSplit(labels, { labelled: 10, seed: 0.5 }), "seed");
  const bad = labels.slice();
  bad[3] = -7;
  assertThrows(() => sparseLabelSplit(bad, { labelled: 10, seed: 0 }), "label -7 at index 3");

  // Class 7 has only 3 examples: a balanced split of 50 (5 per class) cannot be made.
  const rare = new Int32Array(100).map((_, i) => (i < 3 ? 7 : i % 7));
  assertThrows(
    () => sparseLabelSplit(rare, { labelled: 50, seed: 0, balanced: true, numClasses: 8 }),
    "class 7 has only 3 examples",
    "needs",
  );
  const names = ["a", "b", "c", "d", "e", "f", "g", "Sneaker"];
  assertThrows(
    () => sparseLabelSplit(rare, { labelled: 50, seed: 0, balanced: true, classNames: names }),
    'class 7 ("Sneaker") has only 3 examples',
  );
  // A class absent from the labels altogether is named too.
  assertThrows(
    () => sparseLabelSplit(labels, { labelled: 11, seed: 0, balanced: true, numClasses: 11 }),
    "class 10 has only 0 examples",
  );
  assertThrows(
    () => sparseLabelSplit(labels, { labelled: 10, seed: 0, balanced: true, numClasses: 5 }),
    "label 9 is not below numClasses 5",
  );
});

Deno.test("stratifiedHoldOut: per-class counts, at least one and never all, unlabelled train", () => {
  // Class sizes 10, 1, 2, 3, 5 and three unlabelled examples, interleaved.
  const sizes = [10, 1, 2, 3, 5];
  const list: number[] = [];
  sizes.forEach((n, c) => list.push(...new Array(n).fill(c)));
  list.push(-1, -1, -1);
  const labels = new Rng(7).shuffle(Int32Array.from(list));
  const classNames = ["ten", "one", "two", "three", "five"];
  const held = stratifiedHoldOut(labels, { testFraction: 0.2, seed: 0, classNames });
  assertEquals(held.classes, [
    { total: 10, test: 2 },
    { total: 1, test: 0 },
    { total: 2, test: 1 },
    { total: 3, test: 1 },
    { total: 5, test: 1 },
  ]);
  assertEquals(perClass(labels, held.test, 5), [2, 0, 1, 1, 1]);
  assertEquals(held.train.length + held.test.length, labels.length);
  const all = [...held.train, ...held.test].sort((a, b) => a - b);
  assertEquals(all, Array.from({ length: labels.length }, (_, i) => i), "disjoint, cover all");
  // Unlabelled examples train, first and in index order.
  const unlabelled = Array.from(labels.keys()).filter((i) => labels[i] === -1);
  assertEquals(Array.from(held.train.subarray(0, 3)), unlabelled);
  assert(held.test.every((i) => labels[i] >= 0));
  // A large fraction still leaves one example of each class for training.
  const most = stratifiedHoldOut(labels, { testFraction: 0.95, seed: 0, classNames });
  assertEquals(most.classes.map((c) => c.test), [9, 0, 1, 2, 4]);
});

Deno.test("stratifiedHoldOut: each class draws from its own named stream", () => {
  const labels = randomLabels(60, 2, 3);
  const names = ["cat", "dog"];
  const held = stratifiedHoldOut(labels, { testFraction: 0.25, seed: 4, classNames: names });
  // The documented draw: class c's examples in index order, permuted by its fork.
  for (let c = 0; c < 2; c++) {
    const mine = Array.from(labels.keys()).filter((i) => labels[i] === c);
    const perm = new Rng(4).fork(`image-folder class ${names[c]}`).permutation(mine.length);
    const expected = Array.from(perm.subarray(0, 8), (k) => mine[k]);
    assertEquals(Array.from(held.test.subarray(8 * c, 8 * c + 8)), expected, names[c]);
  }
  // Another class appended leaves the first two classes' hold-outs as they were.
  const more = Int32Array.from([...labels, 2, 2, 2, 2, 2]);
  const grown = stratifiedHoldOut(more, {
    testFraction: 0.25,
    seed: 4,
    classNames: [...names, "fox"],
  });
  assertEquals(Array.from(grown.test.subarray(0, 16)), Array.from(held.test));
  // Same seed, same hold-out; another seed, another one.
  const again = stratifiedHoldOut(labels, { testFraction: 0.25, seed: 4, classNames: names });
  assertEquals(again, held);
  const other = stratifiedHoldOut(labels, { testFraction: 0.25, seed: 5, classNames: names });
  assert(other.test.some((v, i) => v !== held.test[i]), "seeds 4 and 5 hold out the same");
});

Deno.test("stratifiedHoldOut: clear errors", () => {
  const labels = Int32Array.from([0, 1, 0, 1]);
  const classNames = ["a", "b"];
  for (const testFraction of [0, 1, -0.1, NaN]) {
    assertThrows(
      () => stratifiedHoldOut(labels, { testFraction, seed: 0, classNames }),
      "stratifiedHoldOut",
      "testFraction",
    );
  }
  assertThrows(
    () => stratifiedHoldOut(labels, { testFraction: 0.5, seed: 1.5, classNames }),
    "seed",
    "1.5",
  );
  assertThrows(
    () => stratifiedHoldOut([0, 2], { testFraction: 0.5, seed: 0, classNames }),
    "label 2 at index 1",
    "2 class names",
  );
  assertThrows(
    () => stratifiedHoldOut([-2], { testFraction: 0.5, seed: 0, classNames }),
    "label -2 at index 0",
  );
});
