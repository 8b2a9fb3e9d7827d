/**
 * The notebooks in a real browser, as a learner sees them: Debian's classic Jupyter Notebook
 * server (loopback port, token) and headless Chromium (puppeteer-core, tools/notebooks/chromium.ts).
 *
 * 1. Notebooks 02 and 05 (quick mode) are opened and run through the menu, Cell → Run All,
 *    until the kernel is idle: PNG images shown, charts drawn (plotly SVG in the page), the
 *    pre-training progress bar ONE output that changed in place, no error output, no empty
 *    output, no raw Markdown.
 * 2. Notebook 07, executed by nbconvert, is opened as a file someone sent: "Not Trusted", not
 *    run. Tables and Markdown render; every chart shows its title and a one-line note of how
 *    to see it (no empty box). Then File → Trust Notebook: every chart draws.
 *
 * Screenshots of each are kept in `data/runs/live-<timestamp>/`. On CI (`CI` set) a missing
 * Jupyter Notebook or Chromium fails the test instead of skipping it.
 *
 * @module
 */
import { join } from "node:path";
import { launchChromium, openPage, waitFor } from "../../tools/notebooks/chromium.ts";
import { dataDir } from "../../lib/notebook/config.ts";
import {
  inspectNotebook,
  type NotebookView,
  openNotebook,
  runAllCells,
  screenshotNotebook,
  trustNotebook,
  viewProblems,
} from "../../tools/notebooks/notebook_page.ts";
import {
  liveWorkspace,
  removeWorkspace,
  startNotebookServer,
} from "../../tools/notebooks/notebook_server.ts";
import { runNotebooks, timestamp } from "../../tools/notebooks/runner.ts";
import { assert, assertEquals } from "../assert.ts";
import { chromiumMissing, jupyterMissing, notebookServerMissing } from "./jupyter_available.ts";

const onCi = Deno.env.get("CI") !== undefined;
const missing = [jupyterMissing, notebookServerMissing, chromiumMissing].filter((m) => m);

async function screenshot(page: Parameters<typeof screenshotNotebook>[0], path: string) {
  const bytes = await screenshotNotebook(page, path);
  assert(bytes > 20_000, `the screenshot ${path} is not blank (${bytes} bytes)`);
  console.log(`  screenshot: ${path}`);
}

function noProblems(name: string, view: NotebookView) {
  const problems = viewProblems(view);
  assertEquals(problems, [], `${name}: what the learner sees`);
}

