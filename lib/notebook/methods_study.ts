/**
 * What notebook 9 ("Why the head helps") calls: the `methods` part of the study a notebook
 * configuration stands for ({@linkcode notebookMethodsStudy}: the quick preset, live, on the
 * configuration's dataset, seed and methods), the committed full run read tolerantly
 * ({@linkcode readSavedMethods}: `results/methods-<dataset>.json`, or a note saying why it is
 * not shown), and the findings in sentences ({@linkcode methodsFindings}: h against z per
 * method, the collapse demos, which methods reach 90% on h).
 *
 * @example
 * ```ts
 * import { methodsFromJson, notebookMethodsStudy } from "./methods_study.ts";
 * const study = notebookMethodsStudy({ dataset: "mnist", labels: 200, seed: 1, quick: true });
 * study.parts; // ["methods"]
 * study.methods.seeds; // [1]
 * methodsFromJson({ kind: "experiment" }).notes.length; // 1: not the study's results
 * ```
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import type { ImageDataset } from "../data/dataset.ts";
import { parseMethodList } from "../study/methods_recipe.ts";
import { fullAblation, quickAblation } from "../study/recipe.ts";
import type { AblationConfig } from "../study/recipe.ts";
import type { AblationResults } from "../study/report.ts";
import { collapseDemos, type MethodsPartResults, runMeans } from "../study/methods_report.ts";
import type { NotebookConfig } from "./setup.ts";
import { ownRuns } from "../study/methods_charts.ts";

/** A notebook configuration with the methods to compare (`"simclr,byol"`; all when omitted). */
export type MethodsNotebookConfig = NotebookConfig & { methods?: string };

/**
 * The `methods` part a configuration stands for: the quick preset when `quick` (else the full
 * one), on its dataset, with its label budget and its seed, for its methods. A bad method or
 * label budget is one line naming the setting.
 */
export function notebookMethodsStudy(
  config: MethodsNotebookConfig,
  train?: ImageDataset,
): AblationConfig {
  if (!Number.isInteger(config.labels) || config.labels < 2) {
    throw new Error(`configuration: labels must be an integer >= 2, got ${config.labels}`);
  }
  const study = config.quick
    ? quickAblation(config.dataset, train)
    : fullAblation(config.dataset, train);
  study.parts = ["methods"];
  study.labels = config.labels;
  study.seeds = [config.seed];
  study.methods.seeds = [config.seed];
  if (config.methods !== undefined) {
    try {
      study.methods.methods = parseMethodList(config.methods);
    } catch (e) {
      throw new Error(`configuration: methods: ${(e as Error).message}`);
    }
  }
  return study;
}

