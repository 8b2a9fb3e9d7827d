/**
 * Chooses the `supervised_strong` recipe on the VALIDATION split: trains every
 * candidate of `STRONG_CANDIDATES` (lib/experiment/baselines.ts) as the
 * experiment's `supervised_strong` arm (its backbone, its split) on the
 * labelled training images of each seed and prints its final validation
 * accuracy (what chooses; ties go to the lower final validation loss, the rule
 * that selects records in training) and its best. The test set is never loaded into a
 * decision: the script does not evaluate it at all.
 *
 * With `--dev N` each final model is also scored on N unlabelled pool images with their labels
 * (the dev holdout of `lib/experiment/dev_holdout.ts`, which the strong arm never trains on):
 * forty validation images cannot tell candidates apart, thousands can.
 *
 * `deno run -A bin/tune_supervised.ts [--dataset mnist] [--labels 200] [--seeds 0,1,2]
 * [--only name,name] [--dev N]` (`--help` lists the flags; a mistake is one line and exit code 2).
 *
 * @module
 */
import { type FineTuned, initBackend, loadDataset, meanAndSpread } from "../lib/mod.ts";
import { baselinesFor, STRONG_CANDIDATES } from "../lib/experiment/baselines.ts";
import { armContext, trainArm } from "../lib/experiment/arms.ts";
import { recipeFor } from "../lib/experiment/recipe.ts";
import { devScorer } from "../lib/experiment/dev_holdout.ts";
import { type CommandSpec, intList, listOf, nonNegativeInt, parseFlags } from "../lib/cli/flags.ts";
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
    dev: {
      type: "string",
      value: "N",
      default: "0",
      description: "also score each final model on N unlabelled pool images with their labels " +
        "(the dev holdout, lib/experiment/dev_holdout.ts; 0: none)",
    },
  },
} as const satisfies CommandSpec;

async function main(argv: readonly string[]): Promise<void> {
  const values = parseFlags(TUNE_COMMAND, argv);
  const labels = nonNegativeInt("labels", values.labels);
  const seeds = intList("seeds", values.seeds);
  const dev = nonNegativeInt("dev", values.dev);
  const candidates = Object.keys(STRONG_CANDIDATES);
  const names = values.only ? listOf("only", values.only, candidates) : candidates;
  await initBackend();
  const data = await asUsageError(() => loadDataset(values.dataset));
  // Each seed's dev images, gathered once for every candidate.
  const scorers = new Map<number, (model: FineTuned) => Promise<number>>();
  const devScore = (seed: number, unlabelled: Int32Array, model: FineTuned) => {
    if (!scorers.has(seed)) scorers.set(seed, devScorer(data.train, unlabelled, dev).score);
    return scorers.get(seed)!(model);
  };
  const rows = [
    `| candidate | final validation | final validation loss | best validation (not used) | ${
      dev ? `dev (${dev} pool images) | ` : ""
    }seconds |`,
    `| --- | --- | --- | --- | ${dev ? "--- | " : ""}--- |`,
  ];
  for (const name of names) {
    const finals: number[] = [];
    const losses: number[] = [];
    const devs: number[] = [];
    const bests: number[] = [];
    const t0 = performance.now();
    for (const seed of seeds) {
      // The experiment's own split and arm, with this candidate as the strong recipe.
      const config = recipeFor(values.dataset, false, data.train);
      config.labels = labels;
      config.validation = Math.round(labels * 0.2);
      config.baselines = { ...baselinesFor(config), strong: STRONG_CANDIDATES[name] };
      const ctx = armContext(config, data, seed);
      const model = await trainArm(ctx, "supervised_strong") as FineTuned;
      const history = model.result.history;
      finals.push(history.at(-1)!.validationAccuracy!);
      losses.push(history.at(-1)!.validationLoss!);
      if (dev > 0) devs.push(await devScore(seed, ctx.split.unlabelled, model));
      bests.push(Math.max(...history.map((e) => e.validationAccuracy!)));
      model.dispose();
    }
    const f = meanAndSpread(finals);
    const b = meanAndSpread(bests);
    const loss = meanAndSpread(losses).mean;
    const line = `| ${name} | ${(f.mean * 100).toFixed(1)}% ± ${(f.std * 100).toFixed(1)} | ${
      loss.toFixed(3)
    } | ${(b.mean * 100).toFixed(1)}% | ${
      dev ? devs.map((a) => (100 * a).toFixed(2) + "%").join(", ") + " | " : ""
    }${((performance.now() - t0) / 1000).toFixed(0)} |`;
    console.log(line);
    rows.push(line);
  }
  console.log("\n" + rows.join("\n"));
}

if (import.meta.main) await runMain("tune_supervised", () => main(Deno.args));
