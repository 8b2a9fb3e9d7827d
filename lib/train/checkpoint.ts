/**
 * Checkpoints and exports on disk, one format: a folder of files — every model in tfjs's own
 * format (`<name>/model.json` beside `<name>/weights.bin`, what `tf.loadLayersModel` and the
 * tfjs → Keras converter read), an optimizer's slots (`optimizer.bin`), JSON documents
 * (`state.json`, ...) and any other file (a model card) — and a `manifest.json` that lists them
 * all: every file's size and SHA-256, every tensor's name, shape, dtype and byte size, the
 * settings the checkpoint was made with (its fingerprint) and free information (the dataset).
 *
 * **Writes cannot leave half a checkpoint.** {@linkcode writeCheckpoint} writes the whole
 * folder under a temporary name beside it (`DIR.tmp-…`, the manifest last), then swaps it into
 * place with two renames (`DIR` → `DIR.old-…`, `DIR.tmp-…` → `DIR`) and removes the old one.
 * A process killed at any moment leaves either the previous checkpoint or the new one at `DIR`,
 * or — killed between the two renames — a complete one beside it, which the next read or write
 * puts back; leftovers of an interrupted write are removed by the next write.
 *
 * **Reads validate first.** {@linkcode Checkpoint.open} checks the manifest, then every file
 * (present, of the size the manifest says, with its checksum) before any tfjs call, then the
 * fingerprint against the settings of the run. Whatever is wrong is a {@linkcode CheckpointError}
 * of one line naming the folder, the problem and what to do, for example
 * `checkpoint in data/ckpt was made with head linear, this run uses head mlp:64,32; use another
 * folder or delete it` — never a tfjs error about tensor sizes.
 *
 * `saveModel` / `loadModel` keep one model in a folder; `saveJson` / `loadJson` are plain
 * JSON files written atomically (the study's result store).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { Checkpoint, writeCheckpoint } from "./checkpoint.ts";
 * const backbone = articleBackbone([28, 28, 1]);
 * const optimizer = tf.train.adam(1e-3);
 * const dir = `${await Deno.makeTempDir()}/run`; // e.g. "data/checkpoints/ssl" in a real run
 * await writeCheckpoint(dir, {
 *   models: { backbone },
 *   optimizer,
 *   json: { "state.json": { epoch: 3 } },
 * }, { kind: "pretrain", settings: { head: "linear", temperature: 0.2 } });
 * // Validated against this run's settings: a different head is one clear line.
 * const settings = { head: "linear", temperature: 0.2 };
 * const saved = Checkpoint.find(dir, { kind: "pretrain", settings });
 * saved?.restoreModel("backbone", backbone); // checks every tensor's shape, then copies
 * await saved?.restoreOptimizer(optimizer);
 * type State = { epoch: number };
 * const state = saved?.json<State>("state.json"); // { epoch: 3 }
 * optimizer.dispose();
 * backbone.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fromStandardTopology, toStandardTopology } from "../models/standard_layers.ts";

/** The manifest's `format`. */
export const CHECKPOINT_FORMAT = "ssl-checkpoint";
/** The manifest's `version` this library writes and reads. */
export const CHECKPOINT_VERSION = 1;
/** The manifest's file name. */
export const MANIFEST_FILE = "manifest.json";

/** What to do about a damaged checkpoint. */
const DAMAGED = "delete it to start again, or use another folder";
/** What to do about a checkpoint of another run. */
const OTHER_RUN = "use another folder or delete it";

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

/** What a checkpoint holds. */
export interface CheckpointParts {
  /** Models by name, each in `<name>/model.json` + `<name>/weights.bin` (`""`: the folder itself). */
  models?: Record<string, tf.LayersModel>;
  /** An optimizer whose slots (Adam's moments, the step count) are saved in `optimizer.bin`. */
  optimizer?: tf.Optimizer;
  /** JSON documents by file name, e.g. `{ "state.json": {...} }`. */
  json?: Record<string, unknown>;
  /** Other files by name (text or bytes), e.g. a model card. */
  files?: Record<string, string | Uint8Array>;
}

