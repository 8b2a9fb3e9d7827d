/**
 * The experiment's outputs: the results JSON of CONTRACT.md and the table
 * printed beside the article's figures.
 *
 * @example
 * ```ts
 * import { bestOf, SSL_ARMS, verdictLines } from "./report.ts";
 * const r = {
 *   arms: {
 *     pixels_linear: { test_accuracy: [0.80], backbone: "pixels" },
 *     ssl_distilled: { test_accuracy: [0.96, 0.95], backbone: "cnn" },
 *     linear_probe: { test_accuracy: [0.89, 0.88], backbone: "cnn" },
 *   },
 * };
 * console.log(bestOf(r, SSL_ARMS)); // { arm: "ssl_distilled", mean: 0.955 }
 * console.log(verdictLines(r).join("\n")); // the best SSL arm against the pixels, in words
 * ```
 *
 * printed beside the article's figures.
 *
 * @module
 */
import type { Provenance } from "../provenance.ts";
import { meanAndSpread } from "../eval/metrics.ts";
import type { ExperimentConfig } from "./recipe.ts";
import { type BaselinesConfig, baselinesFor } from "./baselines.ts";
import {
  type Arm,
  ARM_TITLES,
  ARMS,
  armsWhere,
  ARTICLE_FIGURES,
  PRETRAINED_ARMS,
} from "./arm_table.ts";
import { armBackbone } from "./arms.ts";

export { ARM_TITLES, ARTICLE_FIGURES } from "./arm_table.ts";
import type { SeedResult } from "./run_seed.ts";

/** The order of the table's rows: the arm table's (baselines first, then the SSL arms). */
export const TABLE_ARMS: readonly Arm[] = ARMS;

/** The arms that use SSL pre-training: compared with both supervised baselines in the table. */
export const SSL_ARMS: readonly Arm[] = PRETRAINED_ARMS;

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** The raw-pixel baselines. */
export const PIXEL_ARMS: readonly Arm[] = armsWhere((a) => a.uses === "pixels");

/** The arms fine-tuned from the pre-trained backbone. */
export const FINE_TUNED_SSL_ARMS: readonly Arm[] = armsWhere((a) =>
  a.uses === "pretraining" && a.fineTuned
);

/** The arm of `arms` with the highest mean test accuracy, if any ran. */
export function bestOf(
  r: Pick<ExperimentResults, "arms">,
  arms: readonly Arm[],
): { arm: Arm; mean: number } | undefined {
  let best: { arm: Arm; mean: number } | undefined;
  for (const arm of arms) {
    const values = r.arms[arm]?.test_accuracy ?? [];
    if (values.length === 0) continue;
    const mean = meanAndSpread(values).mean;
    if (!best || mean > best.mean) best = { arm, mean };
  }
  return best;
}

/**
 * What the table says, in plain words: whether the best SSL arm beats the
 * best raw-pixel baseline (the deep model earns its keep, or it does not),
 * and whether fine-tuning beats the linear probe on the same features (if
 * not, the probe is the arm to use). Reports test means; chooses nothing.
 */
export function verdictLines(r: Pick<ExperimentResults, "arms">): string[] {
  const lines: string[] = [];
  const ssl = bestOf(r, SSL_ARMS);
  const pixel = bestOf(r, PIXEL_ARMS);
  const name = (b: { arm: Arm; mean: number }) => `${b.arm} (${pct(b.mean)})`;
  if (ssl && pixel) {
    const d = ((ssl.mean - pixel.mean) * 100).toFixed(1);
    lines.push(
      ssl.mean > pixel.mean
        ? `The best SSL arm, ${name(ssl)}, beats the best raw-pixel baseline, ${
          name(pixel)
        }, by ${d} points: the deep model earns its keep.`
        : `The best SSL arm, ${name(ssl)}, does NOT beat the best raw-pixel baseline, ${
          name(pixel)
        } (${d} points): on this data and budget a classifier on the raw pixels does as well.`,
    );
  }
  const tuned = bestOf(r, FINE_TUNED_SSL_ARMS);
  const probe = bestOf(r, ["linear_probe"]);
  if (tuned && probe && probe.mean > tuned.mean) {
    lines.push(
      `Fine-tuning does not beat the linear probe on the same features: the best arm here is ` +
        `linear_probe (${pct(probe.mean)}, fine-tuned best ${name(tuned)}).`,
    );
  }
  return lines;
}

