/**
 * Where a saved result came from: the command that made it and the machine it
 * ran on, recorded beside the figures in every results JSON (`--out`), so a
 * number in the docs can be traced and rerun.
 *
 * @example
 * ```ts
 * import { provenance } from "./provenance.ts";
 * const p = provenance("deno task experiment", ["--seeds", "0"]);
 * p.command; // "deno task experiment --seeds 0"
 * p.machine.cores > 0; // true
 * ```
 *
 * @module
 */
import { cpus, totalmem } from "node:os";

/** The command and the machine behind a result. */
export interface Provenance {
  /** The command line, as a user would type it. */
  command: string;
  /** Cores, CPU model, memory, OS and the Deno version. */
  machine: { cores: number; cpu: string; memory_gib: number; os: string; deno: string };
}

/**
 * `value` as the JSON a results file holds (two-space indent, a final newline), with the
 * provenance of this process under `made_by`.
 */
export function resultsJson(value: object, task: string): string {
  return JSON.stringify({ ...value, made_by: provenance(task) }, null, 2) + "\n";
}

/** Quotes an argument the way a shell would need it. */
function shellWord(arg: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The provenance of this process: `task` (e.g. "deno task experiment") and its arguments. */
export function provenance(task: string, args: readonly string[] = Deno.args): Provenance {
  const list = cpus();
  return {
    command: [task, ...args.map(shellWord)].join(" "),
    machine: {
      cores: list.length,
      cpu: list[0]?.model.trim() ?? "unknown",
      memory_gib: Math.round(totalmem() / 2 ** 30),
      os: `${Deno.build.os} ${Deno.build.arch}`,
      deno: Deno.version.deno,
    },
  };
}
