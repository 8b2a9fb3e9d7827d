/**
 * Plotly charts that render OFFLINE in JupyterLab, VS Code and an nbconvert HTML export.
 *
 * A chart is a {@link Displayable} (see display.ts) whose `text/html` holds a `<div
 * class="ssl-plotly">` and a script calling `Plotly.newPlot` on `window.Plotly`, waiting for it
 * up to 15 s. The first chart rendered in the kernel process (the Deno kernel runs one notebook
 * per process) first emits the whole plotly.js library inline, read from
 * `node_modules/plotly.js-dist/plotly.js` (about 11 MB, once per notebook), as an output of
 * its own just before the chart, in the same cell; scripts run in document order, so every
 * later chart finds `window.Plotly`, in the nbconvert HTML export as in a live JupyterLab /
 * VS Code session. The library script hides any AMD/CommonJS loader (nbconvert's template may
 * load require.js) so it always sets `window.Plotly`.
 *
 * Why a separate output: Deno 2.9 sends a cell's outputs asynchronously and reports the cell
 * finished without waiting; an 11 MB result reaches Jupyter after the cell's "idle" status and
 * nbclient drops it (once nbclient even aborted with "Invalid Signature"). The library output
 * is therefore sent with `Deno.jupyter.display` and the chart waits until it has gone out.
 * `chart.toMimeBundle(true)` still gives library and chart in one bundle (standalone HTML).
 * If the page lost the library (a browser reload of a live session), call
 * {@link resetPlotlyInline} and re-run a chart cell.
 *
 * Scripts in saved outputs run only in a trusted notebook (JupyterLab: "Trust Notebook").
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
 * // as a cell's last expression, the kernel renders it:
 * barPlot(["supervised", "SimCLR"], { accuracy: [0.76, 0.86] }, { yRange: [0, 1] });
 * ```
 *
 * @module
 */

import {
  type Displayable,
  emitBundle,
  escapeHtml,
  inKernel,
  JUPYTER_DISPLAY,
  type MimeBundle,
  yieldToKernel,
} from "./display.ts";

/** One plotly trace (`{type, x, y, name, ...}`); typed arrays are accepted for data. */
export type Trace = Record<string, unknown>;
/** A plotly layout object. */
export type Layout = Record<string, unknown>;

/** Options of {@link plot}. */
export interface PlotOptions {
  /** Height of the chart in pixels (default 400). */
  height?: number;
  /** Extra plotly config (default: responsive, no logo). */
  config?: Record<string, unknown>;
}

const INLINED = Symbol.for("ssl.notebook.plotlyInlined");
const PLOTLY_URL = new URL("../../node_modules/plotly.js-dist/plotly.js", import.meta.url);
let plotlySource: string | undefined;
let chartCounter = 0;

/** The plotly.js source (read once from node_modules; a clear error if it is missing). */
export function plotlyJs(): string {
  if (plotlySource === undefined) {
    try {
      plotlySource = Deno.readTextFileSync(PLOTLY_URL);
    } catch (e) {
      throw new Error(
        `plotly.js not found at ${PLOTLY_URL.pathname}: run \`deno install\` in the repository ` +
          `root (deno.json pins plotly.js-dist). (${(e as Error).message})`,
      );
    }
  }
  return plotlySource;
}

/** A `<script>` holding plotly.js inline; it defines `window.Plotly` even where require.js is loaded. */
export function plotlyScriptTag(): string {
  const src = plotlyJs();
  if (/<\/script/i.test(src)) throw new Error("plotly.js contains </script>: cannot inline it");
  return '<script type="text/javascript" class="ssl-plotly-library">/* plotly.js-dist, inlined once per notebook */\n' +
    "(function(){var module=undefined,exports=undefined,define=undefined;\n" + src +
    "\n}).call(typeof self !== 'undefined' ? self : this);</script>";
}

/** Whether this process has already emitted the plotly.js library in a chart output. */
export function plotlyInlined(): boolean {
  return (globalThis as Record<symbol, unknown>)[INLINED] === true;
}

/** Forgets that plotly.js was emitted, so the next rendered chart carries it again. */
export function resetPlotlyInline(): void {
  (globalThis as Record<symbol, unknown>)[INLINED] = false;
}

/**
 * The output that carries plotly.js: `text/html` with the library script (nothing visible) and
 * a `text/plain` note. The first chart rendered in the kernel emits it.
 */
export function plotlyLibraryBundle(): MimeBundle {
  return {
    "text/html": plotlyScriptTag(),
    "text/plain": "[plotly.js inline: the charts of this notebook draw with it, offline]",
  };
}

function claimInline(): boolean {
  if (plotlyInlined()) return false;
  (globalThis as Record<symbol, unknown>)[INLINED] = true;
  return true;
}

