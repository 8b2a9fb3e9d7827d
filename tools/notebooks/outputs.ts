/**
 * What an executed notebook holds, read from its nbformat JSON: {@linkcode countOutputs}
 * (images, plotly charts, tables, progress bars, errors) and, for a failed execution,
 * {@linkcode parseFailure}, which finds the failing cell and the error in nbconvert's stderr.
 *
 * @example
 * ```ts
 * import { countOutputs } from "./outputs.ts";
 * const counts = countOutputs({
 *   cells: [{ cell_type: "code", source: "1", outputs: [{ output_type: "stream", text: "hi" }] }],
 * });
 * // counts.streams === 1, counts.total === 1
 * if (counts.streams !== 1 || counts.total !== 1) throw new Error("miscounted");
 * ```
 *
 * @module
 */

/** Where and why a notebook failed. */
export interface Failure {
  /** Notebook file name. */
  notebook: string;
  /** 0-based index of the failing cell in the notebook's `cells`, when known. */
  cellIndex?: number;
  /** First non-empty line of the failing cell's source, when known. */
  firstLine?: string;
  /** Error name, e.g. `TypeError`. */
  ename?: string;
  /** Error message. */
  evalue?: string;
  /** The whole human-readable message (what the CLI prints). */
  message: string;
  /** File holding nbconvert's full log. */
  log?: string;
}

/** Output counts of one executed notebook. */
export interface OutputCounts {
  /** Outputs holding an image (`image/png`, `image/jpeg` or `image/svg+xml`). */
  images: number;
  /** Plotly charts (`text/html` calling `Plotly.newPlot`, library output excluded). */
  charts: number;
  /** HTML tables (`text/html` holding `<table`). */
  tables: number;
  /** Markdown outputs. */
  markdown: number;
  /** Progress bars (lib/notebook/progress.ts outputs). */
  progressBars: number;
  /** Stream (stdout/stderr) outputs. */
  streams: number;
  /** Error outputs. */
  errors: number;
  /** All outputs. */
  total: number;
  /** Outputs per MIME type. */
  byMime: Record<string, number>;
}

/** Parsed nbformat JSON (notebooks are read as plain JSON). */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** The text of an nbformat multi-line string (a string or an array of lines). */
export function joinText(v: unknown): string {
  return Array.isArray(v) ? v.join("") : typeof v === "string" ? v : "";
}

/** Counts the outputs of an executed notebook (parsed nbformat JSON) by kind. */
export function countOutputs(nb: Json): OutputCounts {
  const c: OutputCounts = {
    images: 0,
    charts: 0,
    tables: 0,
    markdown: 0,
    progressBars: 0,
    streams: 0,
    errors: 0,
    total: 0,
    byMime: {},
  };
  for (const cell of nb.cells ?? []) {
    for (const o of cell.outputs ?? []) {
      c.total++;
      if (o.output_type === "stream") c.streams++;
      if (o.output_type === "error") c.errors++;
      const data = o.data ?? {};
      for (const mime of Object.keys(data)) c.byMime[mime] = (c.byMime[mime] ?? 0) + 1;
      if (data["image/png"] || data["image/jpeg"] || data["image/svg+xml"]) c.images++;
      if (data["text/markdown"]) c.markdown++;
      const html = joinText(data["text/html"]);
      if (!html) continue;
      if (html.includes("Plotly.newPlot") && !html.includes("ssl-plotly-library")) c.charts++;
      else if (html.includes('class="ssl-plotly"')) c.charts++;
      if (html.includes("<table")) c.tables++;
      if (html.includes('class="ssl-progress"')) c.progressBars++;
    }
  }
  return c;
}

/** Output counts of a notebook without outputs. */
export function emptyCounts(): OutputCounts {
  return countOutputs({ cells: [] });
}

const ANSI = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*[A-Za-z]", "g");

/** The first non-empty line of a cell's source, trimmed. */
export function firstLineOf(source: string): string {
  return source.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
}

/**
 * Reads nbconvert's stderr after a failed execution: the failing cell's source (located in
 * `nb`, the notebook that was run) and the error's name and message.
 */
export function parseFailure(notebook: string, stderr: string, nb?: Json): Failure {
  const text = stderr.replace(ANSI, "").replace(/\r/g, "");
  const lines = text.split("\n");
  const f: Failure = { notebook, message: "" };
  const start = lines.findIndex((l) =>
    /CellExecutionError|CellTimeoutError|An error occurred while executing the following cell/
      .test(l)
  );
  let source: string | undefined;
  let after: string[] = [];
  if (start >= 0) {
    const dash = (i: number) => /^-{10,}\s*$/.test(lines[i] ?? "");
    let a = start;
    while (a < lines.length && !dash(a)) a++;
    let b = a + 1;
    while (b < lines.length && !dash(b)) b++;
    if (a < lines.length && b < lines.length) {
      source = lines.slice(a + 1, b).join("\n");
      after = lines.slice(b + 1);
    }
  }
  const timedOut = /CellTimeoutError|timed out/i.test(text);
  const died = /DeadKernelError|Kernel died/i.test(text);
  if (timedOut) {
    f.ename = "CellTimeoutError";
    f.evalue = (text.match(/A cell timed out[^\n]*/) ?? ["cell execution timed out"])[0];
  } else if (died) {
    f.ename = "DeadKernelError";
    f.evalue = "the kernel died (out of memory, or a crash)";
  } else {
    const tail = after.map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
    const last = tail.at(-1) ?? lines.map((l) => l.trim()).filter((l) => l).at(-1) ?? "";
    const m = last.match(/^([A-Za-z_$][\w$.]*(?:Error|Exception|Error\b)?): ?(.*)$/);
    if (m) [f.ename, f.evalue] = [m[1], m[2]];
    else f.evalue = last;
  }
  if (source !== undefined && nb) {
    const norm = (s: string) => s.replace(/\s+/g, " ").trim();
    const want = norm(source);
    const cells: Json[] = nb.cells ?? [];
    let idx = cells.findIndex((c) => c.cell_type === "code" && norm(joinText(c.source)) === want);
    if (idx < 0 && want) {
      idx = cells.findIndex((c) =>
        c.cell_type === "code" && norm(joinText(c.source)).startsWith(want.slice(0, 200))
      );
    }
    if (idx >= 0) f.cellIndex = idx;
  }
  if (source !== undefined) f.firstLine = firstLineOf(source);
  const where = f.cellIndex !== undefined
    ? `cell ${f.cellIndex + 1} (index ${f.cellIndex})`
    : source !== undefined
    ? "a cell"
    : "startup (no cell ran)";
  f.message = [
    `${notebook} failed at ${where}${f.firstLine ? `: ${f.firstLine}` : ""}`,
    `  ${f.ename ? `${f.ename}: ` : ""}${f.evalue ?? "unknown error"}`,
  ].join("\n");
  return f;
}
