/**
 * Whether the notebook tests can run Jupyter and Chromium here; each is `undefined` when
 * available, else the reason, shown as the test's ignore message.
 *
 * @module
 */
import { findChromium } from "../../tools/notebooks/browser_check.ts";
import { findNotebookServer } from "../../tools/notebooks/notebook_server.ts";

function probe(): string | undefined {
  try {
    const out = new Deno.Command("jupyter", {
      args: ["nbconvert", "--version"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync();
    return out.success ? undefined : "`jupyter nbconvert` failed";
  } catch {
    return "`jupyter` is not installed (apt-get install -y jupyter-nbconvert python3-nbclient python3-ipykernel)";
  }
}

/** Why Jupyter cannot run notebooks here, or `undefined` when it can. */
export const jupyterMissing: string | undefined = probe();

/** Why headless Chromium is unavailable, or `undefined` when it is. */
export const chromiumMissing: string | undefined = findChromium() === undefined
  ? "`chromium` is not installed (apt-get install -y chromium)"
  : undefined;

if (jupyterMissing) {
  console.warn(`notebook tests: skipping the Jupyter executions: ${jupyterMissing}`);
}
if (chromiumMissing) console.warn(`notebook tests: skipping the browser check: ${chromiumMissing}`);

/** Why a live notebook session cannot run here (no `jupyter-notebook`), or `undefined`. */
export const notebookServerMissing: string | undefined = findNotebookServer() === undefined
  ? "`jupyter-notebook` is not installed (apt-get install -y jupyter-notebook)"
  : undefined;
