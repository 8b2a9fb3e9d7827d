/**
 * Chart helpers for the notebooks: line charts over epochs ({@link linePlot}), grouped bars
 * ({@link barPlot}), matrices ({@link heatmap}) and 2-D embeddings ({@link scatter2d}), each a
 * {@link PlotlyChart}: the plotly MIME type for VS Code and JupyterLab's plotly renderer, and a
 * `text/html` fallback that draws OFFLINE in the nbconvert HTML export and the classic
 * Notebook (and shows the chart's title and a note where scripts do not run).
 *
 * The chart core is in `plotly_chart.ts`, the plotly.js library (how it reaches the page,
 * compressed, once per notebook) in `plotly_library.ts`; everything they export is
 * re-exported here.
 *
 * @example
 * ```ts
 * import { display } from "./display.ts";
 * import { barPlot, heatmap, linePlot } from "./plot.ts";
 * await display(linePlot(
 *   { x: [1, 2, 3], ys: { loss: [2.1, 1.6, 1.4], lr: [1e-3, 9.5e-4, 9e-4] } },
 *   { xTitle: "epoch", yTitle: "loss", y2: { names: ["lr"], title: "learning rate" } },
 * ));
 * await display(heatmap([[50, 2], [3, 45]], { title: "confusion", xTitle: "predicted" }));
 * // a cell's last expression is rendered too, best-effort (display.ts says why):
 * barPlot(["supervised", "SimCLR"], { accuracy: [0.76, 0.86] }, { yRange: [0, 1] });
 * ```
 *
 * @module
 */

import { type Layout, plot, type PlotlyChart, type PlotOptions } from "./plotly_chart.ts";

export {
  CHART_NOTE_CLASS,
  type Layout,
  LIBRARY_NOTE_CLASS,
  plainData,
  plot,
  PLOTLY_MIME,
  PlotlyChart,
  plotlyInlined,
  plotlyJs,
  plotlyLibraryBundle,
  type PlotlyPayload,
  plotlyPayload,
  plotlyScriptTag,
  plotlyVersion,
  type PlotOptions,
  resetPlotlyInline,
  scriptJson,
  type Trace,
} from "./plotly_chart.ts";

type Numbers = ArrayLike<number>;

function axisTitle(text?: string): Layout | undefined {
  return text ? { title: { text } } : undefined;
}

/** Options of {@link linePlot}. */
export interface LinePlotOptions extends PlotOptions {
  /** Chart title. */
  title?: string;
  /** X axis title. */
  xTitle?: string;
  /** Left Y axis title. */
  yTitle?: string;
  /** Series drawn against a second Y axis on the right (e.g. the learning rate). */
  y2?: { names: string[]; title?: string; log?: boolean };
  /** Logarithmic left Y axis. */
  logY?: boolean;
  /** Draw markers on the points as well as lines. */
  markers?: boolean;
}

/**
 * Line chart of several named series over a shared x, e.g. loss and learning rate per epoch:
 * `linePlot({x: epochs, ys: {loss, lr}}, {title, xTitle: "epoch", yTitle: "loss", y2: {names: ["lr"], title: "learning rate"}})`.
 */
export function linePlot(
  data: { x: Numbers; ys: Record<string, Numbers> },
  options: LinePlotOptions = {},
): PlotlyChart {
  const right = new Set(options.y2?.names ?? []);
  for (const n of right) {
    if (!(n in data.ys)) throw new Error(`linePlot: y2 series "${n}" is not in ys`);
  }
  const traces = Object.entries(data.ys).map(([name, y]) => ({
    type: "scatter",
    mode: options.markers ? "lines+markers" : "lines",
    name,
    x: data.x,
    y,
    ...(right.has(name) ? { yaxis: "y2", line: { dash: "dot" } } : {}),
  }));
  const layout: Layout = {
    title: { text: options.title ?? "" },
    xaxis: axisTitle(options.xTitle) ?? {},
    yaxis: { ...(axisTitle(options.yTitle) ?? {}), ...(options.logY ? { type: "log" } : {}) },
    legend: { orientation: "h", y: -0.2 },
  };
  if (right.size > 0) {
    layout.yaxis2 = {
      ...(axisTitle(options.y2?.title) ?? {}),
      overlaying: "y",
      side: "right",
      showgrid: false,
      ...(options.y2?.log ? { type: "log" } : {}),
    };
  }
  return plot(traces, layout, options);
}

/** Options of {@link barPlot}. */
export interface BarPlotOptions extends PlotOptions {
  /** Chart title. */
  title?: string;
  /** Y axis title. */
  yTitle?: string;
  /** X axis title. */
  xTitle?: string;
  /** Error bar half-widths per series (same keys and lengths as `series`), e.g. std over seeds. */
  errorBars?: Record<string, Numbers>;
  /** Fixed Y range, e.g. `[0, 1]` for accuracies. */
  yRange?: [number, number];
}

