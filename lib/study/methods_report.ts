/**
 * The `methods` part's results (`deno task ablation --part methods`): one record per
 * pre-training (method, head, predictor, seed) with its probes on h and z, RankMe of h and z
 * on unlabelled images, a collapse flag, the per-layer table (rank, spectrum, probe), the
 * rotation and mirror probes and the fine-tuned accuracies; the strong supervised baseline;
 * and what they say: each method's keep-or-discard answer ({@linkcode keepOrDiscard}), the
 * collapse demos beside their full methods ({@linkcode collapseDemos}), the label-free choice
 * over the sweep ({@linkcode methodsLabelFreeChoice}) and the Markdown tables
 * ({@linkcode methodsTables}). Pure functions on plain data, unit-tested without training.
 *
 * Several seeds are averaged run by run ({@linkcode runMeans}); the full preset has one.
 *
 * @example
 * ```ts
 * import { isCollapsed } from "./methods_report.ts";
 * isCollapsed({ rankH: 1.1, rankZ: 1.0, spreadZ: 0.8 }, 2, 0.1); // true: about one direction
 * isCollapsed({ rankH: 18.4, rankZ: 7.2, spreadZ: 0.02 }, 2, 0.1); // true: every z alike
 * isCollapsed({ rankH: 18.4, rankZ: 7.2, spreadZ: 0.8 }, 2, 0.1); // false
 * ```
 *
 * @module
 */
import { meanAndSpread } from "../eval/metrics.ts";
import type { SslMethod } from "../train/ssl_method.ts";
import {
  type LabelFreeChoice,
  labelFreeChoice,
  labelFreeChoiceMarkdown,
} from "./label_free_choice.ts";
import {
  FINE_TUNE_MODES,
  type FineTuneMode,
  type MethodHeadKind,
  type MethodsPartConfig,
} from "./methods_recipe.ts";

/** A validation (the dev holdout: choices only) and a test accuracy. */
export interface ValTest {
  validation: number;
  test: number;
}

/** One layer of backbone + head, from h to z. */
export interface MethodLayerRow {
  /** `"h"`, `"block 1"`, ..., `"z"`. */
  layer: string;
  depth: number;
  dim: number;
  /** RankMe on the unlabelled images. */
  rank_me: number;
  /** Singular values / the largest, descending (rounded to 4 significant digits). */
  spectrum: number[];
  /** Linear-probe test accuracy of this layer. */
  probe: number;
}

/** One fine-tune of a run, or why it did not apply. */
export interface FineTuneScore {
  mode: FineTuneMode;
  validation?: number;
  test?: number;
  /** Why the mode cannot apply to this run (then no accuracies). */
  skipped?: string;
  seconds?: number;
}

/** One pre-training of the part, scored. */
export interface MethodRunResult {
  name: string;
  key: string;
  method: SslMethod;
  head: MethodHeadKind;
  /** The head as `--head` spells it (`none`, `linear:64`, `mlp-bn:128,64`). */
  head_setting: string;
  /** BYOL and SimSiam: the predictor on or off; `null` for the others. */
  predictor: boolean | null;
  seed: number;
  /** Linear probe on h and on z (for no head, z = h). */
  probe: { h: ValTest; z: ValTest };
  /**
   * The SSL papers' linear evaluation: a linear classifier on h (and z) trained with `images`
   * labelled pool images (`linearEvaluation`); absent in results of earlier versions.
   */
  linear_eval?: { images: number; h: ValTest; z: ValTest };
  /** The run's pre-training learning rate (absent in results of earlier versions). */
  learning_rate?: number;
  /** kNN on h and z, test. */
  knn: { h: number; z: number };
  /** RankMe of h and z on unlabelled images, centred (as `layerDiagnostics`). */
  rank_me: { h: number; z: number };
  /** RankMe without centring (its paper's): about 1 when every image gives the same features. */
  rank_me_uncentred: { h: number; z: number };
  /**
   * SimSiam's collapse measure: the mean per-dimension std of the L2-normalised features
   * times √width (about 1 spread out, 0 when every image gives the same direction).
   */
  spread: { h: number; z: number };
  /** Share of test images whose h is all zeros. */
  zero_h: number;
  /** Uncentred RankMe of h or z below the part's threshold, or the spread of z below its. */
  collapsed: boolean;
  /** h, every block of the head, z. */
  layers: MethodLayerRow[];
  /** Linear probes of the applied quarter-turn and mirror, per layer (unlabelled images). */
  transforms: {
    rotation: { chance: number; accuracy: { layer: string; accuracy: number }[] };
    mirror: { chance: number; accuracy: { layer: string; accuracy: number }[] };
  };
  fine_tune: FineTuneScore[];
  pretrain_loss: number[];
  pretrain_s: number;
  /** Seconds for the whole run (pre-training, scores, fine-tunes). */
  seconds: number;
}

