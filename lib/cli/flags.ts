/**
 * Command-line flags for the commands in `bin/` and `bench/`: each flag is declared once with a
 * one-line description, `--help` / `-h` prints the usage and every flag, and a mistake (an
 * unknown flag, a missing or bad value) is a {@linkcode UsageError}: one line naming the flag,
 * which {@linkcode runMain} (lib/cli/main.ts) prints with exit code 2, never a stack trace.
 *
 * Built on `parseArgs` from `node:util` (non-strict, with tokens) so that every problem gets
 * this project's wording, and so that a negative number is read as a value (`--labels -3` is
 * "must be a non-negative integer", not "ambiguous option").
 *
 * @example
 * ```ts
 * import { type CommandSpec, nonNegativeInt, parseFlags } from "./flags.ts";
 * const spec = {
 *   name: "demo",
 *   usage: "deno run demo.ts [flags]",
 *   summary: "An example.",
 *   flags: {
 *     labels: { type: "string", value: "N", description: "labelled examples kept" },
 *     quick: { type: "boolean", description: "the smoke run" },
 *   },
 * } satisfies CommandSpec;
 * const values = parseFlags(spec, ["--labels", "200", "--quick"]);
 * const labels = nonNegativeInt("labels", values.labels!); // 200
 * if (!values.quick || labels !== 200) throw new Error("not parsed");
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

/**
 * A mistake in what the user asked for (a flag, a dataset path or its contents, a label
 * budget): shown as one line `<command>: <message>` with exit code 2.
 */
export class UsageError extends Error {
  /** Whether to add "run with --help for the flags" (true for flag mistakes). */
  readonly helpHint: boolean;
  /** Builds the error; `helpHint` adds the pointer to `--help`. */
  constructor(message: string, options: { helpHint?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "UsageError";
    this.helpHint = options.helpHint ?? false;
  }
}

/** Thrown by {@linkcode parseFlags} for `--help` / `-h`; `text` is the help to print. */
export class HelpRequested extends Error {
  /** Builds it with the help text. */
  constructor(readonly text: string) {
    super("help requested");
    this.name = "HelpRequested";
  }
}

/** One declared flag. */
export interface FlagSpec {
  /** `string`: takes a value (`--labels 200` or `--labels=200`); `boolean`: a switch. */
  type: "string" | "boolean";
  /** One line for `--help`. */
  description: string;
  /** The value's placeholder in `--help`, e.g. `N` or `FILE` (string flags; default `VALUE`). */
  value?: string;
  /** Value when the flag is absent. */
  default?: string | boolean;
  /** A one-letter alias, e.g. `q` for `-q`. */
  short?: string;
}

/** A command: its name (the prefix of every error line), usage line, summary and flags. */
export interface CommandSpec {
  /** E.g. `experiment`: errors read `experiment: <problem>`. */
  name: string;
  /** The usage line, e.g. `deno task experiment [flags]`. */
  usage: string;
  /** A sentence or two on what the command does. */
  summary: string;
  /** The flags by long name (without `--`); `help` is added. */
  flags: Record<string, FlagSpec>;
}

/** The parsed values of a spec's flags: booleans, strings, `undefined` for absent strings. */
export type FlagValues<F extends Record<string, FlagSpec>> = {
  [K in keyof F]: F[K]["type"] extends "boolean" ? boolean
    : F[K] extends { default: string } ? string
    : string | undefined;
};

const HELP: FlagSpec = { type: "boolean", short: "h", description: "show this help and exit" };

/** The `--help` text of a command: usage, summary, then one line per flag. */
export function helpText(spec: CommandSpec): string {
  const flags = { ...spec.flags, help: HELP };
  const left = (name: string, f: FlagSpec) =>
    `${f.short ? `-${f.short}, ` : "    "}--${name}${
      f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""
    }`;
  const entries = Object.entries(flags);
  const width = Math.max(...entries.map(([n, f]) => left(n, f).length)) + 2;
  const lines = entries.map(([name, f]) => {
    const shown = f.type === "string" && typeof f.default === "string" && f.default !== ""
      ? ` (default ${f.default})`
      : "";
    return `  ${left(name, f).padEnd(width)}${f.description}${shown}`;
  });
  return [`usage: ${spec.usage}`, "", spec.summary, "", "flags:", ...lines].join("\n");
}

const looksNumeric = (s: string) => /^-(\d|\.\d)/.test(s);

/**
 * Parses `args` against `spec`. Throws {@linkcode HelpRequested} for `--help` / `-h` and a
 * {@linkcode UsageError} (with the `--help` hint) for an unknown flag, a stray argument, a
 * string flag without a value, a value given to a switch, or a flag given twice.
 */
export function parseFlags<S extends CommandSpec>(
  spec: S,
  args: readonly string[],
): FlagValues<S["flags"]> {
  const flags: Record<string, FlagSpec> = { ...spec.flags, help: HELP };
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, f] of Object.entries(flags)) {
    options[name] = f.short ? { type: f.type, short: f.short } : { type: f.type };
  }
  const bad = (message: string) => new UsageError(message, { helpHint: true });
  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean | undefined> = {};
  const seen = new Set<string>();
  let help = false;
  for (const t of tokens) {
    if (t.kind === "option-terminator") continue;
    if (t.kind === "positional") throw bad(`unexpected argument "${t.value}"`);
    if (!Object.hasOwn(flags, t.name)) throw bad(`unknown flag ${t.rawName}`);
    const f = flags[t.name];
    const shown = `--${t.name}`;
    if (t.name === "help") {
      help = true;
      continue;
    }
    if (seen.has(t.name)) throw bad(`${shown} is given more than once`);
    seen.add(t.name);
    if (f.type === "boolean") {
      if (t.value !== undefined) throw bad(`${shown} takes no value, got "${t.value}"`);
      values[t.name] = true;
      continue;
    }
    const value = t.value;
    // parseArgs (non-strict) takes the next argument as the value even when it is a flag.
    if (value !== undefined && !t.inlineValue && value.startsWith("-") && !looksNumeric(value)) {
      throw bad(`${shown} needs a value (${f.value ?? "VALUE"}), got the flag "${value}"`);
    }
    if (value === undefined) throw bad(`${shown} needs a value (${f.value ?? "VALUE"})`);
    values[t.name] = value;
  }
  if (help) throw new HelpRequested(helpText(spec));
  for (const [name, f] of Object.entries(spec.flags)) {
    if (values[name] === undefined) {
      values[name] = f.default ?? (f.type === "boolean" ? false : undefined);
    }
  }
  return values as FlagValues<S["flags"]>;
}

