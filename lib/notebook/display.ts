/**
 * Rich output helpers for notebooks on the Deno Jupyter kernel.
 *
 * Convention (the same in plot.ts): every `show*` helper and `plot` RETURNS a {@link Displayable},
 * an object with a `[Symbol.for("Jupyter.display")]()` method that yields a MIME bundle. The Deno
 * kernel renders it when it is the cell's last expression; anywhere else in a cell (in a loop,
 * before more code) call `await display(x)`. Outside a kernel (`deno run`, tests) `display`
 * prints the `text/plain` fallback, so the same code runs as a script.
 *
 * Every output reads well in a notebook the front end does not trust (one sent by someone
 * else: JupyterLab and the classic Notebook then run no output scripts, sanitise HTML, and the
 * classic Notebook shows Markdown outputs as raw text): tables and images are plain HTML,
 * {@link showMarkdown} also carries its rendered HTML, and charts (plotly_chart.ts) carry the
 * plotly MIME type plus an HTML fallback that shows their title and a note until they draw.
 *
 * Deno 2.9 caveat, measured under nbclient / `jupyter nbconvert --execute`: the kernel does not
 * wait for a cell's last-expression result to be sent, so it can arrive after the cell's "idle"
 * status, where Jupyter drops it. A PLAIN last expression (`acc`, `"done"`, an object) lost 5 of
 * 32 in our runs; a displayable as last expression yields first and lost none of 64 here, but
 * one (the first cell of a fresh kernel) went missing on a loaded CI machine. `await display(x)`
 * sends the output inside the cell and waits for it to go out: it is the reliable way, and
 * every notebook and test fixture here uses it.
 *
 * @example
 * ```ts
 * import { imagesToPng } from "../augment/grid_png.ts";
 * import { display, showPng, showTable } from "./display.ts";
 * const pngBytes = await imagesToPng(new Float32Array(4 * 28 * 28), 4, 28, 28, 1, { columns: 4 });
 * await display(showPng(pngBytes, { width: 400 }));
 * // a cell's last expression is rendered too, but only best-effort (see above):
 * showTable([{ arm: "supervised", accuracy: 0.76 }], { caption: "Test accuracy" });
 * ```
 *
 * @module
 */

import { escapeHtml } from "../html.ts";
import { markdownToHtml } from "./markdown.ts";

/** The symbol the Deno kernel looks for to render an object (`Symbol.for("Jupyter.display")`). */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/**
 * One entry of a MIME bundle: text (base64 for binary types such as image/png), or a JSON
 * object for the JSON MIME types (`application/vnd.plotly.v1+json`), stored as JSON in the
 * notebook.
 */
export type MimeValue = string | { [key: string]: unknown };

/** A Jupyter MIME bundle: MIME type -> content. */
export type MimeBundle = Record<string, MimeValue>;

/** The text of a bundle's entry (`""` when absent; JSON entries as JSON text). */
export function bundleText(bundle: MimeBundle, mime: string): string {
  const v = bundle[mime];
  return v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
}

/** Anything the Deno kernel can render: it returns its MIME bundle from `[JUPYTER_DISPLAY]`. */
export interface Displayable {
  /** The MIME bundle the kernel sends to the frontend (the kernel awaits a promise). */
  [JUPYTER_DISPLAY](): MimeBundle | Promise<MimeBundle>;
}

/** Resolves after one macrotask turn (plus `ms`), letting the kernel's event loop run. */
export function yieldToKernel(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Wraps a MIME bundle as a {@link Displayable}. Its display method is async and yields one
 * macrotask before returning the bundle: with Deno 2.9 that makes the kernel's `execute_result`
 * usually reach Jupyter before the cell's "idle" status (in our nbconvert runs 18 of 62 results
 * from a synchronous display method were lost, none of 64 from an async one; CI lost one under
 * load). Prefer `await display(x)`.
 */
export function displayable(bundle: MimeBundle): Displayable {
  return {
    [JUPYTER_DISPLAY]: async () => {
      await yieldToKernel(1);
      return bundle;
    },
    toString: () => plainText(bundle),
  } as Displayable;
}

