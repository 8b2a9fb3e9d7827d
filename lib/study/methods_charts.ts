/**
 * Charts of the study's `methods` part as plain plotly figures (`{ data, layout }`, JSON only),
 * one per finding: the singular-value spectra of h and z per method (log y), RankMe per layer
 * from h to z, the linear probe per layer, the rotation and mirror probes at h and at z, each
 * method's keep-or-discard answer beside the strong supervised baseline, and the collapse
 * demos. Each method is shown with its own head (the MLP) and its predictor.
 *
 * @example
 * ```ts
 * import { methodsFigures } from "./methods_charts.ts";
 * import type { MethodsPartResults } from "./methods_report.ts";
 * // `results`: `AblationResults.methods` of `deno task ablation --part methods --out FILE`.
 * export const figuresOf = (results: MethodsPartResults) => methodsFigures(results);
 * ```
 *
 * @module
 */
import { meanAndSpread } from "../eval/metrics.ts";
import type { PlotlyFigure } from "./charts.ts";
import { FINE_TUNE_MODE_TITLES, FINE_TUNE_MODES } from "./methods_recipe.ts";
import {
  collapseDemos,
  keepOrDiscard,
  type MethodsPartResults,
  type RunMean,
  runMeans,
} from "./methods_report.ts";

const pc = (v: number) => Math.round(v * 1000) / 10;

/** Each method's own run: its MLP head, its predictor on (the grid's order). */
export function ownRuns(results: MethodsPartResults): RunMean[] {
  const means = runMeans(results.runs);
  return results.config.methods.flatMap((m) => {
    const r = means.find((x) => x.method === m && x.head === "mlp" && x.predictor !== false);
    return r ? [r] : [];
  });
}

const layerNames = (r: RunMean) => r.layers.map((l) => l.layer);

/** (1) Singular values of h (solid) and z (dashed), divided by the largest, log y. */
export function spectraFigure(results: MethodsPartResults): PlotlyFigure {
  const data = ownRuns(results).flatMap((r) => {
    const h = r.layers[0];
    const z = r.layers[r.layers.length - 1];
    return [
      {
        type: "scatter",
        mode: "lines",
        name: `${r.method}: h (${h.dim})`,
        legendgroup: r.method,
        x: h.spectrum.map((_, i) => i + 1),
        y: h.spectrum,
      },
      {
        type: "scatter",
        mode: "lines",
        name: `${r.method}: z (${z.dim})`,
        legendgroup: r.method,
        line: { dash: "dash" },
        x: z.spectrum.map((_, i) => i + 1),
        y: z.spectrum,
      },
    ];
  });
  return {
    data,
    layout: {
      title: { text: "Singular values of h and z (largest = 1), each method's own head" },
      xaxis: { title: { text: "index" }, type: "log" },
      yaxis: { title: { text: "σ / σ₁" }, type: "log" },
    },
  };
}

/** A line per method over the layers h, block 1, ..., z. */
function perLayerFigure(
  results: MethodsPartResults,
  value: (r: RunMean, i: number) => number,
  title: string,
  yTitle: string,
): PlotlyFigure {
  return {
    data: ownRuns(results).map((r) => ({
      type: "scatter",
      mode: "lines+markers",
      name: `${r.method} (${r.head_setting})`,
      x: layerNames(r),
      y: r.layers.map((_, i) => value(r, i)),
      text: r.layers.map((l) => `width ${l.dim}`),
    })),
    layout: {
      title: { text: title },
      xaxis: { title: { text: "layer (h → head → z)" }, type: "category" },
      yaxis: { title: { text: yTitle } },
    },
  };
}

/** (2) RankMe per layer, on unlabelled images. */
export function rankPerLayerFigure(results: MethodsPartResults): PlotlyFigure {
  return perLayerFigure(
    results,
    (r, i) => Math.round(r.layers[i].rank_me * 10) / 10,
    "Effective rank (RankMe) from h through the head to z",
    "RankMe",
  );
}

/** (3) The linear probe per layer. */
export function probePerLayerFigure(results: MethodsPartResults): PlotlyFigure {
  return perLayerFigure(
    results,
    (r, i) => pc(r.layers[i].probe),
    "Linear-probe accuracy from h through the head to z",
    "test accuracy (%)",
  );
}

