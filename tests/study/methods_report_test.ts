/**
 * The `methods` part's report on hand-made results: run means, the collapse flag and demos,
 * each method's keep-or-discard answer, the label-free choice, the tables and the charts.
 */
import {
  bestMode,
  collapseDemos,
  isCollapsed,
  keepOrDiscard,
  methodsLabelFreeChoice,
  methodsTables,
  runMeans,
} from "../../lib/study/methods_report.ts";
import { methodsFigures, ownRuns } from "../../lib/study/methods_charts.ts";
import { ablationTables } from "../../lib/study/report.ts";
import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { fakeResults, fakeRun } from "./methods_fixtures.ts";

Deno.test("isCollapsed and runMeans: seeds averaged run by run, in the grid's order", () => {
  assertEquals(isCollapsed({ rankH: 1.5, rankZ: 9, spreadZ: 1 }, 2, 0.1), true);
  assertEquals(isCollapsed({ rankH: 15, rankZ: 1.9, spreadZ: 1 }, 2, 0.1), true);
  assertEquals(isCollapsed({ rankH: 15, rankZ: 9, spreadZ: 0.05 }, 2, 0.1), true);
  assertEquals(isCollapsed({ rankH: 15, rankZ: 9, spreadZ: 0.5 }, 2, 0.1), false);
  const a = fakeRun("simclr-mlp", {
    h: 0.9,
    z: 0.8,
    rankH: 20,
    rankZ: 7,
    discard: [0.9, 0.9],
    keep: [0.8, 0.8],
    keepK: [0.7, 0.7],
  });
  const b = fakeRun("simclr-mlp", {
    seed: 1,
    h: 0.8,
    z: 0.6,
    rankH: 10,
    rankZ: 5,
    discard: [0.7, 0.7],
    keep: [0.6, 0.6],
    keepK: [0.5, 0.5],
  });
  const c = fakeRun("byol-none-nopred", {
    h: 0.1,
    z: 0.1,
    rankH: 1,
    rankZ: 1,
    discard: [0.2, 0.2],
  });
  const means = runMeans([a, c, b]);
  assertEquals(means.map((m) => [m.key, m.seeds]), [["simclr-mlp", 2], ["byol-none-nopred", 1]]);
  assertAlmostEquals(means[0].probe.h.test, 0.85, 1e-12);
  assertAlmostEquals(means[0].rank_me.h, 15, 1e-12);
  assertEquals(means[1].fine_tune.keep, { skipped: "no" });
  assertEquals(bestMode(means[0]).mode, "discard");
  assertEquals(means[1].collapsed, true);
});

Deno.test("keepOrDiscard: each method's own head, the mode best on validation, against strong", () => {
  const answers = keepOrDiscard(fakeResults());
  assertEquals(answers.map((a) => [a.method, a.chosen]), [
    ["simclr", "keep"],
    ["simsiam", "discard"],
    ["byol", "discard"],
  ]);
  assertAlmostEquals(answers[0].againstStrong, 14, 1e-9); // 92% - 78%
});

Deno.test("collapseDemos and the label-free choice over the sweep", () => {
  const r = fakeResults();
  const demos = collapseDemos(r.runs);
  assertEquals(demos.map((d) => [d.demo.key, d.full.key, d.demo.collapsed, d.full.collapsed]), [
    ["simsiam-mlp-nopred", "simsiam-mlp-pred", true, false],
    ["byol-none-nopred", "byol-mlp-pred", true, false],
  ]);
  assertEquals(r.label_free.probe.rankMePick.name, "byol, mlp head");
  assertEquals(r.label_free.probe.validationPick.name, "simclr, mlp head");
  assertAlmostEquals(r.label_free.probe.gap, 0.9 - 0.86, 1e-12);
  // By each run's best fine-tune: simclr keeps its head (validation 93%).
  assertEquals(r.label_free.fine_tune.validationPick.name, "simclr, mlp head");
  assertAlmostEquals(r.label_free.fine_tune.validationPick.testAccuracy, 0.92, 1e-12);
  // RankMe without centring (its paper's): the fixtures' uncentred RankMe is half the centred.
  const paper = methodsLabelFreeChoice(r.runs, "uncentred");
  assertEquals(paper.probe.rankMePick.name, "byol, mlp head");
  assertEquals(paper.probe.rankMePick.rankMe, 11);
});

