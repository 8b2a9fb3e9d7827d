/**
 * The projection-head study's results: the JSON written by
 * `deno task ablation --out FILE`, the choice of the best configuration on
 * the DEV holdout (never the test set), and the Markdown tables printed.
 * Pure functions on plain data, so they are unit-tested without training.
 *
 * @example
 * ```ts
 * import { formatMeanStd, formatPoints } from "./report.ts";
 * console.log(formatMeanStd([0.95, 0.93, 0.94])); // "94.0% ± 1.0"
 * console.log(formatPoints([0.95, 0.93], [0.90, 0.92])); // "+3.0"
 * ```
 *
 * Pure functions on plain data, so they are unit-tested without training.
 *
 * @module
 */
import type { Provenance } from "../provenance.ts";
import { type MethodsPartResults, methodsTables } from "./methods_report.ts";
import { meanAndSpread } from "../eval/metrics.ts";
import { LABEL_CURVE_ARMS, type LabelCurveArm, type LabelCurvePoint } from "./label_curve.ts";
import {
  type AblationConfig,
  type AblationPart,
  FEATURES,
  HEAD_TITLES,
  type HeadKind,
} from "./recipe.ts";

/** One accuracy per seed (in the order of `seeds`) on the test set and on the dev holdout. */
export interface SplitScores {
  /** Reported, never used for a choice. */
  test: number[];
  /** Used to choose the head and the temperature. */
  dev: number[];
}

/** Linear-probe and kNN accuracies of one kind of feature. */
export interface FeatureScores {
  /** Linear probe trained on the labelled images. */
  linear_probe: SplitScores;
  /** kNN vote among the labelled images. */
  knn: SplitScores;
}

/** One pre-training configuration (head, temperature) over all seeds. */
export interface RunSummary {
  /** Features of the backbone (what is kept after pre-training). */
  h: FeatureScores;
  /** Features of the projection head (for head "none", the same as h). */
  z: FeatureScores;
  /** Pre-training loss per epoch, one list per seed. */
  pretrain_loss: number[][];
  /** Pre-training seconds, one per seed. */
  pretrain_s: number[];
  /** Fraction of test images whose h is all zeros, one per seed (1 = collapsed features). */
  zero_h_fraction: number[];
}

/** The results JSON of `deno task ablation`. */
export interface AblationResults {
  /** Tells these results from the experiment's. */
  kind: "ablation";
  /** The dataset spec. */
  dataset: string;
  /** Quick preset? */
  quick: boolean;
  /** Every per-seed list follows this order. */
  seeds: number[];
  /** The parts that ran. */
  parts: AblationPart[];
  /** The fixed SSL budget of every run, and the data sizes. */
  budget: {
    pretrain_epochs: number;
    batch_size: number;
    max_steps_per_epoch: number | null;
    unlabelled: number;
    labels: number;
    dev: number;
    test: number;
  };
  /** How model choices were made (which split). */
  selection: string;
  /** Part 1: results by head kind, and the head chosen on dev. */
  heads?: {
    temperature: number;
    results: Record<string, RunSummary>;
    best: HeadKind;
    /** Reference: the backbone at initialisation, no pre-training (z = h). */
    no_pretraining?: RunSummary;
  };
  /** Part 2: results by temperature (the chosen head), and the temperature chosen on dev. */
  temperature?: {
    head: HeadKind;
    results: (RunSummary & { temperature: number; reused: boolean })[];
    best: number;
  };
  /** Part 3: the label curve (the experiment's arms at every budget) and its recipe's head. */
  labels?: {
    head: string;
    temperature: number;
    budgets: LabelCurvePoint[];
  };
  /** The `methods` part: the projection head across SSL methods (`methods_report.ts`). */
  methods?: MethodsPartResults;
  /** Seconds: in all, in pre-training, and per part. */
  timing_s: {
    total: number;
    pretrain: number;
    heads: number;
    temperature: number;
    labels: number;
    methods?: number;
  };
  /** Every setting. */
  config: AblationConfig;
  /** The tfjs backend. */
  backend: string;
  /** When the study finished (ISO 8601). */
  date: string;
  /** The command and machine that made it (written by `deno task ablation --out`). */
  made_by?: Provenance;
}

/** The selection rule, in words (recorded in the JSON). */
export const SELECTION_RULE: string =
  "dev holdout: training images disjoint from the labelled ones and left out of pre-training; " +
  "the head and the temperature with the best mean (over seeds) dev linear-probe accuracy on h " +
  "are chosen (ties: the earlier in the list); the test set is only reported";

/**
 * The candidate with the best mean dev linear-probe accuracy on h (ties go to
 * the earlier candidate). Reads `dev` only: test accuracies never choose.
 */
export function chooseBestByDev<K>(
  candidates: readonly { key: K; scores: RunSummary }[],
): { key: K; devMean: number } {
  if (candidates.length === 0) throw new Error("chooseBestByDev: no candidates");
  let best: { key: K; devMean: number } | undefined;
  for (const c of candidates) {
    const devMean = meanAndSpread(c.scores.h.linear_probe.dev).mean;
    if (!best || devMean > best.devMean) best = { key: c.key, devMean };
  }
  return best!;
}

/** "85.1% ± 1.2" (mean ± sample std over seeds, in points). */
export function formatMeanStd(values: readonly number[]): string {
  const s = meanAndSpread(values);
  return `${(s.mean * 100).toFixed(1)}% ± ${(s.std * 100).toFixed(1)}`;
}

/** "+3.4" / "-0.7": the difference of two means, in points. */
export function formatPoints(a: readonly number[], b: readonly number[]): string {
  const d = (meanAndSpread(a).mean - meanAndSpread(b).mean) * 100;
  return `${d >= 0 ? "+" : ""}${d.toFixed(1)}`;
}

