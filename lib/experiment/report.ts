/**
 * The experiment's outputs: the results JSON of CONTRACT.md and the table
 * printed beside the article's figures.
 *
 * @module
 */
import { meanAndSpread } from "../eval/metrics.ts";
import type { ExperimentConfig } from "./recipe.ts";
import { type Arm, ARMS, type SeedResult } from "./run_seed.ts";

/** The article's reported test accuracies (with its selection on the test set). */
export const ARTICLE_FIGURES: Partial<Record<Arm, number>> = {
  supervised: 0.525,
  ssl_same_head: 0.597,
  ssl_new_head: 0.636,
};

/** Plain-words names of the arms for tables and charts. */
export const ARM_TITLES: Record<Arm, string> = {
  supervised: "supervised on the labels only",
  ssl_same_head: "SSL, fine-tuned with the same head",
  ssl_new_head: "SSL, head discarded, new head fine-tuned",
  linear_probe: "SSL, linear probe on frozen h",
  knn: "SSL, kNN on frozen h",
};

/** The results JSON written by `deno task experiment --out FILE`. */
export interface ExperimentResults {
  dataset: string;
  labels: number;
  seeds: number[];
  quick: boolean;
  arms: Record<Arm, { test_accuracy: number[] }>;
  timing_s: { pretrain: number; total: number; per_seed: number[] };
  validation: number;
  pretrain_loss: number[][];
  config: ExperimentConfig;
  backend: string;
  date: string;
}

/** Builds the results JSON from per-seed results. */
export function toResults(
  config: ExperimentConfig,
  seeds: SeedResult[],
  backend: string,
  totalSeconds: number,
): ExperimentResults {
  const arms = Object.fromEntries(
    ARMS.map((a) => [a, { test_accuracy: seeds.map((s) => s.testAccuracy[a]) }]),
  ) as Record<Arm, { test_accuracy: number[] }>;
  return {
    dataset: config.dataset,
    labels: config.labels,
    seeds: seeds.map((s) => s.seed),
    quick: config.quick,
    arms,
    timing_s: {
      pretrain: seeds.reduce((t, s) => t + s.timing.pretrain, 0),
      total: totalSeconds,
      per_seed: seeds.map((s) => s.timing.total),
    },
    validation: config.validation,
    pretrain_loss: seeds.map((s) => s.pretrainHistory.map((e) => e.loss)),
    config,
    backend,
    date: new Date().toISOString(),
  };
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** A Markdown table: each arm's mean ± std over seeds, the per-seed figures and the article's. */
export function resultsTable(r: ExperimentResults): string {
  const rows = [
    `| arm | test accuracy, mean ± std (${r.seeds.length} seed${
      r.seeds.length > 1 ? "s" : ""
    }) | per seed | article |`,
    "| --- | --- | --- | --- |",
  ];
  for (const arm of ARMS) {
    const values = r.arms[arm].test_accuracy;
    const s = meanAndSpread(values);
    const article = ARTICLE_FIGURES[arm];
    rows.push(
      `| ${ARM_TITLES[arm]} | ${pct(s.mean)} ± ${(s.std * 100).toFixed(1)} | ${
        values.map(pct).join(", ")
      } | ${article === undefined ? "—" : pct(article)} |`,
    );
  }
  return rows.join("\n");
}
