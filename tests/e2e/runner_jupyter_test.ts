/**
 * The notebook runner (tools/notebooks/runner.ts) on a real Jupyter with the Deno kernel: it
 * stops at the failing notebook and names the cell and the error. Skipped when Jupyter is not
 * installed.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runNotebooks } from "../../tools/notebooks/runner.ts";
import { assert, assertEquals } from "../assert.ts";
import { notebook } from "../tools/notebook_json.ts";
import { jupyterMissing } from "./jupyter_available.ts";

Deno.test({
  name: "runner: stops at the failing notebook and names the cell and the error (jupyter)",
  ignore: jupyterMissing !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ssl-fail-" });
    try {
      await Deno.writeTextFile(
        join(dir, "01_ok.ipynb"),
        JSON.stringify(notebook("const x = 41 + 1;")),
      );
      await Deno.writeTextFile(
        join(dir, "02_fail.ipynb"),
        JSON.stringify(
          notebook(
            "const a = 1;",
            "# a title",
            "// compute things\nthrow new TypeError(`bad <thing> ${a}`);",
          ),
        ),
      );
      await Deno.writeTextFile(join(dir, "03_never.ipynb"), JSON.stringify(notebook("1")));
      const lines: string[] = [];
      const s = await runNotebooks({
        dir,
        runDir: join(dir, "run"),
        quick: true,
        html: false,
        log: (l) => lines.push(l),
      });
      assertEquals(s.ok, false);
      assertEquals(s.notebooks.map((n) => [n.notebook, n.ok]), [["01_ok.ipynb", true], [
        "02_fail.ipynb",
        false,
      ]]);
      assertEquals(s.failure?.cellIndex, 2);
      assertEquals(s.failure?.firstLine, "// compute things");
      assertEquals(s.failure?.ename, "TypeError");
      assertEquals(s.failure?.evalue, "bad <thing> 1");
      assert(
        s.failure?.message.startsWith(
          "02_fail.ipynb failed at cell 3 (index 2): // compute things",
        ),
      );
      assert(
        existsSync(join(dir, "run", "summary.json")) && existsSync(join(dir, "run", "summary.md")),
      );
      assert(existsSync(join(dir, "run", "02_fail.nbconvert.log")));
      assert(
        lines.some((l) => l.startsWith("01_ok.ipynb") && l.includes(" ok ")),
        lines.join("\n"),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
