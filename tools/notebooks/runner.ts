/**
 * The notebook runner behind `deno task notebooks`: executes every notebook of a folder in
 * name order in a real Jupyter kernel (`deno`), through `jupyter nbconvert --execute`, and
 * writes under `data/runs/<YYYYMMDD-HHMMSS>[-quick]/`: the executed notebooks, an HTML export
 * of each, `summary.json` and `summary.md` (time, cells and outputs per notebook, plus the
 * results each notebook saved with `saveResults` from lib/notebook/config.ts).
 *
 * When Chromium is installed, each HTML export with charts is opened in headless Chromium
 * (tools/notebooks/browser_check.ts): the summary records how many charts were drawn and a
 * screenshot `<notebook>.png` is saved. Each notebook's line gives the executed notebook's
 * size (about 2 MB: plotly.js, compressed, once per notebook, plus the outputs).
 *
 * Each notebook runs with cwd = its folder and env `SSL_QUICK` (quick mode), `SSL_RUN_DIR`
 * (the run folder), `SSL_NOTEBOOK` (its name without `.ipynb`) and `NO_COLOR=1`. It stops at
 * the first failure and names the notebook, the cell (number, index and first line of its
 * source) and the error. Registers the Deno kernel (`deno jupyter --install`) if Jupyter
 * lacks it.
 *
 * @example
 * ```ts
 * import { listNotebooks, runNotebooks, timestamp } from "./runner.ts";
 * timestamp(new Date(2026, 0, 2, 3, 4, 5)); // "20260102-030405"
 * // The notebooks of a folder, in the order they run:
 * const names: string[] = listNotebooks(new URL("../../notebooks", import.meta.url).pathname);
 * if (names.length === 0) throw new Error("no notebooks");
 * // Running them takes minutes: `const summary = await runNotebooks({ quick: true });`
 * const run: typeof runNotebooks = runNotebooks;
 * ```
 *
 * @module
 */

import { join, resolve } from "node:path";
import { isTruthyFlag, projectRoot } from "../../lib/notebook/config.ts";
import { capture as run } from "../exec.ts";
import { checkHtmlInBrowser, findChromium } from "./browser_check.ts";
import { checkJupyter, ensureDenoKernel } from "./jupyter.ts";
import { plotlyPayload } from "../../lib/notebook/plotly_library.ts";
import {
  countOutputs,
  emptyCounts,
  firstLineOf,
  joinText,
  type Json,
  parseFailure,
} from "./outputs.ts";
import {
  notebookLine,
  type NotebookSummary,
  plural,
  type Summary,
  summaryMarkdown,
} from "./summary.ts";

/** Options of {@link runNotebooks}. */
export interface RunOptions {
  /** Folder of notebooks (default `<repo>/notebooks`). */
  dir?: string;
  /** Quick smoke run (sets `SSL_QUICK=1`); default: env `SSL_QUICK`. */
  quick?: boolean;
  /** Run only notebooks whose file name starts with one of these (e.g. `["01", "03"]`). */
  only?: string[];
  /** Export each executed notebook to HTML (default true). */
  html?: boolean;
  /** Folder under which the timestamped run folder is created (default `<repo>/data/runs`). */
  outRoot?: string;
  /** Exact run folder to use instead of a new timestamped one. */
  runDir?: string;
  /** Per-cell timeout in seconds (default 4 h full, 30 min quick). */
  timeoutS?: number;
  /** Extra environment for the kernels. */
  env?: Record<string, string>;
  /** Progress lines (default `console.log`). */
  log?: (line: string) => void;
  /** The jupyter command (default `jupyter`). */
  jupyter?: string;
  /**
   * Open each HTML export that has charts in headless Chromium: check the charts were drawn and
   * save a screenshot `<notebook>.png` next to it (default: when Chromium is installed).
   */
  browser?: boolean;
}

