/**
 * Chooses the `supervised_strong` recipe on the VALIDATION split: trains every
 * candidate of `STRONG_CANDIDATES` (lib/experiment/baselines.ts) from scratch
 * on the labelled training images of each seed and prints its final-epoch and
 * best validation accuracy. The test set is never loaded into a decision: the
 * script does not evaluate it at all.
 *
 * `deno run -A bin/tune_supervised.ts [--dataset mnist] [--labels 200] [--seeds 0,1,2]
 * [--only name,name]` (`--help` lists the flags; a mistake is one line and exit code 2).
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import { loadDataset } from "../lib/data/load_dataset.ts";
import { sparseLabelSplit } from "../lib/data/split.ts";
import { buildBackbone } from "../lib/models/backbones.ts";
import { articleHead } from "../lib/models/heads/projection_heads.ts";
import { trainSupervised } from "../lib/train/supervised.ts";
import { makeAugmenter } from "../lib/experiment/augmenter.ts";
import { STRONG_CANDIDATES } from "../lib/experiment/baselines.ts";
import { meanAndSpread } from "../lib/eval/metrics.ts";
import { Rng } from "../lib/rng.ts";
import {
  type CommandSpec,
  intList,
  nonNegativeInt,
  parseFlags,
  UsageError,
} from "../lib/cli/flags.ts";
import { DATASET_FLAG } from "../lib/cli/common_flags.ts";
import { asUsageError, runMain } from "../lib/cli/main.ts";

/** The command's flags (`deno run -A bin/tune_supervised.ts --help`). */
export const TUNE_COMMAND = {
  name: "tune_supervised",
  usage: "deno run -A bin/tune_supervised.ts [flags]",
  summary: "Trains every supervised_strong candidate on the labelled images of each seed and " +
    "prints its validation accuracy (the test set is never read).",
  flags: {
    dataset: DATASET_FLAG,
    labels: { type: "string", value: "N", default: "200", description: "labelled examples kept" },
    seeds: {
      type: "string",
      value: "LIST",
      default: "0,1,2",
      description: "seeds, comma-separated",
    },
    only: {
      type: "string",
      value: "LIST",
      description: `candidates to train, comma-separated, of ${
        Object.keys(STRONG_CANDIDATES).join(", ")
      }`,
    },
  },
} as const satisfies CommandSpec;

async function main(argv: readonly string[]): Promise<void> {
  const values = parseFlags(TUNE_COMMAND, argv);
  const labels = nonNegativeInt("labels", values.labels);
  const seeds = intList("seeds", values.seeds);
  const names = values.only
    ? values.only.split(",").map((s) => s.trim())
    : Object.keys(STRONG_CANDIDATES);
  for (const name of names) {
    if (!Object.hasOwn(STRONG_CANDIDATES, name)) {
      throw new UsageError(
        `--only: unknown candidate "${name}"; use any of ${
          Object.keys(STRONG_CANDIDATES).join(", ")
        }`,
        { helpHint: true },
      );
    }
  }
  await initBackend();
  const { train } = await asUsageError(() => loadDataset(values.dataset));
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  const numClasses = train.classNames.length;
  const rows = [
    "| candidate | final-epoch validation | best validation | seconds |",
    "| --- | --- | --- | --- |",
  ];
  for (const name of names) {
    const recipe = STRONG_CANDIDATES[name];
    const finals: number[] = [];
    const bests: number[] = [];
    const t0 = performance.now();
    for (const seed of seeds) {
      const split = sparseLabelSplit(train.labels, {
        labelled: labels,
        validation: Math.round(labels * 0.2),
        balanced: true,
        seed,
        classNames: train.classNames,
      });
      const backbone = buildBackbone({ kind: "article" }, shape, seed);
      const head = articleHead(32, numClasses, seed);
      const r = await trainSupervised({
        backbone,
        head,
        images: train.images,
        shape,
        labels: train.labels,
        numClasses,
        train: split.labelled,
        validation: split.validation,
        augment: makeAugmenter(recipe.augment, shape)?.oneView,
        rng: new Rng(seed).fork("finetune-supervised_strong"),
        config: recipe.config,
      });
      finals.push(r.history.at(-1)!.validationAccuracy!);
      bests.push(Math.max(...r.history.map((e) => e.validationAccuracy!)));
      backbone.dispose();
      head.dispose();
    }
    const f = meanAndSpread(finals);
    const b = meanAndSpread(bests);
    const line = `| ${name} | ${(f.mean * 100).toFixed(1)}% ± ${(f.std * 100).toFixed(1)} | ${
      (b.mean * 100).toFixed(1)
    }% | ${((performance.now() - t0) / 1000).toFixed(0)} |`;
    console.log(line);
    rows.push(line);
  }
  console.log("\n" + rows.join("\n"));
}

if (import.meta.main) await runMain("tune_supervised", () => main(Deno.args));
