/**
 * The pieces of the live-session test (tests/e2e/live_session_test.ts) that need no browser and
 * no server: the scratch workspace and the learner's-eye checks of
 * tools/notebooks/notebook_page.ts.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { emptyView, viewProblems } from "../../tools/notebooks/notebook_page.ts";
import {
  liveWorkspace,
  removeWorkspace,
  startNotebookServer,
} from "../../tools/notebooks/notebook_server.ts";
import { projectRoot } from "../../lib/notebook/config.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";

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
