import {
  formatDuration,
  formatMetric,
  formatProgress,
  progressBar,
  progressHtml,
} from "../../lib/notebook/progress.ts";
import { assert, assertEquals } from "../assert.ts";

/** A fake clock: `now()` returns `t`, which tests advance by hand. */
function clock() {
  const c = { t: 0, now: () => c.t };
  return c;
}

Deno.test("progress: formatProgress draws bar, counts, timing, rate and metrics", () => {
  assertEquals(
    formatProgress({
      label: "epoch 3",
      done: 90,
      total: 200,
      elapsedMs: 3600,
      metrics: { loss: 1.23456 },
    }),
    "epoch 3  45% |██████████▊             | 90/200 [00:04<00:04, 25.0 it/s] loss=1.235",
  );
  assertEquals(
    formatProgress({ done: 200, total: 200, elapsedMs: 8000, width: 10 }),
    "100% |██████████| 200/200 [00:08<00:00, 25.0 it/s]",
  );
  assertEquals(
    formatProgress({ done: 3, total: 0, elapsedMs: 6000, unit: "epoch" }),
    "3 [00:06, 2.00 s/epoch]",
  );
  assertEquals(formatDuration(3725), "1:02:05");
  assertEquals(formatDuration(NaN), "--:--");
  assertEquals(formatMetric(0.000123), "1.230e-4");
  assertEquals(formatMetric(12), "12");
  assertEquals(formatMetric("a"), "a");
});

Deno.test("progress: progressHtml has a <progress> element and escapes the label", () => {
  const html = progressHtml({ label: "<x>", done: 5, total: 10, elapsedMs: 1000 });
  assert(html.includes('class="ssl-progress"'));
  assert(html.includes('<progress value="5" max="10"'));
  assert(html.includes("<b>&lt;x&gt;</b>"));
  assert(html.includes(" 50% "));
});

Deno.test("progress: lines mode (no kernel, no terminal) prints a throttled line, then the last", async () => {
  const c = clock();
  const out: string[] = [];
  const bar = progressBar(100, {
    label: "train",
    mode: "lines",
    now: c.now,
    write: (s) => out.push(s),
  });
  for (let i = 1; i <= 100; i++) {
    c.t += 200; // 20 s in all: lines at 0, 5, 10, 15, 20 s
    bar.update(i, { loss: 1 / i });
  }
  await bar.done();
  assertEquals(out.length, 6, out.join(""));
  assert(out.every((l) => l.endsWith("\n") && !l.includes("\r")));
  assertEquals(out[0], "train   0% |                        | 0/100 [00:00<--:--, 0.0 it/s]\n");
  assertEquals(
    out[5],
    "train 100% |████████████████████████| 100/100 [00:20<00:00, 5.0 it/s] loss=0.01\n",
  );
  assertEquals(bar.mode, "lines");
  assertEquals(bar.displayId, undefined);
  await bar.done(); // a second done does nothing
  bar.update(50);
  assertEquals(out.length, 6);
});

Deno.test("progress: tty mode rewrites one line with \\r and ends it with a newline", async () => {
  const c = clock();
  const out: string[] = [];
  const bar = progressBar(10, { mode: "tty", now: c.now, write: (s) => out.push(s) });
  for (let i = 1; i <= 10; i++) {
    c.t += 50; // refresh at most every 100 ms
    bar.tick();
  }
  await bar.done();
  assert(out.every((s) => s.startsWith("\r")));
  assertEquals(out.length, 1 + 5 + 1);
  assert(out.at(-1)!.endsWith("\n"));
  assert(out.at(-1)!.includes("10/10"));
  assertEquals(out.join("").split("\n").length, 2, "a single line in the terminal");
});

Deno.test("progress: kernel mode sends one display_data, then throttled update_display_data with the same id", async () => {
  const c = clock();
  const msgs: { type: string; content: Record<string, unknown> }[] = [];
  const bar = progressBar(1000, {
    label: "pretrain",
    mode: "kernel",
    now: c.now,
    flushMs: 0,
    broadcast: (type, content) => msgs.push({ type, content }),
  });
  for (let i = 1; i <= 1000; i++) {
    c.t += 10; // 10 s in all, refreshed at most every 250 ms
    bar.update(i, { loss: 2 - i / 1000 });
  }
  await bar.done();
  assertEquals(msgs[0].type, "display_data");
  assert(msgs.slice(1).every((m) => m.type === "update_display_data"));
  assert(
    msgs.length >= 30 && msgs.length <= 45,
    `throttled: ${msgs.length} messages for 1000 updates`,
  );
  const ids = new Set(msgs.map((m) => (m.content.transient as { display_id: string }).display_id));
  assertEquals([...ids], [bar.displayId]);
  const last = msgs.at(-1)!.content.data as Record<string, string>;
  assert(last["text/plain"].includes("1000/1000"), last["text/plain"]);
  assert(last["text/plain"].includes("loss=1"));
  assert(last["text/html"].includes('class="ssl-progress"'));
  assertEquals(bar.mode, "kernel");
});

Deno.test("progress: a kernel that refuses messages silences the bar instead of failing the loop", async () => {
  const bar = progressBar(3, {
    mode: "kernel",
    flushMs: 0,
    broadcast: () => {
      throw new Error("no kernel");
    },
  });
  bar.update(1);
  await bar.done();
  assertEquals(bar.mode, "silent");
});
