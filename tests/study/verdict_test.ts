import type { RunSummary } from "../../lib/study/report.ts";
import { type HeadsPart, headVerdict } from "../../lib/study/verdict.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

/** A run whose linear-probe test accuracies on h are `h` (and on z are `z`); kNN 0.1 lower. */
function run(h: number[], z: number[] = h.map((v) => v - 0.05)): RunSummary {
  const scores = (test: number[]) => ({
    linear_probe: { test: [...test], dev: test.map((v) => v - 0.02) },
    knn: { test: test.map((v) => v - 0.1), dev: test.map((v) => v - 0.12) },
  });
  return {
    h: scores(h),
    z: scores(z),
    pretrain_loss: h.map(() => [6, 5]),
    pretrain_s: h.map(() => 1),
    zero_h_fraction: h.map(() => 0),
  };
}

function heads(results: Record<string, RunSummary>): HeadsPart {
  return { temperature: 0.2, results, best: "mlp2" };
}

Deno.test("headVerdict: SimCLR's ordering holds when MLP > linear > none", () => {
  const v = headVerdict(heads({
    none: run([0.70, 0.72]),
    linear: run([0.78, 0.80]),
    mlp1: run([0.82, 0.84]),
    mlp2: run([0.85, 0.87]),
  }));
  assertEquals(v.ordering, "holds");
  assertEquals(v.mlp, "mlp2"); // the better MLP is compared
  assertEquals(v.ranking.map((s) => s.head), ["mlp2", "mlp1", "linear", "none"]);
  assertAlmostEquals(v.ranking[0].mean, 0.86, 1e-9);
  assertEquals(v.steps.map((s) => [s.better, s.worse, s.holds]), [
    ["mlp2", "linear", true],
    ["linear", "none", true],
  ]);
  assertAlmostEquals(v.steps[0].gapPoints, 7, 1e-9);
  assertEquals(v.steps.map((s) => s.withinNoise), [false, false]);
  assertEquals(v.seeds, 2);
  assertEquals(v.hBeatsZ, ["linear", "mlp1", "mlp2"]);
  assertEquals(v.withHead, ["linear", "mlp1", "mlp2"]);
  assert(v.sentence.includes("holds here"), v.sentence);
  assert(v.sentence.includes("86.0% > linear 79.0% > none (z = h) 71.0%"), v.sentence);
  assert(v.sentence.includes("linear probe on h, test set, mean of 2 seeds"), v.sentence);
  assert(v.sentence.includes("h beats z for 3 of 3 heads"), v.sentence);
  assert(!v.sentence.includes("tie"), v.sentence);
});

Deno.test("headVerdict: partly, fails, and gaps within the spread over seeds", () => {
  const partly = headVerdict(heads({
    none: run([0.81, 0.81]),
    linear: run([0.78, 0.80]),
    mlp2: run([0.85, 0.87]),
  }));
  assertEquals(partly.ordering, "partly");
  assertEquals(partly.steps.map((s) => s.holds), [true, false]);
  assert(partly.sentence.includes("only partly holds"), partly.sentence);
  assert(partly.sentence.includes("linear 79.0% < none (z = h) 81.0%"), partly.sentence);

  const fails = headVerdict(heads({
    none: run([0.9]),
    linear: run([0.8]),
    mlp1: run([0.7]),
  }));
  assertEquals(fails.ordering, "fails");
  assertEquals(fails.mlp, "mlp1");
  assert(fails.sentence.includes("does **not** hold"), fails.sentence);
  assert(fails.sentence.includes("mean of 1 seed)"), fails.sentence);

  // MLP beats linear by 0.5 points, with a spread of ±2 points over seeds: a tie.
  const noisy = headVerdict(heads({
    none: run([0.60, 0.60]),
    linear: run([0.78, 0.81]),
    mlp2: run([0.80, 0.80]),
  }));
  assertEquals(noisy.ordering, "holds");
  assertEquals(noisy.steps.map((s) => s.withinNoise), [true, false]);
  assert(
    noisy.sentence.includes("mlp2 vs linear (+0.5 points) is within the spread"),
    noisy.sentence,
  );
});

Deno.test("headVerdict: h against z, other metrics, and a study without every head", () => {
  const mixed = headVerdict(heads({
    none: run([0.7]),
    linear: run([0.8], [0.9]), // z beats h here
    mlp2: run([0.85], [0.8]),
  }));
  assertEquals(mixed.hBeatsZ, ["mlp2"]);
  assert(mixed.sentence.includes("h beats z for 1 of 2 heads"), mixed.sentence);
  assert(mixed.sentence.includes("not everywhere"), mixed.sentence);

  const knn = headVerdict(heads({ none: run([0.7]), linear: run([0.8]), mlp2: run([0.9]) }), {
    metric: "knn",
    split: "dev",
  });
  assertAlmostEquals(knn.ranking[0].mean, 0.9 - 0.12, 1e-9);
  assertEquals([knn.metric, knn.split], ["knn", "dev"]);
  assert(knn.sentence.includes("kNN on h, dev holdout"), knn.sentence);

  const incomplete = headVerdict(heads({ none: run([0.7]), mlp2: run([0.9]) }));
  assertEquals(incomplete.ordering, "incomplete");
  assertEquals(incomplete.steps, []);
  assert(incomplete.sentence.includes("cannot be checked"), incomplete.sentence);
  assert(incomplete.sentence.includes("none, mlp2"), incomplete.sentence);

  assertThrows(() => headVerdict(heads({})), "no results");
});
