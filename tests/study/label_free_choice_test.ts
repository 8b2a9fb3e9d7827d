/** Choosing a run by RankMe against choosing by validation labels, on hand-made sweeps. */
import {
  labelFreeChoice,
  labelFreeChoiceMarkdown,
  spearmanCorrelation,
  type SweepRun,
} from "../../lib/study/label_free_choice.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

const run = (name: string, rankMe: number, validation: number, test: number): SweepRun => ({
  name,
  rankMe,
  validationAccuracy: validation,
  testAccuracy: test,
});

Deno.test("labelFreeChoice: both picks, the oracle, the gap, agreement", () => {
  const sweep = [
    run("none", 1.1, 0.1, 0.1),
    run("linear", 18, 0.87, 0.868),
    run("mlp1", 22, 0.85, 0.858),
    run("mlp2", 12, 0.84, 0.871),
  ];
  const c = labelFreeChoice(sweep);
  assertEquals([c.rankMePick.name, c.rankMePick.index], ["mlp1", 2]);
  assertEquals([c.validationPick.name, c.validationPick.index], ["linear", 1]);
  assertEquals(c.oracle.name, "mlp2");
  assertEquals(c.agree, false);
  assertAlmostEquals(c.gap, 0.868 - 0.858, 1e-12);
  assertEquals(c.runs, 4);
  assertAlmostEquals(c.spearman, 0.8, 1e-12); // ranks (1,3,4,2) vs (1,4,3,2): 1 - 6·2/(4·15)
  assertEquals(JSON.parse(JSON.stringify(c)), c, "plain JSON");
  const md = labelFreeChoiceMarkdown(c);
  assert(md.includes("| RankMe (no labels) | mlp1 | 22.0 | 85.0% | 85.8% |"), md);
  assert(md.includes("1.0 points below the validation choice (linear)"), md);
  assert(md.includes("Spearman's correlation of RankMe with validation accuracy is 0.80"), md);

  const same = labelFreeChoice([run("a", 5, 0.5, 0.5), run("b", 9, 0.9, 0.8)]);
  assertEquals([same.agree, same.gap, same.spearman], [true, 0, 1]);
  assert(labelFreeChoiceMarkdown(same).includes("chose the run the validation labels chose (b)"));
  const better = labelFreeChoice([run("a", 5, 0.9, 0.7), run("b", 9, 0.8, 0.8)]);
  assert(labelFreeChoiceMarkdown(better).includes("10.0 points above"));
});

Deno.test("labelFreeChoice: ties go to the earliest run, in either order of the sweep", () => {
  const tied = [run("x", 10, 0.8, 0.7), run("y", 10, 0.8, 0.75), run("z", 3, 0.6, 0.75)];
  const c = labelFreeChoice(tied);
  assertEquals([c.rankMePick.name, c.validationPick.name, c.oracle.name], ["x", "x", "y"]);
  const r = labelFreeChoice([...tied].reverse());
  assertEquals([r.rankMePick.name, r.validationPick.name, r.oracle.name], ["y", "y", "z"]);
  assertEquals(labelFreeChoice([run("only", 2, 0.5, 0.5)]).spearman, NaN);
  assert(Number.isNaN(labelFreeChoice([run("p", 2, 0.5, 0.5), run("q", 2, 0.6, 0.5)]).spearman));
  assert(
    labelFreeChoiceMarkdown(labelFreeChoice([run("only", 2, 0.5, 0.5)])).includes("undefined"),
  );
});

Deno.test("spearmanCorrelation: average ranks for ties; bad sweeps are one line", () => {
  assertAlmostEquals(spearmanCorrelation([1, 2, 3], [30, 20, 10]), -1, 1e-12);
  assertAlmostEquals(spearmanCorrelation([1, 1, 2], [1, 2, 3]), Math.sqrt(3) / 2, 1e-12);
  assertThrows(() => spearmanCorrelation([1], [1]), ">= 2");
  assertThrows(() => labelFreeChoice([]), "no runs");
  assertThrows(
    () => labelFreeChoice([run("a", 1, 0.5, 0.5), run("a", 2, 0.5, 0.5)]),
    '"a"',
    "repeated",
  );
  assertThrows(() => labelFreeChoice([run("a", NaN, 0.5, 0.5)]), "RankMe NaN");
  assertThrows(() => labelFreeChoice([run("a", 1, 1.5, 0.5)]), "validationAccuracy 1.5");
  assertThrows(() => labelFreeChoice([run("a", 1, 0.5, -1)]), "testAccuracy -1");
});
