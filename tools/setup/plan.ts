/**
 * What a machine lacks for `deno task test:all` or `deno task notebooks`, and what to do about it:
 * the pure decision half of the machine set-up (tools/setup/machine.ts probes and acts).
 *
 * - The Deno Jupyter kernel is always registered when missing (or re-registered when it
 *   points at a Deno that is gone).
 * - Jupyter (and, for the tests, Jupyter Notebook and Chromium) come from Debian's packages:
 *   installed with `apt-get` when that can run (as root, or with passwordless sudo);
 *   otherwise the plan stops with the one command to run.
 * - For `notebooks` Chromium is optional: installed when apt-get can run, else a note.
 *
 * @example
 * ```ts
 * import { type MachineFacts, planSetup } from "./plan.ts";
 * const bare: MachineFacts = {
 *   nbconvert: false, jupyterClient: false, nbclientIpykernel: false, notebook: false,
 *   chromium: false, denoKernel: "missing", nodeModules: true,
 *   aptGet: true, root: false, sudo: false,
 * };
 * const plan = planSetup("test", bare);
 * // plan.apt is empty (no root, no sudo) and plan.stop holds the command to run:
 * // "sudo apt-get update && sudo apt-get install -y jupyter-nbconvert ..."
 * if (plan.apt.length !== 0 || !plan.stop?.includes("sudo apt-get install -y")) {
 *   throw new Error("unexpected plan");
 * }
 * ```
 *
 * @module
 */

/** The command the set-up prepares for. */
export type SetupPurpose = "test" | "notebooks";

/** What the probes found on this machine. */
export interface MachineFacts {
  /** `jupyter-nbconvert` is installed. */
  nbconvert: boolean;
  /** `jupyter-kernelspec` (jupyter-client) is installed. */
  jupyterClient: boolean;
  /** Jupyter's Python imports `nbclient` and `ipykernel`. */
  nbclientIpykernel: boolean;
  /** `jupyter-notebook` is installed. */
  notebook: boolean;
  /** A Chromium (or Chrome) to run headless. */
  chromium: boolean;
  /** The `deno` Jupyter kernel: absent, registered for a Deno that is gone, or fine. */
  denoKernel: "missing" | "stale" | "ok";
  /** `node_modules/` holds the npm dependencies. */
  nodeModules: boolean;
  /** `apt-get` is on PATH (a Debian/Ubuntu machine). */
  aptGet: boolean;
  /** Running as root. */
  root: boolean;
  /** `sudo -n true` works (passwordless sudo). */
  sudo: boolean;
}

/** One thing a purpose needs, with the Debian packages that provide it. */
export interface Component {
  /** What it is, for messages, e.g. `Jupyter nbconvert`. */
  what: string;
  /** Debian packages. */
  packages: string[];
  /** The run stops without it (when it cannot be installed). */
  required: boolean;
}

/** What {@linkcode planSetup} decided. */
export interface SetupPlan {
  /** For which command. */
  purpose: SetupPurpose;
  /** Components this machine lacks. */
  missing: Component[];
  /** Debian packages to install now (empty when none, or when apt-get cannot run). */
  apt: string[];
  /** How to run apt-get: `["apt-get"]` as root, `["sudo", "-n", "apt-get"]` with sudo. */
  aptGet: string[];
  /** Register the Deno kernel: `install`, `force` (over a stale one) or not at all. */
  kernel: "install" | "force" | false;
  /** Run `deno install` (no `node_modules/` yet). */
  depsInstall: boolean;
  /** Why the run cannot go on, with the command that fixes it; `undefined` when it can. */
  stop?: string;
  /** Things left missing that the run can do without, each with how to add it. */
  notes: string[];
}

/** Options of {@linkcode planSetup}. */
export interface PlanOptions {
  /** Whether Chromium is wanted at all (default true; `--no-browser` / `--no-html`: false). */
  browser?: boolean;
}

/** The components `purpose` needs, each marked present or not in `facts`. */
export function components(
  purpose: SetupPurpose,
  facts: MachineFacts,
  options: PlanOptions = {},
): { component: Component; present: boolean }[] {
  const test = purpose === "test";
  const list = [
    {
      component: { what: "Jupyter nbconvert", packages: ["jupyter-nbconvert"], required: true },
      present: facts.nbconvert,
    },
    {
      component: { what: "jupyter-client", packages: ["jupyter-client"], required: true },
      present: facts.jupyterClient,
    },
    {
      component: {
        what: "nbclient and ipykernel",
        packages: ["python3-nbclient", "python3-ipykernel"],
        required: true,
      },
      present: facts.nbclientIpykernel,
    },
  ];
  if (test) {
    list.push({
      component: { what: "Jupyter Notebook", packages: ["jupyter-notebook"], required: true },
      present: facts.notebook,
    });
  }
  if (test || options.browser !== false) {
    list.push({
      component: { what: "Chromium", packages: ["chromium"], required: test },
      present: facts.chromium,
    });
  }
  return list;
}

const PIP_HINT = "python3 -m pip install nbconvert nbclient ipykernel jupyter_client notebook";

/** Decides what to install, register or tell the user, from what the probes found. */
export function planSetup(
  purpose: SetupPurpose,
  facts: MachineFacts,
  options: PlanOptions = {},
): SetupPlan {
  const missing = components(purpose, facts, options).filter((c) => !c.present).map((c) =>
    c.component
  );
  const canApt = facts.aptGet && (facts.root || facts.sudo);
  const plan: SetupPlan = {
    purpose,
    missing,
    apt: canApt ? missing.flatMap((c) => c.packages) : [],
    aptGet: facts.root ? ["apt-get"] : ["sudo", "-n", "apt-get"],
    kernel: facts.denoKernel === "ok" ? false : facts.denoKernel === "stale" ? "force" : "install",
    depsInstall: !facts.nodeModules,
    notes: [],
  };
  if (canApt) return plan;
  const required = missing.filter((c) => c.required);
  const optional = missing.filter((c) => !c.required);
  const packages = (cs: Component[]) => cs.flatMap((c) => c.packages).join(" ");
  for (const c of optional) {
    plan.notes.push(
      `${c.what} is not installed, so the charts are not checked in a browser` +
        (facts.aptGet ? ` (to add it: sudo apt-get install -y ${packages([c])})` : ""),
    );
  }
  if (required.length === 0) return plan;
  const needs = `${purpose === "test" ? "the tests need" : "the notebooks need"} ${
    required.map((c) => c.what).join(", ")
  }, which this machine lacks`;
  const skip = "then run again (SSL_SKIP_SETUP=1 skips this check" +
    (purpose === "test" ? "; the tests that need them are then skipped)" : ")");
  if (facts.aptGet) {
    plan.stop = `${needs}, and apt-get can only run as root here (no passwordless sudo). ` +
      `Install them with:\n  sudo apt-get update && sudo apt-get install -y ${
        packages(required.concat(optional))
      }\n${skip}`;
  } else {
    const chromium = required.some((c) => c.what === "Chromium");
    const jupyter = required.some((c) => c.what !== "Chromium");
    plan.stop = `${needs}, and there is no apt-get (not Debian/Ubuntu). Install ` +
      [
        jupyter ? `Jupyter with:\n  ${PIP_HINT}\n` : "",
        chromium ? `${jupyter ? "and " : ""}Chromium (or Chrome; env CHROMIUM=<path>)\n` : "",
      ].join("") + skip;
  }
  return plan;
}
