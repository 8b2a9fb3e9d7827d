/**
 * `deno run -A bin/setup.ts --for test|notebooks`: gets this machine ready for the whole test
 * suite (`deno task test:all` runs it first; the fast `deno task test` needs none of it) or for
 * `deno task notebooks` (which does the same itself).
 * Installs what is missing with apt-get when it can (root or passwordless sudo) — Jupyter,
 * Jupyter Notebook and Chromium — and registers the Deno Jupyter kernel; otherwise it stops
 * with the one command to run (exit code 2). Env `SSL_SKIP_SETUP=1` skips it. See
 * tools/setup/machine.ts.
 *
 * @module
 */
import { type CommandSpec, oneOf, parseFlags } from "../lib/cli/flags.ts";
import { runMain } from "../lib/cli/main.ts";
import { ensureMachine, SetupStopped } from "../tools/setup/machine.ts";

/** The command's flags (`deno run -A bin/setup.ts --help`). */
export const SETUP_COMMAND = {
  name: "setup",
  usage: "deno run -A bin/setup.ts [flags]",
  summary: "Installs what `deno task test:all` or `deno task notebooks` needs and this machine " +
    "lacks (apt-get as root or with passwordless sudo), and registers the Deno Jupyter kernel. " +
    "SSL_SKIP_SETUP=1 skips it.",
  flags: {
    for: {
      type: "string",
      value: "test|notebooks",
      default: "test",
      description: "the command to get ready for (test: deno task test:all)",
    },
    "no-browser": { type: "boolean", description: "notebooks: Chromium is not wanted" },
    "dry-run": { type: "boolean", description: "only say what would be installed or run" },
  },
} as const satisfies CommandSpec;

async function main(argv: readonly string[]): Promise<number> {
  const v = parseFlags(SETUP_COMMAND, argv);
  const purpose = oneOf("for", v.for, ["test", "notebooks"]);
  try {
    await ensureMachine(purpose, { browser: !v["no-browser"], dryRun: v["dry-run"] });
    return 0;
  } catch (e) {
    if (!(e instanceof SetupStopped)) throw e;
    console.error(e.message);
    return 2;
  }
}

if (import.meta.main) await runMain("setup", () => main(Deno.args));
