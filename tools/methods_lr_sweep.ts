/**
 * The pre-training learning rate of each SSL method in the methods study
 * (`deno task ablation --part methods`), chosen on the dev holdout: every method with its own
 * head (and predictor) is pre-trained at the study's budget (600 steps of 256 pairs; `--epochs`
 * sets another) at each rate, then scored by the SSL papers' linear evaluation of h
 * (`linearEvaluation`: a linear classifier trained on 20,000 labelled pool images); the rate
 * with the best dev accuracy is the method's. The test accuracy is printed beside it and
 * chooses nothing. The study's defaults (`METHOD_LEARNING_RATES` in
 * lib/study/methods_recipe.ts) come from this sweep (results/methods-lr-sweep.json, made at
 * 200 steps: `--epochs 2`). `--budget experiment` sweeps the experiment's pre-training
 * instead (`deno task experiment`: 8 epochs of 512 pairs over the pool, SimCLR's head of the
 * recipe), whose rate `--pretrain-lr` sets.
 *
 * ```sh
 * deno run -A tools/methods_lr_sweep.ts --epochs 2 --rates 0.001,0.003,0.01,0.03 --out FILE
 * deno run -A tools/methods_lr_sweep.ts --methods simsiam --rates 0.003  # the study's 600 steps
 * deno run -A tools/methods_lr_sweep.ts --budget experiment --methods simclr --rates 0.001,0.01
 * ```
 *
 * @example
 * ```ts
 * import { METHODS_LR_SWEEP_COMMAND } from "./methods_lr_sweep.ts";
 * console.log(METHODS_LR_SWEEP_COMMAND.usage);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend.ts";
import {
  type CommandSpec,
  integerFlag,
  listOf,
  nonNegativeInt,
  oneOf,
  parseFlags,
  parseWith,
} from "../lib/cli/flags.ts";
import { runMain } from "../lib/cli/main.ts";
import { decayTo } from "../lib/train/schedule.ts";
import { loadDataset } from "../lib/data/load_dataset.ts";
import { pretrain } from "../lib/pipeline/pretrain.ts";
import { resultsJson } from "../lib/provenance.ts";
import { fullMethodsPart, methodHeadSetting } from "../lib/study/methods_recipe.ts";
import { fullAblation } from "../lib/study/recipe.ts";
import { linearEvaluation } from "../lib/study/scores.ts";
import { studySplits } from "../lib/study/splits.ts";
import { SSL_METHODS, type SslMethod } from "../lib/train/ssl_method.ts";
import type { ExperimentConfig } from "../lib/experiment/recipe.ts";
import type { HeadSetting } from "../lib/models/heads/head_setting.ts";
import type { PretrainConfig } from "../lib/train/pretrain.ts";

/** The command's flags (`--help`). */
export const METHODS_LR_SWEEP_COMMAND = {
  name: "methods_lr_sweep",
  usage: "deno run -A tools/methods_lr_sweep.ts [flags]",
  summary: "Each SSL method's pre-training learning rate for the methods study, chosen on the " +
    "dev holdout by the linear evaluation of h at the study's budget.",
  flags: {
    dataset: {
      type: "string",
      value: "NAME",
      default: "mnist",
      description: "mnist or fashion-mnist",
    },
    methods: {
      type: "string",
      value: "LIST",
      default: SSL_METHODS.join(","),
      description: "methods swept, comma-separated",
    },
    rates: {
      type: "string",
      value: "LIST",
      default: "0.001,0.003,0.01",
      description: "learning rates tried, comma-separated",
    },
    budget: {
      type: "string",
      value: "NAME",
      default: "study",
      description:
        "study: the methods study's pre-training (6 epochs of 100 steps of 256 pairs); " +
        "experiment: the experiment's (8 epochs of 512 pairs over the pool, its SimCLR head)",
    },
    epochs: {
      type: "string",
      value: "N",
      description: "epochs of every pre-training (default the budget's: 6 or 8)",
    },
    seed: { type: "string", value: "N", default: "0", description: "seed of the split and runs" },
    out: { type: "string", value: "FILE", description: "write the sweep as JSON to FILE" },
  },
} as const satisfies CommandSpec;

/** One pre-training of the sweep. */
export interface SweepRow {
  method: SslMethod;
  learning_rate: number;
  linear_eval_h: { dev: number; test: number };
  final_loss: number;
  seconds: number;
}

