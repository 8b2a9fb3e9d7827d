/**
 * `deno task export`: a trained model of this library as tfjs LayersModel files with tfjs's
 * standard layers (they load in a plain tfjs, in a browser page, and in the official
 * tfjs → Keras converter) and a model card: `--from DIR` is a checkpoint — a fine-tuned arm the
 * notebooks cached (`data/checkpoints/<run>/ssl_new_head`), a pre-training checkpoint
 * (`pretrain(..., { checkpointDir })`, `data/checkpoints/<run>/pretrain`), or an export (written
 * again). With `--dataset`, the card is checked against that dataset and the classifier's test
 * accuracy on it is recorded. See `lib/export/from_checkpoint.ts` and docs/export.md.
 *
 * `deno task experiment --save-model DIR` exports the experiment's model directly.
 *
 * Flags (`--help` lists them): `--from DIR`, `--out DIR` (required), `--dataset mnist |
 * fashion-mnist | folder:<path>`, `--fit crop|pad`, `--cache-dir DIR|none`, `--backend`. A damaged
 * checkpoint, a model that does not fit the data or a bad flag is one line on stderr, exit code 2.
 *
 * @module
 */
import type { ImageDataset } from "../lib/mod.ts";
import { type BackendName, initBackend } from "../lib/backend.ts";
import { loadDataset, type LoadDatasetOptions } from "../lib/data/load_dataset.ts";
import { Checkpoint } from "../lib/train/checkpoint.ts";
import { exportFromCheckpoint } from "../lib/export/from_checkpoint.ts";
import { type CommandSpec, oneOf, parseFlags, UsageError } from "../lib/cli/flags.ts";
import { BACKEND_FLAG, backendFlag, modelDirFlag } from "../lib/cli/common_flags.ts";
import { asUsageError, commandLine, runMain } from "../lib/cli/main.ts";

/** The command's flags (`deno task export --help`). */
export const EXPORT_COMMAND = {
  name: "export",
  usage: "deno task export --from DIR --out DIR [flags]",
  summary: "A trained model (a checkpoint of this library) as tfjs LayersModel files with " +
    "standard layers, for a browser page or the tfjs → Keras converter, plus a model card " +
    "(model_card.json, MODEL_CARD.md).",
  flags: {
    from: {
      type: "string",
      value: "DIR",
      description: "a checkpoint: a notebooks' cached arm (data/checkpoints/<run>/ssl_new_head), " +
        "a pre-training checkpointDir, or an export",
    },
    out: {
      type: "string",
      value: "DIR",
      description: "the export folder (new, empty, or a model)",
    },
    dataset: {
      type: "string",
      value: "NAME",
      description: "mnist, fashion-mnist or folder:<path>: check the model against it and " +
        "record the classifier's test accuracy",
    },
    fit: { type: "string", value: "crop|pad", description: "folder datasets: how images fit" },
    "cache-dir": {
      type: "string",
      value: "DIR|none",
      description: "folder datasets: where decoded images are cached (none: no cache)",
    },
    backend: BACKEND_FLAG,
  },
} as const satisfies CommandSpec;

/** What the flags ask for, checked. */
export interface ExportArgs {
  from: string;
  out: string;
  dataset?: string;
  folder: LoadDatasetOptions;
  backend: BackendName;
}

/** Parses and checks the flags; throws a `UsageError` (or `HelpRequested`). */
export function parseExportArgs(args: readonly string[]): ExportArgs {
  const v = parseFlags(EXPORT_COMMAND, args);
  if (v.from === undefined) throw new UsageError("--from DIR is required", { helpHint: true });
  if (v.out === undefined) throw new UsageError("--out DIR is required", { helpHint: true });
  const folder: LoadDatasetOptions = {};
  if (v.fit !== undefined) folder.fit = oneOf("fit", v.fit, ["crop", "pad"]);
  if (v["cache-dir"] !== undefined) {
    folder.cacheDir = v["cache-dir"] === "none" ? null : v["cache-dir"];
  }
  return {
    from: v.from,
    out: modelDirFlag("out", v.out),
    dataset: v.dataset,
    folder,
    backend: backendFlag(v.backend),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseExportArgs(argv);
  const backend = await initBackend(args.backend);
  let test: ImageDataset | undefined;
  if (args.dataset) {
    // A folder is decoded at the size and channels the model takes.
    const saved = await asUsageError(() => Checkpoint.open(args.from));
    const encoder = await asUsageError(() =>
      saved.model(saved.models.includes("encoder") ? "encoder" : "backbone")
    );
    const [h, w, c] = encoder.inputs[0].shape.slice(1) as number[];
    encoder.dispose();
    const dataset = args.dataset;
    const data = await asUsageError(() =>
      loadDataset(dataset, { size: [h, w], channels: c as 1 | 3, ...args.folder })
    );
    test = data.test;
  }
  const t0 = performance.now();
  const { card, kind } = await asUsageError(() =>
    exportFromCheckpoint(args.from, args.out, {
      test,
      dataset: args.dataset,
      command: commandLine("export", argv),
    })
  );
  const what = [
    "encoder",
    ...(card.classifier ? ["classifier"] : []),
    ...(card.projection ? ["projection head"] : []),
  ].join(", ");
  console.log(
    `exported the ${kind} checkpoint ${args.from} to ${args.out} (${what}, model card; backend ` +
      `${backend}, ${((performance.now() - t0) / 1000).toFixed(1)} s): ${card.title}`,
  );
  if (card.evaluation) {
    console.log(
      `  classifier on ${card.evaluation.dataset}: ${
        (card.evaluation.accuracy * 100).toFixed(1)
      }% ` +
        `of ${card.evaluation.images} images`,
    );
  }
}

if (import.meta.main) await runMain("export", () => main(Deno.args));
