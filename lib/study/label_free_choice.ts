/**
 * Choosing a run without labels: RankMe (Garrido et al. 2023) proposes to pick, among
 * pre-trainings of a sweep (heads, temperatures, methods), the one whose backbone features h
 * have the largest effective rank on the unlabelled images — no validation labels needed —
 * and shows it chooses almost as well as a labelled validation split. Given a sweep's runs,
 * {@linkcode labelFreeChoice} makes both choices and reports what each costs on the test set:
 * the test accuracy of RankMe's pick, of the validation pick, the gap between them, the best
 * test accuracy of the sweep (the oracle, which nothing may choose by) and the Spearman rank
 * correlation of RankMe with validation accuracy over the runs. The test set is only
 * reported, never used to choose. {@linkcode labelFreeChoiceMarkdown} renders it.
 *
 * Ties go to the run earliest in the sweep's order, for both choices (deterministic; list the
 * simpler settings first to prefer them).
 *
 * @example
 * ```ts
 * import { labelFreeChoice, labelFreeChoiceMarkdown } from "./label_free_choice.ts";
 * const choice = labelFreeChoice([
 *   { name: "linear head", rankMe: 20.1, validationAccuracy: 0.86, testAccuracy: 0.85 },
 *   { name: "MLP head", rankMe: 24.3, validationAccuracy: 0.88, testAccuracy: 0.87 },
 *   { name: "no head", rankMe: 1.2, validationAccuracy: 0.10, testAccuracy: 0.10 },
 * ]);
 * choice.rankMePick.name; // "MLP head"
 * choice.gap; // 0: RankMe chose as well as the labels
 * labelFreeChoiceMarkdown(choice); // a table and one paragraph
 * ```
 *
 * @module
 */

/** One run of a sweep. */
export interface SweepRun {
  /** The run's setting, e.g. `"MLP head, τ 0.2"` (unique within the sweep). */
  name: string;
  /** RankMe of h on the unlabelled images (`lib/eval/rank.ts`). */
  rankMe: number;
  /** Accuracy on the labelled validation split (in [0, 1]). */
  validationAccuracy: number;
  /** Accuracy on the test set (in [0, 1]); reported, never chosen by. */
  testAccuracy: number;
}

/** A chosen run and what it scores. */
export interface SweepPick {
  name: string;
  /** Position in the sweep (0-based). */
  index: number;
  rankMe: number;
  validationAccuracy: number;
  testAccuracy: number;
}

/** Both choices and their cost, plain JSON. */
export interface LabelFreeChoice {
  /** The run with the largest RankMe (ties: the earliest). */
  rankMePick: SweepPick;
  /** The run with the best validation accuracy (ties: the earliest). */
  validationPick: SweepPick;
  /** The run with the best test accuracy: the ceiling of any choice, for reference only. */
  oracle: SweepPick;
  /** Whether both choices are the same run. */
  agree: boolean;
  /** Test accuracy of the validation pick minus RankMe's pick's (> 0: labels chose better). */
  gap: number;
  /** Spearman's rank correlation of RankMe with validation accuracy (NaN if either is constant). */
  spearman: number;
  /** Runs in the sweep. */
  runs: number;
}

/** The index of the largest `score` (ties: the earliest). */
function argmax(runs: readonly SweepRun[], score: (r: SweepRun) => number): number {
  let best = 0;
  for (let i = 1; i < runs.length; i++) if (score(runs[i]) > score(runs[best])) best = i;
  return best;
}

function pick(runs: readonly SweepRun[], index: number): SweepPick {
  const { name, rankMe, validationAccuracy, testAccuracy } = runs[index];
  return { name, index, rankMe, validationAccuracy, testAccuracy };
}

