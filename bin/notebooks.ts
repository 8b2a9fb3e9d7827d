/**
 * `deno task notebooks`: executes every notebook of `notebooks/` in name order in a real
 * Jupyter kernel (`deno`), through `jupyter nbconvert --execute`, and writes under
 * `data/runs/<YYYYMMDD-HHMMSS>[-quick]/`: the executed notebooks, an HTML export of each,
 * `summary.json` and `summary.md` (time, cells and outputs per notebook, plus the results each
 * notebook saved with `saveResults` from lib/notebook/config.ts).
 *
 * Flags: `--quick` (or env `SSL_QUICK=1`) for the smoke run, `--only 01,03` (name prefixes),
 * `--no-html`, `--no-browser`, `--dir <folder>` (another folder of notebooks), `--timeout <s>`
 * (per cell), `--out <folder>` (where run folders go, default data/runs).
 *
 * When Chromium is installed, each HTML export with charts is opened in headless Chromium: the
 * summary records how many charts were drawn and a screenshot `<notebook>.png` is saved.
 *
 * Each notebook runs with cwd = its folder and env `SSL_QUICK` (quick mode), `SSL_RUN_DIR`
 * (the run folder), `SSL_NOTEBOOK` (its name without `.ipynb`) and `NO_COLOR=1`. On the first
 * failure it stops and names the notebook, the cell (number, index and first line of its
 * source) and the error; exit code 1. Exit code 2 when Jupyter is missing (with what to
 * install). Registers the Deno kernel (`deno jupyter --install`) if Jupyter lacks it.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isTruthyFlag, projectRoot } from "../lib/notebook/config.ts";

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

/** Thrown when Jupyter (nbconvert) is not installed; the message says what to install. */
export class JupyterMissingError extends Error {
  /** Builds the error with the install instructions. */
  constructor(detail = "") {
    super(
      "Jupyter with nbconvert is needed to run the notebooks but `jupyter nbconvert` was not " +
        `found${detail ? ` (${detail})` : ""}.\nInstall it, then run again:\n` +
        "  Debian/Ubuntu: apt-get install -y jupyter-nbconvert jupyter-client python3-nbclient " +
        "python3-ipykernel\n" +
        "  with pip:      pip install nbconvert nbclient ipykernel\n" +
        "The Deno kernel is then registered automatically (`deno jupyter --install`).",
    );
    this.name = "JupyterMissingError";
  }
}

const decoder = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Checks that `jupyter nbconvert` runs; throws {@link JupyterMissingError} if not. */
export async function checkJupyter(jupyter = "jupyter"): Promise<string> {
  let r;
  try {
    r = await run(jupyter, ["nbconvert", "--version"]);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new JupyterMissingError(`no \`${jupyter}\` on PATH`);
    }
    throw e;
  }
  if (r.code !== 0) throw new JupyterMissingError(r.stderr.trim().split("\n").pop());
  return r.stdout.trim();
}

/** True when Jupyter knows a kernel named `deno`. */
export async function hasDenoKernel(jupyter = "jupyter"): Promise<boolean> {
  const r = await run(jupyter, ["kernelspec", "list", "--json"]);
  if (r.code !== 0) return false;
  try {
    return "deno" in (JSON.parse(r.stdout).kernelspecs ?? {});
  } catch {
    return /\bdeno\b/.test(r.stdout);
  }
}

