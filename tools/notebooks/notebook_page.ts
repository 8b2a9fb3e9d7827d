/**
 * A learner at the classic Jupyter Notebook, in headless Chromium (tools/notebooks/chromium.ts): open
 * a notebook ({@linkcode openNotebook}), run every cell through the menu, Cell → Run All, and
 * wait until the kernel is idle ({@linkcode runAllCells}), trust it through File → Trust
 * Notebook ({@linkcode trustNotebook}), read what the page shows ({@linkcode inspectNotebook}:
 * charts drawn or explained, images, progress bars, errors, raw Markdown, empty outputs) and
 * take a screenshot of the whole notebook ({@linkcode screenshotNotebook}).
 *
 * @example
 * ```ts
 * import { emptyView, viewProblems } from "./notebook_page.ts";
 * // What a page shows is checked with viewProblems: none for a view without outputs.
 * const problems: string[] = viewProblems(emptyView());
 * if (problems.length !== 0) throw new Error(problems.join("; "));
 * ```
 *
 * @module
 */

import { type Page, waitFor } from "./chromium.ts";
import { fullPageScreenshot } from "./browser_check.ts";
import type { NotebookServer } from "./notebook_server.ts";

/** What a notebook page shows, read from its DOM. */
export interface NotebookView {
  /** Whether the front end trusts the notebook (`Jupyter.notebook.trusted`). */
  trusted: boolean;
  /** Code cells, and how many of them hold an execution count. */
  codeCells: number;
  /** Code cells with an execution count. */
  executed: number;
  /** Output areas (one per output). */
  outputs: number;
  /** Texts of error outputs. */
  errors: string[];
  /** Plotly chart divs. */
  charts: number;
  /** Chart divs holding a drawn plotly SVG. */
  drawn: number;
  /** Charts not drawn: the note each shows instead (empty when it shows nothing). */
  undrawn: string[];
  /** `<img>` outputs that loaded (natural width > 0), and those that did not. */
  images: { shown: number; broken: number };
  /** Progress-bar outputs per code cell (only cells with at least one). */
  progressPerCell: number[];
  /** The `<progress>` values and maxima shown. */
  progress: { value: number; max: number }[];
  /** Lines of the longest stream (stdout/stderr) output. */
  longestStream: number;
  /** Outputs that show nothing (no text, no image, no chart): what they hold. */
  empty: string[];
  /** Outputs whose visible text holds raw Markdown markup (`**`). */
  rawMarkdown: string[];
  /** Visible one-line notes of the plotly.js library output. */
  libraryNotes: number;
}

/** A view of a notebook without outputs. */
export function emptyView(): NotebookView {
  return {
    trusted: true,
    codeCells: 0,
    executed: 0,
    outputs: 0,
    errors: [],
    charts: 0,
    drawn: 0,
    undrawn: [],
    images: { shown: 0, broken: 0 },
    progressPerCell: [],
    progress: [],
    longestStream: 0,
    empty: [],
    rawMarkdown: [],
    libraryNotes: 0,
  };
}

/**
 * What is wrong with a view for a learner, as sentences (none: all is well): error outputs,
 * broken images, empty outputs, raw Markdown, a chart neither drawn nor explained (a note
 * naming its title), more than `maxBarsPerCell` progress outputs in a cell (default 16: one
 * per model trained, not one per step), a stream of more than `maxStreamLines` lines
 * (default 40: a progress bar printed line by line).
 */