/** Options of {@linkcode writeCheckpoint}. */
export interface WriteOptions {
  /** What the checkpoint is ("pretrain", "arm", "export", ...). */
  kind: string;
  /** The settings a reader compares (plain JSON values; recorded as text). */
  settings?: Record<string, unknown>;
  /** Free information to record. */
  info?: Record<string, unknown>;
  /**
   * Write the models with tfjs's standard `BatchNormalization` and `Dropout` in place of ours
   * (`lib/models/standard_layers.ts`): for exports that a plain tfjs or Keras must read.
   */
  standardLayers?: boolean;
}

/** Options of {@linkcode Checkpoint.open} and {@linkcode Checkpoint.find}. */
export interface ExpectOptions {
  /** The kind (or kinds) the caller can use. */
  kind?: string | readonly string[];
  /** This run's settings: each must equal the checkpoint's (a key missing on one side too). */
  settings?: Record<string, unknown>;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** A setting as the manifest records it: text as is, anything else as sorted JSON. */
function settingText(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
        : v,
  );
}

/** Settings as text, sorted by name, `undefined` values left out. */
export function settingsText(settings: Record<string, unknown> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.keys(settings).sort().filter((k) => settings[k] !== undefined).map((
      k,
    ) => [k, settingText(settings[k])]),
  );
}

/** The fingerprint of settings: their text and its SHA-256. */
export function fingerprintOf(
  settings: Record<string, unknown> = {},
): CheckpointManifest["fingerprint"] {
  const text = settingsText(settings);
  return { settings: text, sha256: sha256(new TextEncoder().encode(JSON.stringify(text))) };
}

const bytesPer: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

function tensorEntries(specs: tf.io.WeightsManifestEntry[]): TensorEntry[] {
  return specs.map((s) => ({
    name: s.name,
    shape: [...s.shape],
    dtype: s.dtype,
    bytes: s.shape.reduce((a, b) => a * b, 1) * (bytesPer[s.dtype] ?? NaN),
  }));
}

function joined(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  return new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
}

/** A model's `model.json` and weight bytes, in tfjs's format. */
async function encodeModel(model: tf.LayersModel, standardLayers: boolean) {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((a) => {
    artifacts = a;
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) });
  }));
  const specs = artifacts!.weightSpecs ?? [];
  const topology = artifacts!.modelTopology as object;
  const json = {
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: standardLayers ? toStandardTopology(topology) : topology,
    weightsManifest: [{ paths: ["weights.bin"], weights: specs }],
  };
  return {
    json: new TextEncoder().encode(JSON.stringify(json)),
    weights: joined(artifacts!.weightData ?? new ArrayBuffer(0)),
    specs,
  };
}

/** The sibling folders an interrupted write leaves: `DIR.tmp-…` and `DIR.old-…`. */
function leftovers(dir: string): { tmp: string[]; old: string[] } {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(path.resolve(dir));
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return { tmp: [], old: [] };
  }
  const of = (tag: string) =>
    names.filter((n) => n.startsWith(`${base}.${tag}-`)).map((n) => path.join(parent, n))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs); // newest first
  return { tmp: of("tmp"), old: of("old") };
}

/**
 * Puts back a checkpoint whose write was killed between its two renames: when `dir` is
 * missing, the newest complete `DIR.tmp-…` (its manifest is written last), else `DIR.old-…`.
 */
function recover(dir: string): void {
  if (existsSync(dir)) return;
  const { tmp, old } = leftovers(dir);
  const complete = [...tmp, ...old].find((d) => existsSync(path.join(d, MANIFEST_FILE)));
  if (complete) renameSync(complete, dir);
}

/** Whether `dir` holds anything at all. */
function nonEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

/**
 * Writes a checkpoint to `dir`, all or nothing (see the module doc), and returns its manifest.
 * Refuses to replace a folder that holds files but no manifest (it is not a checkpoint).
 */
