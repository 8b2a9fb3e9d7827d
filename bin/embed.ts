/**
 * `deno task embed`: the features h of every image of a dataset, computed by an exported
 * encoder (`deno task export`, `experiment --save-model`), written as `FILE.npy` (float32
 * [n, d], `numpy.load`), `FILE.csv` (index, split, path, label, class: one row per image, in the
 * `.npy`'s order) and `FILE.html` (the nearest neighbours of a sample of images, inline PNGs).
 * See `lib/export/embed.ts` and docs/export.md.
 *
 * Flags (`--help` lists them): `--model DIR` (required), `--dataset mnist | fashion-mnist |
 * folder:<path>` (default: the model's), `--out FILE` (required), `--split all|train|test`,
 * `--limit N`, `--sample N`, `--k N`, `--fit crop|pad`, `--cache-dir DIR|none`, `--backend`.
 * A folder is loaded at the model's size and channels. A model and data of other sizes, a
 * damaged model folder or a bad flag is one line on stderr and exit code 2.
 *
 * @module
 */
import { loadExportedModel, ModelDataMismatch } from "../lib/mod.ts";
import { type BackendName, initBackend } from "../lib/backend.ts";
import { loadDataset, type LoadDatasetOptions } from "../lib/data/load_dataset.ts";
import { checkCardAgainst } from "../lib/export/model_card.ts";
import { embedToFiles } from "../lib/export/embed.ts";
import { type CommandSpec, integerFlag, oneOf, parseFlags, UsageError } from "../lib/cli/flags.ts";
import { BACKEND_FLAG, backendFlag, outFlag } from "../lib/cli/common_flags.ts";
import { asUsageError, runMain } from "../lib/cli/main.ts";

/** The command's flags (`deno task embed --help`). */
export const EMBED_COMMAND = {
  name: "embed",
  usage: "deno task embed --model DIR --out FILE [flags]",
  summary: "The features h of every image of a dataset with an exported encoder: FILE.npy " +
    "(float32 [n, d]), FILE.csv (index, split, path, label, class) and FILE.html (nearest " +
    "neighbours of a sample of images).",
  flags: {
    model: { type: "string", value: "DIR", description: "an exported model (deno task export)" },
    dataset: {
      type: "string",
      value: "NAME",
      description: "mnist, fashion-mnist or folder:<path> (default: the model's dataset)",
    },
    out: {
      type: "string",
      value: "FILE",
      description: "FILE.npy, FILE.csv and FILE.html are written (a .npy ending is optional)",
    },
    split: {
      type: "string",
      value: "WHICH",
      default: "all",
      description: "all (train then test), train or test",
    },
    limit: { type: "string", value: "N", description: "at most N images of each split" },
    sample: {
      type: "string",
      value: "N",
      default: "24",
      description: "images shown with their neighbours on the page",
    },
    k: {
      type: "string",
      value: "N",
      default: "8",
      description: "neighbours per image on the page",
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
export interface EmbedArgs {
  model: string;
  dataset?: string;
  out: string;
  split: "all" | "train" | "test";
  limit?: number;
  sample: number;
  k: number;
  folder: LoadDatasetOptions;
  backend: BackendName;
}

/** Parses and checks the flags; throws a `UsageError` (or `HelpRequested`). */
export function parseEmbedArgs(args: readonly string[]): EmbedArgs {
  const v = parseFlags(EMBED_COMMAND, args);
  if (v.model === undefined) throw new UsageError("--model DIR is required", { helpHint: true });
  if (v.out === undefined) throw new UsageError("--out FILE is required", { helpHint: true });
  const folder: LoadDatasetOptions = {};
  if (v.fit !== undefined) folder.fit = oneOf("fit", v.fit, ["crop", "pad"]);
  if (v["cache-dir"] !== undefined) {
    folder.cacheDir = v["cache-dir"] === "none" ? null : v["cache-dir"];
  }
  return {
    model: v.model,
    dataset: v.dataset,
    out: outFlag(v.out),
    split: oneOf("split", v.split, ["all", "train", "test"]),
    limit: v.limit === undefined ? undefined : integerFlag("limit", v.limit, 1),
    sample: integerFlag("sample", v.sample, 1),
    k: integerFlag("k", v.k, 1),
    folder,
    backend: backendFlag(v.backend),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseEmbedArgs(argv);
  const t0 = performance.now();
  const backend = await initBackend(args.backend);
  const model = await asUsageError(() => loadExportedModel(args.model));
  try {
    const card = model.card;
    const spec = args.dataset ?? card.dataset.name;
    // A folder is decoded at the size and channels the encoder takes.
    const data = await asUsageError(() =>
      loadDataset(spec, {
        size: [card.input.height, card.input.width],
        channels: card.input.channels as 1 | 3,
        ...args.folder,
      })
    );
    const problem = checkCardAgainst(card, args.model, { ...data.train, name: spec });
    if (problem) throw new UsageError(new ModelDataMismatch(problem).message);
    if (card.dataset.classNames.join("\n") !== data.train.classNames.join("\n")) {
      console.log(
        `note: ${spec} has other classes than the model's dataset (${card.dataset.name}); the ` +
          `CSV's labels are ${spec}'s own`,
      );
    }
    const parts = [
      ...(args.split !== "test" ? [{ split: "train", data: data.train }] : []),
      ...(args.split !== "train" ? [{ split: "test", data: data.test }] : []),
    ];
    console.log(
      `embed: ${spec} (${parts.map((p) => `${p.split} ${p.data.count}`).join(", ")} images) ` +
        `with ${args.model} (${card.encoder.backbone}, h of ${card.encoder.featureDim}), ` +
        `backend ${backend}`,
    );
    const r = await embedToFiles(model.features, parts, args.out, {
      spec,
      limit: args.limit,
      sample: args.sample,
      k: args.k,
      title: `Nearest neighbours in h: ${spec}, encoder ${args.model}`,
    });
    const mb = (Deno.statSync(r.files.npy).size / 1e6).toFixed(1);
    console.log(
      `embedded ${r.count} images, h of ${r.dim} numbers, in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s:\n  ${r.files.npy} (${mb} MB)\n  ${r.files.csv}\n  ${r.files.html}`,
    );
  } finally {
    model.dispose();
  }
}

if (import.meta.main) await runMain("embed", () => main(Deno.args));
