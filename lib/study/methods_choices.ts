/**
 * The choices the `methods` part reports: each method's keep-or-discard answer, the
 * fine-tuning mode best on validation for its own head and predictor against the strong
 * supervised baseline ({@linkcode keepOrDiscard}), and the label-free choice over the sweep,
 * RankMe's pick against the validation pick ({@linkcode methodsLabelFreeChoice}).
 *
 * @example
 * ```ts
 * import { keepOrDiscard, methodsLabelFreeChoice } from "./methods_choices.ts";
 * import type { MethodRunResult, MethodsPartResults } from "./methods_results.ts";
 * // One SimCLR run (what the choices read of it) and the strong supervised baseline.
 * const run = {
 *   name: "simclr, mlp head",
 *   key: "simclr-mlp",
 *   method: "simclr",
 *   head: "mlp",
 *   predictor: null,
 *   probe: { h: { validation: 0.9, test: 0.9 }, z: { validation: 0.8, test: 0.8 } },
 *   rank_me: { h: 20, z: 7 },
 *   rank_me_uncentred: { h: 10, z: 3.5 },
 *   spread: { h: 0.5, z: 0.8 },
 *   fine_tune: [
 *     { mode: "discard", validation: 0.9, test: 0.91 },
 *     { mode: "keep", validation: 0.93, test: 0.92 },
 *     { mode: "keep-k", validation: 0.92, test: 0.93 },
 *   ],
 * } as MethodRunResult;
 * const results = {
 *   config: { methods: ["simclr"] },
 *   strong: [{ steps: 300, what: "the fine-tunes' budget", validation: [0.88], test: [0.9] }],
 *   runs: [run],
 * } as MethodsPartResults;
 * const [answer] = keepOrDiscard(results);
 * answer.chosen; // "keep": best on validation (not keep-k, best on test)
 * answer.againstStrong; // about +2 points over the strong baseline
 * methodsLabelFreeChoice([run]).probe.rankMePick.name; // "simclr, mlp head": the only run
 * ```
 *
 * @module
 */
import type { SslMethod } from "../train/ssl_method.ts";
import { type LabelFreeChoice, labelFreeChoice } from "./label_free_choice.ts";
import type { FineTuneMode } from "./methods_recipe.ts";
import type { MethodRunResult, MethodsPartResults, ValTest } from "./methods_results.ts";
import { bestMode, mean, type RunMean, runMeans } from "./methods_run_means.ts";

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
