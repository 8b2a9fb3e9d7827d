/**
 * The DevTools-protocol driver (lib/notebook/cdp.ts) against the system Chromium, and the
 * pieces of the live-session test that need no browser: the scratch workspace and the
 * learner's-eye checks of lib/notebook/notebook_page.ts.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { launchChromium } from "../../lib/notebook/cdp.ts";
import { emptyView, viewProblems } from "../../lib/notebook/notebook_page.ts";
import {
  liveWorkspace,
  removeWorkspace,
  startNotebookServer,
} from "../../lib/notebook/notebook_server.ts";
import { projectRoot } from "../../lib/notebook/config.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { chromiumMissing } from "./jupyter_available.ts";

const onCi = Deno.env.get("CI") !== undefined;

Deno.test({
  name: "cdp: Chromium opens a page, evaluates, clicks, answers dialogs and takes screenshots",
  ignore: !onCi && chromiumMissing !== undefined,
  async fn() {
    assertEquals(chromiumMissing, undefined, "CI must have Chromium");
    const browser = await launchChromium();
    const dir = await Deno.makeTempDir({ prefix: "ssl-cdp-" });
    try {
      const page = await browser.newPage({ width: 400, height: 300 });
      const html = join(dir, "page.html");
      await Deno.writeTextFile(
        html,
        `<button id="b" style="position:absolute;left:50px;top:200px;width:100px;height:40px"
           onclick="this.textContent = 'clicked ' + (window.n = (window.n || 0) + 1)">go</button>
         <script>setTimeout(() => { document.title = "later"; }, 300);
           window.addEventListener("beforeunload", (e) => { e.preventDefault(); e.returnValue = ""; });
         </script>`,
      );
      await page.goto(`file://${html}`);
      assertEquals(await page.evaluate("1 + 2"), 3);
      assertEquals(await page.evaluate("Promise.resolve({ a: [1, 'x'] })"), { a: [1, "x"] });
      await assertRejects(() => page.evaluate("null.x"), "in the page: TypeError");
      assertEquals(
        await page.waitFor("document.title === 'later' && document.title", 5000, "t"),
        "later",
      );
      await assertRejects(() => page.waitFor("false", 300, "never", 50), "waiting for never");
      await page.click("#b");
      assertEquals(await page.evaluate("document.getElementById('b').textContent"), "clicked 1");
      await assertRejects(() => page.click("#nothing"), "nothing visible to click");
      await page.evaluate("console.error('boom'); setTimeout(() => { throw new Error('late'); })");
      await page.evaluate("alert('hello')"); // accepted at once, as by a user
      await page.waitFor("true", 1000, "a turn");
      assert(page.errors.includes("boom"), JSON.stringify(page.errors));
      assert(page.errors.some((e) => e.includes("late")), JSON.stringify(page.errors));
      assert(page.dialogs.includes("alert: hello"), JSON.stringify(page.dialogs));
      // A page that asks before it is left (as the Notebook does with unsaved changes).
      await page.click("#b"); // a user gesture: Chromium only asks after one
      await page.goto("data:text/html,<p>next</p>");
      assertEquals(await page.evaluate("document.querySelector('p').textContent"), "next");
      assert(page.dialogs.some((d) => d.startsWith("beforeunload")), JSON.stringify(page.dialogs));
      const shot = join(dir, "shot.png");
      const bytes = await page.screenshot(shot);
      assertEquals([...readFileSync(shot).subarray(1, 4)], [0x50, 0x4e, 0x47]);
      assertEquals(readFileSync(shot).length, bytes);
    } finally {
      await browser.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("live workspace: copies the notebooks, links the rest, and removal spares the links' targets", async () => {
  const dir = await liveWorkspace(["02_augmentation.ipynb"]);
  try {
    assertEquals(
      readFileSync(join(dir, "notebooks", "02_augmentation.ipynb"), "utf8"),
      readFileSync(join(projectRoot(), "notebooks", "02_augmentation.ipynb"), "utf8"),
    );
    assert((await Deno.lstat(join(dir, "notebooks", "02_augmentation.ipynb"))).isFile, "a copy");
    for (const link of ["lib", "node_modules", "data", "deno.json", "deno.lock"]) {
      assert((await Deno.lstat(join(dir, link))).isSymlink, `${link} is a link`);
    }
    assert(existsSync(join(dir, "lib", "notebook", "setup.ts")), "../lib resolves from notebooks/");
  } finally {
    await removeWorkspace(dir);
  }
  assert(!existsSync(dir), "removed");
  assert(existsSync(join(projectRoot(), "lib", "notebook", "setup.ts")), "lib/ untouched");
  assert(existsSync(join(projectRoot(), "deno.json")), "deno.json untouched");
});

Deno.test("live session: a missing server is a clear error", async () => {
  await assertRejects(
    () => startNotebookServer({ dir: ".", executable: "/nonexistent/jupyter-notebook" }),
    "No such file",
  );
});

Deno.test("viewProblems: what a learner would call broken", () => {
  assertEquals(viewProblems(emptyView()), []);
  const view = {
    ...emptyView(),
    charts: 3,
    drawn: 1,
    undrawn: [
      "Accuracy (interactive plotly chart: it draws here once the notebook is trusted, or when you re-run this cell)",
      "",
    ],
    errors: ["TypeError: x is undefined"],
    images: { shown: 1, broken: 1 },
    empty: ["output_subarea output_html: "],
    rawMarkdown: ["dataset **mnist**"],
    progressPerCell: [1, 17],
    longestStream: 41,
  };
  assertEquals(viewProblems(view), [
    "error outputs: TypeError: x is undefined",
    "1 image(s) did not load",
    "outputs that show nothing: output_subarea output_html: ",
    "raw Markdown shown as text: dataset **mnist**",
    'charts neither drawn nor explained: [""]',
    "progress shown as many outputs: 1, 17 per cell",
    "a stream output of 41 lines",
  ]);
});
