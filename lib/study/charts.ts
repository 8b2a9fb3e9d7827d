/**
 * Charts of the projection-head study as plain plotly figure objects
 * (`{ data, layout }`, JSON only: no plotly import), for a notebook or any
 * plotly renderer: the head study as grouped bars, the temperature sweep and
 * the label-budget curve as lines, all with error bars = std over seeds.
 * Accuracies are shown in percent.
 *
 * @example
 * ```ts
 * import { headStudyFigure } from "./charts.ts";
 * import type { AblationResults } from "./report.ts";
 * // `results`: the JSON `deno task ablation --out FILE` writes, or what `runAblation` returns.
 * export const figureOf = (results: AblationResults) => headStudyFigure(results); // { data, layout }
 * ```
 *
 * @module
 */
import { meanAndSpread } from "../eval/metrics.ts";
import { FEATURES, HEAD_TITLES, type HeadKind } from "./recipe.ts";
import { type AblationResults, CURVE_TITLES, type FeatureScores } from "./report.ts";
import { LABEL_CURVE_ARMS, type LabelCurveArm } from "./label_curve.ts";

/** A plotly figure: traces and layout, plain JSON. */
export interface PlotlyFigure {
  /** Plotly traces. */
  data: Record<string, unknown>[];
  /** Plotly layout. */
  layout: Record<string, unknown>;
}

/** Which frozen-feature evaluation a chart shows. */
export type ChartMetric = "linear_probe" | "knn";

const METRIC_TITLES: Record<ChartMetric, string> = {
  linear_probe: "linear probe",
  knn: "kNN",
};

/** Means and stds in percent of a list of per-seed accuracy lists. */
function percentStats(lists: readonly (readonly number[])[]): { y: number[]; err: number[] } {
  const stats = lists.map((v) => meanAndSpread(v));
  return {
    y: stats.map((s) => round(s.mean * 100)),
    err: stats.map((s) => round(s.std * 100)),
  };
}

const round = (v: number) => Math.round(v * 100) / 100;

const errorBars = (err: number[]) => ({ type: "data", array: err, visible: true });

const seedsNote = (r: AblationResults) =>
  `mean ± std over ${r.seeds.length} seed${r.seeds.length === 1 ? "" : "s"}`;

/**
 * (a) The head study: grouped bars, one group per projection head, one bar
 * for features h and one for z, test accuracy of `metric` (error bars: std);
 * a dashed line marks the backbone without pre-training when the results have it.
 */
export function headStudyFigure(
  r: AblationResults,
  metric: ChartMetric = "linear_probe",
): PlotlyFigure {
  if (!r.heads) throw new Error("headStudyFigure: the results have no head study");
  const heads = Object.keys(r.heads.results) as HeadKind[];
  const x = heads.map((h) => HEAD_TITLES[h] ?? h);
  const data = FEATURES.map((f) => {
    const s = percentStats(heads.map((h) => r.heads!.results[h][f][metric].test));
    return {
      type: "bar",
      name: f === "h" ? "h (backbone output)" : "z (head output)",
      x,
      y: s.y,
      error_y: errorBars(s.err),
    };
  });
  const reference = r.heads.no_pretraining;
  const refY = reference ? percentStats([reference.h[metric].test]).y[0] : undefined;
  return {
    data,
    layout: {
      title: {
        text: `Projection head: ${METRIC_TITLES[metric]} test accuracy (${seedsNote(r)})`,
      },
      ...(refY === undefined ? {} : {
        shapes: [{
          type: "line",
          xref: "paper",
          x0: 0,
          x1: 1,
          y0: refY,
          y1: refY,
          line: { dash: "dash", width: 1.5, color: "grey" },
        }],
        annotations: [{
          xref: "paper",
          x: 1,
          y: refY,
          xanchor: "right",
          yanchor: "bottom",
          text: `no pre-training: ${refY.toFixed(1)}%`,
          showarrow: false,
        }],
      }),
      barmode: "group",
      xaxis: { title: { text: "projection head during pre-training" } },
      yaxis: { title: { text: "test accuracy (%)" } },
      legend: { title: { text: "features" } },
    },
  };
}

/**
 * (b) The temperature sweep: test accuracy against τ (log axis), one line
 * per (metric, features) among probe/kNN on h, with error bars.
 */
export function temperatureFigure(r: AblationResults): PlotlyFigure {
  if (!r.temperature) throw new Error("temperatureFigure: the results have no temperature sweep");
  const rows = r.temperature.results;
  const x = rows.map((row) => row.temperature);
  const line = (metric: ChartMetric, f: "h" | "z") => {
    const s = percentStats(rows.map((row) => (row[f] as FeatureScores)[metric].test));
    return {
      type: "scatter",
      mode: "lines+markers",
      name: `${METRIC_TITLES[metric]} on ${f}`,
      x,
      y: s.y,
      error_y: errorBars(s.err),
    };
  };
  return {
    data: [line("linear_probe", "h"), line("knn", "h")],
    layout: {
      title: {
        text: `NT-Xent temperature, head ${HEAD_TITLES[r.temperature.head]} (${seedsNote(r)})`,
      },
      xaxis: { title: { text: "temperature τ" }, type: "log", tickvals: x },
      yaxis: { title: { text: "test accuracy (%)" } },
    },
  };
}

/**
 * (c) The label curve: test accuracy against the number of labels (log axis), one line per
 * arm (pixels, strong supervised, self-training without SSL, SSL + fine-tune, SSL +
 * self-training), with error bars.
 */
export function labelBudgetFigure(r: AblationResults): PlotlyFigure {
  if (!r.labels) throw new Error("labelBudgetFigure: the results have no label-budget curve");
  const points = r.labels.budgets;
  const x = points.map((p) => p.labels);
  const line = (arm: LabelCurveArm) => {
    const s = percentStats(points.map((p) => p.arms[arm].test_accuracy));
    return {
      type: "scatter",
      mode: "lines+markers",
      name: CURVE_TITLES[arm],
      x,
      y: s.y,
      error_y: errorBars(s.err),
    };
  };
  return {
    data: LABEL_CURVE_ARMS.map(line),
    layout: {
      title: { text: `Test accuracy against the label budget (${seedsNote(r)})` },
      xaxis: {
        title: { text: "labelled training images" },
        type: "log",
        tickvals: x,
        ticktext: x.map(String),
      },
      yaxis: { title: { text: "test accuracy (%)" } },
    },
  };
}

/**
 * Every figure a study's results can draw, in the order of its parts: the head
 * study's two (linear probe, kNN), the temperature sweep's, the label curve's;
 * a part the run did not have (`--part`) draws nothing.
 */
export function studyFigures(r: AblationResults): PlotlyFigure[] {
  return [
    ...(r.heads ? [headStudyFigure(r, "linear_probe"), headStudyFigure(r, "knn")] : []),
    ...(r.temperature ? [temperatureFigure(r)] : []),
    ...(r.labels ? [labelBudgetFigure(r)] : []),
  ];
}