/** Registers the Deno kernel with `deno jupyter --install` unless Jupyter already has it. */
export async function ensureDenoKernel(
  jupyter = "jupyter",
  log: (s: string) => void = console.log,
): Promise<void> {
  if (await hasDenoKernel(jupyter)) return;
  log("registering the Deno Jupyter kernel (deno jupyter --install)");
  const r = await run(Deno.execPath(), ["jupyter", "--install"]);
  if (r.code !== 0 || !(await hasDenoKernel(jupyter))) {
    throw new Error(`could not register the Deno kernel:\n${r.stderr}${r.stdout}`);
  }
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

// deno-lint-ignore no-explicit-any
type Json = any;

function joinText(v: unknown): string {
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

const ANSI = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*[A-Za-z]", "g");

function firstLineOf(source: string): string {
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

function plural(n: number, word: string): string {
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

/** What headless Chromium showed of an HTML page with charts. */
export interface BrowserCheck {
  /** Chart divs (`class="ssl-plotly"`) in the page. */
  charts: number;
  /** Chart divs that hold a drawn plotly SVG (`class="main-svg"`) after the scripts ran. */
  drawn: number;
  /** The screenshot, when one was asked for and written. */
  screenshot?: string;
  /** Seconds Chromium took, both runs together. */
  seconds: number;
}

/** The Chromium executable: env `CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on PATH. */
export function findChromium(): string | undefined {
  const fromEnv = Deno.env.get("CHROMIUM");
  if (fromEnv) return fromEnv;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
      try {
        if (dir && Deno.statSync(join(dir, name)).isFile) return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Counts the chart divs of a DOM dump and those that hold a drawn plotly SVG. */
export function drawnCharts(dom: string): { charts: number; drawn: number } {
  const starts: number[] = [];
  const re = /<div[^>]*class="ssl-plotly[" ]/g;
  for (let m; (m = re.exec(dom));) starts.push(m.index);
  let drawn = 0;
  starts.forEach((start, i) => {
    const end = i + 1 < starts.length ? starts[i + 1] : dom.length;
    if (dom.slice(start, end).includes('class="main-svg"')) drawn++;
  });
  return { charts: starts.length, drawn };
}

/**
 * Opens an HTML file in headless Chromium (no sandbox, no GPU, no network services, a fresh
 * profile), lets its scripts run for up to 10 s of virtual time, counts the drawn charts in
 * the resulting DOM, and saves a 1200x3000 screenshot if `screenshot` is given. Returns
 * `undefined` when Chromium is not installed.
 */
export async function checkHtmlInBrowser(
  htmlPath: string,
  options: { screenshot?: string; timeoutMs?: number; chromium?: string } = {},
): Promise<BrowserCheck | undefined> {
  const chromium = options.chromium ?? findChromium();
  if (!chromium) return undefined;
  const profile = await Deno.makeTempDir({ prefix: "ssl-chromium-" });
  const t = performance.now();
  const url = new URL(`file://${resolve(htmlPath)}`).href;
  const flags = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${profile}`,
    "--virtual-time-budget=10000",
  ];
  const chrome = (args: string[]) =>
    new Deno.Command(chromium, {
      args: [...flags, ...args, url],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
    }).output();
  try {
    const dump = await chrome(["--dump-dom"]);
    if (dump.code !== 0) {
      throw new Error(
        `chromium --dump-dom failed (${dump.code}): ${decoder.decode(dump.stderr).slice(-800)}`,
      );
    }
    const result: BrowserCheck = { ...drawnCharts(decoder.decode(dump.stdout)), seconds: 0 };
    if (options.screenshot) {
      const shot = await chrome([
        "--window-size=1200,3000",
        `--screenshot=${resolve(options.screenshot)}`,
      ]);
      if (shot.code === 0) result.screenshot = resolve(options.screenshot);
    }
    result.seconds = (performance.now() - t) / 1000;
    return result;
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

function emptyCounts(): OutputCounts {
  return countOutputs({ cells: [] });
}

/**
 * Executes the notebooks of `options.dir` in name order (see the module documentation) and
 * returns the run's summary, also written to `summary.json` / `summary.md` in the run folder.
 * Stops at the first failing notebook (`ok: false`, `failure` set). Throws
 * {@link JupyterMissingError} when Jupyter is not installed, and an Error when there is no
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
    log(notebookLine(record));
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

function existsDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** The CLI: parses flags, runs, prints the outcome; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "no-html": { type: "boolean", default: false },
      "no-browser": { type: "boolean", default: false },
      dir: { type: "string" },
      out: { type: "string" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "deno task notebooks [--quick] [--only 01,03] [--no-html] [--no-browser] [--dir notebooks/] " +
        "[--out data/runs] [--timeout SECONDS_PER_CELL]",
    );
    return 0;
  }
  const timeoutS = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutS !== undefined && !(timeoutS > 0)) {
    console.error(
      `notebooks: --timeout must be a positive number of seconds, got "${values.timeout}"`,
    );
    return 2;
  }
  try {
    const s = await runNotebooks({
      quick: values.quick || isTruthyFlag(Deno.env.get("SSL_QUICK")),
      only: values.only?.split(","),
      html: !values["no-html"],
      browser: values["no-browser"] ? false : undefined,
      dir: values.dir,
      outRoot: values.out,
      timeoutS,
    });
    if (!s.ok) {
      console.error(`\nnotebooks: STOPPED.\n${s.failure?.message ?? "a notebook failed"}`);
      if (s.failure?.log) console.error(`  full log: ${s.failure.log}`);
      console.error(`  summary: ${join(s.runDir, "summary.md")}`);
      return 1;
    }
    console.log(
      `all ${plural(s.notebooks.length, "notebook")} passed in ${s.seconds.toFixed(1)} s; ` +
        `summary: ${join(s.runDir, "summary.md")}`,
    );
    return 0;
  } catch (e) {
    if (e instanceof JupyterMissingError) {
      console.error(`notebooks: ${e.message}`);
      return 2;
    }
    console.error(`notebooks: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