export async function writeCheckpoint(
  dir: string,
  parts: CheckpointParts,
  options: WriteOptions,
): Promise<CheckpointManifest> {
  mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  recover(dir);
  if (nonEmpty(dir) && !existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new CheckpointError(
      dir,
      `${dir} holds files but no ${MANIFEST_FILE}, so it is not a checkpoint and is not ` +
        `replaced; ${OTHER_RUN}`,
    );
  }
  // Everything is encoded before the first byte is written.
  const files: { path: string; bytes: Uint8Array }[] = [];
  const models: CheckpointManifest["models"] = {};
  for (const [name, model] of Object.entries(parts.models ?? {})) {
    const { json, weights, specs } = await encodeModel(model, options.standardLayers ?? false);
    const folder = name === "" ? "" : `${name}/`;
    files.push({ path: `${folder}model.json`, bytes: json });
    files.push({ path: `${folder}weights.bin`, bytes: weights });
    models[name] = {
      path: name,
      standardLayers: options.standardLayers ?? false,
      tensors: tensorEntries(specs),
    };
  }
  let optimizer: CheckpointManifest["optimizer"];
  if (parts.optimizer) {
    const named = await parts.optimizer.getWeights();
    const { data, specs } = await tf.io.encodeWeights(named);
    // The step count comes as a new scalar; the slots are the optimizer's own variables.
    tf.dispose(named.map((n) => n.tensor).filter((t) => !(t instanceof tf.Variable)));
    files.push({ path: "optimizer.bin", bytes: new Uint8Array(data) });
    optimizer = { tensors: tensorEntries(specs) };
    // Adam's running beta powers: tfjs's setWeights recomputes them with pow(), which can
    // differ in the last bit from the repeated products of training; keeping the exact
    // values makes a resumed run bit-identical.
    const adam = parts.optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
    if (adam.accBeta1 && adam.accBeta2) {
      optimizer.betas = {
        accBeta1: (await adam.accBeta1.data())[0],
        accBeta2: (await adam.accBeta2.data())[0],
      };
    }
  }
  const text = new TextEncoder();
  for (const [name, value] of Object.entries(parts.json ?? {})) {
    files.push({ path: name, bytes: text.encode(JSON.stringify(value, null, 1)) });
  }
  for (const [name, value] of Object.entries(parts.files ?? {})) {
    files.push({ path: name, bytes: typeof value === "string" ? text.encode(value) : value });
  }
  for (const f of files) checkRelative(f.path);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    kind: options.kind,
    created: new Date().toISOString(),
    tfjs: tf.version.tfjs,
    fingerprint: fingerprintOf(options.settings),
    info: options.info ?? {},
    models,
    ...(optimizer ? { optimizer } : {}),
    files: files.map((f) => ({ path: f.path, bytes: f.bytes.byteLength, sha256: sha256(f.bytes) })),
  };

  // Leftovers of earlier interrupted writes go first; then the new folder, manifest last.
  const { tmp: oldTmp, old: oldOld } = leftovers(dir);
  for (const d of [...oldTmp, ...oldOld]) rmSync(d, { recursive: true, force: true });
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const tmp = `${path.resolve(dir)}.tmp-${tag}`;
  mkdirSync(tmp);
  for (const f of files) {
    const file = path.join(tmp, f.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, f.bytes);
  }
  writeFileSync(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
  if (existsSync(dir)) {
    const old = `${path.resolve(dir)}.old-${tag}`;
    renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, dir);
  }
  return manifest;
}

function checkRelative(p: string): void {
  if (p === "" || path.isAbsolute(p) || p.split("/").some((s) => s === ".." || s === "")) {
    throw new Error(`writeCheckpoint: file names must be relative paths inside the folder: "${p}"`);
  }
  if (p === MANIFEST_FILE) throw new Error(`writeCheckpoint: "${MANIFEST_FILE}" is reserved`);
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

/** Writes `model` as a checkpoint of one model in `dir` (`model.json`, `weights.bin`, manifest). */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await writeCheckpoint(dir, { models: { "": model } }, { kind: "model" });
}

/** Reads a model saved by {@linkcode saveModel}, validated (see {@linkcode Checkpoint.open}). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return await Checkpoint.open(dir).model("");
}

/** Writes a JSON file atomically (a temporary file, then a rename). */
export function saveJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, new TextEncoder().encode(JSON.stringify(value, null, 1)));
  renameSync(tmp, file);
}

/** Reads a JSON file, or returns `undefined` when it does not exist. */
export function loadJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as T;
}
