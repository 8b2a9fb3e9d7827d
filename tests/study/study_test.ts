import { initBackend } from "../../lib/backend.ts";
import { projectionHead } from "../../lib/models/heads/projection_heads.ts";
import {
  fullAblation,
  HEAD_KINDS,
  headConfig,
  parseParts,
  PARTS,
  quickAblation,
} from "../../lib/study/recipe.ts";
import {
  type AblationResults,
  ablationTables,
  chooseBestByDev,
  formatMeanStd,
  formatPoints,
  headsTable,
  labelsTable,
  type RunSummary,
  temperatureTable,
} from "../../lib/study/report.ts";
import {
  headStudyFigure,
  labelBudgetFigure,
  studyFigures,
  temperatureFigure,
} from "../../lib/study/charts.ts";
import { drawLabelled } from "../../lib/study/study.ts";
import { recipeFor } from "../../lib/experiment/recipe.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

/** A run whose every accuracy is `test` on the test set and `dev` on the dev holdout. */
function run(test: number[], dev: number[]): RunSummary {
  const f = () => ({
    linear_probe: { test: [...test], dev: [...dev] },
    knn: { test: test.map((v) => v - 0.1), dev: [...dev] },
  });
  return {
    h: f(),
    z: f(),
    pretrain_loss: test.map(() => [6, 5]),
    pretrain_s: test.map(() => 1),
    zero_h_fraction: test.map(() => 0),
  };
}

/** Synthetic results of a 2-seed study with every part. */
function fakeResults(): AblationResults {
  const config = quickAblation();
  return {
    kind: "ablation",
    dataset: "mnist",
    quick: true,
    seeds: [0, 1],
    parts: [...PARTS],
    budget: {
      pretrain_epochs: 2,
      batch_size: 512,
      max_steps_per_epoch: null,
      unlabelled: 58800,
      labels: 200,
      dev: 1000,
      test: 10000,
    },
    selection: "dev",
    heads: {
      temperature: 0.2,
      results: {
        none: run([0.7, 0.72], [0.6, 0.6]),
        linear: run([0.8, 0.8], [0.7, 0.7]),
        mlp1: run([0.9, 0.92], [0.75, 0.77]),
        mlp2: run([0.85, 0.87], [0.8, 0.8]),
      },
      best: "mlp2",
      no_pretraining: run([0.6, 0.6], [0.55, 0.55]),
    },
    temperature: {
      head: "mlp2",
      results: [0.1, 0.2, 0.5, 1].map((t, i) => ({
        temperature: t,
        reused: t === 0.2,
        ...run([0.8 + i / 100, 0.82], [0.7, 0.7 + i / 100]),
      })),
      best: 1,
    },
    labels: {
      head: "mlp-bn:128,classes",
      temperature: 0.2,
      budgets: [20, 200, 1000].map((b, i) => ({
        labels: b,
        seconds: [60, 60],
        arms: {
          pixels_linear: { test_accuracy: [0.2 + i * 0.3, 0.22 + i * 0.3] },
          pixels_knn: { test_accuracy: [0.25 + i * 0.3, 0.25 + i * 0.3] },
          supervised_strong: { test_accuracy: [0.3 + i * 0.3, 0.32 + i * 0.3] },
          self_trained: { test_accuracy: [0.35 + i * 0.3, 0.35 + i * 0.3] },
          ssl_new_head: { test_accuracy: [0.4 + i * 0.28, 0.42 + i * 0.28] },
          ssl_distilled: { test_accuracy: [0.38 + i * 0.28, 0.38 + i * 0.28] },
        },
      })),
    },
    timing_s: { total: 1, pretrain: 1, heads: 1, temperature: 1, labels: 1 },
    config,
    backend: "wasm",
    date: "2026-01-01",
  };
}

Deno.test("the best head and temperature are chosen on dev accuracy, never on test", () => {
  const r = fakeResults();
  // mlp1 has the best test accuracy, mlp2 the best dev accuracy: mlp2 must win.
  const best = chooseBestByDev(HEAD_KINDS.map((h) => ({ key: h, scores: r.heads!.results[h] })));
  assertEquals(best.key, "mlp2");
  assertAlmostEquals(best.devMean, 0.8);
  // Ties go to the earlier candidate.
  const tie = chooseBestByDev([
    { key: "a", scores: run([0.1], [0.5]) },
    { key: "b", scores: run([0.9], [0.5]) },
  ]);
  assertEquals(tie.key, "a");
  assertThrows(() => chooseBestByDev([]), "no candidates");
});