/** The results JSON written by `deno task experiment --out FILE`. */
export interface ExperimentResults {
  dataset: string;
  labels: number;
  seeds: number[];
  quick: boolean;
  /**
   * Every arm that ran, with the backbone it trained (`cnn`, `article`, ..., or `pixels`); an
   * arm the recipe could not run has no accuracies and says why.
   */
  arms: Partial<Record<Arm, { test_accuracy: number[]; backbone: string; skipped?: string }>>;
  /** Seconds; `arms`: per arm, one figure per seed (training and scoring it). */
  timing_s: {
    pretrain: number;
    total: number;
    per_seed: number[];
    arms: Partial<Record<Arm, number[]>>;
  };
  validation: number;
  pretrain_loss: number[][];
  /** Per seed, per epoch: what pre-training measured (`lib/eval/monitor.ts`). */
  pretrain_metrics: {
    contrastive_accuracy: number | null;
    knn_accuracy: number | null;
    z_std: number | null;
  }[][];
  config: ExperimentConfig;
  /** The settings of the two supervised baselines (`baselines.ts`). */
  baselines: BaselinesConfig;
  backend: string;
  date: string;
  /** The command and machine that made it (written by `deno task experiment --out`). */
  made_by?: Provenance;
}

/** Builds the results JSON from per-seed results. */
export function toResults(
  config: ExperimentConfig,
  seeds: SeedResult[],
  backend: string,
  totalSeconds: number,
): ExperimentResults {
  const arms: ExperimentResults["arms"] = {};
  for (const a of ARMS) {
    const skipped = seeds.map((s) => s.skipped?.[a]).find((why) => why !== undefined);
    const values = seeds.map((s) => s.testAccuracy[a]).filter((v) => v !== undefined);
    const backbone = armBackbone(config, a);
    if (skipped !== undefined) arms[a] = { test_accuracy: [], backbone, skipped };
    else if (values.length > 0) arms[a] = { test_accuracy: values, backbone };
  }
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
      arms: Object.fromEntries(
        ARMS.filter((a) => seeds.some((s) => s.timing.arms?.[a] !== undefined))
          .map((a) => [a, seeds.map((s) => s.timing.arms?.[a] ?? 0)]),
      ),
    },
    validation: config.validation,
    pretrain_loss: seeds.map((s) => s.pretrainHistory.map((e) => e.loss)),
    pretrain_metrics: seeds.map((s) =>
      s.pretrainHistory.map((e) => ({
        contrastive_accuracy: e.contrastiveAccuracy ?? null,
        knn_accuracy: e.knnAccuracy ?? null,
        z_std: e.zStd ?? null,
      }))
    ),
    config,
    baselines: baselinesFor(config),
    backend,
    date: new Date().toISOString(),
  };
}

/** The difference of the means of two lists, in points ("+3.4", "-0.7"). */
function points(a: number[], b: number[]): string {
  const d = (meanAndSpread(a).mean - meanAndSpread(b).mean) * 100;
  return `${d >= 0 ? "+" : ""}${d.toFixed(1)}`;
}

/**
 * A Markdown table: each arm's backbone, mean ± std over seeds, the per-seed figures, the
 * article's figure (MNIST with 200 labels only), and for every SSL arm its gain, in points,
 * over the strong supervised baseline of the same backbone and over self-training without
 * pre-training (the control that tells what pre-training adds); for every arm its gain over the
 * best raw-pixel baseline.
 */
export function resultsTable(r: ExperimentResults): string {
  const rows = [
    `| arm | backbone | test accuracy, mean ± std (${r.seeds.length} seed${
      r.seeds.length > 1 ? "s" : ""
    }) | per seed | article | vs strong supervised baseline | vs self-training without SSL | vs best pixel baseline |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  const scored = (a: Arm) => (r.arms[a]?.test_accuracy.length ?? 0) > 0;
  const versus = (arm: Arm, baseline: Arm) =>
    SSL_ARMS.includes(arm) && scored(arm) && scored(baseline)
      ? `${points(r.arms[arm]!.test_accuracy, r.arms[baseline]!.test_accuracy)} points`
      : "—";
  const pixel = bestOf(r, PIXEL_ARMS)?.arm;
  for (const arm of TABLE_ARMS.filter((a) => r.arms[a] !== undefined)) {
    const { test_accuracy: values, skipped, backbone } = r.arms[arm]!;
    if (skipped !== undefined) {
      rows.push(`| ${ARM_TITLES[arm]} | ${backbone} | skipped: ${skipped} | — | — | — | — | — |`);
      continue;
    }
    const s = meanAndSpread(values);
    // The article's figures are for MNIST with 200 labels only.
    const article = r.dataset === "mnist" && r.labels === 200 ? ARTICLE_FIGURES[arm] : undefined;
    rows.push(
      `| ${ARM_TITLES[arm]} | ${backbone} | ${pct(s.mean)} ± ${(s.std * 100).toFixed(1)} | ${
        values.map(pct).join(", ")
      } | ${article === undefined ? "—" : pct(article)} | ${versus(arm, "supervised_strong")} | ${
        versus(arm, "self_trained")
      } | ${
        pixel && !PIXEL_ARMS.includes(arm)
          ? `${points(values, r.arms[pixel]!.test_accuracy)} points`
          : "—"
      } |`,
    );
  }
  return rows.join("\n");
}
