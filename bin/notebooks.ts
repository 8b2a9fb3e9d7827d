/**
 * `deno task notebooks`: executes every notebook of `notebooks/` in name order in a real
 * Jupyter kernel (`deno`) and writes the executed copies, HTML exports, screenshots and
 * `summary.md` / `summary.json` under `data/runs/<YYYYMMDD-HHMMSS>[-quick]/` (the runner:
 * tools/notebooks/runner.ts).
 *
 * Flags (`--help` lists them): `--quick` (or env `SSL_QUICK=1`) for the smoke run,
 * `--only 01,03` (name prefixes), `--no-html`, `--no-browser`, `--dir <folder>` (another folder
 * of notebooks), `--timeout <s>` (per cell), `--out <folder>` (where run folders go, default
 * data/runs), `--backend wasm|webgpu|cpu|auto` (given to the kernels as env `SSL_BACKEND`).
 *
 * First it gets the machine ready (tools/setup/machine.ts; env `SSL_SKIP_SETUP=1` skips that):
 * installs Jupyter (and Chromium) with apt-get when it can, registers the Deno kernel, or
 * stops with the command to run (exit code 2). On the first failing notebook it stops and
 * names the notebook, the cell and the error; exit code 1. A mistake in the flags is one line
 * and exit code 2.
 *
 * @module
 */
import { join } from "node:path";
import { isTruthyFlag } from "../lib/notebook/config.ts";
import { runNotebooks } from "../tools/notebooks/runner.ts";
import { JupyterMissingError } from "../tools/notebooks/jupyter.ts";
import { plural } from "../tools/notebooks/summary.ts";
import { type CommandSpec, parseFlags, positiveNumber } from "../lib/cli/flags.ts";
import { BACKEND_FLAG, backendFlag, quickFlag } from "../lib/cli/common_flags.ts";
import { runMain } from "../lib/cli/main.ts";
import { ensureMachine, SetupStopped } from "../tools/setup/machine.ts";

/** The command's flags (`deno task notebooks --help`). */
export const NOTEBOOKS_COMMAND = {
  name: "notebooks",
  usage: "deno task notebooks [flags]",
  summary: "Executes every notebook in order, headless, in a real Jupyter kernel (deno), and " +
    "writes the executed notebooks, HTML exports and a summary under data/runs/.",
  flags: {
    quick: quickFlag(),
    only: { type: "string", value: "LIST", description: "run only these, e.g. 01,03 (prefixes)" },
    "no-html": { type: "boolean", description: "skip the HTML exports (and the browser check)" },
    "no-browser": { type: "boolean", description: "do not check the charts in headless Chromium" },
    dir: { type: "string", value: "DIR", description: "another folder of notebooks" },
    out: { type: "string", value: "DIR", description: "where run folders go (default data/runs)" },
    timeout: { type: "string", value: "SECONDS", description: "per-cell timeout" },
    backend: { ...BACKEND_FLAG, description: `${BACKEND_FLAG.description}, env SSL_BACKEND` },
  },
} as const satisfies CommandSpec;

async function main(args: readonly string[]): Promise<number> {
  const values = parseFlags(NOTEBOOKS_COMMAND, args);
  const timeoutS = values.timeout === undefined
    ? undefined
    : positiveNumber("timeout", values.timeout);
  const backend = backendFlag(values.backend);
  try {
    await ensureMachine("notebooks", { browser: !values["no-browser"] && !values["no-html"] });
  } catch (e) {
    if (!(e instanceof SetupStopped)) throw e;
    console.error(e.message); // "setup: <what is missing>" and the command to run
    return 2;
  }
  try {
    const s = await runNotebooks({
      quick: values.quick || isTruthyFlag(Deno.env.get("SSL_QUICK")),
      only: values.only?.split(","),
      html: !values["no-html"],
      browser: values["no-browser"] ? false : undefined,
      dir: values.dir,
      outRoot: values.out,
      timeoutS,
      env: { SSL_BACKEND: backend },
    });
    if (!s.ok) {
      console.error(`\nnotebooks: STOPPED.\n${s.failure?.message ?? "a notebook failed"}`);
      if (s.failure?.log) console.error(`  full log: ${s.failure.log}`);
      console.error(`  summary: ${join(s.runDir, "summary.md")}`);
      return 1;
    }
    console.log(
      `all ${plural(s.notebooks.length, "notebook")} passed in ${s.seconds.toFixed(1)} s; ` +
        `summary: ${join(s.runDir, "summary.md")}`,
    );
    return 0;
  } catch (e) {
    if (e instanceof JupyterMissingError) {
      console.error(`notebooks: ${e.message}`);
      return 2;
    }
    console.error(`notebooks: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) await runMain("notebooks", () => main(Deno.args));
