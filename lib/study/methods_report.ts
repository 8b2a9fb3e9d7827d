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
 * The parts, one concept a module: `methods_results.ts` (the records), `methods_run_means.ts`
 * (the runs averaged over seeds, {@linkcode runMeans}), `methods_collapse.ts` (the collapse flag
 * and demos), `methods_choices.ts` (keep or discard, the label-free choice) and
 * `methods_tables.ts` (the Markdown tables). This module gathers them: import from here.
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
export type {
  FineTuneScore,
  MethodLayerRow,
  MethodRunResult,
  MethodsPartResults,
  StrongBaseline,
  ValTest,
} from "./methods_results.ts";
export { bestMode, modeScore, type RunMean, runMeans } from "./methods_run_means.ts";
export {
  COLLAPSE_DEMOS,
  type CollapseDemo,
  collapseDemos,
  isCollapsed,
} from "./methods_collapse.ts";
export { type KeepOrDiscard, keepOrDiscard, methodsLabelFreeChoice } from "./methods_choices.ts";
export {
  collapseTable,
  keepOrDiscardTable,
  labelFreeTable,
  methodsRunsTable,
  methodsTables,
} from "./methods_tables.ts";