Deno.test("methodsTables: every table, the skips as dashes; ablationTables includes them", () => {
  const r = fakeResults();
  const md = methodsTables(r);
  assert(
    md.includes(
      "| simclr | mlp | — | 20.0 | 7.0 | 0.80 | 90.0% | 80.0% | no | 91.0% | 92.0% | 93.0% |",
    ),
    md,
  );
  assert(
    md.includes(
      "| simsiam | mlp | off | 1.1 | 1.0 | 0.02 | 12.0% | 11.0% | **yes** | 50.0% | — | 40.0% |",
    ),
    md,
  );
  assert(md.includes("78.0% at 300 steps (the fine-tunes' budget)"), md);
  assert(
    md.includes(
      "| simclr, mlp head | 91.0% (val 90.0%) | 92.0% (val 93.0%) | 93.0% (val 92.0%) | keep | +14.0 |",
    ),
    md,
  );
  assert(
    md.includes(
      "| byol, none head, no predictor | 0.0 | 0.0 | 0.0 | 0.0 | 0.50 | 0.80 | 10.0% | **yes** |",
    ),
    md,
  );
  assert(md.includes("| RankMe (no labels) | byol, mlp head | 22.0 |"), md);
  assert(md.includes("RankMe without centring (its paper's)"), md);
  assert(md.includes("| RankMe (no labels) | byol, mlp head | 11.0 |"), md);
  const all = ablationTables({ methods: r } as Parameters<typeof ablationTables>[0]);
  assertEquals(all, md);
  assert(!md.includes("linear eval"), "no linear-evaluation column for an earlier version's runs");
});

Deno.test("methodsRunsTable: the linear evaluation's column when every run has it", () => {
  const md = methodsTables(fakeResults(true));
  assert(
    md.includes(
      "| simclr | mlp | — | 20.0 | 7.0 | 0.80 | 90.0% | 80.0% | 95.0% | no | 91.0% | 92.0% | 93.0% |",
    ),
    md,
  );
  assert(md.includes("a linear classifier on h trained with 20000 labelled pool images"), md);
  const means = runMeans(fakeResults(true).runs);
  assertAlmostEquals(means[0].linear_eval!.z.test, 0.9, 1e-12);
  // One run without it (an earlier version's): no column rather than a wrong one.
  const mixed = fakeResults(true);
  delete mixed.runs[0].linear_eval;
  assert(!methodsTables(mixed).includes("linear eval h"));
  assertEquals(runMeans(mixed.runs)[0].linear_eval, undefined);
});

Deno.test("methodsFigures: six plain-JSON figures of each method's own run", () => {
  const r = fakeResults();
  assertEquals(ownRuns(r).map((x) => x.key), ["simclr-mlp", "simsiam-mlp-pred", "byol-mlp-pred"]);
  const figs = methodsFigures(r);
  assertEquals(figs.length, 6);
  for (const f of figs) {
    assertEquals(JSON.parse(JSON.stringify(f)), f, "plain JSON");
    assert(f.data.length > 0);
  }
  assertEquals(figs[0].data.length, 6, "h and z per method");
  assertEquals((figs[0].layout.yaxis as { type: string }).type, "log");
  assertEquals(figs[1].data[0].x, ["h", "block 1", "z"]);
  assertEquals(figs[3].data.map((d) => d.name), [
    "rotation from h",
    "rotation from z",
    "mirror from h",
    "mirror from z",
  ]);
  assertEquals(figs[4].data[1].y, [92, null, null], "keep: SimCLR only (10 outputs)");
  assertEquals(figs[4].data.at(-1)!.y, [78, 78, 78], "the strong baseline's line");
  assertEquals(figs[5].data[0].x, [
    "simsiam, mlp head",
    "simsiam, mlp head, no predictor",
    "byol, mlp head",
    "byol, none head, no predictor",
  ]);
});