Deno.test("tables show mean ± std per head x feature, temperature and label budget", () => {
  assertEquals(formatMeanStd([0.5, 0.7]), "60.0% ± 14.1");
  assertEquals(formatMeanStd([0.8]), "80.0% ± 0.0");
  assertEquals(formatPoints([0.8], [0.7]), "+10.0");
  assertEquals(formatPoints([0.6], [0.7]), "-10.0");
  const r = fakeResults();
  const heads = headsTable(r);
  assert(heads.includes("| MLP, 2 hidden layers (article) (chosen) | h |"), heads);
  assert(
    heads.includes("| none (z = h) | h = z | 71.0% ± 1.4 | 61.0% ± 1.4 | 60.0% ± 0.0 |"),
    heads,
  );
  assert(
    heads.includes("| no pre-training (random backbone, reference) | h | 60.0% ± 0.0 |"),
    heads,
  );
  assertEquals(
    heads.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| ---")).length,
    1 + 1 + 8,
  );
  const temps = temperatureTable(r);
  assert(temps.includes("| 1 (chosen) |"), temps);
  const labels = labelsTable(r);
  // Budget 20: the best SSL arm is ssl_new_head (41%), the best pixels kNN (25%).
  assert(
    labels.includes(
      "| 20 | 21.0% ± 1.4 | 25.0% ± 0.0 | 31.0% ± 1.4 | 35.0% ± 0.0 | 41.0% ± 1.4 | 38.0% ± 0.0 | +10.0 | +6.0 | +16.0 |",
    ),
    labels,
  );
  assert(labels.includes("| 1000 | "), labels);
  const all = ablationTables(r);
  assert(all.includes(heads) && all.includes(temps) && all.includes(labels));
  // A study of one part prints one table.
  assertEquals(ablationTables({ ...r, heads: undefined, temperature: undefined }), labels);
});

Deno.test("chart objects: grouped bars (head x h/z), temperature and label-budget lines with error bars", () => {
  const r = fakeResults();
  const a = headStudyFigure(r);
  assertEquals(a.data.length, 2);
  assertEquals(a.layout.barmode, "group");
  assertEquals(a.data[0].type, "bar");
  assertEquals((a.data[0].x as string[]).length, 4);
  assertEquals((a.data[0].y as number[])[0], 71);
  assertEquals((a.data[0].error_y as { array: number[] }).array[0], 1.41);
  assertEquals((a.layout.shapes as { y0: number }[])[0].y0, 60);
  const knn = headStudyFigure(r, "knn");
  assertEquals((knn.data[0].y as number[])[0], 61);
  const b = temperatureFigure(r);
  assertEquals(b.data[0].x, [0.1, 0.2, 0.5, 1]);
  assertEquals((b.layout.xaxis as { type: string }).type, "log");
  const c = labelBudgetFigure(r);
  assertEquals(c.data.length, 6, "one line per arm of the curve");
  assertEquals(c.data[0].x, [20, 200, 1000]);
  assertEquals((c.layout.xaxis as { type: string }).type, "log");
  assertEquals((c.data[1].error_y as { visible: boolean }).visible, true);
  // Plain JSON: survives a round trip unchanged.
  for (const fig of [a, b, c]) assertEquals(JSON.parse(JSON.stringify(fig)), fig);
  assertThrows(() => temperatureFigure({ ...r, temperature: undefined }), "no temperature sweep");
  // One figure per part the results have, in the parts' order.
  assertEquals(studyFigures(r), [a, knn, b, c]);
  assertEquals(studyFigures({ ...r, temperature: undefined }), [a, knn, c]);
  assertEquals(
    studyFigures({ ...r, heads: undefined, temperature: undefined, labels: undefined }),
    [],
  );
});

Deno.test("recipe pieces: parts, heads, label budgets, nested label draws", async () => {
  assertEquals(parseParts("labels,heads"), ["heads", "labels"]);
  assertThrows(() => parseParts("heads,colour"), 'unknown part "colour"');
  const full = fullAblation();
  const quick = quickAblation();
  assertEquals(full.heads, [...HEAD_KINDS]);
  assertEquals(full.temperatures, [0.1, 0.2, 0.5, 1.0]);
  assertEquals(full.labelBudgets, [10, 20, 50, 200, 1000]);
  assertEquals(quick.labelBudgets, [10, 50]);
  assert(quick.pretrain.epochs <= full.pretrain.epochs && quick.quick);
  // Every run of the full study has the main experiment's pre-training budget (8 epochs on MNIST).
  assertEquals(full.pretrain, recipeFor("mnist", false).pretrain);
  assertEquals(full.pretrain.epochs, 8);

  await initBackend();
  const widths = HEAD_KINDS.map((k) => {
    const g = projectionHead(headConfig(k, 32, 10, 0));
    const out = g.outputs[0].shape[1];
    const layers = g.layers.length;
    g.dispose();
    return [out, layers];
  });
  assertEquals(widths, [[32, 1], [10, 1], [10, 2], [10, 3]]);

  const labels = new Int32Array(400).map((_, i) => i % 4);
  const small = drawLabelled(labels, 8, 3, true, 4);
  const big = drawLabelled(labels, 40, 3, true, 4);
  assertEquals(small.length, 8);
  assert(Array.from(small).every((i) => big.includes(i)), "budgets of a seed are nested");
  assertEquals(Array.from(small).map((i) => labels[i]).sort(), [0, 0, 1, 1, 2, 2, 3, 3]);
  assertEquals(drawLabelled(labels, "all", 3, true, 4).length, 400);
});

Deno.test("deno task ablation refuses an unknown part with a clear message", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "ablation", "--quick", "--part", "heads,colour"],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(code, 2);
  const msg = new TextDecoder().decode(stderr);
  assert(msg.includes('unknown part "colour"'), msg);
});