/** The MIME bundle of a displayable (renders it once, exactly as the kernel would). */
export async function mimeBundle(x: Displayable): Promise<MimeBundle> {
  return await x[JUPYTER_DISPLAY]();
}

/** Characters in a MIME bundle (what the kernel must serialise and send). */
export function bundleSize(bundle: MimeBundle): number {
  return Object.values(bundle).reduce(
    (n, v) => n + (typeof v === "string" ? v : JSON.stringify(v)).length,
    0,
  );
}

/** The `text/plain` fallback of a bundle (`[rich output]` when it has none). */
export function plainText(bundle: MimeBundle): string {
  const v = bundle["text/plain"];
  return typeof v === "string" ? v : "[rich output]";
}

/**
 * How long to wait after the kernel was handed an output of `chars` characters before the cell
 * may go on. Deno 2.9's `Deno.jupyter.broadcast` does not wait for the message to be sent, and
 * the kernel reports a cell finished without flushing: an output still queued then reaches
 * Jupyter after the cell's "idle" status, where nbclient drops it. 10 ms for small outputs;
 * 0.2 s plus 0.12 s per million characters from 256 KB (11 MB of plotly.js took 0.2-0.5 s).
 */
export function flushDelayMs(chars: number): number {
  return chars < 256 * 1024 ? 10 : Math.round(200 + 0.12e-3 * chars);
}

/** Sends a MIME bundle as its own `display_data` output now (kernel only) and waits until sent. */
export async function emitBundle(bundle: MimeBundle): Promise<void> {
  await Deno.jupyter.display(bundle, { raw: true });
  await yieldToKernel(flushDelayMs(bundleSize(bundle)));
}

/** True when running inside the Deno Jupyter kernel (`Deno.jupyter` is usable). */
export function inKernel(): boolean {
  try {
    return typeof Deno.jupyter?.broadcast === "function";
  } catch {
    return false; // outside `deno jupyter`, reading Deno.jupyter throws
  }
}

/**
 * Displays `x` now, as its own output, wherever it is called in a cell. In the kernel it goes
 * through `Deno.jupyter.display`; elsewhere the `text/plain` fallback is printed to stdout.
 * Plain strings are shown as text.
 */
export async function display(x: Displayable | string): Promise<void> {
  const shown = typeof x === "string" ? displayable({ "text/plain": x }) : x;
  const bundle = await mimeBundle(shown);
  if (inKernel()) await emitBundle(bundle);
  else console.log(plainText(bundle));
}

/** Base64 of bytes (the encoding Jupyter uses for binary MIME types). */
export function toBase64(bytes: Uint8Array): string {
  let out = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    out += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(out);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Options of {@link showPng}. */
export interface PngOptions {
  /** Displayed width in CSS pixels (the image is scaled with crisp, pixelated edges). */
  width?: number;
  /** Alternative text, also the `text/plain` fallback. */
  alt?: string;
}

/**
 * An `image/png` output from PNG-encoded bytes (e.g. from sharp or lib/augment/grid_png.ts).
 * With `width`, a `text/html` `<img>` of that width is added (frontends prefer it) so small
 * images such as 28x28 digits are scaled up without blurring; the `image/png` entry stays.
 */
export function showPng(bytes: Uint8Array, options: PngOptions = {}): Displayable {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new Error("showPng: the bytes are not a PNG (bad signature)");
  }
  const b64 = toBase64(bytes);
  const w = bytes.length >= 24 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(16) : 0;
  const h = bytes.length >= 24 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(20) : 0;
  const alt = options.alt ?? `PNG image ${w}x${h}`;
  const bundle: MimeBundle = { "image/png": b64, "text/plain": `[${alt}]` };
  if (options.width !== undefined) {
    if (!(options.width > 0)) throw new Error(`showPng: width must be > 0, got ${options.width}`);
    bundle["text/html"] = `<img class="ssl-image" alt="${escapeHtml(alt)}" width="${
      Math.round(options.width)
    }" style="image-rendering:pixelated;max-width:100%;height:auto" src="data:image/png;base64,${b64}">`;
  }
  return displayable(bundle);
}