/** A saved run of the part: its results and when, how and where they were made. */
export interface SavedMethods {
  results?: MethodsPartResults;
  /** The whole results file (date, `made_by`, wall time) when it could be read. */
  file?: AblationResults & { wall_s?: number };
  /** Why nothing is shown, when it is not. */
  notes: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A run record the tables and charts can read. */
function runReadable(r: unknown): boolean {
  return isObject(r) && typeof r.name === "string" && typeof r.method === "string" &&
    isObject(r.probe) && isObject(r.rank_me) && Array.isArray(r.layers) &&
    r.layers.length > 0 && Array.isArray(r.fine_tune) && isObject(r.transforms);
}

/** The part's results from parsed JSON, or notes on why they cannot be shown. */
export function methodsFromJson(value: unknown, source = "the saved run"): SavedMethods {
  if (!isObject(value) || value.kind !== "ablation") {
    return { notes: [`${source} is not the results of \`deno task ablation\`; it is not shown.`] };
  }
  const m = value.methods;
  if (!isObject(m)) {
    return { notes: [`${source} has no \`methods\` part; it is not shown.`] };
  }
  if (
    !Array.isArray(m.runs) || m.runs.length === 0 || !m.runs.every(runReadable) ||
    !Array.isArray(m.strong) || !isObject(m.label_free) || !isObject(m.config)
  ) {
    return {
      notes: [`${source}'s \`methods\` part has a shape this version does not know; not shown.`],
    };
  }
  return {
    results: m as unknown as MethodsPartResults,
    file: value as unknown as AblationResults,
    notes: [],
  };
}

/** Reads `path` (a results JSON of `deno task ablation --part methods --out`); missing: none. */
export function readSavedMethods(path: string): SavedMethods {
  if (!existsSync(path)) return { notes: [] };
  try {
    return methodsFromJson(JSON.parse(readFileSync(path, "utf8")), `\`${path}\``);
  } catch (e) {
    return { notes: [`\`${path}\` is not valid JSON (${(e as Error).message}); it is not shown.`] };
  }
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/**
 * The findings of a run of the part, one Markdown bullet each: per method (its own head), the
 * probe on h against z and RankMe of both; the collapse demos; which methods reach 90% on h.
 */
export function methodsFindings(results: MethodsPartResults): string[] {
  const lines: string[] = [];
  const own = ownRuns(results);
  if (own.length) {
    const hWins = own.filter((r) => r.probe.h.test > r.probe.z.test).map((r) => r.method);
    lines.push(
      `**h against z** (each method's own head): the probe on h beats the probe on z for ` +
        `${hWins.length} of ${own.length} methods${
          hWins.length ? ` (${hWins.join(", ")})` : ""
        }; ` +
        own.map((r) =>
          `${r.method} h ${pct(r.probe.h.test)} / z ${pct(r.probe.z.test)}, RankMe ` +
          `${r.rank_me.h.toFixed(1)} / ${r.rank_me.z.toFixed(1)}`
        ).join("; ") + ".",
    );
    const reaching = (score: (r: (typeof own)[number]) => number | undefined, what: string) => {
      const scored = own.filter((r) => score(r) !== undefined);
      if (scored.length === 0) return;
      const reach = scored.filter((r) => score(r)! >= 0.9).map((r) => r.method);
      const below = scored.filter((r) => score(r)! < 0.9).map((r) =>
        `${r.method} ${pct(score(r)!)}`
      );
      lines.push(
        `**${what} ≥ 90%**: ${reach.length ? reach.join(", ") : "none"}` +
          (below.length ? `; below: ${below.join(", ")}` : "") + ".",
      );
    };
    const images = own[0].linear_eval?.images;
    reaching(
      (r) => r.linear_eval?.h.test,
      `Linear evaluation of h (a linear classifier trained with ${images} labelled pool ` +
        `images, the SSL papers' protocol)`,
    );
    reaching((r) => r.probe.h.test, `Linear probe on h with the ${results.data.labels} labels`);
  }
  for (const d of collapseDemos(results.runs)) {
    const f = d.full;
    const x = d.demo;
    lines.push(
      `**${d.what}**: uncentred RankMe of h / z ${x.rank_me_uncentred.h.toFixed(1)} / ` +
        `${x.rank_me_uncentred.z.toFixed(1)} (full method ${f.rank_me_uncentred.h.toFixed(1)} / ` +
        `${f.rank_me_uncentred.z.toFixed(1)}), spread of z ${x.spread.z.toFixed(2)} (full ` +
        `${f.spread.z.toFixed(2)}), probe on h ${pct(x.probe.h.test)} (full ` +
        `${pct(f.probe.h.test)}): ${x.collapsed ? "collapsed" : "not collapsed"}` +
        `${f.collapsed ? "; the full method is flagged too" : ""}.`,
    );
  }
  const collapsed = runMeans(results.runs).filter((r) => r.collapsed).map((r) => r.name);
  lines.push(
    `**Collapsed runs** (uncentred RankMe of h or z below ${results.config.collapseRank}, or ` +
      `the spread of z below ${results.config.collapseSpread}): ` +
      `${collapsed.length ? collapsed.join("; ") : "none"}.`,
  );
  return lines;
}
