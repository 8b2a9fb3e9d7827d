/**
 * Gets this machine ready for `deno task test:all` or `deno task notebooks`: probes what it has
 * ({@linkcode probeMachine}), decides with `planSetup` (tools/setup/plan.ts), then installs
 * the Debian packages it lacks with apt-get (saying what and why), fetches the npm
 * dependencies if `node_modules/` is missing, and registers the Deno Jupyter kernel with the
 * Deno that runs this code (`Deno.execPath()`: under `npx deno` that Deno is not on PATH).
 * When apt-get cannot run here it stops ({@linkcode SetupStopped}) with the one command to
 * run. Env `SSL_SKIP_SETUP=1` skips all of it.
 *
 * @example
 * ```ts
 * import { ensureMachine } from "./machine.ts";
 * import type { MachineFacts } from "./plan.ts";
 * // Everything present: nothing to do, nothing run. (Without `probe`, it probes this machine.)
 * const ready: MachineFacts = {
 *   nbconvert: true, jupyterClient: true, nbclientIpykernel: true, notebook: true,
 *   chromium: true, denoKernel: "ok", nodeModules: true, aptGet: true, root: true, sudo: false,
 * };
 * const ran: string[][] = [];
 * const plan = await ensureMachine("test", {
 *   skip: false,
 *   probe: () => Promise.resolve(ready),
 *   exec: (cmd) => { ran.push(cmd); return Promise.resolve(0); },
 *   log: () => {},
 * });
 * if (!plan || plan.missing.length !== 0 || ran.length !== 0) throw new Error("did something");
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { onPath } from "../exec.ts";
import { type MachineFacts, type PlanOptions, planSetup, type SetupPlan } from "./plan.ts";
import type { SetupPurpose } from "./plan.ts";
import { findChromium } from "../notebooks/chromium.ts";
import { isTruthyFlag, projectRoot } from "../../lib/notebook/config.ts";
import { denoKernelState } from "../notebooks/jupyter.ts";

/** The machine lacks something it cannot install itself; the message says what to run. */
export class SetupStopped extends Error {
  /** Builds it with the whole (multi-line) message. */
  constructor(message: string) {
    super(message);
    this.name = "SetupStopped";
  }
}

