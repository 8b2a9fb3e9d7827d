/**
 * Executes the fixture notebook (fixtures/display_demo.ipynb) through `jupyter nbconvert
 * --execute` on the Deno kernel, checks its outputs, then opens its HTML export in headless
 * Chromium. The run is kept in `data/runs/test-display-demo/` (executed notebook, HTML,
 * screenshot `display_demo.png`) for a look by eye.
 *
 * @module
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { checkHtmlInBrowser } from "../../tools/notebooks/browser_check.ts";
import { runNotebooks } from "../../tools/notebooks/runner.ts";
import type { Summary } from "../../tools/notebooks/summary.ts";
import { dataDir } from "../../lib/notebook/config.ts";
import { assert, assertEquals } from "../assert.ts";
import { chromiumMissing, jupyterMissing } from "./jupyter_available.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const RUN_DIR = join(dataDir(), "runs", "test-display-demo");

// deno-lint-ignore no-explicit-any
type Json = any;
let summary: Summary | undefined;

function text(v: unknown): string {
  return Array.isArray(v) ? v.join("") : String(v ?? "");
}

Deno.test({
  name:
    "fixture notebook: runs in Jupyter with a PNG, charts, a table, ONE progress output, no error",
  ignore: jupyterMissing !== undefined,
  async fn() {
    await Deno.remove(RUN_DIR, { recursive: true }).catch(() => {});
    summary = await runNotebooks({
      dir: FIXTURES,
      runDir: RUN_DIR,
      quick: true,
      browser: false,
      log: () => {},
    });
    assert(summary.ok, summary.failure?.message);
    const record = summary.notebooks[0];
    assertEquals(record.notebook, "display_demo.ipynb");
    const nb: Json = JSON.parse(readFileSync(record.executed!, "utf8"));
    const outputs: Json[] = nb.cells.flatMap((c: Json) => c.outputs ?? []);
    const html = (o: Json) => text(o.data?.["text/html"]);

    assertEquals(outputs.filter((o) => o.output_type === "error").length, 0, "no error outputs");
    assert(outputs.some((o) => typeof o.data?.["image/png"] === "string"), "an image/png output");
    const charts = outputs.filter((o) =>
      html(o).includes("Plotly.newPlot") && html(o).includes('class="ssl-plotly"')
    );
    assertEquals(charts.length, 4, "line, bar, heatmap and scatter charts");
    for (const c of charts) {
      // The plotly MIME type, stored as JSON: VS Code and JupyterLab draw it without trust.
      const fig = c.data["application/vnd.plotly.v1+json"];
      assert(Array.isArray(fig?.data) && typeof fig?.layout === "object", "a plotly figure");
      assert(html(c).includes('class="ssl-plotly-note"'), "the untrusted fallback: a note");
    }
    assertEquals(
      outputs.filter((o) => html(o).includes("ssl-plotly-library")).length,
      1,
      "plotly.js inlined once",
    );
    const tables = outputs.filter((o) => html(o).includes('<table class="ssl-table"'));
    assertEquals(tables.length, 1, "a table");
    assert(html(tables[0]).includes("&lt;200 labels&gt;"), "table cells escaped");
    const bars = outputs.filter((o) => html(o).includes('class="ssl-progress"'));
    assertEquals(bars.length, 1, "exactly one progress-bar output (updated in place)");
    assert(text(bars[0].data["text/plain"]).includes("200/200"), "the bar shows its final state");
    const markdown = outputs.filter((o) => o.data?.["text/markdown"] !== undefined);
    assert(markdown.some((o) => text(o.data["text/markdown"]).includes("quick")), "quick mode");
    for (const o of markdown) {
      assert(html(o).startsWith('<div class="ssl-markdown">'), "Markdown also as HTML");
    }
    assert(html(markdown[0]).includes("<strong>quick</strong>"), html(markdown[0]));
    const size = statSync(record.executed!).size;
    assert(size < 2_500_000, `the executed notebook is light: ${size} bytes`);

    assertEquals(record.outputs.charts, 4);
    assertEquals(record.outputs.progressBars, 1);
    assertEquals(record.results["display_demo"], { quick: true, accuracy: 0.8634 });
    assert(record.html && existsSync(record.html), "HTML export written");
    assert(existsSync(join(RUN_DIR, "summary.json")) && existsSync(join(RUN_DIR, "summary.md")));
  },
});

Deno.test({
  name:
    "fixture notebook: its HTML export draws every chart in headless Chromium (screenshot saved)",
  ignore: jupyterMissing !== undefined || chromiumMissing !== undefined,
  async fn() {
    const htmlPath = summary?.notebooks[0]?.html;
    assert(htmlPath, "the execution test must pass first (it writes the HTML export)");
    const shot = join(RUN_DIR, "display_demo.png");
    const check = await checkHtmlInBrowser(htmlPath, { screenshot: shot });
    assert(check, "chromium found");
    assertEquals(check.charts, 4, "chart divs in the page");
    assertEquals(check.drawn, 4, "every chart div holds a drawn plotly SVG");
    assertEquals(check.screenshot, shot);
    const png = readFileSync(shot);
    assertEquals([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG screenshot");
    assert(statSync(shot).size > 20_000, "the screenshot is not blank");
  },
});
