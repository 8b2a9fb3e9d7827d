/**
 * Reading a checkpoint, validated first: {@linkcode Checkpoint.open} checks the manifest, then
 * every file (present, of the size the manifest says, with its checksum) before any tfjs call,
 * then the kind and the fingerprint against the settings of the run. Whatever is wrong is a
 * {@linkcode CheckpointError} of one line naming the folder, the problem and what to do — never
 * a tfjs error about tensor sizes. The checkpoint then gives its files, JSON documents and models,
 * and restores weights and an optimizer's slots in place.
 *
 * @example
 * ```ts
 * import { Checkpoint } from "./checkpoint_read.ts";
 * import { writeCheckpoint } from "./checkpoint_write.ts";
 * const dir = `${await Deno.makeTempDir()}/run`;
 * Checkpoint.find(dir); // undefined: nothing there yet
 * await writeCheckpoint(dir, { json: { "state.json": { epoch: 3 } } }, {
 *   kind: "pretrain",
 *   settings: { head: "linear" },
 * });
 * const saved = Checkpoint.open(dir, { kind: "pretrain", settings: { head: "linear" } });
 * saved.json<{ epoch: number }>("state.json").epoch; // 3
 * // Checkpoint.open(dir, { settings: { head: "mlp" } }) throws one line: "checkpoint in ... was
 * // made with head linear, this run uses head mlp; use another folder or delete it"
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fromStandardTopology } from "../models/standard_layers.ts";
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CheckpointError,
  type CheckpointManifest,
  DAMAGED,
  MANIFEST_FILE,
  OTHER_RUN,
} from "./checkpoint_format.ts";
import { settingsText, sha256 } from "./checkpoint_fingerprint.ts";
import { nonEmpty, recover } from "./checkpoint_folder.ts";

/** Options of {@linkcode Checkpoint.open} and {@linkcode Checkpoint.find}. */
export interface ExpectOptions {
  /** The kind (or kinds) the caller can use. */
  kind?: string | readonly string[];
  /** This run's settings: each must equal the checkpoint's (a key missing on one side too). */
  settings?: Record<string, unknown>;
}

const shapeText = (s: readonly (number | null)[]) => `[${s.join(",")}]`;

/**
 * A checkpoint read from disk and validated: the manifest, every file's size and checksum, and
 * (when asked) its kind and settings. Its files are read once, here.
 */
export class Checkpoint {
  readonly #files: Map<string, Uint8Array>;

  private constructor(
    /** The folder. */
    readonly dir: string,
    /** Its manifest. */
    readonly manifest: CheckpointManifest,
    files: Map<string, Uint8Array>,
  ) {
    this.#files = files;
  }

  /** Whether `dir` holds a checkpoint (a manifest, after putting back an interrupted write). */
  static exists(dir: string): boolean {
    recover(dir);
    return existsSync(path.join(dir, MANIFEST_FILE));
  }

  /**
   * The checkpoint in `dir`, or `undefined` when there is none (no folder, or an empty one);
   * throws a {@linkcode CheckpointError} when there is one that cannot be used.
   */
  static find(dir: string, expect: ExpectOptions = {}): Checkpoint | undefined {
    recover(dir);
    if (!nonEmpty(dir)) return undefined;
    return Checkpoint.open(dir, expect);
  }

