/**
 * The `methods` part's runs averaged over their seeds, run by run in the grid's order
 * ({@linkcode runMeans}, {@linkcode RunMean}), and a run's fine-tunes read from them: one mode's
 * accuracies ({@linkcode modeScore}) and the mode best on validation ({@linkcode bestMode}).
 *
 * @example
 * ```ts
 * import { bestMode, modeScore, type RunMean } from "./methods_run_means.ts";
 * // A run's fine-tunes averaged over its seeds (what `runMeans` makes of the results).
 * const run = {
 *   name: "simclr, mlp head",
 *   fine_tune: {
 *     discard: { validation: 0.9, test: 0.91 },
 *     keep: { validation: 0.93, test: 0.92 },
 *     "keep-k": { skipped: "the head has one layer" },
 *   },
 * } as RunMean;
 * modeScore(run, "keep-k"); // undefined: skipped
 * bestMode(run); // { mode: "keep", score: { validation: 0.93, test: 0.92 } }
 * ```
 *
 * @module
 */
import { meanAndSpread } from "../eval/metrics.ts";
import { FINE_TUNE_MODES, type FineTuneMode } from "./methods_recipe.ts";
import type { MethodRunResult, ValTest } from "./methods_results.ts";

/**
 * A run averaged over its seeds (same name): the run's own fields, its measures as means over the
 * seeds (the linear evaluation when every seed has it), and the first seed's layers and
 * transformation probes (the charts').
 */
export interface RunMean extends
  Pick<
    MethodRunResult,
    | "name"
    | "key"
    | "method"
    | "head"
    | "head_setting"
    | "predictor"
    | "probe"
    | "linear_eval"
    | "rank_me"
    | "rank_me_uncentred"
    | "spread"
    | "collapsed"
    | "layers"
    | "transforms"
  > {
  seeds: number;
  /** Mean accuracies per mode; `skipped` when the mode does not apply. */
  fine_tune: Record<FineTuneMode, { validation: number; test: number } | { skipped: string }>;
}

/** The mean of `v`; `NaN` when it is empty. */
export const mean = (v: number[]) => (v.length ? meanAndSpread(v).mean : NaN);

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