/** Ranks 1..n of `values`, ties sharing the mean of their ranks. */
function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rho: the Pearson correlation of the average ranks; NaN if either is constant. */
export function spearmanCorrelation(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length < 2) {
    throw new RangeError(
      `spearmanCorrelation: need two lists of the same length >= 2, got ${a.length} and ${b.length}`,
    );
  }
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (ra.length + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < ra.length; i++) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) ** 2;
    sbb += (rb[i] - mean) ** 2;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

/**
 * RankMe's pick and the validation pick of a sweep, and their test accuracies (module notes).
 *
 * Throws a `RangeError` with one line for an empty sweep, a repeated name, a RankMe that is not
 * a finite number >= 0, or an accuracy outside [0, 1].
 */
export function labelFreeChoice(runs: readonly SweepRun[]): LabelFreeChoice {
  const fn = "labelFreeChoice";
  if (runs.length === 0) throw new RangeError(`${fn}: the sweep has no runs`);
  const names = new Set<string>();
  runs.forEach((r, i) => {
    if (names.has(r.name)) throw new RangeError(`${fn}: run ${i}'s name "${r.name}" is repeated`);
    names.add(r.name);
    if (!(Number.isFinite(r.rankMe) && r.rankMe >= 0)) {
      throw new RangeError(`${fn}: run "${r.name}" has RankMe ${r.rankMe}; it must be >= 0`);
    }
    for (const key of ["validationAccuracy", "testAccuracy"] as const) {
      if (!(r[key] >= 0 && r[key] <= 1)) {
        throw new RangeError(`${fn}: run "${r.name}" has ${key} ${r[key]}; it must be in [0, 1]`);
      }
    }
  });
  const rankMePick = pick(runs, argmax(runs, (r) => r.rankMe));
  const validationPick = pick(runs, argmax(runs, (r) => r.validationAccuracy));
  return {
    rankMePick,
    validationPick,
    oracle: pick(runs, argmax(runs, (r) => r.testAccuracy)),
    agree: rankMePick.index === validationPick.index,
    gap: validationPick.testAccuracy - rankMePick.testAccuracy,
    spearman: runs.length < 2 ? NaN : spearmanCorrelation(
      runs.map((r) => r.rankMe),
      runs.map((r) => r.validationAccuracy),
    ),
    runs: runs.length,
  };
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** The choice as a Markdown table (one row a choice) and one paragraph saying what it shows. */
export function labelFreeChoiceMarkdown(choice: LabelFreeChoice): string {
  const row = (what: string, p: SweepPick) =>
    `| ${what} | ${p.name} | ${p.rankMe.toFixed(1)} | ${pct(p.validationAccuracy)} | ${
      pct(p.testAccuracy)
    } |`;
  const points = Math.abs(choice.gap * 100).toFixed(1);
  const verdict = choice.agree
    ? `RankMe, without a label, chose the run the validation labels chose (${choice.rankMePick.name}).`
    : choice.gap > 0
    ? `RankMe chose ${choice.rankMePick.name}, ${points} points below the validation choice ` +
      `(${choice.validationPick.name}) on the test set.`
    : choice.gap < 0
    ? `RankMe chose ${choice.rankMePick.name}, ${points} points above the validation choice ` +
      `(${choice.validationPick.name}) on the test set.`
    : `RankMe chose ${choice.rankMePick.name} and the validation labels ` +
      `${choice.validationPick.name}, equal on the test set.`;
  const rho = Number.isNaN(choice.spearman)
    ? "undefined (one of them is constant)"
    : choice.spearman.toFixed(2);
  return [
    "| choice | run | RankMe of h | validation | test |",
    "| --- | --- | --- | --- | --- |",
    row("RankMe (no labels)", choice.rankMePick),
    row("validation labels", choice.validationPick),
    row("best on test (reference, not a choice)", choice.oracle),
    "",
    `${verdict} Over the ${choice.runs} run${choice.runs === 1 ? "" : "s"} of the sweep, ` +
    `Spearman's correlation of RankMe with validation accuracy is ${rho}; the test set chose ` +
    `nothing.`,
  ].join("\n");
}
