/**
 * The `methods` part as Markdown tables: the whole sweep, one row a run
 * ({@linkcode methodsRunsTable}); each method's keep-or-discard answer
 * ({@linkcode keepOrDiscardTable}); the collapse demos ({@linkcode collapseTable}); the
 * label-free choices, RankMe centred and not ({@linkcode labelFreeTable}); and all of them
 * ({@linkcode methodsTables}, what the ablation's report prints).
 *
 * @example
 * ```ts
 * import { collapseTable, methodsTables } from "./methods_tables.ts";
 * import type { MethodsPartResults } from "./methods_results.ts";
 * // `results`: `AblationResults.methods` of `deno task ablation --part methods --out FILE`.
 * export function methodsReport(results: MethodsPartResults): string {
 *   return methodsTables(results); // the tables, one blank line apart
 * }
 * // A table with no rows is left out: here no collapse demo was run.
 * collapseTable({ runs: [] } as unknown as MethodsPartResults); // ""
 * ```
 *
 * @module
 */
import { labelFreeChoiceMarkdown } from "./label_free_choice.ts";
import type { FineTuneMode } from "./methods_recipe.ts";
import type { MethodsPartResults } from "./methods_results.ts";
import { mean, modeScore, runMeans } from "./methods_run_means.ts";
import { collapseDemos } from "./methods_collapse.ts";
import { keepOrDiscard, methodsLabelFreeChoice } from "./methods_choices.ts";

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
