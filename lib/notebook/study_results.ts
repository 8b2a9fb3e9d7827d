/**
 * The projection-head study's results as notebook 8 reads them: a saved full run
 * (`deno task ablation --out FILE`), read tolerantly ({@linkcode readSavedStudy}: a part whose
 * shape this version does not know — the label curve of an earlier version, which had only
 * strong supervised and SSL + new head, per budget name and count — is left out with a note
 * instead of breaking the tables and charts), and the label curve in sentences
 * ({@linkcode labelCurveLines}: at each budget, the best SSL arm against the strong supervised
 * baseline and against self-training without pre-training).
 *
 * @example
 * ```ts
 * import { labelCurveLines, studyFromJson } from "./study_results.ts";
 * const saved = studyFromJson({ kind: "ablation", seeds: [0], date: "2026-12-04" });
 * saved.results?.seeds; // [0]: a run with no part is still a run
 * saved.notes; // []
 * const arm = (v: number) => ({ test_accuracy: [v] });
 * labelCurveLines([{
 *   labels: 10,
 *   seconds: [1],
 *   arms: {
 *     pixels_linear: arm(0.4), pixels_knn: arm(0.41), supervised_strong: arm(0.45),
 *     self_trained: arm(0.5), ssl_new_head: arm(0.55), ssl_distilled: arm(0.6),
 *   },
 * }])[0]; // "**10 labels**: SSL + self-training, 60.0%: +15.0 points against strong supervised ..."
 * ```
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { meanAndSpread } from "../eval/metrics.ts";
import {
  LABEL_CURVE_ARMS,
  type LabelCurveArm,
  type LabelCurvePoint,
} from "../study/label_curve.ts";
import { PARTS } from "../study/recipe.ts";
import { type AblationResults, CURVE_TITLES } from "../study/report.ts";

/** A saved study: its results (the parts this version can show), and what was left out. */
export interface SavedStudy {
  /** `undefined` when the file is missing or is not a study's results. */
  results?: AblationResults;
  /** One sentence per part left out (or why nothing could be read). */
  notes: string[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isScores = (v: unknown) =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x));

/** A run summary the tables can read: probe and kNN on h and z, test and dev. */
function isRunSummary(v: unknown): boolean {
  if (!isObject(v)) return false;
  return ["h", "z"].every((f) => {
    const s = v[f];
    return isObject(s) &&
      ["linear_probe", "knn"].every((m) =>
        isObject(s[m]) && isScores((s[m] as Json).test) && isScores((s[m] as Json).dev)
      );
  });
}

function headsReadable(h: unknown): boolean {
  return isObject(h) && typeof h.best === "string" && isObject(h.results) &&
    Object.keys(h.results).length > 0 && Object.values(h.results).every(isRunSummary) &&
    (h.no_pretraining === undefined || isRunSummary(h.no_pretraining));
}

function temperatureReadable(t: unknown): boolean {
  return isObject(t) && typeof t.best === "number" && Array.isArray(t.results) &&
    t.results.length > 0 &&
    t.results.every((r) => isRunSummary(r) && typeof (r as Json).temperature === "number");
}

/** A label curve of this version: every point has its budget and every arm's accuracies. */
function labelsReadable(l: unknown): boolean {
  return isObject(l) && Array.isArray(l.budgets) && l.budgets.length > 0 &&
    l.budgets.every((p) =>
      isObject(p) && typeof p.labels === "number" && isObject(p.arms) &&
      LABEL_CURVE_ARMS.every((a) =>
        isObject((p.arms as Json)[a]) && isScores(((p.arms as Json)[a] as Json).test_accuracy)
      )
    );
}

/** An earlier version's label curve: points named by budget, two arms at the top level. */
function isEarlierLabelCurve(l: unknown): boolean {
  return isObject(l) && Array.isArray(l.budgets) &&
    l.budgets.some((p) => isObject(p) && ("count" in p || "supervised_strong" in p));
}

/**
 * A study's results from parsed JSON (see {@linkcode readSavedStudy}): the parts this version
 * can show, each checked; the others left out, with a note. `source` names the file in notes.
 */
