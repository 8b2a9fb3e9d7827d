import { ARMS } from "../../lib/experiment/run_seed.ts";
import { resultsTable, toResults } from "../../lib/experiment/report.ts";
import { fullRecipe, quickRecipe } from "../../lib/experiment/recipe.ts";
import { makeAugmenter } from "../../lib/augment/presets.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

Deno.test("the results JSON has CONTRACT.md's keys and the table shows mean ± std and the article", () => {
  const config = quickRecipe();
  const seed = (s: number, v: number) => ({
    seed: s,
    testAccuracy: Object.fromEntries(ARMS.map((a) => [a, v])) as Record<
      typeof ARMS[number],
      number
    >,
    skipped: {},
    pretrainHistory: [],
    finetune: {} as never,
    timing: { pretrain: 10, total: 20 },
  });
  const r = toResults(config, [seed(0, 0.5), seed(1, 0.7)], "wasm", 41);
  assertEquals(Object.keys(r.arms).sort(), [...ARMS].sort());
  assertEquals(r.arms.knn?.test_accuracy, [0.5, 0.7]);
  assertEquals(r.seeds, [0, 1]);
  assertEquals(r.timing_s.pretrain, 20);
  assertEquals(r.timing_s.total, 41);
  assertEquals(r.dataset, "mnist");
  assertEquals(r.labels, 200);
  const table = resultsTable(r);
  assert(
    table.includes(
      "| supervised on the labels only (no augmentation) | cnn | 60.0% ± 14.1 | 50.0%, 70.0% | 52.5% |",
    ),
    table,
  );
  assert(table.includes("SSL, kNN on frozen h | cnn | 60.0% ± 14.1 | 50.0%, 70.0% | — |"), table);
  // The article's figures are MNIST's at 200 labels: never beside another dataset or budget.
  for (const other of [{ ...r, dataset: "fashion-mnist" }, { ...r, labels: 20 }]) {
    assert(
      resultsTable(other).includes(
        "| supervised on the labels only (no augmentation) | cnn | 60.0% ± 14.1 | 50.0%, 70.0% | — |",
      ),
    );
  }
});

Deno.test("recipes: quick is a cut-down full recipe; augmenters follow the preset", () => {
  const full = fullRecipe();
  const quick = quickRecipe();
  assert(quick.quick && !full.quick);
  assert(quick.pretrain.epochs < full.pretrain.epochs);
  assertEquals(quick.pretrain.temperature, full.pretrain.temperature);
  assertEquals(makeAugmenter({ preset: "none" }, [28, 28, 1]), undefined);
  const aug = makeAugmenter({ preset: "digits", strength: 1 }, [28, 28, 1])!;
  const img = new Float32Array(2 * 784).map((_, i) => (i % 28) / 28);
  const [a, b] = aug.twoViews(img, 2, new Rng(1));
  assert(a.some((v, i) => v !== b[i]), "the two views differ");
  const identity = makeAugmenter({ preset: "digits", strength: 0 }, [28, 28, 1])!;
  assertEquals(identity.oneView(img, 2, new Rng(1)), img);
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => makeAugmenter({ preset: "wild" as any }, [28, 28, 1]),
    "unknown augmentation preset",
  );
});

Deno.test("deno task experiment refuses an unknown dataset with a clear message", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "experiment", "--quick", "--dataset", "cifar"],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(code, 2);
  const msg = new TextDecoder().decode(stderr);
  assert(msg.includes('unknown dataset "cifar"'), msg);
  assert(!msg.includes("    at "), "no stack trace");
});