/** The strong supervised baseline at one budget, one value per seed. */
export interface StrongBaseline {
  steps: number;
  /** "the fine-tunes' budget" or "the recipe's budget". */
  what: string;
  validation: number[];
  test: number[];
}

/** The `methods` part's results (in `AblationResults.methods`). */
export interface MethodsPartResults {
  config: MethodsPartConfig;
  seeds: number[];
  /** Labelled images (all train), dev holdout (choices only), test images, unlabelled pool. */
  data: { labels: number; validation: number; test: number; unlabelled: number };
  /** The experiment's strong supervised arm on the same labels. */
  strong: StrongBaseline[];
  runs: MethodRunResult[];
  /** RankMe's pick against the validation pick, on the probe of h and on fine-tuning. */
  label_free: { probe: LabelFreeChoice; fine_tune: LabelFreeChoice };
}

/**
 * Collapse: the uncentred RankMe of h or of z below `rankThreshold` (every image gives about
 * one direction), or the spread of z below `spreadThreshold` (SimSiam's measure).
 */
export function isCollapsed(
  m: { rankH: number; rankZ: number; spreadZ: number },
  rankThreshold: number,
  spreadThreshold: number,
): boolean {
  return m.rankH < rankThreshold || m.rankZ < rankThreshold || m.spreadZ < spreadThreshold;
}

/** A run averaged over its seeds (same name). */
export interface RunMean {
  name: string;
  key: string;
  method: SslMethod;
  head: MethodHeadKind;
  head_setting: string;
  predictor: boolean | null;
  seeds: number;
  probe: { h: ValTest; z: ValTest };
  /** The linear evaluation (see {@linkcode MethodRunResult}), when every seed has it. */
  linear_eval?: { images: number; h: ValTest; z: ValTest };
  rank_me: { h: number; z: number };
  rank_me_uncentred: { h: number; z: number };
  spread: { h: number; z: number };
  collapsed: boolean;
  /** Mean accuracies per mode; `skipped` when the mode does not apply. */
  fine_tune: Record<FineTuneMode, { validation: number; test: number } | { skipped: string }>;
  /** The first seed's layers and transformation probes (the charts'). */
  layers: MethodLayerRow[];
  transforms: MethodRunResult["transforms"];
}

const mean = (v: number[]) => (v.length ? meanAndSpread(v).mean : NaN);

/** The runs averaged over seeds, in the grid's order. */
export function runMeans(runs: readonly MethodRunResult[]): RunMean[] {
  const groups = new Map<string, MethodRunResult[]>();
  for (const r of runs) groups.set(r.name, [...(groups.get(r.name) ?? []), r]);
  return [...groups.values()].map((g) => {
    const first = g[0];
    const vt = (pick: (r: MethodRunResult) => ValTest): ValTest => ({
      validation: mean(g.map((r) => pick(r).validation)),
      test: mean(g.map((r) => pick(r).test)),
    });
    const fineTune = Object.fromEntries(FINE_TUNE_MODES.map((mode) => {
      const scores = g.map((r) => r.fine_tune.find((f) => f.mode === mode));
      const skipped = scores.find((s) => s?.skipped !== undefined || s === undefined);
      if (skipped) return [mode, { skipped: skipped?.skipped ?? "not run" }];
      return [mode, {
        validation: mean(scores.map((s) => s!.validation!)),
        test: mean(scores.map((s) => s!.test!)),
      }];
    })) as RunMean["fine_tune"];
    return {
      name: first.name,
      key: first.key,
      method: first.method,
      head: first.head,
      head_setting: first.head_setting,
      predictor: first.predictor,
      seeds: g.length,
      probe: { h: vt((r) => r.probe.h), z: vt((r) => r.probe.z) },
      ...(g.every((r) => r.linear_eval)
        ? {
          linear_eval: {
            images: first.linear_eval!.images,
            h: vt((r) => r.linear_eval!.h),
            z: vt((r) => r.linear_eval!.z),
          },
        }
        : {}),
      rank_me: { h: mean(g.map((r) => r.rank_me.h)), z: mean(g.map((r) => r.rank_me.z)) },
      rank_me_uncentred: {
        h: mean(g.map((r) => r.rank_me_uncentred.h)),
        z: mean(g.map((r) => r.rank_me_uncentred.z)),
      },
      spread: { h: mean(g.map((r) => r.spread.h)), z: mean(g.map((r) => r.spread.z)) },
      collapsed: g.some((r) => r.collapsed),
      fine_tune: fineTune,
      layers: first.layers,
      transforms: first.transforms,
    };
  });
}

/** The validation and test accuracy of a mode, or `undefined` when it was skipped. */
export function modeScore(run: RunMean, mode: FineTuneMode): ValTest | undefined {
  const s = run.fine_tune[mode];
  return "skipped" in s ? undefined : s;
}

