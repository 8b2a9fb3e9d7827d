/**
 * Headless Chromium for the notebook checks, driven by puppeteer-core (npm, pinned in
 * deno.json) with the system Chromium: {@linkcode launchChromium} starts it (puppeteer-core
 * downloads no browser; {@linkcode findChromium} finds the one installed), {@linkcode openPage}
 * opens a tab that records what the page reports as errors and accepts its dialogs as a user
 * clicking OK would, and {@linkcode waitFor} polls an expression until it holds, naming what
 * it waited for when it does not.
 *
 * @example
 * ```ts
 * import { findChromium, launchChromium, openPage, waitFor } from "./chromium.ts";
 * const chromium: string | undefined = findChromium(); // e.g. "/usr/bin/chromium"
 * // With it (a second or two; tests/e2e/chromium_test.ts drives every call):
 * async function title(url: string): Promise<string> {
 *   const browser = await launchChromium();
 *   try {
 *     const { page, log } = await openPage(browser, { width: 800, height: 600 });
 *     await page.goto(url);
 *     const title = await waitFor<string>(page, "document.title", 5000, "a title");
 *     if (log.errors.length > 0) throw new Error(log.errors.join("; "));
 *     return title;
 *   } finally {
 *     await browser.close();
 *   }
 * }
 * // await title("data:text/html,<title>hi</title>") === "hi" wherever `chromium` is defined
 * ```
 *
 * @module
 */

import type { Browser, Page } from "puppeteer-core";
import { onPath } from "../exec.ts";

export type { Browser, Page };

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

/** Options of {@linkcode launchChromium}. */
export interface LaunchOptions {
  /** The Chromium executable (default: {@linkcode findChromium}). */
  executable?: string;
  /** Extra command-line flags. */
  args?: string[];
  /** Milliseconds to wait for the browser to start (default 60 s). */
  timeoutMs?: number;
}

/**
 * Starts headless Chromium (a fresh temporary profile, no sandbox, no GPU). Throws when
 * Chromium is not installed or does not come up. Close it with `browser.close()`.
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const executablePath = options.executable ?? findChromium();
  if (!executablePath) throw new Error("Chromium is not installed (apt-get install -y chromium)");
  // Loaded here, not at the top: finding Chromium (the set-up, the runner) needs no puppeteer.
  const { default: puppeteer } = await import("puppeteer-core");
  return await puppeteer.launch({
    executablePath,
    headless: true,
    timeout: options.timeoutMs ?? 60_000,
    // A cell's Run All is watched by polling, so no protocol call waits for long.
    protocolTimeout: 180_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--hide-scrollbars",
      ...(options.args ?? []),
    ],
  });
}

/** What a page reported: console errors and uncaught exceptions, and the dialogs it opened. */
export interface PageLog {
  /** Console errors and uncaught exceptions, in order. */
  errors: string[];
  /**
   * JavaScript dialogs the page opened (`beforeunload: …`, `alert: …`), in order. Each is
   * accepted at once, as a user who clicks OK would ("Leave page" for unsaved changes).
   */
  dialogs: string[];
}

/** Opens a tab with the given viewport (default 1200x900) that records a {@linkcode PageLog}. */
export async function openPage(
  browser: Browser,
  viewport: { width: number; height: number } = { width: 1200, height: 900 },
): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.newPage();
  const log: PageLog = { errors: [], dialogs: [] };
  page.on("console", (m) => {
    if (m.type() === "error") log.errors.push(m.text());
  });
  page.on("pageerror", (e) => log.errors.push(e instanceof Error ? e.message : String(e)));
  page.on("dialog", (d) => {
    log.dialogs.push(`${d.type()}: ${d.message()}`);
    d.accept().catch(() => {});
  });
  await page.setViewport({ ...viewport, deviceScaleFactor: 1 });
  return { page, log };
}

/** puppeteer's errors for a page that is navigating (a reload): the next poll will tell. */
const NAVIGATING = /Execution context was destroyed|Cannot find context with specified id/;

/**
 * Evaluates `expression` in the page every `intervalMs` (default 250) until it is truthy and
 * returns that value; throws after `timeoutMs` with `what` and the last value seen. A poll
 * that meets the page in the middle of a navigation (say the reload after File → Trust
 * Notebook) counts as not yet.
 */
export async function waitFor<T = unknown>(
  page: Page,
  expression: string,
  timeoutMs: number,
  what: string,
  intervalMs = 250,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  while (true) {
    let last: T | undefined;
    try {
      last = await page.evaluate(expression) as T;
    } catch (e) {
      if (!NAVIGATING.test((e as Error).message)) throw e;
    }
    if (last) return last;
    if (performance.now() > end) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (${JSON.stringify(last)})`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
