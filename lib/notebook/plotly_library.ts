/**
 * plotly.js for the pages that draw the notebooks' charts from their `text/html` (the nbconvert
 * HTML export, the classic Notebook, JupyterLab without a plotly renderer), carried ONCE per
 * notebook and compressed: minified (`deno bundle --minify`, cached under
 * `data/cache/plotly/`), gzip-compressed and base64-encoded, about 1.9 MB instead of the 11 MB
 * of `node_modules/plotly.js-dist/plotly.js`. The page unpacks it with the browser's
 * `DecompressionStream("gzip")` (Chromium 80+, Firefox 113+, Safari 16.4+) and evaluates it
 * with any AMD/CommonJS loader hidden, so it always sets `window.Plotly`, even where
 * nbconvert's template loaded require.js. When `deno bundle` cannot run (no esbuild in the
 * Deno cache and no network), the unminified source is compressed instead (about 2.6 MB).
 * `SSL_PLOTLY_MINIFY=0` skips the minification.
 *
 * The library's output also shows a one-line note, which its script hides: where scripts do
 * not run (a notebook that is not trusted) the note says why the charts are not drawn.
 *
 * @example
 * ```ts
 * import { plotlyPayload, plotlyScriptTag } from "./plotly_library.ts";
 * const payload = plotlyPayload(); // read, minified (cached), gzip + base64; once per process
 * console.log(`${payload.source} plotly.js ${payload.sourceBytes} bytes -> ${payload.base64.length}`);
 * const html: string = plotlyScriptTag(); // `<div …note…></div><script>…unpacks plotly.js…</script>`
 * ```
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dataDir } from "./config.ts";
import type { MimeBundle } from "./display.ts";

const PLOTLY_DIR = new URL("../../node_modules/plotly.js-dist/", import.meta.url);
const INLINED = Symbol.for("ssl.notebook.plotlyInlined");

let plotlySource: string | undefined;
let payload: PlotlyPayload | undefined;

/** The plotly.js source (read once from node_modules; a clear error if it is missing). */
export function plotlyJs(): string {
  if (plotlySource === undefined) {
    const path = fileURLToPath(new URL("plotly.js", PLOTLY_DIR));
    try {
      plotlySource = Deno.readTextFileSync(path);
    } catch (e) {
      throw new Error(
        `plotly.js not found at ${path}: run \`deno install\` in the repository root ` +
          `(deno.json pins plotly.js-dist). (${(e as Error).message})`,
      );
    }
  }
  return plotlySource;
}

/** The version of plotly.js-dist in node_modules (`"unknown"` when its package.json is unreadable). */
export function plotlyVersion(): string {
  try {
    const pkg = JSON.parse(Deno.readTextFileSync(new URL("package.json", PLOTLY_DIR)));
    return String(pkg.version);
  } catch {
    return "unknown";
  }
}

/** plotly.js as the pages get it: gzip-compressed, base64-encoded. */
export interface PlotlyPayload {
  /** The gzip bytes of the source, base64-encoded. */
  base64: string;
  /** `minified` when `deno bundle --minify` shrank it, else `original`. */
  source: "minified" | "original";
  /** Bytes of the (minified or original) source before compression. */
  sourceBytes: number;
  /** Bytes after gzip (before base64). */
  gzipBytes: number;
  /** The plotly.js version. */
  version: string;
}

