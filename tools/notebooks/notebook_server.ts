/**
 * A live Jupyter Notebook server for browser tests and demos: {@linkcode liveWorkspace} copies
 * notebooks into a scratch folder that sees the repository's `lib/`, `node_modules/`, `data/`
 * and `deno.json` through symbolic links (so the session's autosaves never touch
 * `notebooks/`), and {@linkcode startNotebookServer} starts the classic Jupyter Notebook
 * (`jupyter-notebook`, Debian's 6.4) on a loopback port with a random token. The server keeps
 * its notebook signatures in memory (`NotebookNotary.db_file=:memory:`): a notebook it did not
 * execute in this session opens "Not Trusted", as one sent by someone else does.
 *
 * @example
 * ```ts
 * import { findNotebookServer, liveWorkspace, removeWorkspace } from "./notebook_server.ts";
 * // A scratch copy of notebook 02 that resolves `../lib/...` as in the repository:
 * const dir = await liveWorkspace(["02_augmentation.ipynb"]);
 * await removeWorkspace(dir); // its links go; what they point to stays
 * // With `jupyter-notebook` installed, `startNotebookServer({ dir, env: { SSL_QUICK: "1" } })`
 * // serves such a folder (seconds to start; tests/e2e/live_session_test.ts runs a session).
 * const server: string | undefined = findNotebookServer(); // e.g. "/usr/bin/jupyter-notebook"
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { onPath } from "../exec.ts";
import { projectRoot } from "../../lib/notebook/config.ts";

/** The `jupyter-notebook` executable (env `JUPYTER_NOTEBOOK`, else on PATH), or `undefined`. */
export function findNotebookServer(): string | undefined {
  return Deno.env.get("JUPYTER_NOTEBOOK") || onPath("jupyter-notebook");
}

/**
 * A scratch folder for a live session: `notebooks/` holds copies of `names` (from
 * `<root>/notebooks`), and `lib`, `node_modules`, `data`, `deno.json` and `deno.lock` link to
 * the repository's, so the notebooks' `../lib/...` imports and the kernel's configuration
 * resolve as in the repository. Returns the folder (remove it with {@linkcode removeWorkspace}).
 */
export async function liveWorkspace(
  names: string[],
  options: { root?: string; dir?: string } = {},
): Promise<string> {
  const root = options.root ?? projectRoot();
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "ssl-live-" });
  await Deno.mkdir(join(dir, "notebooks"), { recursive: true });
  await Deno.mkdir(join(root, "data"), { recursive: true });
  for (const entry of LINKED) {
    try {
      await Deno.symlink(join(root, entry), join(dir, entry));
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  for (const name of names) {
    await Deno.copyFile(join(root, "notebooks", name), join(dir, "notebooks", name));
  }
  return dir;
}

const LINKED = ["lib", "node_modules", "data", "deno.json", "deno.lock"];

/** Removes a {@linkcode liveWorkspace}: its links first (never what they point to), then the rest. */
export async function removeWorkspace(dir: string): Promise<void> {
  for (const entry of LINKED) {
    const path = join(dir, entry);
    try {
      if ((await Deno.lstat(path)).isSymlink) await Deno.remove(path);
    } catch {
      // not there
    }
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** A running notebook server; see {@linkcode startNotebookServer}. */
export interface NotebookServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The token every request needs. */
  token: string;
  /** The folder it serves. */
  dir: string;
  /** The page of a notebook (path relative to `dir`), token included. */
  notebookUrl(path: string): string;
  /** What the server printed (the last 20,000 characters). */
  log(): string;
  /** Shuts down every running kernel (the pages stay open); returns how many there were. */
  shutdownKernels(): Promise<number>;
  /** Shuts down its kernels, then the server. */
  close(): Promise<void>;
}

/** Options of {@linkcode startNotebookServer}. */
export interface ServerOptions {
  /** The folder to serve (the notebooks' paths are relative to it). */
  dir: string;
  /** Extra environment for the server and so for its kernels (e.g. `SSL_QUICK=1`). */
  env?: Record<string, string>;
  /** The `jupyter-notebook` executable (default {@linkcode findNotebookServer}). */
  executable?: string;
  /** Milliseconds to wait for the server to answer (default 60 s). */
  timeoutMs?: number;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function randomToken(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(24)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/**
 * Starts the classic Jupyter Notebook server on 127.0.0.1 (a free port, a random token, no
 * browser, signatures in memory) serving `options.dir`, and waits until its API answers.
 * Throws when `jupyter-notebook` is not installed or the server does not come up.
 */
export async function startNotebookServer(options: ServerOptions): Promise<NotebookServer> {
  const executable = options.executable ?? findNotebookServer();
  if (!executable) {
    throw new Error("jupyter-notebook is not installed (apt-get install -y jupyter-notebook)");
  }
  const port = freePort();
  const token = randomToken();
  const runtime = await Deno.makeTempDir({ prefix: "ssl-jupyter-runtime-" });
  const child = new Deno.Command(executable, {
    args: [
      "--no-browser",
      "--allow-root",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--NotebookApp.token=${token}`,
      "--NotebookApp.password=",
      `--notebook-dir=${options.dir}`,
      "--NotebookNotary.db_file=:memory:",
    ],
    env: {
      ...(options.env ?? {}),
      JUPYTER_RUNTIME_DIR: runtime,
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output = (output + decoder.decode(chunk)).slice(-20_000);
  };
  drain(child.stdout).catch(() => {});
  drain(child.stderr).catch(() => {});
  let exited = false;
  child.status.then(() => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { Authorization: `token ${token}` },
      signal: AbortSignal.timeout(10_000),
    });

  const shutdownKernels = async () => {
    const kernels = await (await api("/api/kernels")).json() as { id: string }[];
    for (const k of kernels) {
      await (await api(`/api/kernels/${k.id}`, { method: "DELETE" })).body?.cancel();
    }
    return kernels.length;
  };
  const stop = async () => {
    await shutdownKernels().catch(() => 0); // the server may already be gone
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone
      }
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
    }, 10_000);
    await child.status;
    clearTimeout(timer);
    await Deno.remove(runtime, { recursive: true }).catch(() => {});
  };

  const end = performance.now() + (options.timeoutMs ?? 60_000);
  while (true) {
    try {
      const r = await api("/api/status");
      await r.body?.cancel();
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (exited || performance.now() > end) {
      await stop();
      throw new Error(`the notebook server did not start:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    token,
    dir: options.dir,
    notebookUrl: (path) =>
      `${url}/notebooks/${path.split("/").map(encodeURIComponent).join("/")}?token=${token}`,
    log: () => output,
    shutdownKernels,
    close: stop,
  };
}
