/**
 * Collapse in the `methods` part: the flag of a run ({@linkcode isCollapsed}: every image gives
 * about one direction, or the same z) and the collapse demos of the grid
 * ({@linkcode COLLAPSE_DEMOS}: SimSiam without its predictor, BYOL without head and predictor),
 * each beside the full method it removes a part of ({@linkcode collapseDemos}).
 *
 * @example
 * ```ts
 * import { COLLAPSE_DEMOS, collapseDemos, isCollapsed } from "./methods_collapse.ts";
 * isCollapsed({ rankH: 18.4, rankZ: 1.3, spreadZ: 0.8 }, 2, 0.1); // true: z about one direction
 * COLLAPSE_DEMOS.map((d) => d.demo); // ["simsiam-mlp-nopred", "byol-none-nopred"]
 * collapseDemos([]); // []: a demo shows only when the results hold it and its full method
 * ```
 *
 * @module
 */
import type { MethodRunResult } from "./methods_results.ts";
import { type RunMean, runMeans } from "./methods_run_means.ts";

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
