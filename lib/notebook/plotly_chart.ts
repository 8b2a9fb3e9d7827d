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
 * This module holds the chart core ({@link PlotlyChart}, {@link plot}) and the inlining of
 * plotly.js; the chart helpers (`linePlot`, `barPlot`, `heatmap`, `scatter2d`) are in
 * `plot.ts`, which re-exports everything here.
 *
 * @example
 * ```ts
 * import { display } from "./display.ts";
 * import { plot } from "./plotly_chart.ts";
 * await display(plot([{ type: "bar", x: ["a", "b"], y: [3, 5] }], { title: "counts" }));
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
