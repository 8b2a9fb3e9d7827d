/**
 * Jupyter as the notebook runner needs it: `jupyter nbconvert` present, and a kernel named
 * `deno` registered that points at a Deno that exists (`deno jupyter --install`, with the Deno
 * that runs this code: `Deno.execPath()`, which also works under `npx deno`).
 *
 * @example
 * ```ts
 * import { JupyterMissingError } from "./jupyter.ts";
 * const e = new JupyterMissingError("no `jupyter` on PATH");
 * // e.message says what to install: "... apt-get install -y jupyter-nbconvert ..."
 * if (!e.message.includes("jupyter-nbconvert")) throw new Error("no install hint");
 * ```
 *
 * @module
 */
import { capture } from "../exec.ts";

/** The Debian packages that give the runner Jupyter (nbconvert, nbclient, ipykernel). */
export const JUPYTER_APT_PACKAGES = [
  "jupyter-nbconvert",
  "jupyter-client",
  "python3-nbclient",
  "python3-ipykernel",
] as const;

/** Thrown when Jupyter (nbconvert) is not installed; the message says what to install. */
export class JupyterMissingError extends Error {
  /** Builds the error with the install instructions. */
  constructor(detail = "") {
    super(
      "Jupyter with nbconvert is needed to run the notebooks but `jupyter nbconvert` was not " +
        `found${detail ? ` (${detail})` : ""}.\nInstall it, then run again:\n` +
        `  Debian/Ubuntu: apt-get install -y ${JUPYTER_APT_PACKAGES.join(" ")}\n` +
        "  with pip:      pip install nbconvert nbclient ipykernel\n" +
        "The Deno kernel is then registered automatically (`deno jupyter --install`).",
    );
    this.name = "JupyterMissingError";
  }
}

/** Checks that `jupyter nbconvert` runs; throws {@link JupyterMissingError} if not. */
export async function checkJupyter(jupyter = "jupyter"): Promise<string> {
  let r;
  try {
    r = await capture(jupyter, ["nbconvert", "--version"]);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new JupyterMissingError(`no \`${jupyter}\` on PATH`);
    }
    throw e;
  }
  if (r.code !== 0) throw new JupyterMissingError(r.stderr.trim().split("\n").pop());
  return r.stdout.trim();
}

/**
 * The state of the `deno` kernel: `missing` (Jupyter lists none, or Jupyter is absent),
 * `stale` (registered, but its program no longer exists: e.g. a Deno from an old `npx` cache)
 * or `ok`.
 */
export type DenoKernelState = "missing" | "stale" | "ok";

/** Reads `jupyter kernelspec list --json` and says whether the `deno` kernel can start. */
export async function denoKernelState(jupyter = "jupyter"): Promise<DenoKernelState> {
  let r;
  try {
    r = await capture(jupyter, ["kernelspec", "list", "--json"]);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "missing";
    throw e;
  }
  if (r.code !== 0) return "missing";
  let spec;
  try {
    spec = JSON.parse(r.stdout).kernelspecs?.deno;
  } catch {
    return /\bdeno\b/.test(r.stdout) ? "ok" : "missing";
  }
  if (!spec) return "missing";
  const program = spec.spec?.argv?.[0];
  if (typeof program !== "string" || !program.startsWith("/")) return "ok"; // found on PATH
  try {
    return Deno.statSync(program).isFile ? "ok" : "stale";
  } catch {
    return "stale";
  }
}

/** True when Jupyter knows a kernel named `deno`. */
export async function hasDenoKernel(jupyter = "jupyter"): Promise<boolean> {
  return (await denoKernelState(jupyter)) !== "missing";
}

/**
 * Registers the Deno kernel with `deno jupyter --install` (`--force` over a stale one) unless
 * Jupyter already has a working one.
 */
export async function ensureDenoKernel(
  jupyter = "jupyter",
  log: (s: string) => void = console.log,
): Promise<void> {
  const state = await denoKernelState(jupyter);
  if (state === "ok") return;
  const args = state === "stale" ? ["jupyter", "--install", "--force"] : ["jupyter", "--install"];
  log(
    `registering the Deno Jupyter kernel (deno ${args.join(" ")}${
      state === "stale" ? ": the registered one points at a Deno that is gone" : ""
    })`,
  );
  const r = await capture(Deno.execPath(), args);
  if (r.code !== 0 || (await denoKernelState(jupyter)) !== "ok") {
    throw new Error(`could not register the Deno kernel:\n${r.stderr}${r.stdout}`);
  }
}
