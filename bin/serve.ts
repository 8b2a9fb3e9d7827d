/**
 * `deno task serve`: the browser page (`web/`) on loopback, with an exported model: choose or
 * drop images and see their nearest neighbours in a reference set, label a few images and have
 * the rest classified by kNN on the encoder's features (few-shot, with your own self-supervised
 * encoder), with the accuracy when the reference set has labels. tfjs runs in the page, loaded
 * from the npm package in `node_modules/` (no CDN); nothing leaves the machine. See
 * `tools/browser/server.ts`, `web/app.js` and docs/export.md.
 *
 * Flags (`--help` lists them): `--model DIR` (required), `--reference mnist | fashion-mnist |
 * folder:<path> | none` (default: the model's dataset when it can be loaded), `--count N`
 * (reference images, from the test split), `--port N`, `--fit crop|pad`, `--cache-dir DIR|none`.
 *
 * @module
 */
import { loadDataset, type LoadDatasetOptions } from "../lib/data/load_dataset.ts";
import { Checkpoint } from "../lib/train/checkpoint.ts";
import { checkCardAgainst, type ModelCard } from "../lib/export/model_card.ts";
import { type CommandSpec, integerFlag, oneOf, parseFlags, UsageError } from "../lib/cli/flags.ts";
import { asUsageError, runMain } from "../lib/cli/main.ts";
import { type ReferenceSet, referenceSetOf, startPageServer } from "../tools/browser/server.ts";

/** The command's flags (`deno task serve --help`). */
export const SERVE_COMMAND = {
  name: "serve",
  usage: "deno task serve --model DIR [flags]",
  summary: "The browser page on http://127.0.0.1: an exported model in tfjs in the page; drop " +
    "images, see their nearest neighbours, label a few and classify the rest by kNN.",
  flags: {
    model: { type: "string", value: "DIR", description: "an exported model (deno task export)" },
    reference: {
      type: "string",
      value: "NAME",
      description: "mnist, fashion-mnist, folder:<path> or none: the images to search and " +
        "classify (default: the model's dataset)",
    },
    count: {
      type: "string",
      value: "N",
      default: "300",
      description: "reference images, from the test split",
    },
    port: { type: "string", value: "N", default: "8021", description: "port (0: any free one)" },
    fit: { type: "string", value: "crop|pad", description: "folder datasets: how images fit" },
    "cache-dir": {
      type: "string",
      value: "DIR|none",
      description: "folder datasets: where decoded images are cached (none: no cache)",
    },
  },
} as const satisfies CommandSpec;

/** What the flags ask for, checked. */
export interface ServeArgs {
  model: string;
  reference?: string;
  count: number;
  port: number;
  folder: LoadDatasetOptions;
}

/** Parses and checks the flags; throws a `UsageError` (or `HelpRequested`). */
export function parseServeArgs(args: readonly string[]): ServeArgs {
  const v = parseFlags(SERVE_COMMAND, args);
  if (v.model === undefined) throw new UsageError("--model DIR is required", { helpHint: true });
  const folder: LoadDatasetOptions = {};
  if (v.fit !== undefined) folder.fit = oneOf("fit", v.fit, ["crop", "pad"]);
  if (v["cache-dir"] !== undefined) {
    folder.cacheDir = v["cache-dir"] === "none" ? null : v["cache-dir"];
  }
  return {
    model: v.model,
    reference: v.reference,
    count: integerFlag("count", v.count, 1),
    port: integerFlag("port", v.port, 0),
    folder,
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseServeArgs(argv);
  const saved = await asUsageError(() => Checkpoint.open(args.model, { kind: "export" }));
  const card = saved.json<ModelCard>("model_card.json");
  const spec = args.reference ?? card.dataset.name;
  let reference: ReferenceSet | undefined;
  if (spec !== "none") {
    const data = await asUsageError(() =>
      loadDataset(spec, {
        size: [card.input.height, card.input.width],
        channels: card.input.channels as 1 | 3,
        ...args.folder,
      })
    );
    const problem = checkCardAgainst(card, args.model, { ...data.test, name: spec });
    if (problem) throw new UsageError(problem);
    reference = referenceSetOf(data.test, args.count, spec);
  }
  const server = await asUsageError(() =>
    startPageServer({ modelDir: args.model, reference, port: args.port })
  );
  console.log(
    `serve: ${card.title}; reference ${
      reference ? `${reference.index.count} test images of ${spec}` : "none (drop your own)"
    }\n  open ${server.url} (Ctrl-C stops)`,
  );
  await new Promise(() => {}); // until Ctrl-C
}

if (import.meta.main) await runMain("serve", () => main(Deno.args));
