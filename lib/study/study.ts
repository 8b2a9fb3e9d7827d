/**
 * The projection-head study (`deno task ablation`), in three parts:
 *
 * 1. **heads**: contrastive pre-training with no projection head, a linear
 *    head, an MLP with one hidden layer and the article's MLP with two
 *    (32 → 32 → 16 → 10), each for every seed, with the same budget (epochs,
 *    batch size), the same backbone initialisation and the same augmented
 *    views; then a linear probe and kNN on the features h (backbone) and z
 *    (head) of the frozen model.
 * 2. **temperature**: the head chosen in part 1 pre-trained at several NT-Xent
 *    temperatures (the head study's own temperature is reused, not rerun).
 * 3. **labels**: test accuracy against the number of labels, for the strong
 *    supervised recipe from scratch and for the pre-trained backbone (ONE
 *    pre-training per seed, of the chosen head and temperature, reused for
 *    every budget: pre-training does not use labels) with a new head, both
 *    fine-tuned with the same recipe and reported at the final epoch.
 *
 * Choices are made on a DEV HOLDOUT: per seed, `dev` training images drawn
 * from outside the labelled budget and left out of pre-training; their labels
 * are only used to choose the head (part 1) and the temperature (part 2) by
 * mean dev linear-probe accuracy on h. Probes and kNN are trained on the
 * `labels` labelled images and evaluated on the test set once per
 * configuration; the test set never chooses anything.
 *
 * The label curve chooses nothing: every budget trains on all of its labels
 * (nested draws, class-balanced where the classes allow) with a fixed schedule
 * (the strong supervised recipe, epochs shrinking as the budget grows so that
 * no fine-tune sees more than `maxImagesSeen` images, learning rate decaying
 * to `finalLrFraction`) and reports the final model. Its labelled images may
 * overlap the pre-training pool: pre-training never reads labels.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import path from "node:path";
import { existsSync } from "node:fs";
import type { ImageDataset } from "../data/dataset.ts";
import { Rng } from "../rng.ts";
import { buildBackbone } from "../models/backbones.ts";
import type { HeadSetting } from "../models/heads/head_setting.ts";
import { loadModel, saveModel } from "../train/checkpoint.ts";
import { asPretrained, featureDimOf, pretrain, type Pretrained } from "../pipeline/pretrain.ts";
import { fineTune } from "../pipeline/fine_tune.ts";
import { evaluate } from "../pipeline/evaluate.ts";
import { resultStore } from "./cache.ts";
import {
  type AblationConfig,
  budgetName,
  fineTuneSchedule,
  headConfig,
  type HeadKind,
} from "./recipe.ts";
import {
  type AblationResults,
  type BudgetPoint,
  chooseBestByDev,
  SELECTION_RULE,
} from "./report.ts";
import { type SeedSplit, studySplits } from "./splits.ts";
import {
  describeScores,
  type ScoreData,
  scoreModel,
  type SeedScores,
  summarise,
} from "./scores.ts";

import { drawLabelled } from "./splits.ts";

export { drawLabelled };

/** Progress messages for a CLI or a notebook. */
export type Log = (message: string) => void;

