/**
 * A progress bar that updates in place: one output in a Jupyter notebook, one line in a
 * terminal.
 *
 * - In the Deno kernel: the bar is shown once with `display_data` carrying a
 *   `transient.display_id`, and every later refresh is an `update_display_data` with the same
 *   id (`Deno.jupyter.broadcast`), so the frontend (and the notebook nbconvert saves) holds ONE
 *   output that changes. Refreshes are throttled (default 250 ms): the kernel sends iopub
 *   messages from a queue, and a flood of them can still be in flight when the cell ends,
 *   where Jupyter drops them or shows them under the next cell. `done()` sends the final state
 *   and waits briefly (default 100 ms) so it arrives before the cell finishes: `await` it.
 * - In a terminal (`deno run`, stderr is a TTY): `\r` rewrites one line, at most every 100 ms.
 * - Otherwise (logs, CI): a full line at most every 5 s, plus the final line.
 *
 * @example
 * ```ts
 * import { progressBar } from "./progress.ts";
 * const steps = 100;
 * const bar = progressBar(steps, { label: "pre-training" });
 * for (let i = 1; i <= steps; i++) {
 *   const loss = 1 / i; // one training step
 *   bar.update(i, { loss });
 * }
 * await bar.done();
 * ```
 *
 * @module
 */

import { escapeHtml } from "../html.ts";
import { inKernel } from "./display.ts";

/** Where the bar is drawn. `auto`: kernel if in the Deno kernel, else tty or lines. */
export type ProgressMode = "auto" | "kernel" | "tty" | "lines" | "silent";

/** Metrics shown after the counts, e.g. `{loss: 1.23, lr: 0.001}`. */
export type Metrics = Record<string, number | string>;

/** Options of {@link progressBar}. */
export interface ProgressOptions {
  /** Text before the bar, e.g. `"epoch 3"`. */
  label?: string;
  /** Characters in the text bar (default 24). */
  width?: number;
  /** Output mode (default `auto`). */
  mode?: ProgressMode;
  /** Minimum ms between refreshes in kernel (default 250) and tty (default 100) modes. */
  minIntervalMs?: number;
  /** Minimum ms between lines in `lines` mode (default 5000). */
  lineIntervalMs?: number;
  /** Ms `done()` waits in the kernel for the final update to be sent (default 100). */
  flushMs?: number;
  /** Unit name for the rate (default `it`, shown as `it/s`). */
  unit?: string;
  /** Text sink for tty/lines modes (default: stderr). */
  write?: (text: string) => void;
  /** Message sink for kernel mode (default: `Deno.jupyter.broadcast`). */
  broadcast?: (msgType: string, content: Record<string, unknown>) => unknown;
  /** Clock in ms (default `performance.now`), for tests. */
  now?: () => number;
}

/** The state a progress line is drawn from. */
export interface ProgressState {
  /** Text before the bar. */
  label?: string;
  /** Units completed. */
  done: number;
  /** Units in all (0 or less: unknown). */
  total: number;
  /** Milliseconds since the bar started. */
  elapsedMs: number;
  /** Metrics shown after the counts. */
  metrics?: Metrics;
  /** Unit name for the rate. */
  unit?: string;
  /** Characters in the bar (default 24). */
  width?: number;
}

/** Formats seconds as `mm:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${String(m).padStart(2, "0")}:${ss}`;
}

/** Formats a metric value: numbers with 4 significant digits, strings as they are. */
export function formatMetric(value: number | string): string {
  if (typeof value === "string") return value;
  if (Number.isInteger(value)) return String(value);
  if (!Number.isFinite(value)) return String(value);
  const a = Math.abs(value);
  return a !== 0 && (a < 1e-3 || a >= 1e5)
    ? value.toExponential(3)
    : String(Number(value.toPrecision(4)));
}

function fraction(s: ProgressState): number {
  return s.total > 0 ? Math.min(1, Math.max(0, s.done / s.total)) : 0;
}

/** The counts, timing and metrics part of a progress line (no label, no bar). */
export function progressDetails(s: ProgressState): string {
  const secs = s.elapsedMs / 1000;
  const rate = secs > 0 ? s.done / secs : 0;
  const unit = s.unit ?? "it";
  const eta = s.total > 0 && rate > 0 ? (s.total - s.done) / rate : NaN;
  const timing = s.total > 0
    ? `${formatDuration(secs)}<${formatDuration(s.done >= s.total ? 0 : eta)}`
    : formatDuration(secs);
  const rateText = rate >= 1 || rate === 0
    ? `${rate.toFixed(1)} ${unit}/s`
    : `${(1 / rate).toFixed(2)} s/${unit}`;
  const counts = s.total > 0 ? `${s.done}/${s.total}` : `${s.done}`;
  const metrics = Object.entries(s.metrics ?? {}).map(([k, v]) => `${k}=${formatMetric(v)}`);
  return [`${counts} [${timing}, ${rateText}]`, ...metrics].join(" ");
}

