/**
 * Executes the nine notebooks of `notebooks/` in a real Jupyter kernel (`deno`), quick mode,
 * and checks that each produced its key outputs with no error, weighs at most 3 MB, and
 * carries outputs every front end can show (the plotly MIME type beside each chart's HTML,
 * rendered HTML beside each Markdown output); then opens notebook 7's HTML export in headless
 * Chromium and checks its charts are drawn (a screenshot is saved with the run). On CI (`CI`
 * set) a missing Jupyter or Chromium fails the test instead of skipping it.
 */
import { join } from "node:path";
import { checkHtmlInBrowser, findChromium } from "../../tools/notebooks/browser_check.ts";
import { runNotebooks } from "../../tools/notebooks/runner.ts";
import { chromiumMissing, jupyterMissing } from "./jupyter_available.ts";
import { assert, assertEquals } from "../assert.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const onCi = Deno.env.get("CI") !== undefined;

/** Minimum outputs each notebook must produce. */
const expected: Record<
  string,
  { images?: number; charts?: number; tables?: number; bars?: number }
> = {
  "01_data.ipynb": { images: 2, charts: 2, tables: 1 },
  "02_augmentation.ipynb": { images: 4, tables: 1 },
  // Both networks layer by layer, the two baselines' recipes, curves and test accuracies; one
  // progress bar for the two baselines training side by side (two bars on one core).
  "03_backbone.ipynb": { charts: 2, tables: 4, bars: 1 },
  "04_projection_head.ipynb": { charts: 2, tables: 1 },
  // NT-Xent by hand, the loss curve and the similarities of two views' z and h after training.
  "05_pretraining.ipynb": { charts: 4, tables: 5, bars: 1 },
  // Each arm beside the strong baseline, the head-layer curve, the students beside the control;
  // bars for pre-training and the arms (side by side on the arm workers: one bar for them all).
  "06_finetuning.ipynb": { charts: 5, tables: 4, bars: 2 },
  "07_evaluation.ipynb": { charts: 4, tables: 2, bars: 1 },
  "08_projection_head_study.ipynb": { charts: 4, bars: 1 },
  // The methods grid live, its table, the six findings' charts, keep-or-discard, collapse, RankMe.
  "09_why_the_head_helps.ipynb": { charts: 6, tables: 4, bars: 1 },
};