/** (4) The rotation and mirror probes at h and at z, per method. */
export function transformFigure(results: MethodsPartResults): PlotlyFigure {
  const runs = ownRuns(results);
  const at = (r: RunMean, t: "rotation" | "mirror", which: "h" | "z") => {
    const rows = r.transforms[t].accuracy;
    const row = which === "h" ? rows[0] : rows[rows.length - 1];
    return row ? pc(row.accuracy) : null;
  };
  const data = (["rotation", "mirror"] as const).flatMap((t) =>
    (["h", "z"] as const).map((which) => ({
      type: "bar",
      name: `${t} from ${which}`,
      x: runs.map((r) => r.method),
      y: runs.map((r) => at(r, t, which)),
    }))
  );
  return {
    data,
    layout: {
      title: { text: "Which quarter-turn / mirror was applied? A linear probe from h and from z" },
      barmode: "group",
      xaxis: { title: { text: "method (own head)" } },
      yaxis: { title: { text: "accuracy (%): chance 25% (rotation), 50% (mirror)" } },
    },
  };
}

/** (5) Each method's fine-tunes (discard, keep, keep-k) beside the strong baseline. */
export function keepOrDiscardFigure(results: MethodsPartResults): PlotlyFigure {
  const answers = keepOrDiscard(results);
  const data: Record<string, unknown>[] = FINE_TUNE_MODES.map((mode) => ({
    type: "bar",
    name: FINE_TUNE_MODE_TITLES[mode],
    x: answers.map((a) => a.method),
    y: answers.map((a) => {
      const s = a.modes[mode];
      return "skipped" in s ? null : pc(s.test);
    }),
  }));
  const strong = results.strong[0];
  if (strong && answers.length) {
    const v = pc(meanAndSpread(strong.test).mean);
    data.push({
      type: "scatter",
      mode: "lines",
      name: `strong supervised, ${strong.steps} steps`,
      x: answers.map((a) => a.method),
      y: answers.map(() => v),
      line: { dash: "dash", color: "black" },
    });
  }
  return {
    data,
    layout: {
      title: { text: "Keep or discard the head when fine-tuning? (no bar: does not apply)" },
      barmode: "group",
      xaxis: { title: { text: "method (own head)" } },
      yaxis: { title: { text: "test accuracy (%)" } },
    },
  };
}

/**
 * (6) The collapse demos beside their full methods: the uncentred RankMe of h and z (about 1
 * when every image gives the same direction) and the spread of the normalised z (SimSiam's
 * measure: about 1 spread out, 0 collapsed).
 */
export function collapseFigure(results: MethodsPartResults): PlotlyFigure {
  const runs = collapseDemos(results.runs).flatMap((d) => [d.full, d.demo]);
  const r1 = (v: number) => Math.round(v * 10) / 10;
  return {
    data: [
      {
        type: "bar",
        name: "RankMe of h (uncentred)",
        x: runs.map((r) => r.name),
        y: runs.map((r) => r1(r.rank_me_uncentred.h)),
      },
      {
        type: "bar",
        name: "RankMe of z (uncentred)",
        x: runs.map((r) => r.name),
        y: runs.map((r) => r1(r.rank_me_uncentred.z)),
      },
      {
        type: "scatter",
        mode: "markers",
        marker: { size: 12, symbol: "diamond" },
        name: "spread of the normalised z (right axis)",
        x: runs.map((r) => r.name),
        y: runs.map((r) => Math.round(r.spread.z * 1000) / 1000),
        yaxis: "y2",
      },
    ],
    layout: {
      title: { text: "Collapse: SimSiam without its predictor, BYOL without head or predictor" },
      barmode: "group",
      yaxis: { title: { text: "RankMe (uncentred)" } },
      yaxis2: {
        title: { text: "spread of z (1: spread out, 0: collapsed)" },
        overlaying: "y",
        side: "right",
        rangemode: "tozero",
      },
      legend: { orientation: "h" },
    },
  };
}

/** Every chart of the part, in the order of the notebook. */
export function methodsFigures(results: MethodsPartResults): PlotlyFigure[] {
  return [
    spectraFigure(results),
    rankPerLayerFigure(results),
    probePerLayerFigure(results),
    transformFigure(results),
    keepOrDiscardFigure(results),
    collapseFigure(results),
  ];
}