async function quiet(cmd: string, args: string[]): Promise<boolean> {
  try {
    const r = await new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

/** The Python that runs `jupyter` (its `#!` line), else `python3`. */
function jupyterPython(jupyter: string | undefined): string[] {
  if (jupyter) {
    try {
      const head = Deno.readTextFileSync(jupyter).slice(0, 300).split("\n")[0];
      const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head);
      if (m) return m[2] && m[1].endsWith("/env") ? [m[2]] : [m[1]];
    } catch {
      // unreadable: fall back
    }
  }
  return ["python3"];
}

/** Probes this machine (PATH, Jupyter, its Python, the kernels, root and sudo). */
export async function probeMachine(root = projectRoot()): Promise<MachineFacts> {
  const isRoot = Deno.uid() === 0;
  const [python] = jupyterPython(onPath("jupyter"));
  const [nbclientIpykernel, denoKernel, sudo] = await Promise.all([
    quiet(python, ["-c", "import nbclient, ipykernel"]),
    onPath("jupyter") ? denoKernelState() : Promise.resolve("missing" as const),
    !isRoot && onPath("sudo") ? quiet("sudo", ["-n", "true"]) : Promise.resolve(false),
  ]);
  let nodeModules = false;
  try {
    nodeModules = Deno.statSync(join(root, "node_modules", ".deno")).isDirectory;
  } catch {
    // not fetched yet
  }
  return {
    nbconvert: onPath("jupyter-nbconvert") !== undefined,
    jupyterClient: onPath("jupyter-kernelspec") !== undefined,
    nbclientIpykernel,
    notebook: onPath("jupyter-notebook") !== undefined,
    chromium: findChromium() !== undefined,
    denoKernel,
    nodeModules,
    aptGet: onPath("apt-get") !== undefined,
    root: isRoot,
    sudo,
  };
}

/** Runs a command with the output shown; resolves to its exit code (127: no such program). */
async function shown(
  cmd: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<number> {
  try {
    const r = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      env: opts.env,
      cwd: opts.cwd,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return r.code;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 127;
    throw e;
  }
}

/** Options of {@linkcode ensureMachine}: what Chromium is wanted for, and injectable effects. */
export interface EnsureOptions extends PlanOptions {
  /** Skip the whole set-up (default: env `SSL_SKIP_SETUP` is truthy). */
  skip?: boolean;
  /** Only say what would be done. */
  dryRun?: boolean;
  /** The probe (default {@linkcode probeMachine}); called again after changes, to verify. */
  probe?: () => Promise<MachineFacts>;
  /** Runs a command, output shown; resolves to its exit code. */
  exec?: (cmd: string[], opts?: { env?: Record<string, string>; cwd?: string }) => Promise<number>;
  /** Progress lines (default `console.error`, so that stdout stays the command's own). */
  log?: (line: string) => void;
  /** The Deno to register as the kernel and to run `deno install` (default `Deno.execPath()`). */
  deno?: string;
  /** The project root, for `deno install` (default the repository root). */
  root?: string;
}

function skipFromEnv(): boolean {
  try {
    return isTruthyFlag(Deno.env.get("SSL_SKIP_SETUP"));
  } catch {
    return false;
  }
}

/**
 * Makes this machine ready for `purpose` (see the module documentation). Returns the plan it
 * carried out (`undefined` when skipped); throws {@linkcode SetupStopped} when something is
 * missing that it cannot install, or when an install failed.
 */
export async function ensureMachine(
  purpose: SetupPurpose,
  options: EnsureOptions = {},
): Promise<SetupPlan | undefined> {
  if (options.skip ?? skipFromEnv()) return undefined;
  const log = options.log ?? ((s: string) => console.error(s));
  const probe = options.probe ?? (() => probeMachine(options.root));
  const exec = options.exec ?? shown;
  const deno = options.deno ?? Deno.execPath();
  const plan = planSetup(purpose, await probe(), options);
  if (plan.stop) throw new SetupStopped(`setup: ${plan.stop}`);
  for (const note of plan.notes) log(`setup: note: ${note}`);
  const say = (what: string) => log(`setup: ${options.dryRun ? "would run" : "running"} ${what}`);
  let changed = false;
  if (plan.apt.length > 0) {
    const why = plan.missing.map((c) => c.what).join(", ");
    log(
      `setup: this machine lacks ${why}; ${options.dryRun ? "would install" : "installing"} ` +
        `${plan.apt.join(" ")} with apt-get`,
    );
    const prefix = plan.aptGet[0] === "sudo"
      ? ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
      : ["apt-get"];
    const steps = [["update", "-qq"], ["install", "-y", "-qq", ...plan.apt]];
    for (const step of steps) {
      say([...plan.aptGet, ...step].join(" "));
      if (options.dryRun) continue;
      const code = await exec([...prefix, ...step], { env: { DEBIAN_FRONTEND: "noninteractive" } });
      if (code !== 0) {
        throw new SetupStopped(
          `setup: \`${[...plan.aptGet, ...step].join(" ")}\` failed (exit ${code}). ` +
            `Install the packages yourself, then run again:\n  sudo apt-get install -y ${
              plan.apt.join(" ")
            }`,
        );
      }
    }
    changed = !options.dryRun;
  }
  if (plan.depsInstall) {
    say("deno install (the npm dependencies, into node_modules/)");
    if (!options.dryRun) {
      const code = await exec([deno, "install"], { cwd: options.root ?? projectRoot() });
      if (code !== 0) throw new SetupStopped(`setup: \`deno install\` failed (exit ${code})`);
      changed = true;
    }
  }
  if (plan.kernel) {
    const args = ["jupyter", "--install", ...(plan.kernel === "force" ? ["--force"] : [])];
    say(
      `deno ${args.join(" ")} (registers the Deno Jupyter kernel${
        plan.kernel === "force" ? "; the registered one points at a Deno that is gone" : ""
      })`,
    );
    if (!options.dryRun) {
      const code = await exec([deno, ...args]);
      if (code !== 0) {
        throw new SetupStopped(`setup: \`deno ${args.join(" ")}\` failed (exit ${code})`);
      }
      changed = true;
    }
  }
  if (changed) {
    const after = planSetup(purpose, await probe(), options);
    const still = after.missing.filter((c) => c.required).map((c) => c.what);
    if (after.kernel) still.push("the Deno Jupyter kernel");
    if (still.length > 0) {
      throw new SetupStopped(`setup: still missing after the set-up: ${still.join(", ")}`);
    }
    log("setup: done");
  }
  return plan;
}
