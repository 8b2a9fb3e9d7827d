/**
 * Headless Chromium as a check of the HTML exports: {@linkcode findChromium} finds the browser,
 * {@linkcode checkHtmlInBrowser} opens a page in it (tools/notebooks/chromium.ts, puppeteer-core),
 * waits (in real time) until its plotly charts are drawn, counts them ({@linkcode drawnCharts}
 * does the same on a DOM dump), and saves a screenshot of the whole page.
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
import { findChromium, launchChromium, openPage, type Page, waitFor } from "./chromium.ts";

export { findChromium } from "./chromium.ts";

/** What headless Chromium showed of an HTML page with charts. */
export interface BrowserCheck {
  /** Chart divs (`class="ssl-plotly"`) in the page. */
  charts: number;
  /** Chart divs that hold a drawn plotly SVG (`class="main-svg"`) after the scripts ran. */
  drawn: number;
  /** The screenshot, when one was asked for and written. */
  screenshot?: string;
  /** Seconds Chromium took, start to close. */
  seconds: number;
  /** Errors the page reported (console errors, uncaught exceptions). */
  errors?: string[];
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

/** In-page expression: `{charts, drawn}` of the plotly chart divs. */
export const COUNT_CHARTS_JS = `(() => {
  const charts = [...document.querySelectorAll("div.ssl-plotly")];
  return { charts: charts.length, drawn: charts.filter((c) => c.querySelector("svg.main-svg")).length };
})()`;

/**
 * Makes the viewport as tall as the page (at most `maxHeight`, default 16,000 CSS pixels) and
 * saves a screenshot of it.
 */
export async function fullPageScreenshot(
  page: Page,
  path: string,
  options: { width?: number; maxHeight?: number; heightJs?: string } = {},
): Promise<number> {
  const width = options.width ?? 1200;
  const height = await page.evaluate(
    options.heightJs ??
      "Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)",
  ) as number;
  await page.setViewport({
    width,
    height: Math.min(options.maxHeight ?? 16_000, Math.max(600, height)),
    deviceScaleFactor: 1,
  });
  await page.evaluate("window.dispatchEvent(new Event('resize'))");
  await new Promise((r) => setTimeout(r, 800)); // let the page and plotly's charts re-layout
  const png = await page.screenshot({ path, type: "png" });
  return png.length;
}

/**
 * Opens an HTML file in headless Chromium, waits up to `timeoutMs` (default 60 s) until every
 * chart div holds a drawn plotly SVG, counts them, and saves a screenshot of the whole page
 * (1200 pixels wide) if `screenshot` is given. Returns `undefined` when Chromium is not
 * installed.
 */
export async function checkHtmlInBrowser(
  htmlPath: string,
  options: { screenshot?: string; timeoutMs?: number; chromium?: string } = {},
): Promise<BrowserCheck | undefined> {
  const executable = options.chromium ?? findChromium();
  if (!executable) return undefined;
  const t = performance.now();
  const browser = await launchChromium({ executable });
  try {
    const { page, log } = await openPage(browser, { width: 1200, height: 900 });
    await page.goto(new URL(`file://${resolve(htmlPath)}`).href, { timeout: 60_000 });
    let counts = { charts: 0, drawn: 0 };
    try {
      counts = await waitFor(
        page,
        `(() => { const c = ${COUNT_CHARTS_JS}; return c.drawn === c.charts ? c : null; })()`,
        options.timeoutMs ?? 60_000,
        "every chart to be drawn",
      );
    } catch {
      counts = await page.evaluate(COUNT_CHARTS_JS) as typeof counts; // report what was drawn
    }
    const result: BrowserCheck = { ...counts, seconds: 0, errors: log.errors };
    if (options.screenshot) {
      await fullPageScreenshot(page, options.screenshot);
      result.screenshot = resolve(options.screenshot);
    }
    result.seconds = (performance.now() - t) / 1000;
    return result;
  } finally {
    await browser.close();
  }
}
