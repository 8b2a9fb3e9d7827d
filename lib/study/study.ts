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
 * 3. **labels**: the label curve (`label_curve.ts`): the experiment's arms —
 *    pixels, strong supervised, self-training without pre-training, SSL +
 *    fine-tune, SSL + self-training — at every label budget, with the
 *    experiment's recipe (ONE pre-training per seed, reused for every budget:
 *    pre-training does not use labels), final models, no validation images.
 *
 * Choices are made on a DEV HOLDOUT: per seed, `dev` training images drawn
 * from outside the labelled budget and left out of pre-training; their labels
 * are only used to choose the head (part 1) and the temperature (part 2) by
 * mean dev linear-probe accuracy on h. Probes and kNN are trained on the
 * `labels` labelled images and evaluated on the test set once per
 * configuration; the test set never chooses anything.
 *
 * The label curve chooses nothing: every budget trains on all of its labels
 * (class-balanced draws) with the experiment's recipes and reports the final
 * models. Its labelled images may overlap the pre-training pool: pre-training
 * never reads labels.
 *
 * @example
 * ```ts
 * import type { ImageDataset } from "../data/dataset.ts";
 * import { quickAblation } from "./recipe.ts";
 * import { runAblation } from "./study.ts";
 * // The head part of the quick study (minutes on two cores), progress on the console.
 * async function headStudy(data: { train: ImageDataset; test: ImageDataset }) {
 *   const config = { ...quickAblation("mnist"), parts: ["heads" as const] };
 *   return await runAblation(config, data, console.log);
 * }
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import path from "node:path";
import type { ImageDataset } from "../data/dataset.ts";
import { buildBackbone } from "../models/backbones.ts";
import type { HeadSetting } from "../models/heads/head_setting.ts";
import {
  featureDimOf,
  loadPretrained,
  pretrain,
  type Pretrained,
  savePretrained,
} from "../pipeline/pretrain.ts";
import { resultStore } from "./cache.ts";
import { type AblationConfig, headConfig, type HeadKind } from "./recipe.ts";
import { type AblationResults, chooseBestByDev, SELECTION_RULE } from "./report.ts";
import { type SeedSplit, studySplits } from "./splits.ts";
import {
  describeScores,
  type ScoreData,
  scoreModel,
  type SeedScores,
  summarise,
} from "./scores.ts";

import { drawLabelled } from "./splits.ts";
import { runLabelCurve } from "./label_curve.ts";
import { runMethodsPart } from "./methods.ts";
import type { ArmPool } from "../experiment/arm_pool.ts";
import { headSettingText } from "../models/heads/head_setting.ts";
import type { ResultStore } from "./cache.ts";

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
  options: { pool?: ArmPool } = {},
): Promise<AblationResults> {
  const t0 = performance.now();
  const { train, test } = data;
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  const size = shape[0] * shape[1] * shape[2];
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

  /** Pre-trains (head, τ) for one seed and scores h and z; cached in memory and in the store. */
  const sslRun = async (head: HeadKind, temperature: number, s: SeedSplit): Promise<SeedRun> => {
    const key = `${head}|${temperature}|${s.seed}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const storeKey = `ssl-${head}-t${temperature}-seed${s.seed}`;
    const modelDir = sslStore.dir ? path.join(sslStore.dir, storeKey) : undefined;
    const setting = headSetting(head, featureDim, config.projectionDim);
    const stored = sslStore.get<SeedScores>(storeKey);
    const savedPre = stored && modelDir ? await loadPretrained(modelDir) : undefined;
    if (stored && savedPre) {
      const run: SeedRun = { ...stored, pre: savedPre };
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
      await savePretrained(modelDir, pre);
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

  const timing = { heads: 0, temperature: 0, labels: 0, methods: 0 };
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

    // Part 3: the label curve: the experiment's arms at every budget, one pre-training per seed.
    if (config.parts.includes("labels")) {
      const tl = performance.now();
      log(
        `labels: budgets ${config.labelBudgets.join(", ")}; the experiment's recipe (head ` +
          `${headSettingText(base.head)}, τ ${base.pretrain.temperature})`,
      );
      const curveStore = resultStore(cacheDir, { ssl: sslSettings, base, version: 3 });
      const pres: Pretrained[] = [];
      try {
        const budgets = await runLabelCurve(base, data, {
          budgets: config.labelBudgets,
          pool: options.pool,
          store: curveStore,
          log,
          seeds: splits.map((s) => ({
            seed: s.seed,
            pre: async () => {
              const p = await curvePretraining(s, curveStore);
              pres.push(p);
              return p;
            },
          })),
        });
        results.labels = {
          head: headSettingText(base.head),
          temperature: base.pretrain.temperature,
          budgets,
        };
      } finally {
        for (const p of pres) p.dispose();
      }
      timing.labels = (performance.now() - tl) / 1000;
    }

    // Part 4 (only when asked for): the projection head across SSL methods.
    if (config.parts.includes("methods")) {
      const tm = performance.now();
      const m = await runMethodsPart(config, data, log, cacheDir);
      results.methods = m.results;
      pretrainSeconds += m.pretrainSeconds;
      timing.methods = (performance.now() - tm) / 1000;
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

  /** The experiment recipe's pre-training of one seed on the study's pool (kept in `store`). */
  async function curvePretraining(s: SeedSplit, store: ResultStore): Promise<Pretrained> {
    const key = `curve-pretraining-seed${s.seed}`;
    const dir = store.dir ? path.join(store.dir, key) : undefined;
    const saved = dir && store.get<boolean>(key) ? await loadPretrained(dir) : undefined;
    if (saved) {
      log(`  labels: seed ${s.seed}'s pre-training read from ${store.dir}`);
      return saved;
    }
    const tp = performance.now();
    const pre = await pretrain(train, {
      ...base.pretrain,
      indices: s.pool,
      backbone: base.backbone,
      head: base.head,
      augment: base.pretrainAugment,
      seed: s.seed,
      onEpoch: (e) =>
        log(`    epoch ${e.epoch + 1}/${base.pretrain.epochs}: loss ${e.loss.toFixed(4)}`),
    });
    pretrainSeconds += (performance.now() - tp) / 1000;
    if (dir) {
      await savePretrained(dir, pre);
      store.set(key, true);
    }
    return pre;
  }
}