/** Options of {@link showTable}. */
export interface TableOptions {
  /** A caption shown above the table. */
  caption?: string;
  /** Decimal places for non-integer numbers (default 4). */
  digits?: number;
  /** Column order (and subset) for object rows; default: keys in order of first appearance. */
  columns?: string[];
}

/** Formats one table cell: numbers with `digits` decimals (integers as is), objects as JSON. */
export function formatCell(value: unknown, digits = 4): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
    return value.toFixed(digits);
  }
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (ArrayBuffer.isView(value)) return JSON.stringify(Array.from(value as Float32Array));
  return JSON.stringify(value);
}

/** Header and body of a table as strings, from object rows or a string grid (header first). */
export function tableCells(
  rows: Record<string, unknown>[] | string[][],
  options: TableOptions = {},
): { header: string[]; body: string[][]; numeric: boolean[] } {
  const digits = options.digits ?? 4;
  if (rows.length === 0) return { header: options.columns ?? [], body: [], numeric: [] };
  let header: string[];
  let raw: unknown[][];
  if (Array.isArray(rows[0])) {
    const grid = rows as string[][];
    header = grid[0].map(String);
    raw = grid.slice(1);
  } else {
    const objs = rows as Record<string, unknown>[];
    if (options.columns) header = options.columns;
    else {
      const seen = new Set<string>();
      for (const r of objs) for (const k of Object.keys(r)) seen.add(k);
      header = [...seen];
    }
    raw = objs.map((r) => header.map((k) => r[k]));
  }
  const width = Math.max(header.length, ...raw.map((r) => r.length));
  while (header.length < width) header.push("");
  const numeric = header.map((_, j) =>
    raw.length > 0 && raw.every((r) => typeof r[j] === "number" || r[j] == null)
  );
  const body = raw.map((r) => header.map((_, j) => formatCell(r[j], digits)));
  return { header, body, numeric };
}

/** Renders table cells as aligned plain text (the `text/plain` fallback of a table). */
export function tableText(header: string[], body: string[][], caption?: string): string {
  const widths = header.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => c.padEnd(widths[j])).join("  ").trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
  if (caption) out.unshift(caption);
  return out.join("\n");
}

/**
 * A table output: `text/html` (class `ssl-table`, every cell HTML-escaped, numbers
 * right-aligned) plus an aligned `text/plain` fallback. `rows` is either objects (one per row,
 * keys are columns) or a string grid whose first row is the header.
 */
export function showTable(
  rows: Record<string, unknown>[] | string[][],
  options: TableOptions = {},
): Displayable {
  const { header, body, numeric } = tableCells(rows, options);
  const align = (j: number) => numeric[j] ? ' style="text-align:right"' : "";
  const html = [
    '<table class="ssl-table" style="border-collapse:collapse">',
    options.caption
      ? `<caption style="caption-side:top;text-align:left;font-weight:bold">${
        escapeHtml(options.caption)
      }</caption>`
      : "",
    "<thead><tr>",
    ...header.map((h, j) => `<th${align(j)}>${escapeHtml(h)}</th>`),
    "</tr></thead><tbody>",
    ...body.map((r) =>
      `<tr>${r.map((c, j) => `<td${align(j)}>${escapeHtml(c)}</td>`).join("")}</tr>`
    ),
    "</tbody></table>",
  ].join("");
  return displayable({ "text/html": html, "text/plain": tableText(header, body, options.caption) });
}

/**
 * A Markdown output: `text/markdown`, the same rendered as `text/html` (lib/notebook/markdown.ts;
 * front ends show sanitised HTML in a notebook they do not trust, but not Markdown, which the
 * classic Notebook then shows as raw text), and the source as `text/plain`.
 */
export function showMarkdown(md: string): Displayable {
  return displayable({
    "text/markdown": md,
    "text/html": `<div class="ssl-markdown">${markdownToHtml(md)}</div>`,
    "text/plain": md,
  });
}

/** A raw HTML output with an optional `text/plain` fallback. The HTML is NOT escaped. */
export function showHtml(html: string, plain = "[HTML output]"): Displayable {
  return displayable({ "text/html": html, "text/plain": plain });
}