export function studyFromJson(value: unknown, source = "the saved run"): SavedStudy {
  if (!isObject(value) || value.kind !== "ablation") {
    return { notes: [`${source} is not the results of \`deno task ablation\`; it is not shown.`] };
  }
  if (!isScores(value.seeds) || !isObject(value.budget)) {
    return { notes: [`${source} has no seeds or no budget; it is not shown.`] };
  }
  const notes: string[] = [];
  const results = { ...value } as Json;
  const checks: [string, (v: unknown) => boolean, string][] = [
    ["heads", headsReadable, "its head study"],
    ["temperature", temperatureReadable, "its temperature sweep"],
    ["labels", labelsReadable, "its label curve"],
  ];
  for (const [part, readable, what] of checks) {
    if (results[part] === undefined || readable(results[part])) continue;
    notes.push(
      part === "labels" && isEarlierLabelCurve(results[part])
        ? `${source}: ${what} is an earlier version's (strong supervised and SSL + new head ` +
          `only) and is not shown; \`deno task ablation --part labels\` makes the current one.`
        : `${source}: ${what} has a shape this version cannot read and is not shown.`,
    );
    delete results[part];
  }
  results.parts = PARTS.filter((p) => results[p] !== undefined);
  if (typeof results.date !== "string") results.date = "";
  return { results: results as unknown as AblationResults, notes };
}

/**
 * Where the committed full study of `dataset` lives under the project `root`:
 * `results/ablation.json` for MNIST, `results/ablation-fashion-mnist.json` for Fashion-MNIST;
 * `undefined` for a folder (nothing is committed for your own images).
 */
export function savedStudyPath(root: string, dataset: string): string | undefined {
  if (dataset === "mnist") return join(root, "results", "ablation.json");
  if (dataset === "fashion-mnist") return join(root, "results", "ablation-fashion-mnist.json");
  return undefined;
}

/**
 * Reads a study's results JSON from `path` (see {@linkcode studyFromJson}). A missing file is
 * `{ notes: [] }`; a file that does not parse, is not a study's results, or (given `dataset`)
 * holds another dataset's study says so in a note.
 */
export function readSavedStudy(path: string, dataset?: string): SavedStudy {
  if (!existsSync(path)) return { notes: [] };
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    return { notes: [`\`${path}\` is not valid JSON (${(e as Error).message}); it is not shown.`] };
  }
  const held = isObject(value) ? value.dataset : undefined;
  if (dataset !== undefined && typeof held === "string" && held !== dataset) {
    return { notes: [`\`${path}\` is a study of ${held}, not ${dataset}; it is not shown.`] };
  }
  return studyFromJson(value, `\`${path}\``);
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** The gap of a over b in points, and whether it is larger than the spread over seeds. */
function gap(a: readonly number[], b: readonly number[]): string {
  const sa = meanAndSpread(a);
  const sb = meanAndSpread(b);
  const d = (sa.mean - sb.mean) * 100;
  const spread = Math.max(sa.std, sb.std) * 100;
  const sign = d >= 0 ? "+" : "−";
  const note = a.length < 2 || b.length < 2
    ? ""
    : Math.abs(d) > spread
    ? " (more than the spread over seeds)"
    : " (within the spread over seeds)";
  return `${sign}${Math.abs(d).toFixed(1)} points${note}`;
}

/**
 * The label curve in sentences, one per budget: the best SSL arm (SSL + fine-tune or SSL +
 * self-training, by mean test accuracy) and its gap, in points, against the strong supervised
 * baseline and against self-training without pre-training (the control that tells what
 * pre-training adds), each marked as more or less than the spread over seeds. Reports test
 * means; chooses nothing.
 */
export function labelCurveLines(points: readonly LabelCurvePoint[]): string[] {
  const mean = (a: LabelCurveArm, p: LabelCurvePoint) =>
    meanAndSpread(p.arms[a].test_accuracy).mean;
  return points.map((p) => {
    const ssl: LabelCurveArm = mean("ssl_distilled", p) > mean("ssl_new_head", p)
      ? "ssl_distilled"
      : "ssl_new_head";
    const acc = (a: LabelCurveArm) => p.arms[a].test_accuracy;
    return `**${p.labels} labels**: ${CURVE_TITLES[ssl]}, ${pct(mean(ssl, p))}: ${
      gap(acc(ssl), acc("supervised_strong"))
    } against strong supervised, ${gap(acc(ssl), acc("self_trained"))} against ` +
      `self-training without SSL.`;
  });
}