Deno.test({
  name:
    "every notebook runs top to bottom in Jupyter (quick mode) with its images, charts and tables",
  ignore: !onCi && jupyterMissing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    assert(jupyterMissing === undefined, `CI must have Jupyter: ${jupyterMissing}`);
    const tmp = await Deno.makeTempDir({ prefix: "ssl-notebooks-" });
    const summary = await runNotebooks({
      quick: true,
      outRoot: join(tmp, "runs"),
      browser: false,
      // A fresh checkpoint folder: every notebook really trains, nothing is reused.
      env: { SSL_CHECKPOINT_DIR: join(tmp, "checkpoints") },
      log: () => {},
    });
    const failure = summary.failure?.message ?? "";
    assert(summary.ok, `a notebook failed: ${failure}`);
    assertEquals(summary.notebooks.map((n) => n.notebook), Object.keys(expected));
    for (const nb of summary.notebooks) {
      const want = expected[nb.notebook];
      const got = nb.outputs;
      assertEquals(got.errors, 0, `${nb.notebook}: error outputs`);
      assert(got.images >= (want.images ?? 0), `${nb.notebook}: ${got.images} images`);
      assert(got.charts >= (want.charts ?? 0), `${nb.notebook}: ${got.charts} charts`);
      assert(got.tables >= (want.tables ?? 0), `${nb.notebook}: ${got.tables} tables`);
      // A progress bar is one output updated in place, not one line per step.
      assert(
        got.progressBars >= (want.bars ?? 0),
        `${nb.notebook}: ${got.progressBars} progress bars`,
      );
      // One bar per model trained (06 trains several), never one output per step.
      assert(got.progressBars <= 12, `${nb.notebook}: ${got.progressBars} progress outputs`);
      // Light notebooks: plotly.js travels once, compressed (lib/notebook/plotly_library.ts).
      const size = Deno.statSync(nb.executed!).size;
      assert(size <= 3_000_000, `${nb.notebook}: the executed notebook is ${size} bytes`);
      // Readable in every front end: each chart carries the plotly MIME type and an HTML
      // fallback; each Markdown output carries its rendered HTML too.
      const outputs: Json[] = JSON.parse(Deno.readTextFileSync(nb.executed!)).cells
        .flatMap((c: Json) => c.outputs ?? []);
      const html = (o: Json) => [o.data?.["text/html"] ?? ""].flat().join("");
      const charts = outputs.filter((o) => html(o).includes('class="ssl-plotly"'));
      assertEquals(charts.length, got.charts, `${nb.notebook}: chart outputs`);
      for (const c of charts) {
        const fig = c.data["application/vnd.plotly.v1+json"];
        assert(Array.isArray(fig?.data), `${nb.notebook}: a chart without its plotly figure`);
        assert(html(c).includes('class="ssl-plotly-note"'), `${nb.notebook}: a chart's note`);
      }
      const libraries = outputs.filter((o) => html(o).includes("ssl-plotly-library")).length;
      assertEquals(libraries, got.charts > 0 ? 1 : 0, `${nb.notebook}: plotly.js outputs`);
      for (const o of outputs.filter((o) => o.data?.["text/markdown"] !== undefined)) {
        assert(html(o).startsWith('<div class="ssl-markdown">'), `${nb.notebook}: Markdown HTML`);
      }
    }
    // The results table of notebook 7: every arm of the experiment (`deno task experiment`'s
    // ARMS), each scored (accuracy in [0, 1], better than chance) or skipped with a reason.
    const { ARMS } = await import("../../lib/experiment/arms.ts");
    const last = summary.notebooks.find((n) => n.notebook === "07_evaluation.ipynb")!;
    const results = Object.values(last.results)[0] as {
      testAccuracy: Record<string, number>;
      skipped: Record<string, string>;
    };
    assertEquals(
      [...Object.keys(results.testAccuracy), ...Object.keys(results.skipped)].sort(),
      [...ARMS].sort(),
    );
    for (const [arm, a] of Object.entries(results.testAccuracy)) {
      assert(a > 0.15 && a <= 1, `${arm}: test accuracy ${a}`);
    }
    // Notebook 8's verdict on SimCLR's head ordering comes from lib/study/verdict.ts.
    const study = summary.notebooks.find((n) => n.notebook === "08_projection_head_study.ipynb")!;
    const verdict = (Object.values(study.results)[0] as { verdict?: { ordering: string } }).verdict;
    assert(
      ["holds", "partly", "fails"].includes(verdict?.ordering ?? ""),
      `notebook 8's verdict: ${JSON.stringify(verdict)}`,
    );

    // The browser check: notebook 7's HTML export draws its charts in headless Chromium.
    if (!onCi && chromiumMissing !== undefined) {
      console.warn(`skipping the browser check: ${chromiumMissing}`);
    } else {
      assert(findChromium() !== undefined, `CI must have Chromium: ${chromiumMissing}`);
      const screenshot = join(summary.runDir, "07_evaluation.png");
      const check = await checkHtmlInBrowser(last.html!, { screenshot });
      assert(check !== undefined, "Chromium did not run");
      assert(check.charts >= 4, `${check.charts} chart divs in the HTML export`);
      assertEquals(check.drawn, check.charts, "charts drawn (not empty divs)");
      assert((await Deno.stat(screenshot)).size > 10_000, "the screenshot was saved");
    }
    await Deno.remove(tmp, { recursive: true });
  },
});
