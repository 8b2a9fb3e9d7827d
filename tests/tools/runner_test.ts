import { join } from "node:path";
import { countOutputs, parseFailure } from "../../tools/notebooks/outputs.ts";
import { drawnCharts } from "../../tools/notebooks/browser_check.ts";
import { denoKernelState, JupyterMissingError } from "../../tools/notebooks/jupyter.ts";
import { listNotebooks, runNotebooks, timestamp } from "../../tools/notebooks/runner.ts";
import { notebookLine, type Summary, summaryMarkdown } from "../../tools/notebooks/summary.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { notebook } from "./notebook_json.ts";

const STDERR = `[NbConvertApp] Converting notebook 02_fail.ipynb to notebook
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nbclient/client.py", line 915, in _check_raise_for_error
nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:
------------------

// compute things
const b = a + 1;
throw new TypeError('bad <thing> happened');
------------------

\x1b[31mTypeError: bad <thing> happened\x1b[0m
TypeError: bad <thing> happened

`;

Deno.test("runner: parseFailure names the cell (index, first line) and the error", () => {
  const nb = notebook(
    "const a = 1;",
    "# title",
    "// compute things\nconst b = a + 1;\nthrow new TypeError('bad <thing> happened');",
  );
  const f = parseFailure("02_fail.ipynb", STDERR, nb);
  assertEquals(f.cellIndex, 2);
  assertEquals(f.firstLine, "// compute things");
  assertEquals(f.ename, "TypeError");
  assertEquals(f.evalue, "bad <thing> happened");
  assertEquals(
    f.message,
    "02_fail.ipynb failed at cell 3 (index 2): // compute things\n  TypeError: bad <thing> happened",
  );
  const died = parseFailure("x.ipynb", "nbclient.exceptions.DeadKernelError: Kernel died\n");
  assertEquals(died.ename, "DeadKernelError");
  assert(died.message.startsWith("x.ipynb failed at startup"));
});

Deno.test("runner: countOutputs sorts outputs by kind", () => {
  const counts = countOutputs({
    cells: [{
      outputs: [
        {
          output_type: "display_data",
          data: { "text/html": ['<script class="ssl-plotly-library">Plotly.newPlot</script>'] },
        },
        {
          output_type: "display_data",
          data: {
            "text/html": '<div class="ssl-plotly"></div><script>window.Plotly.newPlot()</script>',
          },
        },
        { output_type: "execute_result", data: { "image/png": "iVBOR", "text/plain": "[img]" } },
        {
          output_type: "execute_result",
          data: { "text/html": '<table class="ssl-table"></table>' },
        },
        { output_type: "display_data", data: { "text/html": '<div class="ssl-progress"></div>' } },
        { output_type: "stream", name: "stdout", text: "hi" },
        { output_type: "error", ename: "E", evalue: "v", traceback: [] },
      ],
    }],
  });
  assertEquals(
    [
      counts.charts,
      counts.images,
      counts.tables,
      counts.progressBars,
      counts.streams,
      counts.errors,
      counts.total,
    ],
    [1, 1, 1, 1, 1, 1, 7],
  );
  assertEquals(counts.byMime["text/html"], 4);
});

Deno.test("runner: listNotebooks sorts by name and filters with --only prefixes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssl-list-" });
  try {
    for (const n of ["03_c.ipynb", "01_a.ipynb", "02_b.ipynb", "notes.md", ".hidden.ipynb"]) {
      await Deno.writeTextFile(join(dir, n), "{}");
    }
    assertEquals(listNotebooks(dir), ["01_a.ipynb", "02_b.ipynb", "03_c.ipynb"]);
    assertEquals(listNotebooks(dir, ["01", "03"]), ["01_a.ipynb", "03_c.ipynb"]);
    assertEquals(listNotebooks(dir, ["02_b"]), ["02_b.ipynb"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runner: timestamp, drawnCharts, report lines", () => {
  assertEquals(timestamp(new Date(2026, 0, 2, 3, 4, 5)), "20260102-030405");
  const dom = '<div class="ssl-plotly js-plotly-plot" id="a"><svg class="main-svg"></svg></div>' +
    '<div class="ssl-plotly" id="b"></div>';
  assertEquals(drawnCharts(dom), { charts: 2, drawn: 1 });
  const s: Summary = {
    ok: true,
    quick: true,
    dir: "/x",
    runDir: "/x/runs/20260102-030405-quick",
    started: "2026-01-02T03:04:05.000Z",
    seconds: 12.5,
    deno: "2.9.6",
    notebooks: [{
      notebook: "01_data.ipynb",
      ok: true,
      seconds: 3.21,
      htmlSeconds: 1,
      cells: 10,
      codeCells: 6,
      outputs: { ...countOutputs({ cells: [] }), images: 2, charts: 1, tables: 1 },
      results: { "01_data": { n: 200 } },
      browser: { charts: 1, drawn: 1, seconds: 2 },
    }],
  };
  assertEquals(
    notebookLine(s.notebooks[0]),
    "01_data.ipynb                ok         3.2 s  (10 cells: 2 images, 1 chart (1 drawn in Chromium), 1 table)",
  );
  const md = summaryMarkdown(s);
  assert(md.includes("| 01_data.ipynb | ok | 3.2 | 10 | 2 | 1 | 1/1 | 1 | 0 |"), md);
  assert(md.includes('"n": 200'));
});

Deno.test("runner: a missing jupyter command gives install instructions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssl-nojupyter-" });
  try {
    await Deno.writeTextFile(join(dir, "01.ipynb"), JSON.stringify(notebook("1")));
    const err = await assertRejects(
      () => runNotebooks({ dir, jupyter: "jupyter-does-not-exist-xyz", log: () => {} }),
      "apt-get install -y jupyter-nbconvert",
      "pip install nbconvert nbclient ipykernel",
    );
    assert(err instanceof JupyterMissingError);
    await assertRejects(
      () => runNotebooks({ dir, only: ["09"], log: () => {} }),
      "matches --only 09",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denoKernelState: missing, stale (its Deno is gone) or ok, from `kernelspec list --json`", async () => {
  const dir = await Deno.makeTempDir();
  try {
    /** A fake `jupyter` that prints `json` (or fails) for `kernelspec list --json`. */
    const fake = async (name: string, json: unknown, code = 0) => {
      const path = join(dir, name);
      await Deno.writeTextFile(
        path,
        `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(json)}\nJSON\nexit ${code}\n`,
      );
      await Deno.chmod(path, 0o755);
      return path;
    };
    const spec = (argv0: string) => ({
      kernelspecs: { deno: { resource_dir: dir, spec: { argv: [argv0, "jupyter", "--kernel"] } } },
    });
    const python = { kernelspecs: { python3: { spec: { argv: ["/usr/bin/python3"] } } } };
    assertEquals(await denoKernelState(await fake("none", python)), "missing");
    assertEquals(await denoKernelState(await fake("gone", spec(join(dir, "no-deno")))), "stale");
    assertEquals(await denoKernelState(await fake("ok", spec(Deno.execPath()))), "ok");
    assertEquals(await denoKernelState(await fake("onpath", spec("deno"))), "ok");
    assertEquals(await denoKernelState(await fake("fails", spec(Deno.execPath()), 1)), "missing");
    assertEquals(await denoKernelState(join(dir, "no-jupyter-here")), "missing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