/** `YYYYMMDD-HHMMSS` of a date, in local time. */
export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${
    p(d.getMinutes())
  }${p(d.getSeconds())}`;
}

/** The notebooks (`*.ipynb`) of a folder sorted by name, optionally filtered by name prefixes. */
export function listNotebooks(dir: string, only?: string[]): string[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name.endsWith(".ipynb") && !e.name.startsWith(".")) names.push(e.name);
  }
  names.sort();
  if (!only || only.length === 0) return names;
  const wanted = only.map((s) => s.trim()).filter((s) => s !== "");
  return names.filter((n) => wanted.some((w) => n.startsWith(w) || n === `${w}.ipynb`));
}

function readJson(path: string): Json | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
}

function resultFiles(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && /^results-.+\.json$/.test(e.name)) {
      m.set(e.name, Deno.statSync(join(dir, e.name)).mtime?.getTime() ?? 0);
    }
  }
  return m;
}

/**
 * Executes the notebooks of `options.dir` in name order (see the module documentation) and
 * returns the run's summary, also written to `summary.json` / `summary.md` in the run folder.
 * Stops at the first failing notebook (`ok: false`, `failure` set). Throws
 * `JupyterMissingError` (tools/notebooks/jupyter.ts) when Jupyter is not installed, and an Error when there is no
 * notebook to run.
 */
export async function runNotebooks(options: RunOptions = {}): Promise<Summary> {
  const log = options.log ?? console.log;
  const jupyter = options.jupyter ?? "jupyter";
  const root = projectRoot();
  const dir = resolve(options.dir ?? join(root, "notebooks"));
  const quick = options.quick ?? isTruthyFlag(Deno.env.get("SSL_QUICK"));
  const html = options.html ?? true;
  const timeoutS = options.timeoutS ?? (quick ? 1800 : 4 * 3600);
  let names: string[];
  try {
    names = listNotebooks(dir, options.only);
  } catch (e) {
    throw new Error(`cannot read the notebooks folder ${dir}: ${(e as Error).message}`);
  }
  if (names.length === 0) {
    throw new Error(
      options.only?.length
        ? `no notebook in ${dir} matches --only ${options.only.join(",")}`
        : `no notebooks (*.ipynb) in ${dir}`,
    );
  }
  await checkJupyter(jupyter);
  await ensureDenoKernel(jupyter, log);
  warmPlotly(log);
  const browser = options.browser === false || !html ? undefined : findChromium();
  if (options.browser === true && html && !browser) {
    log("(no Chromium found: charts are not checked in a browser; apt-get install -y chromium)");
  }

  let runDir = options.runDir;
  if (!runDir) {
    const base = join(
      options.outRoot ?? join(root, "data", "runs"),
      timestamp() + (quick ? "-quick" : ""),
    );
    runDir = base;
    for (let i = 2; existsDir(runDir); i++) runDir = `${base}-${i}`;
  }
  runDir = resolve(runDir);
  Deno.mkdirSync(runDir, { recursive: true });
  log(`running ${plural(names.length, "notebook")} from ${dir} (${quick ? "quick" : "full"} mode)`);
  log(`run folder: ${runDir}`);

  const env: Record<string, string> = {
    ...(options.env ?? {}),
    SSL_RUN_DIR: runDir,
    NO_COLOR: "1",
  };
  const started = new Date();
  const t0 = performance.now();
  const summary: Summary = {
    ok: true,
    quick,
    dir,
    runDir,
    started: started.toISOString(),
    seconds: 0,
    deno: Deno.version.deno,
    notebooks: [],
  };

  for (const name of names) {
    const stem = name.replace(/\.ipynb$/, "");
    const source = readJson(join(dir, name));
    const cells: Json[] = source?.cells ?? [];
    const before = resultFiles(runDir);
    const nbEnv: Record<string, string> = { ...env, SSL_NOTEBOOK: stem };
    if (quick) nbEnv.SSL_QUICK = "1";
    else nbEnv.SSL_QUICK = "0";
    const t = performance.now();
    const r = await run(jupyter, [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.kernel_name=deno",
      `--ExecutePreprocessor.timeout=${timeoutS}`,
      "--output-dir",
      runDir,
      join(dir, name),
    ], { cwd: dir, env: nbEnv });
    const seconds = (performance.now() - t) / 1000;
    const executedPath = join(runDir, name);
    const executed = r.code === 0 ? readJson(executedPath) : undefined;
    const record: NotebookSummary = {
      notebook: name,
      ok: r.code === 0 && executed !== undefined,
      seconds,
      htmlSeconds: 0,
      cells: cells.length,
      codeCells: cells.filter((c) => c.cell_type === "code").length,
      outputs: executed ? countOutputs(executed) : emptyCounts(),
      results: {},
    };
    for (const [file, mtime] of resultFiles(runDir)) {
      if (before.get(file) !== mtime) {
        record.results[file.replace(/^results-/, "").replace(/\.json$/, "")] = readJson(
          join(runDir, file),
        );
      }
    }
    if (record.ok) {
      record.executed = executedPath;
      if (record.outputs.errors > 0) {
        record.ok = false;
        const i = (executed.cells as Json[]).findIndex((c) =>
          (c.outputs ?? []).some((o: Json) => o.output_type === "error")
        );
        const err = executed.cells[i].outputs.find((o: Json) => o.output_type === "error");
        record.failure = {
          notebook: name,
          cellIndex: i,
          firstLine: firstLineOf(joinText(executed.cells[i].source)),
          ename: err.ename,
          evalue: err.evalue,
          message: `${name} has an error output in cell ${i + 1} (index ${i}): ${
            firstLineOf(joinText(executed.cells[i].source))
          }\n  ${err.ename}: ${err.evalue}`,
        };
      }
    } else {
      const logPath = join(runDir, `${stem}.nbconvert.log`);
      Deno.writeTextFileSync(logPath, r.stderr + r.stdout);
      record.failure = { ...parseFailure(name, r.stderr, source), log: logPath };
      if (r.code === 0) record.failure.message = `${name}: nbconvert wrote no executed notebook`;
    }
    if (record.ok && html) {
      const th = performance.now();
      const h = await run(jupyter, [
        "nbconvert",
        "--to",
        "html",
        "--output-dir",
        runDir,
        executedPath,
      ], {
        cwd: runDir,
      });
      record.htmlSeconds = (performance.now() - th) / 1000;
      if (h.code === 0) record.html = join(runDir, `${stem}.html`);
      else log(`  (HTML export of ${name} failed: ${h.stderr.trim().split("\n").pop()})`);
    }
    if (record.html && record.outputs.charts > 0 && browser) {
      try {
        record.browser = await checkHtmlInBrowser(record.html, {
          screenshot: join(runDir, `${stem}.png`),
          chromium: browser,
        });
      } catch (e) {
        log(`  (headless Chromium could not check ${stem}.html: ${(e as Error).message})`);
      }
    }
    summary.notebooks.push(record);
    log(
      notebookLine(record) + (record.executed ? `, ${megabytes(fileSize(record.executed))}` : ""),
    );
    if (!record.ok) {
      summary.ok = false;
      summary.failure = record.failure;
      break;
    }
  }
  summary.seconds = (performance.now() - t0) / 1000;
  Deno.writeTextFileSync(join(runDir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  Deno.writeTextFileSync(join(runDir, "summary.md"), summaryMarkdown(summary));
  return summary;
}

/** Size of a file in bytes (0 when it cannot be read). */
export function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** Bytes as megabytes with one decimal, e.g. `"2.1 MB"`. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Prepares the compressed plotly.js the notebooks' charts carry (lib/notebook/plotly_library.ts),
 * so that the first chart of the first notebook does not pay for the minification.
 */
function warmPlotly(log: (line: string) => void): void {
  try {
    const t = performance.now();
    const p = plotlyPayload();
    const s = ((performance.now() - t) / 1000).toFixed(1);
    log(
      `plotly.js ${p.version} for the charts: ${p.source}, ${megabytes(p.sourceBytes)} -> ` +
        `${megabytes(p.base64.length)} gzip + base64, carried once per notebook (${s} s)`,
    );
  } catch (e) {
    log(`(plotly.js is not ready: ${(e as Error).message})`);
  }
}

function existsDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