/** Grouped bar chart: one bar group per category, one bar per series (`{name: values}`). */
export function barPlot(
  categories: string[],
  series: Record<string, Numbers>,
  options: BarPlotOptions = {},
): PlotlyChart {
  const traces = Object.entries(series).map(([name, y]) => {
    if (y.length !== categories.length) {
      throw new Error(
        `barPlot: series "${name}" has ${y.length} values, ${categories.length} categories`,
      );
    }
    const err = options.errorBars?.[name];
    return {
      type: "bar",
      name,
      x: categories,
      y,
      ...(err ? { error_y: { type: "data", array: err, visible: true } } : {}),
    };
  });
  return plot(traces, {
    title: { text: options.title ?? "" },
    barmode: "group",
    xaxis: axisTitle(options.xTitle) ?? {},
    yaxis: {
      ...(axisTitle(options.yTitle) ?? {}),
      ...(options.yRange ? { range: options.yRange } : {}),
    },
    showlegend: traces.length > 1,
  }, options);
}

/** Options of {@link heatmap}. */
export interface HeatmapOptions extends PlotOptions {
  /** Column labels. */
  x?: (string | number)[];
  /** Row labels. */
  y?: (string | number)[];
  /** Chart title. */
  title?: string;
  /** X axis title. */
  xTitle?: string;
  /** Y axis title. */
  yTitle?: string;
  /** A plotly colorscale name ("Viridis", "Blues", ...) or `[[0, color], [1, color]]`. */
  colorscale?: string | [number, string][];
  /** Reverse the colour scale (plotly's "Blues" runs dark to light; reversed, high is dark). */
  reverseScale?: boolean;
  /** Write each cell's value on it (default: when there are at most 400 cells). */
  showValues?: boolean;
  /** Row 0 at the top, as in a confusion matrix (default true). */
  rowsTopDown?: boolean;
}

/** Heatmap of a matrix (rows of numbers), e.g. a confusion matrix or a similarity matrix. */
export function heatmap(matrix: ArrayLike<number>[], options: HeatmapOptions = {}): PlotlyChart {
  const rows = matrix.length;
  const cols = rows > 0 ? matrix[0].length : 0;
  const showValues = options.showValues ?? rows * cols <= 400;
  const x = options.x?.map(String);
  const y = options.y?.map(String);
  return plot([{
    type: "heatmap",
    z: matrix,
    ...(x ? { x } : {}),
    ...(y ? { y } : {}),
    colorscale: options.colorscale ?? "Viridis",
    ...(options.reverseScale ? { reversescale: true } : {}),
    ...(showValues ? { texttemplate: "%{z:.3~g}", hoverongaps: false } : {}),
  }], {
    title: { text: options.title ?? "" },
    xaxis: { ...(axisTitle(options.xTitle) ?? {}), type: "category" },
    yaxis: {
      ...(axisTitle(options.yTitle) ?? {}),
      type: "category",
      ...(options.rowsTopDown ?? true ? { autorange: "reversed" } : {}),
    },
  }, options);
}

/** Options of {@link scatter2d}. */
export interface ScatterOptions extends PlotOptions {
  /** Chart title. */
  title?: string;
  /** Display names of the classes, indexed by numeric label. */
  classNames?: string[];
  /** Marker size in pixels (default 5). */
  markerSize?: number;
  /** Use WebGL (`scattergl`) for many points; SVG `scatter` by default (draws everywhere). */
  webgl?: boolean;
}

/**
 * 2-D embedding scatter: `points` holds x0,y0,x1,y1,... (e.g. from UMAP/PCA), `labels` one
 * class per point; one trace (colour, legend entry) per class, classes in sorted order.
 */
export function scatter2d(
  points: ArrayLike<number>,
  labels: ArrayLike<number | string>,
  options: ScatterOptions = {},
): PlotlyChart {
  const n = labels.length;
  if (points.length !== 2 * n) {
    throw new Error(`scatter2d: ${points.length} coordinates for ${n} labels (need 2 per point)`);
  }
  const groups = new Map<number | string, { x: number[]; y: number[] }>();
  for (let i = 0; i < n; i++) {
    const k = labels[i];
    let g = groups.get(k);
    if (!g) groups.set(k, g = { x: [], y: [] });
    g.x.push(Number(Number(points[2 * i]).toPrecision(6)));
    g.y.push(Number(Number(points[2 * i + 1]).toPrecision(6)));
  }
  const keys = [...groups.keys()].sort((a, b) =>
    typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))
  );
  const traces = keys.map((k) => ({
    type: options.webgl ? "scattergl" : "scatter",
    mode: "markers",
    name: typeof k === "number" && options.classNames?.[k] !== undefined
      ? options.classNames[k]
      : String(k),
    x: groups.get(k)!.x,
    y: groups.get(k)!.y,
    marker: { size: options.markerSize ?? 5, opacity: 0.8 },
  }));
  return plot(traces, {
    title: { text: options.title ?? "" },
    xaxis: { zeroline: false },
    yaxis: { zeroline: false, scaleanchor: "x" },
  }, { height: 500, ...options });
}