/** Each method's rate with the best dev accuracy (ties: the smaller rate). */
export function pickRates(rows: readonly SweepRow[]): Partial<Record<SslMethod, number>> {
  const best: Partial<Record<SslMethod, SweepRow>> = {};
  for (const r of rows) {
    const b = best[r.method];
    if (
      !b || r.linear_eval_h.dev > b.linear_eval_h.dev ||
      (r.linear_eval_h.dev === b.linear_eval_h.dev && r.learning_rate < b.learning_rate)
    ) best[r.method] = r;
  }
  return Object.fromEntries(Object.entries(best).map(([m, r]) => [m, r!.learning_rate]));
}

/** Whose pre-training the sweep runs: the methods study's or the experiment's. */
export type SweepBudget = "study" | "experiment";

/**
 * The pre-training settings and head of one method in the sweep: the study's budget with the
 * method's own head, or the experiment's budget (`config.base`) with the experiment's head
 * (SimCLR's of the recipe; another method's own, as `--method` gives it).
 */
export function sweepSettings(
  budget: SweepBudget,
  method: SslMethod,
  base: ExperimentConfig,
  epochs?: number,
): { pretrain: Partial<PretrainConfig>; head: HeadSetting } {
  const own = budget === "study" ? fullMethodsPart().pretrain : base.pretrain;
  const e = epochs ?? own.epochs;
  return {
    pretrain: { ...own, epochs: e, lrDecay: decayTo(0.1, e) },
    head: budget === "experiment" && method === "simclr"
      ? base.head
      : methodHeadSetting(method, "mlp"),
  };
}

const parseRates = (text: string) =>
  text.split(",").map((t) => {
    const v = Number(t.trim());
    if (!(v > 0 && v < 1)) throw new RangeError(`"${t}" is not a learning rate in (0, 1)`);
    return v;
  });

async function main(argv: readonly string[]): Promise<void> {
  const v = parseFlags(METHODS_LR_SWEEP_COMMAND, argv);
  const dataset = oneOf("dataset", v.dataset, ["mnist", "fashion-mnist"]);
  const methods = listOf("methods", v.methods, SSL_METHODS);
  const rates = parseWith("rates", v.rates, parseRates);
  const seed = nonNegativeInt("seed", v.seed);
  await initBackend();
  const { train, test } = await loadDataset(dataset);
  const config = fullAblation(dataset, train);
  const [s] = studySplits({ ...config, seeds: [seed] }, train);
  const budgetKind = oneOf("budget", v.budget, ["study", "experiment"]);
  const epochs = v.epochs === undefined ? undefined : integerFlag("epochs", v.epochs, 1);
  const budget = sweepSettings(budgetKind, "simclr", config.base, epochs).pretrain;
  const scoreData = { train, testImages: test.images, testLabels: test.labels, base: config.base };
  const rows: SweepRow[] = [];
  const t00 = performance.now();
  for (const method of methods) {
    for (const learningRate of rates) {
      const t0 = performance.now();
      const settings = sweepSettings(budgetKind, method, config.base, epochs);
      const pre = await pretrain(train, {
        ...settings.pretrain,
        learningRate,
        method,
        indices: s.pool,
        backbone: config.base.backbone,
        head: settings.head,
        augment: config.base.pretrainAugment,
        seed,
      });
      try {
        const ev = await linearEvaluation((x) => pre.encoder.apply(x) as tf.Tensor, s, scoreData);
        const row: SweepRow = {
          method,
          learning_rate: learningRate,
          linear_eval_h: { dev: ev.dev, test: ev.test },
          final_loss: pre.history.at(-1)?.loss ?? NaN,
          seconds: (performance.now() - t0) / 1000,
        };
        rows.push(row);
        console.log(
          `${method} lr ${learningRate}: linear evaluation of h, dev ${
            (ev.dev * 100).toFixed(1)
          }%, test ${(ev.test * 100).toFixed(1)}% (${row.seconds.toFixed(0)} s)`,
        );
      } finally {
        pre.dispose();
      }
    }
  }
  const picked = pickRates(rows);
  console.log(`chosen on dev: ${JSON.stringify(picked)}`);
  if (v.out) {
    await Deno.writeTextFile(
      v.out,
      resultsJson({
        kind: "methods-lr-sweep",
        dataset,
        seed,
        budget_kind: budgetKind,
        budget,
        rates,
        rows,
        picked,
        date: new Date().toISOString(),
        wall_s: (performance.now() - t00) / 1000,
      }, "deno run -A tools/methods_lr_sweep.ts"),
    );
  }
}

if (import.meta.main) await runMain("methods_lr_sweep", () => main(Deno.args));
