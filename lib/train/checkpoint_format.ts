/**
 * The checkpoint format's fixed parts: the manifest's name, format and version, what
 * `manifest.json` records (every file's size and SHA-256, every tensor's name, shape, dtype and
 * byte size, the settings' fingerprint), and {@linkcode CheckpointError}, the one-line error of a
 * checkpoint that cannot be used, with the two pieces of advice its messages end with. The writer
 * is `checkpoint_write.ts`, the reader `checkpoint_read.ts`; `checkpoint.ts` gathers them.
 *
 * @example
 * ```ts
 * import { CheckpointError, MANIFEST_FILE, OTHER_RUN } from "./checkpoint_format.ts";
 * const error = new CheckpointError("data/ckpt", `checkpoint in data/ckpt has no
 *   ${MANIFEST_FILE}; ${OTHER_RUN}`);
 * error.message; // one line: "checkpoint in data/ckpt has no manifest.json; use another ..."
 * ```
 *
 * @module
 */

/** The manifest's `format`. */
export const CHECKPOINT_FORMAT = "ssl-checkpoint";
/** The manifest's `version` this library writes and reads. */
export const CHECKPOINT_VERSION = 1;
/** The manifest's file name. */
export const MANIFEST_FILE = "manifest.json";

/** What to do about a damaged checkpoint. */
export const DAMAGED = "delete it to start again, or use another folder";
/** What to do about a checkpoint of another run. */
export const OTHER_RUN = "use another folder or delete it";

/**
 * A checkpoint that cannot be used: missing files, wrong sizes or checksums, another
 * configuration. Its message is one line: `checkpoint in DIR …; what to do`.
 */
export class CheckpointError extends Error {
  /** Builds the error for the checkpoint folder `dir`. */
  constructor(readonly dir: string, message: string) {
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "CheckpointError";
    // The line is the whole story (the folder, what is wrong, what to do): an uncaught one
    // prints it without a stack of library frames.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** One tensor of a model or optimizer: what the manifest records. */
export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: string;
  bytes: number;
}

/** One file of a checkpoint. */
export interface FileEntry {
  /** Relative to the checkpoint folder, `/`-separated. */
  path: string;
  bytes: number;
  sha256: string;
}

/** `manifest.json`: everything a reader checks before it trusts the files. */
export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** What the checkpoint is: "pretrain", "arm", "model", "export", ... */
  kind: string;
  /** When it was written (ISO 8601). */
  created: string;
  /** The tfjs version that wrote it. */
  tfjs: string;
  /** The settings it was made with (as text), compared on resume, and their SHA-256. */
  fingerprint: { settings: Record<string, string>; sha256: string };
  /** Free information (the dataset, the classes, ...): recorded, never compared. */
  info: Record<string, unknown>;
  /** The models, by name: their folder, whether tfjs's standard layers replace ours, tensors. */
  models: Record<string, { path: string; standardLayers: boolean; tensors: TensorEntry[] }>;
  /** An optimizer's slot variables, and Adam's exact running beta powers. */
  optimizer?: { tensors: TensorEntry[]; betas?: { accBeta1: number; accBeta2: number } };
  /** Every file but the manifest. */
  files: FileEntry[];
}
