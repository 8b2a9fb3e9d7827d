/**
 * The verdict of the head study on SimCLR's two claims: a non-linear (MLP)
 * projection head beats a linear one, which beats no head (linear-probe
 * accuracy on h); and the features before the head (h) beat those after it
 * (z). A pure function of the study's results (`AblationResults.heads`), so
 * notebook 8 states what the numbers say without deriving it in a cell.
 *
 * @example
 * ```ts
 * import { headVerdict } from "./verdict.ts";
 * import type { AblationResults } from "./report.ts";
 * // `results`: the JSON `deno task ablation --out FILE` writes, or what `runAblation` returns.
 * export function verdictOf(results: AblationResults): string {
 *   const v = headVerdict(results.heads!);
 *   return `${v.ordering}: ${v.sentence}`; // v.ordering: "holds" | "partly" | "fails" | "incomplete"
 * }
 * ```
 *
 * @module
 */
import { meanAndSpread } from "../eval/metrics.ts";
import { HEAD_TITLES, type HeadKind } from "./recipe.ts";
import type { AblationResults, RunSummary } from "./report.ts";

/** The head part of the study's results. */
export type HeadsPart = NonNullable<AblationResults["heads"]>;

/** One head's score: mean and sample standard deviation over the seeds. */
export interface HeadScore {
  /** The head's key in the results ("none", "linear", "mlp1", "mlp2"). */
  head: string;
  /** Its name in words. */
  title: string;
  mean: number;
  std: number;
}

/** One step of the ordering ("MLP > linear" or "linear > none"). */
export interface OrderingStep {
  /** The head that should win, and the one it should beat. */
  better: string;
  worse: string;
  /** Mean of `better` minus mean of `worse`, in points (percent). */
  gapPoints: number;
  /** The step holds: `better` has the higher mean. */
  holds: boolean;
  /** The gap is no larger than the spread over seeds (the larger std): read it as a tie. */
  withinNoise: boolean;
}

/** What the head study says about SimCLR's claims. */
export interface HeadVerdict {
  /**
   * SimCLR's ordering MLP > linear > none: "holds" (both steps), "partly"
   * (one), "fails" (neither), "incomplete" (the study lacks none, linear or
   * an MLP head).
   */
  ordering: "holds" | "partly" | "fails" | "incomplete";
  /** What was compared: linear probe or kNN, on the test set or the dev holdout, on h. */
  metric: "linear_probe" | "knn";
  split: "test" | "dev";
  /** Seeds behind every mean. */
  seeds: number;
  /** Every head by mean accuracy on h, best first. */
  ranking: HeadScore[];
  /** The MLP head compared (the better of the MLPs), when there is one. */
  mlp?: string;
  /** MLP over linear, then linear over none (absent when a head is missing). */
  steps: OrderingStep[];
  /** SimCLR's second claim: the heads (other than "none") whose h beats their z. */
  hBeatsZ: string[];
  /** The heads other than "none" (for those, z differs from h). */
  withHead: string[];
  /** The verdict in one or two sentences (Markdown). */
  sentence: string;
}

function score(
  head: string,
  s: RunSummary,
  f: "h" | "z",
  metric: HeadVerdict["metric"],
  split: HeadVerdict["split"],
): HeadScore {
  const { mean, std } = meanAndSpread(s[f][metric][split]);
  return { head, title: HEAD_TITLES[head as HeadKind] ?? head, mean, std };
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const points = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(1)}`;

function step(better: HeadScore, worse: HeadScore): OrderingStep {
  const gap = better.mean - worse.mean;
  return {
    better: better.head,
    worse: worse.head,
    gapPoints: gap * 100,
    holds: gap > 0,
    withinNoise: Math.abs(gap) <= Math.max(better.std, worse.std),
  };
}

/**
 * Reads SimCLR's claims off the head study: the ordering MLP > linear > none
 * of the mean accuracy on h (by default the linear probe on the test set, as
 * SimCLR reports; `metric: "knn"` or `split: "dev"` for the others), with
 * each step's gap and whether it is within the spread over seeds; and for
 * which heads h beats z.
 */
export function headVerdict(
  heads: HeadsPart,
  options: { metric?: HeadVerdict["metric"]; split?: HeadVerdict["split"] } = {},
): HeadVerdict {
  const metric = options.metric ?? "linear_probe";
  const split = options.split ?? "test";
  const entries = Object.entries(heads.results);
  if (entries.length === 0) throw new RangeError("headVerdict: the head study has no results");
  const scores = new Map(entries.map(([k, s]) => [k, score(k, s, "h", metric, split)]));
  const ranking = [...scores.values()].sort((a, b) => b.mean - a.mean);
  const seeds = entries[0][1].h[metric][split].length;
  const what = `${metric === "knn" ? "kNN" : "linear probe"} on h, ${
    split === "test" ? "test set" : "dev holdout"
  }, mean of ${seeds} seed${seeds === 1 ? "" : "s"}`;

  const withHead = entries.map(([k]) => k).filter((k) => k !== "none");
  const hBeatsZ = withHead.filter((k) =>
    score(k, heads.results[k], "h", metric, split).mean >
      score(k, heads.results[k], "z", metric, split).mean
  );
  const hz = withHead.length === 0
    ? ""
    : ` h beats z for ${hBeatsZ.length} of ${withHead.length} heads with a head` +
      (hBeatsZ.length === withHead.length
        ? ", as SimCLR found: the head absorbs what the loss throws away."
        : hBeatsZ.length === 0
        ? ": not as SimCLR found."
        : ` (${hBeatsZ.map((k) => scores.get(k)!.title).join(", ")}): not everywhere.`);

  const mlp = ranking.find((s) => s.head.startsWith("mlp"));
  const linear = scores.get("linear");
  const none = scores.get("none");
  const base = { metric, split, seeds, ranking, mlp: mlp?.head, hBeatsZ, withHead };
  if (!mlp || !linear || !none) {
    return {
      ...base,
      ordering: "incomplete",
      steps: [],
      sentence: `SimCLR's ordering MLP > linear > none cannot be checked: the study ran the ` +
        `heads ${entries.map(([k]) => k).join(", ")}, and it needs none, linear and an MLP.` + hz,
    };
  }
  const steps = [step(mlp, linear), step(linear, none)];
  const held = steps.filter((s) => s.holds).length;
  const ordering = held === 2 ? "holds" : held === 1 ? "partly" : "fails";
  const sign = (s: OrderingStep) => (s.gapPoints > 0 ? ">" : s.gapPoints < 0 ? "<" : "=");
  const chain = `${mlp.title} ${pct(mlp.mean)} ${sign(steps[0])} ${linear.title} ${
    pct(linear.mean)
  } ${sign(steps[1])} ${none.title} ${pct(none.mean)}`;
  const says = ordering === "holds"
    ? "holds here"
    : ordering === "partly"
    ? "only partly holds here"
    : "does **not** hold here";
  const ties = steps.filter((s) => s.withinNoise).map((s) =>
    `${s.better} vs ${s.worse} (${points(s.gapPoints)} points)`
  );
  const noise = ties.length === 0
    ? ""
    : ` The gap${ties.length > 1 ? "s" : ""} ${ties.join(" and ")} ${
      ties.length > 1 ? "are" : "is"
    } within the spread over seeds: read ${ties.length > 1 ? "them as ties" : "it as a tie"}.`;
  return {
    ...base,
    ordering,
    steps,
    sentence: `SimCLR's ordering MLP > linear > none ${says}: ${chain} (${what}).${noise}${hz}`,
  };
}