function readIfExists(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch {
    return undefined;
  }
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${Deno.pid}.${Math.floor(Math.random() * 1e9)}.tmp`;
  Deno.writeFileSync(tmp, bytes);
  Deno.renameSync(tmp, path); // several kernels may build it at once: last rename wins
}

/**
 * Minifies plotly.js with `deno bundle --minify` (esbuild) in `workDir` (which it leaves
 * holding the input and output files), or returns `undefined` when it
 * cannot (no esbuild in the Deno cache and no network, an old Deno, or an output that does
 * not look like plotly.js).
 */
export function minifyPlotly(source: string, workDir: string): string | undefined {
  const input = join(workDir, "plotly.js");
  const output = join(workDir, "plotly.min.js");
  try {
    Deno.writeTextFileSync(input, source);
    const r = new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--no-config",
        "--no-lock",
        "--minify",
        "--format",
        "iife",
        "--platform",
        "browser",
        "-o",
        output,
        input,
      ],
      cwd: workDir,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).outputSync();
    if (!r.success) return undefined;
    const min = Deno.readTextFileSync(output);
    const ok = min.length > 1_000_000 && min.length < source.length && min.includes("Plotly");
    return ok ? min : undefined;
  } catch {
    return undefined;
  }
}

/**
 * plotly.js gzip-compressed and base64-encoded, minified when possible. The compressed bytes
 * are cached in `cacheDir` (default `data/cache/plotly/`) under the version and source size,
 * so only the first chart after an install pays for the minification (a few seconds).
 */
export function plotlyPayload(
  options: { cacheDir?: string; minify?: boolean } = {},
): PlotlyPayload {
  if (payload && options.cacheDir === undefined && options.minify === undefined) return payload;
  const source = plotlyJs();
  const version = plotlyVersion();
  const minify = options.minify ?? !/^(0|false|no|off)$/i.test(env("SSL_PLOTLY_MINIFY") ?? "1");
  const dir = options.cacheDir ?? join(dataDir(), "cache", "plotly");
  const key = `plotly-${version.replace(/[^\w.-]/g, "_")}-${source.length}`;
  let gz: Uint8Array | undefined;
  let kind: PlotlyPayload["source"] = "original";
  const minPath = join(dir, `${key}.min.js.gz`);
  const fullPath = join(dir, `${key}.js.gz`);
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch {
    // read-only checkout: compress in memory only
  }
  if (minify) {
    gz = readIfExists(minPath);
    if (!gz) {
      const work = tempDir();
      const min = work ? minifyPlotly(source, work) : undefined;
      if (work) Deno.removeSync(work, { recursive: true });
      if (min) {
        gz = gzipSync(new TextEncoder().encode(min), { level: 9 });
        tryWrite(minPath, gz);
      }
    }
    if (gz) kind = "minified";
  }
  if (!gz) {
    gz = readIfExists(fullPath);
    if (!gz) {
      gz = gzipSync(new TextEncoder().encode(source), { level: 9 });
      tryWrite(fullPath, gz);
    }
  }
  const sourceBytes = gunzipLength(gz);
  const result: PlotlyPayload = {
    base64: base64Of(gz),
    source: kind,
    sourceBytes,
    gzipBytes: gz.length,
    version,
  };
  if (options.cacheDir === undefined && options.minify === undefined) payload = result;
  return result;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function tempDir(): string | undefined {
  try {
    return Deno.makeTempDirSync({ prefix: "ssl-plotly-" });
  } catch {
    return undefined;
  }
}

function tryWrite(path: string, bytes: Uint8Array): void {
  try {
    writeAtomically(path, bytes);
  } catch {
    // no cache: it is rebuilt next time
  }
}

function gunzipLength(gz: Uint8Array): number {
  // ISIZE, the last 4 bytes of a gzip member: the uncompressed length modulo 2^32.
  return new DataView(gz.buffer, gz.byteOffset + gz.length - 4, 4).getUint32(0, true);
}

function base64Of(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(out);
}

/** The class of the note the library's output shows where its script does not run. */
export const LIBRARY_NOTE_CLASS = "ssl-plotly-library-note";

/**
 * The library's HTML: a one-line note (hidden by the script) and a `<script>` that unpacks the
 * compressed plotly.js and defines `window.Plotly` (once per page; a second copy does nothing).
 */
export function plotlyScriptTag(): string {
  const p = plotlyPayload();
  const note = `<div class="${LIBRARY_NOTE_CLASS}">plotly.js ${p.version} for the charts of ` +
    `this notebook (compressed, offline): the charts below draw here once the notebook is ` +
    `trusted, or when you re-run their cells.</div>`;
  const script = `<script type="text/javascript" class="ssl-plotly-library">
(function () {
  var notes = document.querySelectorAll(".${LIBRARY_NOTE_CLASS}");
  for (var i = 0; i < notes.length; i++) notes[i].style.display = "none";
  if (window.Plotly || window.sslPlotlyLoading) return;
  var b64 = "${p.base64}";
  window.sslPlotlyLoading = (async function () {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    var src = await new Response(stream).text();
    new Function("module", "exports", "define", "require", src).call(window);
  })().catch(function (e) {
    window.sslPlotlyError = String(e);
    console.error("plotly.js could not be unpacked:", e);
  });
})();
</script>`;
  return note + "\n" + script;
}

/**
 * The output that carries plotly.js: `text/html` with the note and the library script, and a
 * `text/plain` note. The first chart rendered in a kernel emits it.
 */
export function plotlyLibraryBundle(): MimeBundle {
  return {
    "text/html": plotlyScriptTag(),
    "text/plain": "[plotly.js, compressed: the charts of this notebook draw with it, offline]",
  };
}

/** Whether this process has already emitted the plotly.js library in a chart output. */
export function plotlyInlined(): boolean {
  return (globalThis as Record<symbol, unknown>)[INLINED] === true;
}

/** Forgets that plotly.js was emitted, so the next rendered chart carries it again. */
export function resetPlotlyInline(): void {
  (globalThis as Record<symbol, unknown>)[INLINED] = false;
}

/** Marks plotly.js as emitted; true when this call did it (the caller must emit it). */
export function claimInline(): boolean {
  if (plotlyInlined()) return false;
  (globalThis as Record<symbol, unknown>)[INLINED] = true;
  return true;
}
