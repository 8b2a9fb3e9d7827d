/**
 * Running another program and reading what it printed: the one helper the notebook runner and
 * the machine set-up share.
 *
 * @example
 * ```ts
 * import { capture, onPath } from "./exec.ts";
 * const r = await capture(Deno.execPath(), ["--version"]);
 * // r.code === 0, r.stdout starts with "deno "
 * if (r.code !== 0 || !r.stdout.startsWith("deno ")) throw new Error("no deno?");
 * onPath("no-such-program-here"); // undefined
 * ```
 *
 * @module
 */
import { join } from "node:path";

/** What a finished program printed, and its exit code. */
export interface Captured {
  /** Exit code. */
  code: number;
  /** Everything it wrote to stdout. */
  stdout: string;
  /** Everything it wrote to stderr. */
  stderr: string;
}

const decoder = new TextDecoder();

/**
 * Runs `cmd` with `args` (stdin closed) and returns its exit code and output. Throws
 * `Deno.errors.NotFound` when there is no such program.
 */
export async function capture(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Captured> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: opts.signal,
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** The full path of the first `name` on PATH that is a file, or `undefined`. */
export function onPath(name: string, path = Deno.env.get("PATH") ?? ""): string | undefined {
  for (const dir of path.split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(join(dir, name)).isFile) return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}