  /** Reads and validates the checkpoint in `dir`; throws a {@linkcode CheckpointError}. */
  static open(dir: string, expect: ExpectOptions = {}): Checkpoint {
    recover(dir);
    const where = `checkpoint in ${dir}`;
    if (!existsSync(dir)) {
      throw new CheckpointError(dir, `no checkpoint in ${dir}: the folder does not exist`);
    }
    const manifestPath = path.join(dir, MANIFEST_FILE);
    if (!existsSync(manifestPath)) {
      throw new CheckpointError(
        dir,
        nonEmpty(dir)
          ? `${where} has no ${MANIFEST_FILE}: it was written by an older version of this ` +
            `library, or is not a checkpoint; ${DAMAGED}`
          : `no checkpoint in ${dir}: the folder is empty`,
      );
    }
    let manifest: CheckpointManifest;
    try {
      manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    } catch {
      throw new CheckpointError(
        dir,
        `${where} is damaged: ${MANIFEST_FILE} is not JSON; ${DAMAGED}`,
      );
    }
    if (manifest?.format !== CHECKPOINT_FORMAT || !Array.isArray(manifest.files)) {
      throw new CheckpointError(
        dir,
        `${where} is damaged: ${MANIFEST_FILE} is not a manifest of this library; ${DAMAGED}`,
      );
    }
    if (manifest.version !== CHECKPOINT_VERSION) {
      throw new CheckpointError(
        dir,
        `${where} is in format version ${manifest.version}; this library reads version ` +
          `${CHECKPOINT_VERSION}; ${OTHER_RUN}`,
      );
    }
    const files = new Map<string, Uint8Array>();
    for (const f of manifest.files) {
      const file = path.join(dir, f.path);
      if (!existsSync(file)) {
        throw new CheckpointError(dir, `${where} is incomplete: ${f.path} is missing; ${DAMAGED}`);
      }
      const bytes = readFileSync(file);
      if (bytes.byteLength !== f.bytes) {
        const how = bytes.byteLength < f.bytes ? "cut short" : "longer than written";
        throw new CheckpointError(
          dir,
          `${where} is damaged: ${f.path} has ${bytes.byteLength} bytes, its manifest says ` +
            `${f.bytes} (${how}); ${DAMAGED}`,
        );
      }
      if (sha256(bytes) !== f.sha256) {
        throw new CheckpointError(
          dir,
          `${where} is damaged: ${f.path} does not match its SHA-256 checksum (changed on ` +
            `disk); ${DAMAGED}`,
        );
      }
      files.set(f.path, bytes);
    }
    const checkpoint = new Checkpoint(dir, manifest, files);
    for (const [name, m] of Object.entries(manifest.models ?? {})) {
      const weights = files.get(checkpoint.#modelFile(name, "weights.bin"));
      const expected = m.tensors.reduce((n, t) => n + t.bytes, 0);
      if (weights === undefined || weights.byteLength !== expected) {
        throw new CheckpointError(
          dir,
          `${where} is damaged: the ${modelName(name)}'s tensors need ${expected} bytes, its ` +
            `weights file has ${weights?.byteLength ?? 0}; ${DAMAGED}`,
        );
      }
    }
    checkpoint.#expect(expect);
    return checkpoint;
  }

  #expect(expect: ExpectOptions): void {
    const where = `checkpoint in ${this.dir}`;
    const kinds = expect.kind === undefined
      ? undefined
      : typeof expect.kind === "string"
      ? [expect.kind]
      : expect.kind;
    if (kinds && !kinds.includes(this.manifest.kind)) {
      throw new CheckpointError(
        this.dir,
        `${where} is a "${this.manifest.kind}" checkpoint, this needs ${
          kinds.map((k) => `"${k}"`).join(" or ")
        }; ${OTHER_RUN}`,
      );
    }
    if (expect.settings === undefined) return;
    const mine = settingsText(expect.settings);
    const theirs = this.manifest.fingerprint?.settings ?? {};
    const keys = [...new Set([...Object.keys(theirs), ...Object.keys(mine)])].sort();
    const differ = keys.filter((k) => theirs[k] !== mine[k]);
    if (differ.length === 0) return;
    const shown = differ.slice(0, 3);
    const more = differ.length > shown.length ? ` (and ${differ.length - shown.length} more)` : "";
    const list = (s: Record<string, string>) =>
      shown.map((k) => `${k} ${s[k] ?? "(not set)"}`).join(", ");
    throw new CheckpointError(
      this.dir,
      `${where} was made with ${list(theirs)}, this run uses ${list(mine)}${more}; ${OTHER_RUN}`,
    );
  }