/** One progress line, e.g. `epoch 3  45% |██████████▊             | 90/200 [00:03<00:04, 25.1 it/s] loss=1.23`. */
export function formatProgress(s: ProgressState): string {
  const width = s.width ?? 24;
  const f = fraction(s);
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  const partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
  const bar = s.total > 0
    ? ("█".repeat(full) + partials[part]).padEnd(width, " ").slice(0, width)
    : "";
  const pct = s.total > 0 ? `${String(Math.floor(f * 100)).padStart(3)}% |${bar}| ` : "";
  return `${s.label ? s.label + " " : ""}${pct}${progressDetails(s)}`;
}

/** The HTML form of a progress line: a `<progress>` element and the details. */
export function progressHtml(s: ProgressState): string {
  const f = fraction(s);
  const bar = s.total > 0
    ? `<progress value="${s.done}" max="${s.total}" style="width:24em;vertical-align:middle"></progress> ${
      Math.floor(f * 100)
    }% `
    : "";
  return `<div class="ssl-progress" style="font-family:monospace;white-space:pre">${
    s.label ? `<b>${escapeHtml(s.label)}</b> ` : ""
  }${bar}${escapeHtml(progressDetails(s))}</div>`;
}

/** A live progress bar; see {@link progressBar}. */
export interface ProgressBar {
  /** Sets the units completed (and optional metrics); refreshes the display when due. */
  update(done: number, metrics?: Metrics): void;
  /** Adds `n` (default 1) to the units completed. */
  tick(n?: number, metrics?: Metrics): void;
  /** Draws the final state (optionally with final metrics) and ends the bar; later calls do nothing. */
  done(metrics?: Metrics): Promise<void>;
  /** The current line of text. */
  text(): string;
  /** The resolved output mode. */
  readonly mode: Exclude<ProgressMode, "auto">;
  /** The Jupyter display id (kernel mode only). */
  readonly displayId?: string;
}

function stderrIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

function stderrWrite(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}

/**
 * Creates a progress bar over `total` units and shows it at 0 right away (see the module
 * documentation for how each mode draws). `total <= 0` means unknown: counts without a bar.
 */
export function progressBar(total: number, options: ProgressOptions = {}): ProgressBar {
  const now = options.now ?? (() => performance.now());
  let mode: Exclude<ProgressMode, "auto"> = options.mode && options.mode !== "auto"
    ? options.mode
    : inKernel()
    ? "kernel"
    : stderrIsTerminal()
    ? "tty"
    : "lines";
  const write = options.write ?? stderrWrite;
  const broadcast = options.broadcast ??
    ((t: string, c: Record<string, unknown>) => Deno.jupyter.broadcast(t, c));
  const interval = mode === "kernel"
    ? options.minIntervalMs ?? 250
    : mode === "tty"
    ? options.minIntervalMs ?? 100
    : options.lineIntervalMs ?? 5000;
  const displayId = mode === "kernel"
    ? `ssl-progress-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`
    : undefined;
  const start = now();
  let count = 0;
  let metrics: Metrics | undefined;
  let lastDraw = -Infinity;
  let finished = false;
  let shown = false;
  let lastLen = 0;

  const state = (): ProgressState => ({
    label: options.label,
    done: count,
    total,
    elapsedMs: now() - start,
    metrics,
    unit: options.unit,
    width: options.width,
  });

  const send = (msgType: string) => {
    const s = state();
    try {
      const r = broadcast(msgType, {
        data: { "text/plain": formatProgress(s), "text/html": progressHtml(s) },
        metadata: {},
        transient: { display_id: displayId },
      });
      if (r instanceof Promise) r.catch(() => {});
    } catch {
      mode = "silent"; // the kernel refused the message: stop trying
    }
  };

  const draw = (final: boolean) => {
    lastDraw = now();
    switch (mode) {
      case "kernel":
        send(shown ? "update_display_data" : "display_data");
        shown = true;
        break;
      case "tty": {
        const line = formatProgress(state());
        write("\r" + line + " ".repeat(Math.max(0, lastLen - line.length)) + (final ? "\n" : ""));
        lastLen = line.length;
        break;
      }
      case "lines":
        write(formatProgress(state()) + "\n");
        break;
      case "silent":
        break;
    }
  };

  const bar: ProgressBar = {
    get mode() {
      return mode;
    },
    displayId,
    update(done: number, m?: Metrics) {
      if (finished) return;
      count = done;
      if (m) metrics = m;
      if (now() - lastDraw >= interval) draw(false);
    },
    tick(n = 1, m?: Metrics) {
      bar.update(count + n, m);
    },
    async done(m?: Metrics) {
      if (finished) return;
      if (m) metrics = m;
      draw(true);
      finished = true;
      if (mode === "kernel") {
        await new Promise((resolve) => setTimeout(resolve, options.flushMs ?? 100));
      }
    },
    text: () => formatProgress(state()),
  };
  draw(false);
  return bar;
}
