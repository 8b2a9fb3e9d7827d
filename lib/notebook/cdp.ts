/**
 * Headless Chromium driven over the DevTools protocol (CDP), with nothing but Deno's own
 * `WebSocket`: {@linkcode launchChromium} starts the system Chromium (it downloads no browser)
 * on a free debugging port with a fresh profile, {@linkcode Browser.newPage} opens a tab, and a
 * {@linkcode Page} navigates, evaluates JavaScript, waits for a condition, clicks like a mouse,
 * and takes screenshots. What the page logs as errors (console errors, uncaught exceptions) is
 * kept in {@linkcode Page.errors}.
 *
 * @example
 * ```ts
 * import { findChromium, launchChromium } from "./cdp.ts";
 * if (findChromium()) {
 *   const browser = await launchChromium();
 *   try {
 *     const page = await browser.newPage({ width: 800, height: 600 });
 *     await page.goto("data:text/html,<h1>hello</h1>");
 *     const text = await page.evaluate<string>("document.querySelector('h1').textContent");
 *     if (text !== "hello") throw new Error(text);
 *   } finally {
 *     await browser.close();
 *   }
 * }
 * ```
 *
 * @module
 */

import { onPath } from "../cli/exec.ts";

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
  /** Milliseconds to wait for the DevTools endpoint (default 60 s). */
  timeoutMs?: number;
}

type Json = Record<string, unknown>;
type Pending = { resolve: (v: Json) => void; reject: (e: Error) => void; method: string };

/** One WebSocket connection to the browser; commands are answered by id, events by name. */
export class CdpConnection {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Set<(method: string, params: Json, sessionId?: string) => void>();
  #closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) => {
      ws.onclose = () => {
        for (const p of this.#pending.values()) {
          p.reject(new Error(`CDP connection closed during ${p.method}`));
        }
        this.#pending.clear();
        resolve();
      };
    });
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      if (typeof msg.id === "number") {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
      } else if (typeof msg.method === "string") {
        for (const l of this.#listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    };
  }

  /** Connects to a DevTools WebSocket URL. */
  static connect(url: string): Promise<CdpConnection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new CdpConnection(ws));
      ws.onerror = (e) =>
        reject(new Error(`cannot connect to ${url}: ${(e as ErrorEvent).message}`));
    });
  }

  /**
   * Sends a command (to a page's session when `sessionId` is given) and returns its result;
   * rejects when no answer comes within `timeoutMs` (default 120 s).
   */
  send<T = Json>(
    method: string,
    params: Json = {},
    sessionId?: string,
    timeoutMs = 120_000,
  ): Promise<T> {
    const id = this.#next++;
    const answer = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: Json) => void, reject, method });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
    return withTimeout(answer, timeoutMs, `the answer to ${method}`).finally(() =>
      this.#pending.delete(id)
    );
  }

  /** Calls `listener` for every event; returns a function that removes it. */
  on(listener: (method: string, params: Json, sessionId?: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close();
    await this.#closed;
  }
}

/** A page (tab) of a {@linkcode Browser}. */
export class Page {
  /** Console errors and uncaught exceptions the page reported, in order. */
  readonly errors: string[] = [];
  /**
   * JavaScript dialogs the page opened (`beforeunload: …`, `alert: …`), in order. Each is
   * accepted at once, as a user who clicks OK would ("Leave page" for unsaved changes).
   */
  readonly dialogs: string[] = [];
  readonly #cdp: CdpConnection;
  readonly #session: string;

  /** Wraps an attached target; use {@linkcode Browser.newPage}. */
  constructor(cdp: CdpConnection, sessionId: string) {
    this.#cdp = cdp;
    this.#session = sessionId;
    cdp.on((method, params, sessionId) => {
      if (sessionId !== this.#session) return;
      if (method === "Runtime.exceptionThrown") {
        const d = params.exceptionDetails as Json;
        const ex = d.exception as Json | undefined;
        this.errors.push(String(ex?.description ?? d.text));
      } else if (method === "Page.javascriptDialogOpening") {
        this.dialogs.push(`${params.type}: ${params.message}`);
        this.send("Page.handleJavaScriptDialog", { accept: true }).catch(() => {});
      } else if (method === "Runtime.consoleAPICalled" && params.type === "error") {
        const args = (params.args as Json[]).map((a) => a.value ?? a.description ?? "");
        this.errors.push(args.join(" "));
      }
    });
  }

  /** Sends a CDP command to this page. */
  send<T = Json>(method: string, params: Json = {}): Promise<T> {
    return this.#cdp.send<T>(method, params, this.#session);
  }

  /** Navigates to `url` and waits for its load event (up to `timeoutMs`, default 60 s). */
  async goto(url: string, timeoutMs = 60_000): Promise<void> {
    let off = () => {};
    const loaded = new Promise<void>((resolve) => {
      off = this.#cdp.on((method, _params, sessionId) => {
        if (sessionId === this.#session && method === "Page.loadEventFired") resolve();
      });
    });
    try {
      const r = await this.send<{ errorText?: string }>("Page.navigate", { url });
      if (r.errorText) throw new Error(`cannot open ${url}: ${r.errorText}`);
      await withTimeout(loaded, timeoutMs, `the load event of ${url}`);
    } finally {
      off();
    }
  }