/** Converts typed arrays (recursively) into plain arrays; float32 values keep 7 digits. */
export function plainData(value: unknown): unknown {
  if (value instanceof Float32Array) {
    return Array.from(value, (v) => Number.isFinite(v) ? Number(v.toPrecision(7)) : null);
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => Number(v));
  }
  if (Array.isArray(value)) return value.map(plainData);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plainData(v);
    return out;
  }
  return value;
}

/** JSON safe to embed in an inline `<script>` (no `</script>`, no `<!--`, no U+2028/2029). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function titleText(layout: Layout): string {
  const t = layout.title;
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && typeof (t as { text?: unknown }).text === "string") {
    return (t as { text: string }).text;
  }
  return "";
}

/** A plotly chart; display it (last expression or `await display(chart)`). */
export class PlotlyChart implements Displayable {
  /** The div id of this chart in the page (unique per process). */
  readonly id: string;
  /** The traces, converted to plain JSON data. */
  readonly traces: Trace[];
  /** The layout (height applied). */
  readonly layout: Layout;
  /** The plotly config. */
  readonly config: Record<string, unknown>;

  /** Builds a chart; prefer {@link plot}. */
  constructor(traces: Trace[], layout: Layout = {}, options: PlotOptions = {}) {
    const height = options.height ?? (layout.height as number | undefined) ?? 400;
    this.id = `ssl-plot-${Date.now().toString(36)}-${(++chartCounter).toString(36)}-${
      Math.floor(Math.random() * 1e6).toString(36)
    }`;
    this.traces = plainData(traces) as Trace[];
    const l = plainData(layout) as Layout;
    if (typeof l.title === "string") l.title = { text: l.title }; // plotly.js 3 wants {text}
    this.layout = { ...l, height };
    this.config = { responsive: true, displaylogo: false, ...(options.config ?? {}) };
  }

  /** The chart's HTML: the div and its drawing script, with plotly.js inline if asked. */
  toHtml(includeLibrary: boolean): string {
    const height = this.layout.height as number;
    const spec = scriptJson({ data: this.traces, layout: this.layout, config: this.config });
    const id = scriptJson(this.id);
    const draw = `<script type="text/javascript">
(function () {
  var spec = ${spec};
  var tries = 0;
  function draw() {
    var el = document.getElementById(${id});
    if (el && window.Plotly) { window.Plotly.newPlot(el, spec.data, spec.layout, spec.config); return; }
    if (++tries < 150) { setTimeout(draw, 100); return; }
    if (el) el.textContent = "plotly.js is not loaded in this page: re-run the notebook from its first chart (or call resetPlotlyInline() and re-run this cell).";
  }
  draw();
})();
</script>`;
    return [
      `<div class="ssl-plotly" id="${
        escapeHtml(this.id)
      }" style="width:100%;height:${height}px"></div>`,
      includeLibrary ? plotlyScriptTag() : "",
      draw,
    ].join("\n");
  }

  /** The MIME bundle: `text/html` (chart) and `text/plain` (a one-line description). */
  toMimeBundle(includeLibrary: boolean): MimeBundle {
    const title = titleText(this.layout);
    const kinds = [...new Set(this.traces.map((t) => String(t.type ?? "scatter")))].join(", ");
    return {
      "text/html": this.toHtml(includeLibrary),
      "text/plain": `[plotly chart${
        title ? `: ${title}` : ""
      } (${this.traces.length} ${kinds} trace${this.traces.length === 1 ? "" : "s"})]`,
    };
  }

  /**
   * Renders the chart's bundle; when `emitLibrary` is given and no chart has emitted plotly.js
   * in this process yet, first hands it {@link plotlyLibraryBundle} (and awaits it).
   */
  async render(emitLibrary?: (bundle: MimeBundle) => unknown): Promise<MimeBundle> {
    if (emitLibrary && claimInline()) {
      try {
        await emitLibrary(plotlyLibraryBundle());
      } catch (e) {
        resetPlotlyInline();
        throw e;
      }
    }
    return this.toMimeBundle(false);
  }

  /** Rendered by the kernel: the first chart in the process emits plotly.js before itself. */
  async [JUPYTER_DISPLAY](): Promise<MimeBundle> {
    const bundle = await this.render(inKernel() ? emitBundle : undefined);
    await yieldToKernel(1); // see displayable() in display.ts: keeps execute_result in its cell
    return bundle;
  }

  /** The text fallback. */
  toString(): string {
    return this.toMimeBundle(false)["text/plain"];
  }
}

/** A chart from plotly traces and layout, e.g. `plot([{type: "bar", x, y}], {title: "..."})`. */
export function plot(traces: Trace[], layout: Layout = {}, options: PlotOptions = {}): PlotlyChart {
  return new PlotlyChart(traces, layout, options);
}

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
