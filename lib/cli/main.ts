/**
 * The outer shell of every command: runs its body and turns what it throws into an exit code.
 *
 * - `--help` ({@linkcode HelpRequested}): the help on stdout, exit 0;
 * - a mistake in the user's input ({@linkcode UsageError}): ONE line `<command>: <message>` on
 *   stderr (plus `; run with --help for the flags` for flag mistakes), exit 2;
 * - anything else is a bug or an environment failure: `<command>: unexpected error` and the
 *   stack on stderr, exit 1.
 *
 * The body may return an exit code (default 0).
 *
 * @example
 * ```ts
 * import { runCommand } from "./main.ts";
 * import { UsageError } from "./flags.ts";
 * const lines: string[] = [];
 * const code = await runCommand("demo", () => {
 *   throw new UsageError("--labels must be a non-negative integer, got \"-3\"");
 * }, { out: (s) => lines.push(s), err: (s) => lines.push(s) });
 * // code === 2, lines: ['demo: --labels must be a non-negative integer, got "-3"']
 * if (code !== 2 || lines.length !== 1) throw new Error("unexpected");
 * ```
 *
 * @module
 */
import { HelpRequested, UsageError } from "./flags.ts";

/** Where {@linkcode runCommand} prints. */
export interface CommandIo {
  /** stdout lines (the help). */
  out: (text: string) => void;
  /** stderr lines (errors). */
  err: (text: string) => void;
}

const consoleIo: CommandIo = { out: (s) => console.log(s), err: (s) => console.error(s) };

/** The single line a usage error prints, without the command prefix. */
export function usageLine(e: UsageError): string {
  const one = e.message.replace(/\s*\n\s*/g, " ").trim();
  return e.helpHint ? `${one}; run with --help for the flags` : one;
}

/** Runs `body` and returns the exit code (see the module documentation); never throws. */
export async function runCommand(
  name: string,
  body: () => number | void | Promise<number | void>,
  io: CommandIo = consoleIo,
): Promise<number> {
  try {
    return (await body()) ?? 0;
  } catch (e) {
    if (e instanceof HelpRequested) {
      io.out(e.text);
      return 0;
    }
    if (e instanceof UsageError) {
      io.err(`${name}: ${usageLine(e)}`);
      return 2;
    }
    const detail = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
    io.err(`${name}: unexpected error\n${detail}`);
    if (e instanceof Error && e.cause instanceof Error) {
      io.err(`caused by: ${e.cause.stack ?? e.cause.message}`);
    }
    return 1;
  }
}

/** {@linkcode runCommand}, then `Deno.exit` with its code: the last line of a `bin/` script. */
export async function runMain(
  name: string,
  body: () => number | void | Promise<number | void>,
): Promise<never> {
  Deno.exit(await runCommand(name, body));
}

/**
 * Runs `step` and turns any `Error` it throws into a {@linkcode UsageError} (kept as its
 * cause): for steps whose failures are the user's input, such as loading `--dataset` or
 * checking the label budget. `context` prefixes the message when given.
 */
export async function asUsageError<T>(step: () => T | Promise<T>, context?: string): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof UsageError || !(e instanceof Error)) throw e;
    throw new UsageError(context ? `${context}: ${e.message}` : e.message, { cause: e });
  }
}

/**
 * For scripts whose body runs at the top level (e.g. bench/bench.ts): runs `parse` (flag
 * parsing) and returns its value; on `--help` prints the help and exits 0, on a
 * {@linkcode UsageError} prints its one line and exits 2. Anything else is rethrown.
 */
export function exitOnUsage<T>(name: string, parse: () => T, io: CommandIo = consoleIo): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof HelpRequested) {
      io.out(e.text);
      Deno.exit(0);
    }
    if (e instanceof UsageError) {
      io.err(`${name}: ${usageLine(e)}`);
      Deno.exit(2);
    }
    throw e;
  }
}

/**
 * The command line as a user would type it again, `deno task <name> <args>` (arguments with
 * spaces or quotes single-quoted): recorded in what a command writes (a model card).
 */
export function commandLine(name: string, args: readonly string[]): string {
  const quote = (a: string) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
  return [`deno task ${name}`, ...args.map(quote)].join(" ");
}
