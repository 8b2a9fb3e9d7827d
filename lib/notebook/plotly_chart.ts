/**
 * Plotly charts that every notebook front end can show, and that draw OFFLINE.
 *
 * A chart is a {@link Displayable} (see display.ts) whose MIME bundle carries:
 * - `application/vnd.plotly.v1+json` (`{data, layout, config}`): drawn natively, without trust
 *   and without any script in the notebook, by VS Code's notebook renderers and by JupyterLab
 *   with the plotly extension;
 * - `text/html`, the fallback of the nbconvert HTML export and of front ends without a plotly
 *   renderer (the classic Notebook): a `<div class="ssl-plotly">` holding the chart's title and
 *   a one-line note, and a script that replaces the note with the chart (`Plotly.newPlot`,
 *   waiting up to 20 s for `window.Plotly`). Where scripts do not run (a notebook that is not
 *   trusted) the title and the note stay: no empty box;
 * - `text/plain`: a one-line description.
 *
 * plotly.js reaches the page once per notebook: the first chart rendered in the kernel process
 * (the Deno kernel runs one notebook per process) first emits the library's output
 * (plotly_library.ts: minified, gzip + base64, about 1.9 MB, unpacked in the page), in the same
 * cell. Scripts run in document order, so every later chart finds `window.Plotly`, in the HTML
 * export as in a live session.
 *
 * Why a separate output: Deno 2.9 sends a cell's outputs asynchronously and reports the cell
 * finished without waiting; a large result can reach Jupyter after the cell's "idle" status,
 * where nbclient drops it. The library output is therefore sent with `Deno.jupyter.display`
 * and the chart waits until it has gone out. `chart.toMimeBundle(true)` still gives library
 * and chart in one bundle (standalone HTML). If the page lost the library (a browser reload of
 * a live session), call {@link resetPlotlyInline} and re-run a chart cell.
 *
 * This module holds the chart core ({@link PlotlyChart}, {@link plot}); the library is in
 * plotly_library.ts, the chart helpers (`linePlot`, `barPlot`, `heatmap`, `scatter2d`) in
 * `plot.ts`, which re-exports everything here.
 *
 * @example
 * ```ts
 * import { display } from "./display.ts";
 * import { plot } from "./plotly_chart.ts";
 * const chart = plot([{ type: "bar", x: ["a", "b"], y: [3, 5] }], { title: "counts" });
 * const bundle = chart.toMimeBundle(false);
 * // bundle["application/vnd.plotly.v1+json"]: { data, layout, config }
 * await display(chart);
 * ```
 *
 * @module
 */

import { escapeHtml } from "../html.ts";
import {
  type Displayable,
  emitBundle,
  inKernel,
  JUPYTER_DISPLAY,
  type MimeBundle,
  yieldToKernel,
} from "./display.ts";
import {
  claimInline,
  plotlyLibraryBundle,
  plotlyScriptTag,
  resetPlotlyInline,
} from "./plotly_library.ts";

export {
  LIBRARY_NOTE_CLASS,
  plotlyInlined,
  plotlyJs,
  plotlyLibraryBundle,
  type PlotlyPayload,
  plotlyPayload,
  plotlyScriptTag,
  plotlyVersion,
  resetPlotlyInline,
} from "./plotly_library.ts";

/** The MIME type of a plotly figure (`{data, layout, config}` as JSON). */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** The class of the note a chart's `text/html` shows until (unless) its script draws it. */
export const CHART_NOTE_CLASS = "ssl-plotly-note";

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

let chartCounter = 0;

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

/** A plotly chart; display it with `await display(chart)` (a last expression is best-effort). */
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

  /** The chart's title (`""` when it has none). */
  get title(): string {
    return titleText(this.layout);
  }

  /** The figure as the plotly MIME type holds it: `{data, layout, config}`. */
  figure(): { data: Trace[]; layout: Layout; config: Record<string, unknown> } {
    return { data: this.traces, layout: this.layout, config: this.config };
  }

  /**
   * The chart's HTML: its div (the title and a one-line note of how to see the chart, both
   * replaced by the chart where the script runs) and the drawing script, with plotly.js inline
   * when asked.
   */
  toHtml(includeLibrary: boolean): string {
    const height = this.layout.height as number;
    const spec = scriptJson(this.figure());
    const id = scriptJson(this.id);
    const title = this.title || "a plotly chart";
    const draw = `<script type="text/javascript">
(function () {
  var spec = ${spec};
  var tries = 0;
  function draw() {
    var el = document.getElementById(${id});
    if (el && window.Plotly) {
      var note = el.querySelector(".${CHART_NOTE_CLASS}");
      if (note) el.removeChild(note);
      el.style.height = "${height}px";
      window.Plotly.newPlot(el, spec.data, spec.layout, spec.config);
      return;
    }
    if (++tries < 200) { setTimeout(draw, 100); return; }
    var msg = el && el.querySelector(".${CHART_NOTE_CLASS}-how");
    if (msg) msg.textContent = "plotly.js is not loaded in this page" + (window.sslPlotlyError ? " (" + window.sslPlotlyError + ")" : "") + ": run the notebook again from the top (Kernel, Restart & Run All).";
  }
  draw();
})();
</script>`;
    const note = `<div class="${CHART_NOTE_CLASS}"><b>${escapeHtml(title)}</b> ` +
      `<span class="${CHART_NOTE_CLASS}-how">(interactive plotly chart: it draws here once the ` +
      `notebook is trusted, or when you re-run this cell)</span></div>`;
    return [
      `<div class="ssl-plotly" id="${escapeHtml(this.id)}" style="width:100%">${note}</div>`,
      includeLibrary ? plotlyScriptTag() : "",
      draw,
    ].join("\n");
  }

  /**
   * The MIME bundle: the figure as `application/vnd.plotly.v1+json`, the `text/html` fallback
   * (chart and note, see the module documentation) and `text/plain` (a one-line description).
   */
  toMimeBundle(includeLibrary: boolean): MimeBundle {
    const kinds = [...new Set(this.traces.map((t) => String(t.type ?? "scatter")))].join(", ");
    return {
      [PLOTLY_MIME]: this.figure(),
      "text/html": this.toHtml(includeLibrary),
      "text/plain": `[plotly chart${
        this.title ? `: ${this.title}` : ""
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
    return this.toMimeBundle(false)["text/plain"] as string;
  }
}

/** A chart from plotly traces and layout, e.g. `plot([{type: "bar", x, y}], {title: "..."})`. */
export function plot(traces: Trace[], layout: Layout = {}, options: PlotOptions = {}): PlotlyChart {
  return new PlotlyChart(traces, layout, options);
}
