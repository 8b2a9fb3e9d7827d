/**
 * The experiment's self-training settings (`distill` of `deno task experiment`), chosen on the
 * dev holdout: for each seed, the experiment's `supervised_strong` arm is trained once on the
 * seed's labelled images, then its `self_trained` student (the control that self-trains the
 * strong baseline on the unlabelled images, no pre-training: the same settings as
 * `ssl_distilled`'s) is trained with every candidate, and scored on `--dev` pool images with
 * their labels, held out of the students' unlabelled images. The test set is not loaded into
 * a decision: the tool does not evaluate it at all. Forty validation images cannot tell
 * students at 96% apart (one image is 2.5 points); thousands of pool images can.
 *
 * ```sh
 * deno run -A tools/self_training_sweep.ts --seeds 0 --only threshold-0.7,threshold-0.95
 * ```
 *
 * @example
 * ```ts
 * import { SELF_TRAINING_CANDIDATES } from "./self_training_sweep.ts";
 * console.log(Object.keys(SELF_TRAINING_CANDIDATES)); // ["threshold-0.7", ...]
 * ```
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import { type CommandSpec, parseFlags } from "../lib/cli/flags.ts";
import { devSweepFlags, devSweepValues } from "../lib/cli/common_flags.ts";
import { asUsageError, runMain } from "../lib/cli/main.ts";
import { loadDataset } from "../lib/data/load_dataset.ts";
import { armContext, type FineTunedOf, trainArm } from "../lib/experiment/arms.ts";
import { type DistillSettings, recipeFor } from "../lib/experiment/recipe.ts";
import type { FineTuned } from "../lib/pipeline/fine_tune.ts";
import { resultsJson } from "../lib/provenance.ts";
import { devScorer } from "../lib/experiment/dev_holdout.ts";

/**
 * The candidates: changes to the recipe's `distill` settings (name → change). The recipe of
 * 2026-12-07 before the sweep was "threshold-0.7"; the sweep chose "threshold-0.5-steps-2500".
 */
export const SELF_TRAINING_CANDIDATES: Record<string, Partial<DistillSettings>> = {
  "threshold-0.7": { threshold: 0.7, steps: 1500 },
  "threshold-0.5": { threshold: 0.5, steps: 1500 },
  "threshold-0.6": { threshold: 0.6, steps: 1500 },
  "threshold-0.3": { threshold: 0.3, steps: 1500 },
  "threshold-0.9": { threshold: 0.9, steps: 1500 },
  "threshold-0.95": { threshold: 0.95, steps: 1500 },
  "mean-teacher-0.99": { threshold: 0.7, steps: 1500, emaMomentum: 0.99 },
  "threshold-0.5-steps-2500": { threshold: 0.5, steps: 2500 },
};

/** The candidate the sweep chose (best mean dev accuracy): the recipe's `distill` since. */
export const SELF_TRAINING_CHOSEN = "threshold-0.5-steps-2500";

/** The command's flags (`--help`). */
export const SELF_TRAINING_SWEEP_COMMAND = {
  name: "self_training_sweep",
  usage: "deno run -A tools/self_training_sweep.ts [flags]",
  summary: "Trains the experiment's self-trained student with every candidate setting and " +
    "scores it on labelled pool images (the dev holdout); the test set is never read.",
  flags: {
    ...devSweepFlags(Object.keys(SELF_TRAINING_CANDIDATES)),
    out: { type: "string", value: "FILE", description: "write the scores as JSON to FILE" },
  },
} as const satisfies CommandSpec;

async function main(argv: readonly string[]): Promise<void> {
  const values = parseFlags(SELF_TRAINING_SWEEP_COMMAND, argv);
  const { seeds, dev, names } = devSweepValues(values, Object.keys(SELF_TRAINING_CANDIDATES));
  await initBackend();
  const data = await asUsageError(() => loadDataset(values.dataset));
  const scores: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const seed of seeds) {
    const config = recipeFor(values.dataset, false, data.train);
    const ctx = armContext(config, data, seed);
    const { unlabelled, score } = devScorer(data.train, ctx.split.unlabelled, dev);
    ctx.split = { ...ctx.split, unlabelled };
    const strong = await trainArm(ctx, "supervised_strong") as FineTuned;
    const teachers: FineTunedOf[] = [{ arm: "supervised_strong", model: strong }];
    console.log(`seed ${seed}: supervised_strong, dev ${(100 * await score(strong)).toFixed(2)}%`);
    for (const name of names) {
      ctx.config.distill = { ...config.distill, ...SELF_TRAINING_CANDIDATES[name] };
      const t0 = performance.now();
      const student = await trainArm(
        ctx,
        "self_trained",
        undefined,
        undefined,
        teachers,
      ) as FineTuned;
      const acc = await score(student);
      scores[name].push(acc);
      student.dispose();
      console.log(
        `seed ${seed}: ${name}, dev ${(100 * acc).toFixed(2)}% (${
          ((performance.now() - t0) / 1000).toFixed(0)
        } s)`,
      );
    }
    strong.dispose();
  }
  const rows = names.map((n) =>
    `| ${n} | ${scores[n].map((a) => (100 * a).toFixed(2) + "%").join(", ")} | ${
      (100 * scores[n].reduce((a, b) => a + b, 0) / scores[n].length).toFixed(2)
    }% |`
  );
  console.log(
    ["\n| candidate | dev accuracy per seed | mean |", "| --- | --- | --- |", ...rows].join("\n"),
  );
  if (values.out) {
    await Deno.writeTextFile(
      values.out,
      resultsJson({
        dataset: values.dataset,
        seeds,
        dev,
        candidates: SELF_TRAINING_CANDIDATES,
        scores,
      }, "deno run -A tools/self_training_sweep.ts"),
    );
  }
}

if (import.meta.main) await runMain("self_training_sweep", () => main(Deno.args));
