import { decayTo } from "../../lib/train/schedule.ts";
import {
  baselinesFor,
  fullBaselines,
  quickBaselines,
  STRONG_CANDIDATES,
  STRONG_TUNING,
} from "../../lib/experiment/baselines.ts";
import { ARMS } from "../../lib/experiment/run_seed.ts";
import { resultsTable, TABLE_ARMS, toResults } from "../../lib/experiment/report.ts";
import { quickRecipe, recipeFor } from "../../lib/experiment/recipe.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

Deno.test("baselines: the article's recipe as published, the strong one chosen on the dev holdout", () => {
  const full = fullBaselines();
  assertEquals(full.article.config.optimizer, "sgd");
  assertEquals(full.article.config.learningRate, 0.001);
  assertEquals(full.article.config.momentum, 0.9);
  assertEquals(full.article.config.batchSize, 64);
  assertEquals(full.article.augment, { preset: "none" });
  assertEquals(full.article.select, "final");
  assertEquals(full.article.backbone, { kind: "article" }, "the article's own CNN");
  assertEquals(full.strong, STRONG_CANDIDATES[STRONG_TUNING.chosen]);
  assertEquals(
    full.strong.backbone,
    undefined,
    "the strong baseline trains the SSL arms' backbone",
  );
  assertEquals(full.strong.config.optimizer, "adamw");
  // Every candidate was tried, and the chosen one has the best dev holdout figure.
  for (const figures of [STRONG_TUNING.validationAccuracy, STRONG_TUNING.devAccuracy]) {
    assertEquals(Object.keys(figures).sort(), Object.keys(STRONG_CANDIDATES).sort());
  }
  const best = Object.entries(STRONG_TUNING.devAccuracy).sort((a, b) => b[1] - a[1])[0];
  assertEquals(best[0], STRONG_TUNING.chosen);
  const quick = quickBaselines();
  assert(quick.article.config.epochs! < full.article.config.epochs!);
  assert((quick.strong.config.steps as number) < (full.strong.config.steps as number));
  assertAlmostEquals(Math.pow(decayTo(0.05, 300), 299), 0.05, 1e-9);
  assertEquals(decayTo(0.05, 1), 1);
  assertThrows(() => decayTo(0, 10), "finalFraction");
  // Another dataset: the strong recipe augments with the recipe's fine-tune augmentation.
  const fashion = recipeFor("fashion-mnist", false);
  assertEquals(baselinesFor(fashion).strong.augment, { preset: "affine-flip", strength: 1 });
  assertEquals(baselinesFor(recipeFor("mnist", false)).strong.augment, full.strong.augment);
});

Deno.test("the experiment's table shows both baselines and every SSL arm against them", () => {
  const config = quickRecipe();
  const v: Record<string, number> = {
    supervised: 0.7,
    supervised_article: 0.5,
    supervised_strong: 0.8,
    ssl_same_head: 0.75,
    ssl_new_head: 0.85,
    linear_probe: 0.9,
    knn: 0.6,
    ssl_head_layer1: 0.8,
    ssl_distilled: 0.82,
    pixels_linear: 0.6,
    pixels_knn: 0.55,
    self_trained: 0.83,
  };
  const seed = (s: number) => ({
    seed: s,
    testAccuracy: Object.fromEntries(ARMS.map((a) => [a, v[a]])) as Record<
      typeof ARMS[number],
      number
    >,
    skipped: {},
    pretrainHistory: [],
    finetune: {} as never,
    timing: { pretrain: 1, total: 2 },
  });
  const r = toResults(config, [seed(0)], "wasm", 2);
  assertEquals(r.arms.supervised_article?.test_accuracy, [0.5]);
  assertEquals(r.arms.supervised_strong?.test_accuracy, [0.8]);
  assertEquals(r.baselines, quickBaselines());
  assertEquals([...TABLE_ARMS].sort(), [...ARMS].sort());
  const table = resultsTable(r);
  const lines = table.split("\n");
  assertEquals(lines.length, 2 + ARMS.length);
  assert(
    lines[0].includes(
      "| vs strong supervised baseline | vs self-training without SSL | vs best pixel baseline |",
    ),
    lines[0],
  );
  assert(lines[2].startsWith("| pixels, linear classifier"), lines[2]);
  assert(lines[4].startsWith("| supervised, the article's CNN and recipe"), lines[4]);
  assertEquals(r.arms.supervised_article?.backbone, "article");
  assertEquals(r.arms.ssl_new_head?.backbone, "cnn");
  assertEquals(r.arms.pixels_knn?.backbone, "pixels");
  assert(
    table.includes(
      "| SSL, head discarded, new head fine-tuned | cnn | 85.0% ± 0.0 | 85.0% | 63.6% | +5.0 points | +2.0 points | +25.0 points |",
    ),
    table,
  );
  assert(
    table.includes(
      "| SSL, kNN on frozen h | cnn | 60.0% ± 0.0 | 60.0% | — | -20.0 points | -23.0 points | +0.0 points |",
    ),
    table,
  );
  assert(
    table.includes(
      "| supervised on the labels only (no augmentation) | cnn | 70.0% ± 0.0 | 70.0% | 52.5% | — | — | +10.0 points |",
    ),
    table,
  );
});