/** The run's best fine-tune on validation (ties: the earlier mode). */
export function bestMode(run: RunMean): { mode: FineTuneMode; score: ValTest } {
  let best: { mode: FineTuneMode; score: ValTest } | undefined;
  for (const mode of FINE_TUNE_MODES) {
    const s = modeScore(run, mode);
    if (s && (!best || s.validation > best.score.validation)) best = { mode, score: s };
  }
  return best!; // discard always runs
}

/**
 * The label-free choice over the sweep: RankMe of h against the validation accuracy of the
 * linear probe on h, and against the validation accuracy of the best fine-tune of each run.
 * RankMe centred (`"centred"`, as `layerDiagnostics`; what the results JSON stores) or without
 * centring (`"uncentred"`, RankMe's paper).
 */
export function methodsLabelFreeChoice(
  runs: readonly MethodRunResult[],
  rank: "centred" | "uncentred" = "centred",
): { probe: LabelFreeChoice; fine_tune: LabelFreeChoice } {
  const means = runMeans(runs);
  const sweep = (score: (r: RunMean) => ValTest) =>
    labelFreeChoice(means.map((r) => ({
      name: r.name,
      rankMe: rank === "centred" ? r.rank_me.h : r.rank_me_uncentred.h,
      validationAccuracy: score(r).validation,
      testAccuracy: score(r).test,
    })));
  return { probe: sweep((r) => r.probe.h), fine_tune: sweep((r) => bestMode(r).score) };
}

/** A method's answer: how to fine-tune it (its own head, predictor on), chosen on validation. */
export interface KeepOrDiscard {
  method: SslMethod;
  run: string;
  /** Every mode's accuracies, or why it was skipped. */
  modes: RunMean["fine_tune"];
  /** The mode best on validation. */
  chosen: FineTuneMode;
  /** Its test accuracy minus the strong baseline's at the same budget, in points. */
  againstStrong: number;
}

/** Each method's keep-or-discard answer, on its own head (MLP) with its predictor. */
export function keepOrDiscard(results: MethodsPartResults): KeepOrDiscard[] {
  const means = runMeans(results.runs);
  const strong = mean(results.strong[0]?.test ?? []);
  const out: KeepOrDiscard[] = [];
  for (const method of results.config.methods) {
    const run = means.find((r) => r.method === method && r.head === "mlp" && r.predictor !== false);
    if (!run) continue;
    const best = bestMode(run);
    out.push({
      method,
      run: run.name,
      modes: run.fine_tune,
      chosen: best.mode,
      againstStrong: (best.score.test - strong) * 100,
    });
  }
  return out;
}

/** A collapse demo beside the full method it removes a part of. */
export interface CollapseDemo {
  what: string;
  demo: RunMean;
  full: RunMean;
}

/** The demos of the grid: SimSiam without its predictor, BYOL without head and predictor. */
export const COLLAPSE_DEMOS = [
  { what: "SimSiam without its predictor", demo: "simsiam-mlp-nopred", full: "simsiam-mlp-pred" },
  {
    what: "BYOL without head or predictor",
    demo: "byol-none-nopred",
    full: "byol-mlp-pred",
  },
] as const;

/** The collapse demos the results hold, each beside its full method. */
export function collapseDemos(runs: readonly MethodRunResult[]): CollapseDemo[] {
  const means = runMeans(runs);
  const byKey = (k: string) => means.find((r) => r.key === k);
  return COLLAPSE_DEMOS.flatMap((d) => {
    const demo = byKey(d.demo);
    const full = byKey(d.full);
    return demo && full ? [{ what: d.what, demo, full }] : [];
  });
}

const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : "—");
const rank = (v: number) => v.toFixed(1);
const pred = (p: boolean | null) => (p === null ? "—" : p ? "on" : "off");