  #modelFile(name: string, file: string): string {
    return name === "" ? file : `${name}/${file}`;
  }

  #model(name: string) {
    const m = this.manifest.models?.[name];
    if (!m) {
      throw new CheckpointError(
        this.dir,
        `checkpoint in ${this.dir} has no ${modelName(name)} (it holds ${
          Object.keys(this.manifest.models ?? {}).map(modelName).join(", ") || "no model"
        }); ${OTHER_RUN}`,
      );
    }
    return m;
  }

  /** Whether the checkpoint has this file (JSON document or other). */
  has(file: string): boolean {
    return this.#files.has(file);
  }

  /** The names of its models. */
  get models(): string[] {
    return Object.keys(this.manifest.models ?? {});
  }

  /** A file's bytes (checked against the manifest). */
  bytes(file: string): Uint8Array {
    const b = this.#files.get(file);
    if (!b) {
      throw new CheckpointError(
        this.dir,
        `checkpoint in ${this.dir} has no file ${file}; ${OTHER_RUN}`,
      );
    }
    return b;
  }

  /** A JSON document of the checkpoint. */
  json<T>(file: string): T {
    try {
      return JSON.parse(new TextDecoder().decode(this.bytes(file))) as T;
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(
        this.dir,
        `checkpoint in ${this.dir} is damaged: ${file} is not JSON; ${DAMAGED}`,
      );
    }
  }

  /** A model of the checkpoint, rebuilt from its topology (our layers, even in an export). */
  async model(name: string): Promise<tf.LayersModel> {
    const m = this.#model(name);
    const json = this.json<{
      modelTopology: object;
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    }>(this.#modelFile(name, "model.json"));
    const weights = this.bytes(this.#modelFile(name, "weights.bin"));
    try {
      return await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: m.standardLayers
          ? fromStandardTopology(json.modelTopology)
          : json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: weights.slice().buffer,
      }));
    } catch (e) {
      throw new CheckpointError(
        this.dir,
        `checkpoint in ${this.dir}: tfjs cannot rebuild its ${modelName(name)} (${
          String((e as Error).message ?? e).split("\n")[0].slice(0, 200)
        }); ${DAMAGED}`,
      );
    }
  }

  /**
   * Copies the weights of model `name` into `into`, after checking that `into` has the same
   * number of tensors, in order, of the same shapes (names may differ: tfjs numbers them).
   */
  restoreModel(name: string, into: tf.LayersModel): void {
    const m = this.#model(name);
    const mine = into.weights;
    const where = `checkpoint in ${this.dir}`;
    if (mine.length !== m.tensors.length) {
      throw new CheckpointError(
        this.dir,
        `${where} holds a ${modelName(name)} of ${m.tensors.length} tensors, this model has ` +
          `${mine.length}; ${OTHER_RUN}`,
      );
    }
    m.tensors.forEach((t, i) => {
      if (shapeText(t.shape) !== shapeText(mine[i].shape)) {
        throw new CheckpointError(
          this.dir,
          `${where} holds a ${modelName(name)} of other shapes (tensor ${i + 1}, ${t.name}: ` +
            `${shapeText(t.shape)} there, ${shapeText(mine[i].shape)} here); ${OTHER_RUN}`,
        );
      }
    });
    const weights = this.bytes(this.#modelFile(name, "weights.bin"));
    // Decoded by position (names made unique), as `setWeights` takes them.
    const specs = m.tensors.map((t, i) => ({ name: `${i}`, shape: t.shape, dtype: t.dtype }));
    tf.tidy(() => {
      const decoded = tf.io.decodeWeights(
        weights.slice().buffer,
        specs as tf.io.WeightsManifestEntry[],
      );
      into.setWeights(specs.map((s) => decoded[s.name]));
    });
  }

  /** Restores the optimizer's slots; false when the checkpoint has none. */
  async restoreOptimizer(optimizer: tf.Optimizer): Promise<boolean> {
    const o = this.manifest.optimizer;
    if (!o) return false;
    const bytes = this.bytes("optimizer.bin");
    const expected = o.tensors.reduce((n, t) => n + t.bytes, 0);
    if (bytes.byteLength !== expected) {
      throw new CheckpointError(
        this.dir,
        `checkpoint in ${this.dir} is damaged: the optimizer's tensors need ${expected} bytes, ` +
          `optimizer.bin has ${bytes.byteLength}; ${DAMAGED}`,
      );
    }
    const specs = o.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      dtype: t.dtype,
    })) as tf.io.WeightsManifestEntry[];
    const tensors = tf.io.decodeWeights(bytes.slice().buffer, specs);
    try {
      // tfjs's optimizers copy what they are given into new variables.
      await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: tensors[s.name] })));
    } finally {
      tf.dispose(Object.values(tensors));
    }
    const adam = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
    if (o.betas && adam.accBeta1 && adam.accBeta2) {
      const { accBeta1, accBeta2 } = o.betas;
      tf.tidy(() => {
        adam.accBeta1!.assign(tf.scalar(accBeta1));
        adam.accBeta2!.assign(tf.scalar(accBeta2));
      });
    }
    return true;
  }
}

const modelName = (name: string) => name === "" ? "model" : `model "${name}"`;