/** A scored pre-training run and its models (for the label curve); disposed at the end. */
interface SeedRun extends SeedScores {
  pre: Pretrained;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** The study's head `kind` as a head setting (its input width follows the backbone). */
function headSetting(kind: HeadKind, inputDim: number, projectionDim: number): HeadSetting {
  const { kind: k, hidden, outputDim } = headConfig(kind, inputDim, projectionDim, 0);
  return { kind: k, hidden, outputDim };
}

/**
 * Runs the parts of the study `config.parts` names; see the module doc. With
 * `cacheDir`, every finished pre-training run (scores as JSON, models in
 * tfjs's format) and fine-tune is stored there and a rerun with the same
 * settings resumes from it (`cache.ts`).
 */
export async function runAblation(
  config: AblationConfig,
  data: { train: ImageDataset; test: ImageDataset },
  log: Log = () => {},
  backend: string = tf.getBackend(),
  cacheDir?: string,
): Promise<AblationResults> {
  const t0 = performance.now();
  const { train, test } = data;
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  const size = shape[0] * shape[1] * shape[2];
  const numClasses = train.classNames.length;
  const base = config.base;
  const featureDim = featureDimOf(base.backbone, shape);
  const testCount = Math.min(test.count, config.maxTest ?? test.count);
  const scoreData: ScoreData = {
    train,
    testImages: test.images.subarray(0, testCount * size),
    testLabels: test.labels.subarray(0, testCount),
    base,
  };
  const splits = studySplits(config, train);

  let pretrainSeconds = 0;
  const cache = new Map<string, SeedRun>();
  // What a stored run depends on (its head, temperature and seed are in its key).
  const sslSettings = {
    version: 2,
    dataset: config.dataset,
    backbone: base.backbone,
    augment: base.pretrainAugment,
    pretrain: { ...config.pretrain, temperature: null },
    labels: config.labels,
    dev: config.dev,
    balanced: config.balanced,
    maxUnlabelled: config.maxUnlabelled ?? null,
    maxTest: config.maxTest ?? null,
    projectionDim: config.projectionDim,
    probe: base.probe,
    knnK: base.knnK,
  };
  const sslStore = resultStore(cacheDir, sslSettings);
  const labelStore = resultStore(cacheDir, {
    ssl: sslSettings,
    finetune: config.finetune,
    maxImagesSeen: config.maxImagesSeen,
    finalLrFraction: config.finalLrFraction,
  });

  /** Pre-trains (head, τ) for one seed and scores h and z; cached in memory and in the store. */
  const sslRun = async (head: HeadKind, temperature: number, s: SeedSplit): Promise<SeedRun> => {
    const key = `${head}|${temperature}|${s.seed}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const storeKey = `ssl-${head}-t${temperature}-seed${s.seed}`;
    const modelDir = sslStore.dir ? path.join(sslStore.dir, storeKey) : undefined;
    const setting = headSetting(head, featureDim, config.projectionDim);
    const stored = sslStore.get<SeedScores>(storeKey);
    if (stored && modelDir && existsSync(path.join(modelDir, "head", "model.json"))) {
      const pre = asPretrained(
        await loadModel(path.join(modelDir, "backbone")),
        await loadModel(path.join(modelDir, "head")),
        {
          history: [],
          backbone: base.backbone,
          headSetting: setting,
          shape,
          numClasses,
          seed: s.seed,
        },
      );
      const run: SeedRun = { ...stored, pre };
      cache.set(key, run);
      log(
        `  head ${head}, τ ${temperature}, seed ${s.seed}: read from ${sslStore.dir}; ` +
          describeScores(run.h, run.z),
      );
      return run;
    }
    const tp = performance.now();
    // The same seed (initial weights, batches, views) for every head and temperature:
    // runs differ only by what is studied.
    const pre = await pretrain(train, {
      ...config.pretrain,
      temperature,
      indices: s.pool,
      backbone: base.backbone,
      head: setting,
      augment: base.pretrainAugment,
      seed: s.seed,
      onEpoch: (e) => {
        const epoch = `${e.epoch + 1}/${config.pretrain.epochs}`;
        log(`    epoch ${epoch}: loss ${e.loss.toFixed(4)}, ${e.seconds.toFixed(0)} s`);
      },
    });
    const seconds = (performance.now() - tp) / 1000;
    pretrainSeconds += seconds;
    const { h, z, zeroH } = await scoreModel(
      pre.encoder,
      head === "none" ? undefined : pre.head,
      s,
      scoreData,
    );
    const scores: SeedScores = { h, z, zeroH, loss: pre.history.map((e) => e.loss), seconds };
    cache.set(key, { ...scores, pre });
    if (modelDir) {
      await saveModel(pre.encoder, path.join(modelDir, "backbone"));
      await saveModel(pre.head, path.join(modelDir, "head"));
      sslStore.set(storeKey, scores);
    }
    log(
      `  head ${head}, τ ${temperature}, seed ${s.seed}: loss ${
        scores.loss.map((l) => l.toFixed(3)).join(" → ")
      } (${seconds.toFixed(0)} s); ${describeScores(h, z)}; all-zero h ${pct(zeroH)}`,
    );
    return { ...scores, pre };
  };
  const runAll = async (head: HeadKind, temperature: number) => {
    const runs: SeedScores[] = [];
    for (const s of splits) runs.push(await sslRun(head, temperature, s));
    return summarise(runs);
  };

  const timing = { heads: 0, temperature: 0, labels: 0 };
  const results: Omit<AblationResults, "timing_s" | "date"> = {
    kind: "ablation",
    dataset: config.dataset,
    quick: config.quick,
    seeds: [...config.seeds],
    parts: [...config.parts],
    budget: {
      pretrain_epochs: config.pretrain.epochs,
      batch_size: config.pretrain.batchSize,
      max_steps_per_epoch: config.pretrain.maxStepsPerEpoch ?? null,
      unlabelled: splits[0]?.pool.length ?? 0,
      labels: config.labels,
      dev: config.dev,
      test: testCount,
    },
    selection: SELECTION_RULE,
    config,
    backend,
  };
  let head = config.defaultHead;
  let temperature = config.pretrain.temperature;

  try {
    // Part 1: the projection heads.
    if (config.parts.includes("heads")) {
      const th = performance.now();
      log(`heads: ${config.heads.join(", ")} at τ ${temperature}`);
      // Reference: the backbone at initialisation, no pre-training (h only; z = h).
      const initial: SeedScores[] = [];
      for (const s of splits) {
        const backbone = buildBackbone(base.backbone, shape, s.seed);
        const { h, z, zeroH } = await scoreModel(backbone, undefined, s, scoreData);
        backbone.dispose();
        initial.push({ h, z, zeroH, loss: [], seconds: 0 });
        log(`  no pre-training (random backbone), seed ${s.seed}: ${describeScores(h)}`);
      }
      const summaries: Record<string, ReturnType<typeof summarise>> = {};
      for (const h of config.heads) summaries[h] = await runAll(h, temperature);
      head = chooseBestByDev(config.heads.map((h) => ({ key: h, scores: summaries[h] }))).key;
      results.heads = {
        temperature,
        results: summaries,
        best: head,
        no_pretraining: summarise(initial),
      };
      log(`heads: chosen on dev: ${head}`);
      timing.heads = (performance.now() - th) / 1000;
    }

    // Part 2: the temperature sweep with the chosen head.
    if (config.parts.includes("temperature")) {
      const tt = performance.now();
      log(`temperature: ${config.temperatures.join(", ")} with head ${head}`);
      const rows: (ReturnType<typeof summarise> & { temperature: number; reused: boolean })[] = [];
      for (const t of config.temperatures) {
        const reused = splits.every((s) => cache.has(`${head}|${t}|${s.seed}`));
        rows.push({ temperature: t, reused, ...(await runAll(head, t)) });
      }
      temperature = chooseBestByDev(rows.map((r) => ({ key: r.temperature, scores: r }))).key;
      results.temperature = { head, results: rows, best: temperature };
      log(`temperature: chosen on dev: ${temperature}`);
      timing.temperature = (performance.now() - tt) / 1000;
    }

    // Part 3: the label-budget curve, one pre-trained backbone per seed.
    if (config.parts.includes("labels")) {
      const tl = performance.now();
      log(`labels: budgets ${config.labelBudgets.join(", ")}; head ${head}, τ ${temperature}`);
      const points: BudgetPoint[] = config.labelBudgets.map((b) => ({
        name: budgetName(b),
        count: 0,
        epochs: 0,
        supervised_strong: { test_accuracy: [] },
        ssl_new_head: { test_accuracy: [] },
      }));
      for (const s of splits) {
        const { pre } = await sslRun(head, temperature, s);
        for (let i = 0; i < config.labelBudgets.length; i++) {
          const budget = config.labelBudgets[i];
          let idx = drawLabelledFor(budget, s.seed);
          const schedule = fineTuneSchedule(
            idx.length,
            config.finetune.config.epochs ?? 1,
            config.maxImagesSeen,
            config.finalLrFraction,
          );
          points[i].count = idx.length;
          points[i].epochs = schedule.epochs;
          if (schedule.subset < idx.length) {
            idx = new Rng(s.seed).fork(`labels-subset-${budget}`).shuffle(Int32Array.from(idx))
              .slice(0, schedule.subset).sort();
          }
          for (const arm of ["supervised_strong", "ssl_new_head"] as const) {
            const storeKey = `labels-${budgetName(budget)}-seed${s.seed}-${arm}` +
              (arm === "ssl_new_head" ? `-${head}-t${temperature}` : "");
            const storedAcc = labelStore.get<number>(storeKey);
            if (storedAcc !== undefined) {
              points[i][arm].test_accuracy.push(storedAcc);
              log(
                `  labels ${budgetName(budget)}, seed ${s.seed}, ${arm}: read from ` +
                  `${labelStore.dir}; test ${pct(storedAcc)}`,
              );
              continue;
            }
            const tf0 = performance.now();
            // Both arms: the same recipe, no validation, the final model.
            const model = await fineTune(arm === "ssl_new_head" ? pre : null, train, {
              labelled: idx,
            }, {
              ...config.finetune.config,
              epochs: schedule.epochs,
              lrDecay: schedule.lrDecay,
              augment: config.finetune.augment,
              select: "final",
              backbone: base.backbone,
              seed: s.seed,
              stream: `labels-${budget}-${arm}`,
            });
            const { accuracy: acc } = await evaluate(model, test, { count: testCount });
            model.dispose();
            points[i][arm].test_accuracy.push(acc);
            labelStore.set(storeKey, acc);
            log(
              `  labels ${budgetName(budget)} (${idx.length}), seed ${s.seed}, ${arm}: ` +
                `${schedule.epochs} epochs, test ${pct(acc)} (${
                  ((performance.now() - tf0) / 1000).toFixed(0)
                } s)`,
            );
          }
        }
      }
      results.labels = { head, temperature, budgets: points };
      timing.labels = (performance.now() - tl) / 1000;
    }
  } finally {
    for (const run of cache.values()) run.pre.dispose();
  }
  return {
    ...results,
    timing_s: {
      total: (performance.now() - t0) / 1000,
      pretrain: pretrainSeconds,
      ...timing,
    },
    date: new Date().toISOString(),
  };

  function drawLabelledFor(budget: AblationConfig["labelBudgets"][number], seed: number) {
    return drawLabelled(train.labels, budget, seed, config.balanced, numClasses);
  }
}