Deno.test({
  name: "live session: notebooks 02 and 05 run in the classic Notebook in Chromium, and a " +
    "saved 07 reads well untrusted, then draws once trusted",
  ignore: !onCi && missing.length > 0,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    assertEquals(missing, [], "CI must have Jupyter, Jupyter Notebook and Chromium");
    const runDir = join(dataDir(), "runs", `live-${timestamp()}`);
    await Deno.mkdir(runDir, { recursive: true });
    const ws = await liveWorkspace([
      "02_augmentation.ipynb",
      "05_pretraining.ipynb",
      "07_evaluation.ipynb",
    ]);
    const checkpoints = join(ws, "checkpoints"); // fresh: 05 really pre-trains, live
    const env = { SSL_QUICK: "1", SSL_RUN_DIR: runDir, SSL_CHECKPOINT_DIR: checkpoints };
    const server = await startNotebookServer({ dir: ws, env: { ...env, NO_COLOR: "1" } });
    const browser = await launchChromium();
    const views: Record<string, NotebookView> = {};
    try {
      const { page, log } = await openPage(browser, { width: 1200, height: 900 });

      await t.step("02: Run All shows the augmented views (PNG images), no error", async () => {
        await openNotebook(page, server, "notebooks/02_augmentation.ipynb");
        await runAllCells(page, { timeoutMs: 300_000 });
        const view = views["02"] = await inspectNotebook(page);
        assertEquals(view.executed, view.codeCells, "every code cell ran");
        assert(view.images.shown >= 4, `${view.images.shown} PNG images shown`);
        noProblems("02", view);
        await screenshot(page, join(runDir, "02_augmentation.png"));
        await server.shutdownKernels(); // frees its memory and CPU for the next notebook
      });

      await t.step(
        "05: Run All draws the charts; the progress bar is one output, updated in place",
        async () => {
          await openNotebook(page, server, "notebooks/05_pretraining.ipynb");
          const samples = await runAllCells(page, {
            timeoutMs: 480_000,
            pollMs: 300,
            sample: "[...document.querySelectorAll('.ssl-progress progress')].map((p) => p.value)",
          }) as number[][];
          // Charts may draw a moment after the kernel went idle: wait for every one.
          await waitFor(
            page,
            "(() => { const c = [...document.querySelectorAll('div.ssl-plotly')]; " +
              "return c.length >= 4 && c.every((d) => d.querySelector('svg.main-svg')); })()",
            60_000,
            "the charts of 05 to be drawn",
          );
          const view = views["05"] = await inspectNotebook(page);
          assertEquals(view.executed, view.codeCells, "every code cell ran");
          assert(view.charts >= 4, `${view.charts} charts`);
          assertEquals(view.drawn, view.charts, "every chart drawn (plotly SVG in the page)");
          assertEquals(view.progressPerCell, [1], "one progress-bar output");
          assert(view.progress[0].value > 0, `the bar moved: ${JSON.stringify(view.progress)}`);
          // While it trained, the page held one bar whose value changed.
          const seen = new Set(samples.filter((s) => s.length === 1).map((s) => s[0]));
          assert(seen.size >= 2, `the bar updated in place: values ${[...seen].join(", ")}`);
          assert(samples.every((s) => s.length <= 1), "never more than one bar in the page");
          noProblems("05", view);
          await screenshot(page, join(runDir, "05_pretraining.png"));
        },
      );

      await t.step("07, executed elsewhere, opened as sent (untrusted), then trusted", async () => {
        // Notebook 07 executed by nbconvert: the file a learner is sent (it has no signature
        // this server knows, so it opens "Not Trusted").
        const run = await runNotebooks({
          dir: join(ws, "notebooks"),
          only: ["07"],
          quick: true,
          runDir: join(runDir, "executed"),
          html: false,
          browser: false,
          env: { SSL_CHECKPOINT_DIR: checkpoints },
          log: () => {},
        });
        assert(run.ok, `07 failed: ${run.failure?.message}`);
        const charts = run.notebooks[0].outputs.charts;
        assert(charts >= 4, `07 has ${charts} charts`);
        await Deno.mkdir(join(ws, "received"), { recursive: true });
        await Deno.copyFile(
          run.notebooks[0].executed!,
          join(ws, "received", "07_evaluation.ipynb"),
        );

        await openNotebook(page, server, "received/07_evaluation.ipynb", { waitKernel: false });
        await new Promise((r) => setTimeout(r, 2000)); // scripts would have run by now
        const view = views["07-untrusted"] = await inspectNotebook(page);
        assertEquals(view.trusted, false, "opens Not Trusted");
        assertEquals(view.charts, charts, "every chart has its place in the page");
        assertEquals(view.drawn, 0, "no script ran");
        for (const note of view.undrawn) {
          assert(
            /^\S.* \(interactive plotly chart: .*trusted.*re-run/.test(note),
            `a note: ${note}`,
          );
        }
        assert(
          view.undrawn.some((n) => n.startsWith("UMAP of h")),
          "the UMAP cells show their titles",
        );
        assert(view.libraryNotes >= 1, "the library output says why the charts wait");
        const rendered = await page.evaluate(`({
          tables: document.querySelectorAll(".output_html table").length,
          strong: document.querySelectorAll(".output_html .ssl-markdown strong").length,
        })`) as { tables: number; strong: number };
        assert(rendered.tables >= 2, `${rendered.tables} tables rendered`);
        assert(rendered.strong >= 2, "the banner and the verdict render their bold text");
        noProblems("07 untrusted", view);
        await screenshot(page, join(runDir, "07_evaluation-untrusted.png"));

        await trustNotebook(page);
        await waitFor(
          page,
          "(() => { const c = [...document.querySelectorAll('div.ssl-plotly')]; " +
            "return c.length > 0 && c.every((d) => d.querySelector('svg.main-svg')); })()",
          60_000,
          "the charts of the trusted 07 to be drawn",
        );
        const trusted = views["07-trusted"] = await inspectNotebook(page);
        assertEquals(trusted.trusted, true);
        assertEquals(trusted.drawn, charts, "trusted: every chart draws from the saved outputs");
        assertEquals(trusted.libraryNotes, 0, "the library's note is hidden once its script ran");
        noProblems("07 trusted", trusted);
        await screenshot(page, join(runDir, "07_evaluation-trusted.png"));
      });
      assertEquals(log.errors.filter((e) => /plotly|ssl-/i.test(e)), [], "no chart errors");
    } catch (e) {
      console.error(`notebook server log (end):\n${server.log().slice(-4000)}`);
      throw e;
    } finally {
      await Deno.writeTextFile(join(runDir, "views.json"), JSON.stringify(views, null, 2) + "\n");
      await browser.close();
      await server.close();
      await removeWorkspace(ws);
    }
  },
});