/** Mean share of test images whose h is all zeros (collapsed features), in percent. */
const zeroShare = (s: RunSummary) =>
  s.zero_h_fraction ? `${(meanAndSpread(s.zero_h_fraction).mean * 100).toFixed(1)}%` : "—";

const seedsNote = (n: number) => `${n} seed${n === 1 ? "" : "s"}`;

/** The head study as a Markdown table: head x features, probe and kNN on test, probe on dev. */
export function headsTable(r: AblationResults): string {
  if (!r.heads) return "";
  const rows = [
    `| projection head | features | linear probe, test | kNN, test | linear probe, dev (selects) | ` +
    `test images with h = 0 |`,
    "| --- | --- | --- | --- | --- | --- |",
  ];
  const none = r.heads.no_pretraining;
  if (none) {
    rows.push(
      `| no pre-training (random backbone, reference) | h | ${
        formatMeanStd(none.h.linear_probe.test)
      } | ${formatMeanStd(none.h.knn.test)} | ${formatMeanStd(none.h.linear_probe.dev)} | ${
        zeroShare(none)
      } |`,
    );
  }
  for (const [head, s] of Object.entries(r.heads.results)) {
    for (const f of FEATURES) {
      const chosen = head === r.heads.best && f === "h" ? " (chosen)" : "";
      const title = HEAD_TITLES[head as HeadKind] ?? head;
      rows.push(
        `| ${title}${chosen} | ${f}${head === "none" ? " = " + (f === "h" ? "z" : "h") : ""} | ${
          formatMeanStd(s[f].linear_probe.test)
        } | ${formatMeanStd(s[f].knn.test)} | ${formatMeanStd(s[f].linear_probe.dev)} | ${
          f === "h" ? zeroShare(s) : ""
        } |`,
      );
    }
  }
  return [
    `Head study: τ = ${r.heads.temperature}, ${r.budget.pretrain_epochs} SSL epoch(s) at batch ` +
    `${r.budget.batch_size}, ${r.budget.labels} labels, mean ± std over ${
      seedsNote(r.seeds.length)
    }`,
    "",
    ...rows,
  ].join("\n");
}

/** The temperature sweep as a Markdown table. */
export function temperatureTable(r: AblationResults): string {
  if (!r.temperature) return "";
  const rows = [
    "| τ | linear probe h, test | kNN h, test | linear probe z, test | kNN z, test | linear probe h, dev (selects) |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const s of r.temperature.results) {
    const chosen = s.temperature === r.temperature.best ? " (chosen)" : "";
    rows.push(
      `| ${s.temperature}${chosen} | ${formatMeanStd(s.h.linear_probe.test)} | ${
        formatMeanStd(s.h.knn.test)
      } | ${formatMeanStd(s.z.linear_probe.test)} | ${formatMeanStd(s.z.knn.test)} | ${
        formatMeanStd(s.h.linear_probe.dev)
      } |`,
    );
  }
  return [
    `Temperature sweep: head ${HEAD_TITLES[r.temperature.head]}, mean ± std over ${
      seedsNote(r.seeds.length)
    }`,
    "",
    ...rows,
  ].join("\n");
}

/** Short names of the label curve's arms, for its table and chart. */
export const CURVE_TITLES: Record<LabelCurveArm, string> = {
  pixels_linear: "pixels, linear",
  pixels_knn: "pixels, kNN",
  supervised_strong: "strong supervised",
  self_trained: "self-training, no SSL",
  ssl_new_head: "SSL + fine-tune",
  ssl_distilled: "SSL + self-training",
};

/**
 * The label curve as a Markdown table: every arm's test accuracy at every budget, and the
 * best SSL arm's gain over the strong supervised baseline, over self-training without
 * pre-training and over the best pixel baseline, in points.
 */
export function labelsTable(r: AblationResults): string {
  if (!r.labels) return "";
  const rows = [
    `| labels | ${LABEL_CURVE_ARMS.map((a) => CURVE_TITLES[a]).join(" | ")} | ` +
    "best SSL − strong | best SSL − self-training | best SSL − best pixels |",
    `| --- | ${LABEL_CURVE_ARMS.map(() => "---").join(" | ")} | --- | --- | --- |`,
  ];
  const mean = (v: number[]) => (v.length ? meanAndSpread(v).mean : NaN);
  for (const p of r.labels.budgets) {
    const acc = (a: LabelCurveArm) => p.arms[a].test_accuracy;
    const best = (arms: LabelCurveArm[]) =>
      arms.reduce((b, a) => (mean(acc(a)) > mean(acc(b)) ? a : b));
    const ssl = best(["ssl_new_head", "ssl_distilled"]);
    const pixels = best(["pixels_linear", "pixels_knn"]);
    rows.push(
      `| ${p.labels} | ${LABEL_CURVE_ARMS.map((a) => formatMeanStd(acc(a))).join(" | ")} | ${
        formatPoints(acc(ssl), acc("supervised_strong"))
      } | ${formatPoints(acc(ssl), acc("self_trained"))} | ${
        formatPoints(acc(ssl), acc(pixels))
      } |`,
    );
  }
  return [
    `Label curve: test accuracy, final models, no validation images, the experiment's recipe ` +
    `(head ${r.labels.head}, τ = ${r.labels.temperature}; one pre-training per seed), ` +
    `mean ± std over ${seedsNote(r.seeds.length)}`,
    "",
    ...rows,
  ].join("\n");
}

/** Every table of the results, separated by blank lines. */
export function ablationTables(r: AblationResults): string {
  return [
    headsTable(r),
    temperatureTable(r),
    labelsTable(r),
    r.methods ? methodsTables(r.methods) : "",
  ]
    .filter((t) => t !== "").join("\n\n");
}
