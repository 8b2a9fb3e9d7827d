/**
 * Headless Chromium as a check of the HTML exports: {@linkcode findChromium} finds the browser,
 * {@linkcode checkHtmlInBrowser} opens a page, lets its scripts run and counts the plotly
 * charts that were drawn ({@linkcode drawnCharts}), and saves a screenshot.
 *
 * @example
 * ```ts
 * import { drawnCharts } from "./browser_check.ts";
 * const dom = '<div class="ssl-plotly"><svg class="main-svg"></svg></div><div class="ssl-plotly"></div>';
 * const { charts, drawn } = drawnCharts(dom); // 2 charts, 1 drawn
 * if (charts !== 2 || drawn !== 1) throw new Error("miscounted");
 * ```
 *
 * @module
 */
import { resolve } from "node:path";
import { onPath } from "../cli/exec.ts";

const decoder = new TextDecoder();

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
      const found = dir ? onPath(name, dir) : undefined;
      if (found) return found;
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