/** The whole sweep: one row a run. */
export function methodsRunsTable(results: MethodsPartResults): string {
  const means = runMeans(results.runs);
  const evalImages = means.every((r) => r.linear_eval) ? means[0]?.linear_eval?.images : undefined;
  const rows = [
    "| method | head | predictor | RankMe h | RankMe z | spread z | probe h | probe z | " +
    (evalImages ? "linear eval h | " : "") + "collapsed | discard | keep | keep-k |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | " + (evalImages ? "--- | " : "") +
    "--- | --- | --- | --- |",
  ];
  for (const r of means) {
    const ft = (m: FineTuneMode) => {
      const s = modeScore(r, m);
      return s ? pct(s.test) : "—";
    };
    rows.push(
      `| ${r.method} | ${r.head_setting} | ${pred(r.predictor)} | ${rank(r.rank_me.h)} | ${
        rank(r.rank_me.z)
      } | ${r.spread.z.toFixed(2)} | ${pct(r.probe.h.test)} | ${pct(r.probe.z.test)} | ${
        evalImages ? `${pct(r.linear_eval!.h.test)} | ` : ""
      }${r.collapsed ? "**yes**" : "no"} | ${ft("discard")} | ${ft("keep")} | ${ft("keep-k")} |`,
    );
  }
  const strong = results.strong.map((s) => `${pct(mean(s.test))} at ${s.steps} steps (${s.what})`)
    .join(", ");
  return [
    `Methods: ${results.data.labels} labels, test accuracy on ${results.data.test} images ` +
    `(RankMe, centred, and the spread of the normalised z on unlabelled images; ` +
    (evalImages
      ? `linear eval: the SSL papers' linear evaluation, a linear classifier on h trained with ` +
        `${evalImages} labelled pool images; `
      : "") +
    `fine-tunes of ${results.config.finetune.steps} steps; keep: ` +
    `the head is the classifier; keep-k: its first ${results.config.keepLayers} layer(s) + a new ` +
    `classifier; — : does not apply). ${seedWords(results.seeds.length)}. The strong ` +
    `supervised baseline: ${strong}.`,
    "",
    ...rows,
  ].join("\n");
}

const seedWords = (n: number) => n === 1 ? "One seed" : `Mean over ${n} seeds`;

/** Each method's keep-or-discard answer as a table. */
export function keepOrDiscardTable(results: MethodsPartResults): string {
  const answers = keepOrDiscard(results);
  if (answers.length === 0) return "";
  const steps = results.strong[0]?.steps ?? results.config.finetune.steps;
  const rows = [
    "| method (own head) | discard | keep | keep-k | chosen on validation | " +
    `− strong supervised (${steps} steps) |`,
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const a of answers) {
    const cell = (m: FineTuneMode) => {
      const s = a.modes[m];
      return "skipped" in s ? "—" : `${pct(s.test)} (val ${pct(s.validation)})`;
    };
    const d = a.againstStrong;
    rows.push(
      `| ${a.run} | ${cell("discard")} | ${cell("keep")} | ${cell("keep-k")} | ${a.chosen} | ${
        d >= 0 ? "+" : ""
      }${d.toFixed(1)} |`,
    );
  }
  return [
    "Keep or discard the head: each method's own head and predictor, test accuracy " +
    "(validation on the dev holdout chooses)",
    "",
    ...rows,
  ].join("\n");
}

/** The collapse demos as a table. */
export function collapseTable(results: MethodsPartResults): string {
  const demos = collapseDemos(results.runs);
  if (demos.length === 0) return "";
  const rows = [
    "| run | RankMe h | RankMe z | uncentred RankMe h | uncentred RankMe z | spread h | " +
    "spread z | probe h | collapsed |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const d of demos) {
    for (const r of [d.full, d.demo]) {
      rows.push(
        `| ${r.name} | ${rank(r.rank_me.h)} | ${rank(r.rank_me.z)} | ${
          rank(r.rank_me_uncentred.h)
        } | ${rank(r.rank_me_uncentred.z)} | ${r.spread.h.toFixed(2)} | ${
          r.spread.z.toFixed(2)
        } | ${pct(r.probe.h.test)} | ${r.collapsed ? "**yes**" : "no"} |`,
      );
    }
  }
  return [
    `Collapse demos (collapsed: uncentred RankMe of h or z below ` +
    `${results.config.collapseRank}, or the spread of the normalised z below ` +
    `${results.config.collapseSpread}: about 1 spread out, 0 when every image gives the same ` +
    "direction; the probe's chance is 10%)",
    "",
    ...rows,
  ].join("\n");
}

/**
 * The label-free choices as Markdown: with RankMe centred (stored in the results) and without
 * centring (its paper's, computed from the runs), against the probe on h and the best fine-tune.
 */
export function labelFreeTable(results: MethodsPartResults): string {
  const paper = methodsLabelFreeChoice(results.runs, "uncentred");
  return [
    "Label-free choice over the sweep, RankMe centred, by the linear probe on h:",
    "",
    labelFreeChoiceMarkdown(results.label_free.probe),
    "",
    "The same, by each run's best fine-tune:",
    "",
    labelFreeChoiceMarkdown(results.label_free.fine_tune),
    "",
    "Label-free choice over the sweep, RankMe without centring (its paper's), by the linear " +
    "probe on h:",
    "",
    labelFreeChoiceMarkdown(paper.probe),
    "",
    "The same, by each run's best fine-tune:",
    "",
    labelFreeChoiceMarkdown(paper.fine_tune),
  ].join("\n");
}

/** Every table of the part. */
export function methodsTables(results: MethodsPartResults): string {
  return [
    methodsRunsTable(results),
    keepOrDiscardTable(results),
    collapseTable(results),
    labelFreeTable(results),
  ].filter((t) => t !== "").join("\n\n");
}
