/**
 * Flags that several commands share, declared once so that `--help` and the errors read the
 * same everywhere: `--dataset`, `--seeds`, `--quick`, `--out`, `--backend`, `--method`, the flags
 * of a dev-holdout sweep (`devSweepFlags`), and the check of a folder a model is written to
 * (`modelDirFlag`).
 *
 * @example
 * ```ts
 * import { BACKEND_FLAG, backendFlag, quickFlag } from "./common_flags.ts";
 * import { type CommandSpec, parseFlags } from "./flags.ts";
 * const spec = {
 *   name: "demo",
 *   usage: "deno run demo.ts [flags]",
 *   summary: "An example.",
 *   flags: { backend: BACKEND_FLAG, quick: quickFlag() },
 * } satisfies CommandSpec;
 * const values = parseFlags(spec, ["--backend", "cpu"]);
 * const backend = backendFlag(values.backend); // "cpu"
 * if (backend !== "cpu") throw new Error("not parsed");
 * ```
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import type { BackendName } from "../backend.ts";
import { MANIFEST_FILE } from "../train/checkpoint.ts";
import { SSL_METHODS, type SslMethod } from "../train/ssl_method.ts";
import { type FlagSpec, integerFlag, intList, listOf, oneOf, UsageError } from "./flags.ts";

/** The tfjs backends `--backend` accepts ("auto": webgpu on a hardware GPU, else wasm). */
export const BACKENDS: readonly BackendName[] = ["wasm", "cpu", "webgpu", "auto"];

/** `--backend wasm|cpu|webgpu|auto` (default wasm). */
export const BACKEND_FLAG = {
  type: "string",
  value: "NAME",
  default: "wasm",
  description: `tfjs backend: ${BACKENDS.join(", ")} (webgpu on a hardware GPU, else wasm)`,
} as const satisfies FlagSpec;

/** Validates a `--backend` value. */
export function backendFlag(text: string): BackendName {
  return oneOf("backend", text, BACKENDS);
}

/** `--method simclr|byol|simsiam|barlow|vicreg` (default simclr). */
export const METHOD_FLAG = {
  type: "string",
  value: "NAME",
  default: "simclr",
  description: `self-supervised method of pre-training: ${
    SSL_METHODS.join(", ")
  } (each with its own default head; docs/api.md)`,
} as const satisfies FlagSpec;

/** Validates a `--method` value: one line naming the methods otherwise. */
export function methodFlag(text: string): SslMethod {
  return oneOf("method", text, SSL_METHODS);
}

/** `--dataset mnist|fashion-mnist|folder:<path>` (default mnist). */
export const DATASET_FLAG = {
  type: "string",
  value: "NAME",
  default: "mnist",
  description: "mnist, fashion-mnist or folder:<path> (a folder of images, one sub-folder a class)",
} as const satisfies FlagSpec;

/** `--seeds a,b,c`. */
export function seedsFlag(defaults: string): FlagSpec & { type: "string" } {
  return {
    type: "string",
    value: "LIST",
    description: `seeds to run, comma-separated (default ${defaults})`,
  };
}

/**
 * The flags of a sweep that chooses among named candidates on the dev holdout
 * (`tools/self_training_sweep.ts`, `tools/ssl_fine_tune_sweep.ts`): `--dataset`, `--seeds`
 * (default 0), `--only` (a comma-separated subset of `candidates`) and `--dev N`.
 */
export function devSweepFlags(candidates: readonly string[]) {
  return {
    dataset: DATASET_FLAG,
    seeds: { type: "string", value: "LIST", default: "0", description: "seeds, comma-separated" },
    only: {
      type: "string",
      value: "LIST",
      description: `candidates, comma-separated, of ${candidates.join(", ")}`,
    },
    dev: {
      type: "string",
      value: "N",
      default: "10000",
      description: "unlabelled pool images scored with their labels (at least 1)",
    },
  } as const satisfies Record<string, FlagSpec>;
}

/** Reads the flags of {@linkcode devSweepFlags}: the seeds, the dev images and the candidates. */
export function devSweepValues(
  values: { seeds: string; dev: string; only?: string },
  candidates: readonly string[],
): { seeds: number[]; dev: number; names: string[] } {
  return {
    seeds: intList("seeds", values.seeds),
    // No dev images would score every candidate NaN: at least one.
    dev: integerFlag("dev", values.dev, 1),
    names: values.only ? listOf("only", values.only, candidates) : [...candidates],
  };
}

/** `--quick`, on by default when env `SSL_QUICK=1`. */
export function quickFlag(): FlagSpec & { type: "boolean" } {
  let fromEnv = false;
  try {
    fromEnv = Deno.env.get("SSL_QUICK") === "1";
  } catch {
    // no --allow-env: off
  }
  return {
    type: "boolean",
    default: fromEnv,
    description: "the small smoke run (minutes; also env SSL_QUICK=1)",
  };
}

/** `--out FILE` (results JSON). */
export const OUT_FLAG = {
  type: "string",
  value: "FILE",
  description: "write the results as JSON to FILE",
} as const satisfies FlagSpec;

/**
 * Checks an `--out FILE` value before any work: its folder must exist (so a long run does not
 * end in a failed write). Returns the path as given.
 */
export function outFlag(text: string): string {
  const dir = dirname(resolve(text));
  let isDir = false;
  try {
    isDir = Deno.statSync(dir).isDirectory;
  } catch {
    // missing
  }
  if (text.trim() === "" || !isDir) {
    throw new UsageError(`--out ${text}: the folder ${dir} does not exist`, { helpHint: true });
  }
  return text;
}

/**
 * Checks a folder a command will write a model into (`--save-model DIR`, `export --out DIR`)
 * before any work: it must be new (its parent folders are made), empty, or a model or
 * checkpoint of this library (it is then replaced whole). Returns the path as given.
 */
export function modelDirFlag(flag: string, text: string): string {
  if (text.trim() === "") {
    throw new UsageError(`--${flag} needs a folder`, { helpHint: true });
  }
  let entries: string[] = [];
  try {
    if (!Deno.statSync(text).isDirectory) {
      throw new UsageError(`--${flag} ${text}: a file is in the way, not a folder`);
    }
    entries = [...Deno.readDirSync(text)].map((e) => e.name);
  } catch (e) {
    if (e instanceof UsageError) throw e; // else: a new folder
  }
  if (entries.length > 0 && !entries.includes(MANIFEST_FILE)) {
    throw new UsageError(
      `--${flag} ${text}: the folder holds files but no ${MANIFEST_FILE}, so it is not a model ` +
        `of this library and is not replaced; give a new or empty folder`,
    );
  }
  return text;
}