function badValue(flag: string, what: string, text: string): UsageError {
  return new UsageError(`--${flag} must be ${what}, got "${text}"`, { helpHint: true });
}

/** An integer >= `min` (default 0), e.g. `--labels 200`; a {@linkcode UsageError} otherwise. */
export function integerFlag(flag: string, text: string, min = 0): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < min) {
    throw badValue(flag, min === 0 ? "a non-negative integer" : `an integer >= ${min}`, text);
  }
  return n;
}

/** A non-negative integer, e.g. `--labels 200`. */
export function nonNegativeInt(flag: string, text: string): number {
  return integerFlag(flag, text, 0);
}

/** A finite number > 0, e.g. `--temperature 0.2`. */
export function positiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw badValue(flag, "a positive number", text);
  }
  return n;
}

/** A comma list of integers >= `min` (default 0), e.g. `--seeds 0,1,2`. */
export function intList(flag: string, text: string, min = 0): number[] {
  const items = text.split(",").map((s) => s.trim());
  const what = `a comma list of ${min === 0 ? "non-negative integers" : `integers >= ${min}`}`;
  if (items.some((s) => s === "")) throw badValue(flag, `${what} (e.g. 0,1,2)`, text);
  return items.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw badValue(flag, `${what} (e.g. 0,1,2)`, text);
    return n;
  });
}

/** One of `choices`, e.g. `--backend wasm`. */
export function oneOf<const T extends string>(
  flag: string,
  text: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw badValue(flag, `one of ${choices.join(", ")}`, text);
  }
  return text as T;
}

/** A comma list whose items are all in `choices`, e.g. `--backends wasm,cpu`. */
export function listOf<const T extends string>(
  flag: string,
  text: string,
  choices: readonly T[],
): T[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => !(choices as readonly string[]).includes(s))) {
    throw badValue(flag, `a comma list of ${choices.join(", ")}`, text);
  }
  return items as T[];
}

/**
 * Runs `parse` on a flag's value and turns a `RangeError` or `UsageError` from it into a
 * usage error naming the flag, e.g. `--head: head "mlp:0": width "0" is not a positive integer`.
 */
export function parseWith<T>(flag: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof RangeError || e instanceof UsageError) {
      throw new UsageError(`--${flag}: ${e.message}`, { helpHint: true, cause: e });
    }
    throw e;
  }
}
