/**
 * The report of a notebook run: one record per notebook ({@linkcode NotebookSummary}), the
 * run's {@linkcode Summary} (written as summary.json), the one-line report per notebook
 * ({@linkcode notebookLine}) and the Markdown report ({@linkcode summaryMarkdown}, summary.md).
 *
 * @example
 * ```ts
 * import { plural } from "./summary.ts";
 * plural(1, "chart"); // "1 chart"
 * if (plural(3, "chart") !== "3 charts") throw new Error("bad plural");
 * ```
 *
 * @module
 */
import { basename } from "node:path";
import type { BrowserCheck } from "./browser_check.ts";
import type { Failure, OutputCounts } from "./outputs.ts";

/** The record of one notebook in the run summary. */
export interface NotebookSummary {
  /** Notebook file name, e.g. `03_pretrain.ipynb`. */
  notebook: string;
  /** Executed without error. */
  ok: boolean;
  /** Wall time of the execution in seconds. */
  seconds: number;
  /** Wall time of the HTML export in seconds (0 when skipped). */
  htmlSeconds: number;
  /** Cells in the notebook. */
  cells: number;
  /** Code cells in the notebook. */
  codeCells: number;
  /** Output counts (of the executed copy; zero when it failed). */
  outputs: OutputCounts;
  /** The executed copy, when written. */
  executed?: string;
  /** The HTML export, when written. */
  html?: string;
  /** Results the notebook saved (`results-<name>.json`), by name. */
  results: Record<string, unknown>;
  /** What headless Chromium showed of the HTML export (charts drawn, screenshot). */
  browser?: BrowserCheck;
  /** Why it failed. */
  failure?: Failure;
}

/** The summary of a run, also written as summary.json. */
export interface Summary {
  /** Every notebook ran without error. */
  ok: boolean;
  /** Quick mode. */
  quick: boolean;
  /** The folder of notebooks. */
  dir: string;
  /** The run folder. */
  runDir: string;
  /** ISO start time. */
  started: string;
  /** Total wall time in seconds. */
  seconds: number;
  /** Deno version of the runner. */
  deno: string;
  /** One record per notebook run (stops after the first failure). */
  notebooks: NotebookSummary[];
  /** The first failure. */
  failure?: Failure;
}

/** `1 chart`, `2 charts`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The one-line report of a notebook, e.g. `01_data.ipynb  ok  12.3 s  (14 cells: 2 images, ...)`. */
export function notebookLine(s: NotebookSummary): string {
  const o = s.outputs;
  const drawn = s.browser ? ` (${s.browser.drawn} drawn in Chromium)` : "";
  const what = s.ok
    ? `(${plural(s.cells, "cell")}: ${plural(o.images, "image")}, ${
      plural(o.charts, "chart")
    }${drawn}, ${plural(o.tables, "table")})`
    : "";
  return `${s.notebook.padEnd(28)} ${s.ok ? "ok    " : "FAILED"} ${
    s.seconds.toFixed(1).padStart(7)
  } s  ${what}`.trimEnd();
}

/** The Markdown report of a run (summary.md). */
export function summaryMarkdown(s: Summary): string {
  const out = [
    `# Notebook run ${basename(s.runDir)}`,
    "",
    `Mode: **${s.quick ? "quick" : "full"}** · ${s.ok ? "all notebooks passed" : "**FAILED**"} · ` +
    `${s.seconds.toFixed(1)} s in all · started ${s.started} · Deno ${s.deno}`,
    "",
    "| notebook | status | seconds | cells | images | charts | drawn in Chromium | tables | errors |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...s.notebooks.map((n) => {
      const drawn = n.browser ? `${n.browser.drawn}/${n.browser.charts}` : "-";
      const o = n.outputs;
      return `| ${n.notebook} | ${n.ok ? "ok" : "FAILED"} | ${
        n.seconds.toFixed(1)
      } | ${n.cells} | ` +
        `${o.images} | ${o.charts} | ${drawn} | ${o.tables} | ${o.errors} |`;
    }),
  ];
  if (s.failure) out.push("", "## Failure", "", "```", s.failure.message, "```");
  const withResults = s.notebooks.filter((n) => Object.keys(n.results).length > 0);
  if (withResults.length > 0) {
    out.push("", "## Results");
    for (const n of withResults) {
      for (const [name, value] of Object.entries(n.results)) {
        let json = JSON.stringify(value, null, 2);
        if (json.length > 4000) json = json.slice(0, 4000) + "\n... (truncated; see the JSON file)";
        out.push("", `### ${n.notebook}: ${name}`, "", "```json", json, "```");
      }
    }
  }
  return out.join("\n") + "\n";
}
