import { Rng, seedFromString } from "../lib/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.next());
}

Deno.test("rng: the same seed gives the same sequence, other seeds differ", () => {
  const a = draws(new Rng(42), 100);
  assertEquals(draws(new Rng(42), 100), a);
  assert(draws(new Rng(43), 100).some((v, i) => v !== a[i]), "seeds 42 and 43 agree");
  // Seeds beyond 32 bits and negative seeds are not truncated to the same stream.
  const big = draws(new Rng(2 ** 32), 10);
  assert(draws(new Rng(0), 10).some((v, i) => v !== big[i]), "2^32 and 0 give one stream");
  const neg = draws(new Rng(-1), 10);
  assert(draws(new Rng(2 ** 32 - 1), 10).some((v, i) => v !== neg[i]), "-1 and 2^32-1 agree");
  assertThrows(() => new Rng(1.5), "seed");
  assertThrows(() => new Rng(NaN), "seed");
});

Deno.test("rng: next, int and uniform stay in range and look uniform", () => {
  const rng = new Rng(7);
  const n = 100_000;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = rng.next();
    assert(v >= 0 && v < 1, `next() gave ${v}`);
    sum += v;
  }
  assertAlmostEquals(sum / n, 0.5, 0.01);

  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70_000; i++) {
    const k = rng.int(7);
    assert(Number.isInteger(k) && k >= 0 && k < 7, `int(7) gave ${k}`);
    counts[k]++;
  }
  for (const c of counts) assert(Math.abs(c - 10_000) < 500, `int(7) counts ${counts}`);
  assertEquals(rng.int(1), 0);
  assertThrows(() => rng.int(0), "Rng.int");
  assertThrows(() => rng.int(2.5), "Rng.int");

  for (let i = 0; i < 1000; i++) {
    const u = rng.uniform(-3, 5);
    assert(u >= -3 && u < 5, `uniform(-3, 5) gave ${u}`);
  }
  assertThrows(() => rng.uniform(1, 0), "Rng.uniform");
});

Deno.test("rng: normal has the requested mean and standard deviation", () => {
  const rng = new Rng(3);
  const n = 50_000;
  const xs = Array.from({ length: n }, () => rng.normal(2, 3));
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  assertAlmostEquals(mean, 2, 0.06);
  assertAlmostEquals(sd, 3, 0.06);
  assert(xs.every(Number.isFinite));
  assertEquals(rng.normal(5, 0), 5);
  assertThrows(() => rng.normal(0, -1), "std");
});

Deno.test("rng: shuffle and permutation are seeded permutations", () => {
  const rng = new Rng(11);
  const items = Array.from({ length: 50 }, (_, i) => `item${i}`);
  const copy = [...items];
  const out = rng.shuffle(copy);
  assert(out === copy, "shuffle must work in place and return its argument");
  assertEquals([...out].sort(), [...items].sort());
  assert(out.some((v, i) => v !== items[i]), "shuffle left 50 items in order");

  const p = new Rng(5).permutation(1000);
  assert(p instanceof Int32Array);
  assertEquals(Array.from(p).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assertEquals(new Rng(5).permutation(1000), p);
  assert(new Rng(6).permutation(1000).some((v, i) => v !== p[i]));
  assertEquals(new Rng(1).permutation(0).length, 0);
  assertThrows(() => rng.permutation(-1), "permutation");

  // Every arrangement of 3 items is reachable with roughly equal frequency.
  const seen = new Map<string, number>();
  for (let i = 0; i < 6000; i++) {
    const key = rng.shuffle([0, 1, 2]).join("");
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  assertEquals(seen.size, 6);
  for (const c of seen.values()) assert(Math.abs(c - 1000) < 150, `uneven shuffle: ${[...seen]}`);
});

Deno.test("rng: fork is deterministic, independent of the parent's use, and label-specific", () => {
  const parent = new Rng(9);
  const a1 = draws(parent.fork("augment"), 20);
  draws(parent, 1000); // using the parent must not move its forks
  assertEquals(draws(parent.fork("augment"), 20), a1);
  assertEquals(draws(new Rng(9).fork("augment"), 20), a1);

  const split = draws(parent.fork("split"), 20);
  assert(split.some((v, i) => v !== a1[i]), "different labels give the same stream");
  const other = draws(new Rng(10).fork("augment"), 20);
  assert(other.some((v, i) => v !== a1[i]), "different parent seeds give the same fork");
  const asNumber = draws(parent.fork(1), 20);
  const asString = draws(parent.fork("1"), 20);
  assert(asNumber.some((v, i) => v !== asString[i]), "fork(1) equals fork('1')");
  const self = draws(new Rng(9), 20);
  assert(self.some((v, i) => v !== a1[i]), "a fork repeats its parent");

  // Nested forks are deterministic and differ from a one-level fork.
  const nested = draws(new Rng(9).fork("a").fork("b"), 20);
  assertEquals(draws(new Rng(9).fork("a").fork("b"), 20), nested);
  assert(nested.some((v, i) => v !== draws(new Rng(9).fork("b"), 20)[i]));

  // A forked stream is not correlated with its sibling.
  const x = draws(parent.fork("x"), 10_000);
  const y = draws(parent.fork("y"), 10_000);
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  let cov = 0, vx = 0, vy = 0;
  for (let i = 0; i < x.length; i++) {
    cov += (x[i] - mx) * (y[i] - my);
    vx += (x[i] - mx) ** 2;
    vy += (y[i] - my) ** 2;
  }
  assert(Math.abs(cov / Math.sqrt(vx * vy)) < 0.05, "sibling forks are correlated");
});

Deno.test("rng: seedFromString is a stable 32-bit hash", () => {
  const s = seedFromString("fashion-mnist split");
  assert(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
  assertEquals(seedFromString("fashion-mnist split"), s);
  assert(seedFromString("fashion-mnist splits") !== s);
  assert(seedFromString("") !== seedFromString("\0"));
});

Deno.test("rng: pinned outputs (changing the generator changes every seeded result)", () => {
  const r = new Rng(0);
  assertEquals([r.uint32(), r.uint32(), r.uint32()], [3511754789, 3655224248, 4007691398]);
  assertEquals(new Rng(1).permutation(8), [1, 5, 0, 4, 2, 6, 7, 3]);
  assertEquals(new Rng(0).fork("augment").uint32(), 4245838499);
});