  /** Evaluates a JavaScript expression in the page (promises awaited) and returns its value. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const r = await this.send<{ result: Json; exceptionDetails?: Json }>("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    if (r.exceptionDetails) {
      const ex = r.exceptionDetails.exception as Json | undefined;
      throw new Error(`in the page: ${ex?.description ?? r.exceptionDetails.text}`);
    }
    return r.result.value as T;
  }

  /**
   * Evaluates `expression` every `intervalMs` (default 250) until it is truthy and returns that
   * value; throws after `timeoutMs` with `what` and the last value seen.
   */
  async waitFor<T = unknown>(
    expression: string,
    timeoutMs: number,
    what: string,
    intervalMs = 250,
  ): Promise<T> {
    const end = performance.now() + timeoutMs;
    let last: unknown;
    while (true) {
      last = await this.evaluate<T>(expression);
      if (last) return last as T;
      if (performance.now() > end) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what} (${JSON.stringify(last)})`,
        );
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Clicks the centre of the first element matching `selector`, with real mouse events. */
  async click(selector: string): Promise<void> {
    const box = await this.evaluate<{ x: number; y: number } | null>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: "center" });
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 ? { x: r.x + r.width / 2, y: r.y + r.height / 2 } : null;
    })()`);
    if (!box) throw new Error(`nothing visible to click at ${selector}`);
    for (const type of ["mouseMoved", "mousePressed", "mouseReleased"]) {
      await this.send("Input.dispatchMouseEvent", {
        type,
        x: box.x,
        y: box.y,
        button: type === "mouseMoved" ? "none" : "left",
        clickCount: type === "mouseMoved" ? 0 : 1,
      });
    }
  }

  /** Sets the viewport (CSS pixels). */
  async setViewport(width: number, height: number): Promise<void> {
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
  }

  /** Saves a PNG screenshot of the viewport to `path`; returns its size in bytes. */
  async screenshot(path: string): Promise<number> {
    const r = await this.send<{ data: string }>("Page.captureScreenshot", { format: "png" });
    const bytes = Uint8Array.from(atob(r.data), (c) => c.charCodeAt(0));
    await Deno.writeFile(path, bytes);
    return bytes.length;
  }
}

/** A running Chromium. */
export class Browser {
  readonly #cdp: CdpConnection;
  readonly #process: Deno.ChildProcess;
  readonly #profile: string;

  /** Wraps a launched browser; use {@linkcode launchChromium}. */
  constructor(cdp: CdpConnection, process: Deno.ChildProcess, profile: string) {
    this.#cdp = cdp;
    this.#process = process;
    this.#profile = profile;
  }

  /** Opens a new blank tab with the given viewport (default 1200x900). */
  async newPage(viewport: { width: number; height: number } = { width: 1200, height: 900 }) {
    const { targetId } = await this.#cdp.send<{ targetId: string }>("Target.createTarget", {
      url: "about:blank",
    });
    const { sessionId } = await this.#cdp.send<{ sessionId: string }>("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(this.#cdp, sessionId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    await page.setViewport(viewport.width, viewport.height);
    return page;
  }

  /** Closes the browser (then kills it if it lingers) and removes its profile. */
  async close(): Promise<void> {
    try {
      await withTimeout(this.#cdp.send("Browser.close"), 5000, "Browser.close");
    } catch {
      // it may already be gone
    }
    await this.#cdp.close().catch(() => {});
    const exited = await withTimeout(this.#process.status, 10_000, "chromium to exit")
      .then(() => true, () => false);
    if (!exited) {
      try {
        this.#process.kill("SIGKILL");
      } catch {
        // gone
      }
      await this.#process.status;
    }
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}

/** Resolves with `p`, or rejects after `ms` naming `what`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts headless Chromium with a fresh profile and remote debugging on a free port (read
 * from the profile's `DevToolsActivePort`), and connects to it. Throws when Chromium is not
 * installed or does not come up.
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const executable = options.executable ?? findChromium();
  if (!executable) throw new Error("Chromium is not installed (apt-get install -y chromium)");
  const profile = await Deno.makeTempDir({ prefix: "ssl-chromium-" });
  const process = new Deno.Command(executable, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      ...(options.args ?? []),
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const drain = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of process.stderr) {
      stderr = (stderr + decoder.decode(chunk)).slice(-4000);
    }
  })();
  drain.catch(() => {});
  const portFile = `${profile}/DevToolsActivePort`;
  const end = performance.now() + (options.timeoutMs ?? 60_000);
  let exited = false;
  process.status.then(() => (exited = true));
  while (true) {
    try {
      const [port, path] = (await Deno.readTextFile(portFile)).trim().split("\n");
      if (port && path) {
        const cdp = await CdpConnection.connect(`ws://127.0.0.1:${port}${path}`);
        return new Browser(cdp, process, profile);
      }
    } catch {
      // not written yet
    }
    if (exited || performance.now() > end) {
      if (!exited) process.kill("SIGKILL");
      await process.status;
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw new Error(`Chromium did not start its DevTools endpoint: ${stderr.slice(-1500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