export function viewProblems(
  view: NotebookView,
  options: { maxStreamLines?: number; maxBarsPerCell?: number } = {},
): string[] {
  const problems: string[] = [];
  if (view.errors.length) problems.push(`error outputs: ${view.errors.join(" | ").slice(0, 500)}`);
  if (view.images.broken) problems.push(`${view.images.broken} image(s) did not load`);
  if (view.empty.length) problems.push(`outputs that show nothing: ${view.empty.join(" | ")}`);
  if (view.rawMarkdown.length) {
    problems.push(`raw Markdown shown as text: ${view.rawMarkdown.join(" | ").slice(0, 300)}`);
  }
  const unexplained = view.undrawn.filter((note) =>
    !/\S+ \(.*(trust|re-run|run the notebook)/.test(note)
  );
  if (unexplained.length) {
    problems.push(`charts neither drawn nor explained: ${JSON.stringify(unexplained)}`);
  }
  const bars = options.maxBarsPerCell ?? 16;
  if (view.progressPerCell.some((n) => n > bars)) {
    problems.push(`progress shown as many outputs: ${view.progressPerCell.join(", ")} per cell`);
  }
  const max = options.maxStreamLines ?? 40;
  if (view.longestStream > max) problems.push(`a stream output of ${view.longestStream} lines`);
  return problems;
}

/** Opens a notebook of the server in `page` and waits until it is loaded and its kernel idle. */
export async function openNotebook(
  page: Page,
  server: NotebookServer,
  path: string,
  options: { timeoutMs?: number; waitKernel?: boolean } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  await page.goto(server.notebookUrl(path), { timeout: timeoutMs });
  await waitFor(
    page,
    "!!(window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded)",
    timeoutMs,
    `${path} to load in the notebook page`,
  );
  if (options.waitKernel !== false) await waitForKernel(page, timeoutMs);
}

const KERNEL_IDLE_JS = `(() => {
  const k = Jupyter.notebook.kernel;
  const icon = document.querySelector("#kernel_indicator_icon");
  return !!(k && k.is_connected() && icon && icon.classList.contains("kernel_idle_icon"));
})()`;

/** Waits until the notebook's kernel is connected and idle. */
export async function waitForKernel(page: Page, timeoutMs = 120_000): Promise<void> {
  await waitFor(page, KERNEL_IDLE_JS, timeoutMs, "the kernel to start (idle)");
}

/**
 * Clicks Cell → Run All in the menu bar, then waits until no cell is queued or running, every
 * code cell has an execution count and the kernel is idle, twice in a row. `sample` is
 * evaluated at every poll (e.g. to watch a progress bar change); its values are returned.
 */
export async function runAllCells(
  page: Page,
  options: { timeoutMs?: number; sample?: string; pollMs?: number } = {},
): Promise<unknown[]> {
  const timeoutMs = options.timeoutMs ?? 600_000;
  await page.click("#celllink");
  await waitFor(
    page,
    "(() => { const a = document.querySelector('#run_all_cells > a'); return !!a && a.offsetParent !== null; })()",
    10_000,
    "the Cell menu to open",
  );
  await page.click("#run_all_cells > a");
  const samples: unknown[] = [];
  const end = performance.now() + timeoutMs;
  let settled = 0;
  await waitFor(page, "document.querySelectorAll('.input_prompt').length > 0", 10_000, "cells");
  await new Promise((r) => setTimeout(r, 1000));
  while (settled < 2) {
    if (performance.now() > end) {
      throw new Error(`Run All did not finish within ${timeoutMs} ms`);
    }
    if (options.sample) samples.push(await page.evaluate(options.sample));
    const done = await page.evaluate(`(() => {
      const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === "code");
      const running = cells.some((c) => c.input_prompt_number === "*");
      const numbered = cells.every((c) => typeof c.input_prompt_number === "number" || c.get_text().trim() === "");
      return !running && numbered && ${KERNEL_IDLE_JS};
    })()`);
    settled = done ? settled + 1 : 0;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
  return samples;
}

/**
 * Trusts the open notebook the way a learner does: File → Trust Notebook, then "Trust" in the
 * dialog; the page saves the notebook and reloads. Waits until it is loaded again, trusted.
 */
export async function trustNotebook(page: Page, timeoutMs = 120_000): Promise<void> {
  await page.click("#filelink");
  await waitFor(
    page,
    "(() => { const a = document.querySelector('#trust_notebook > a'); return !!a && a.offsetParent !== null; })()",
    10_000,
    "the File menu to open",
  );
  await page.click("#trust_notebook > a");
  await waitFor(
    page,
    "(() => { const b = document.querySelector('.modal-footer .btn-danger'); return !!b && b.offsetParent !== null; })()",
    10_000,
    "the Trust dialog",
  );
  await page.evaluate("window.sslBeforeTrust = true");
  await page.click(".modal-footer .btn-danger");
  await waitFor(
    page,
    "!window.sslBeforeTrust && !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded && Jupyter.notebook.trusted)",
    timeoutMs,
    "the notebook to reload, trusted",
  );
}

/** Reads what the open notebook page shows (see {@linkcode NotebookView}). */
export async function inspectNotebook(page: Page): Promise<NotebookView> {
  return (await page.evaluate(`(() => {
    const visible = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
    const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === "code");
    const view = {
      trusted: !!Jupyter.notebook.trusted,
      codeCells: cells.length,
      executed: cells.filter((c) => typeof c.input_prompt_number === "number").length,
      outputs: 0, errors: [], charts: 0, drawn: 0, undrawn: [],
      images: { shown: 0, broken: 0 }, progressPerCell: [], progress: [], longestStream: 0,
      empty: [], rawMarkdown: [], libraryNotes: 0,
    };
    for (const cell of cells) {
      const root = cell.element[0];
      const bars = root.querySelectorAll(".output_area .ssl-progress").length;
      if (bars > 0) view.progressPerCell.push(bars);
      for (const area of root.querySelectorAll(".output_area")) {
        view.outputs++;
        const sub = area.querySelector(".output_subarea");
        if (!sub) continue;
        const text = (sub.innerText || "").trim();
        if (sub.classList.contains("output_error")) view.errors.push(text.slice(0, 300));
        if (sub.classList.contains("output_stream")) {
          view.longestStream = Math.max(view.longestStream, text.split("\\n").length);
        }
        for (const img of sub.querySelectorAll("img")) {
          if (img.complete && img.naturalWidth > 0) view.images.shown++;
          else view.images.broken++;
        }
        for (const chart of sub.querySelectorAll("div.ssl-plotly")) {
          view.charts++;
          if (chart.querySelector("svg.main-svg")) view.drawn++;
          else view.undrawn.push(visible(chart) ? (chart.innerText || "").trim() : "");
        }
        for (const note of sub.querySelectorAll(".ssl-plotly-library-note")) {
          if (visible(note)) view.libraryNotes++;
        }
        for (const p of sub.querySelectorAll("progress")) {
          view.progress.push({ value: Number(p.value), max: Number(p.max) });
        }
        const library = !!sub.querySelector("script.ssl-plotly-library") ||
          !!sub.querySelector(".ssl-plotly-library-note");
        const shows = text !== "" ||
          [...sub.querySelectorAll("img, svg, canvas")].some((e) => e.getBoundingClientRect().height > 0);
        // The library output hides its note where its script ran: nothing to show, by design.
        if (!shows && !library) {
          view.empty.push((sub.className + ": " + sub.innerHTML.slice(0, 120)).replace(/\\s+/g, " "));
        }
        if (/\\*\\*[^*\\s][^*]*\\*\\*/.test(text)) view.rawMarkdown.push(text.slice(0, 120));
      }
    }
    return view;
  })()`)) as NotebookView;
}

/** Saves a screenshot of the whole notebook (every cell, 1200 pixels wide) to `path`. */
export async function screenshotNotebook(page: Page, path: string): Promise<number> {
  const bytes = await fullPageScreenshot(page, path, {
    heightJs: `(() => {
      const header = document.querySelector("#header");
      const nb = document.querySelector("#notebook");
      return (header ? header.offsetHeight : 0) + (nb ? nb.scrollHeight : document.body.scrollHeight) + 40;
    })()`,
  });
  return bytes;
}
