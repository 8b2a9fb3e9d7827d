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
import type { ImageDataset } from "../data/dataset.ts";
import { sparseLabelSplit } from "../data/split.ts";
import { Rng } from "../rng.ts";
import { backboneOutputDim, buildBackbone } from "../models/backbones.ts";
import { articleHead, projectionHead } from "../models/heads/projection_heads.ts";
import { pretrainContrastive } from "../train/pretrain.ts";
import { trainSupervised } from "../train/supervised.ts";
import { gatherImages, gatherLabels } from "../train/batches.ts";
import { extractFeatures } from "../eval/features.ts";
import { knnAccuracy } from "../eval/knn.ts";
import { trainLinearProbe } from "../eval/linear_probe.ts";
import { accuracy, argmaxRows } from "../eval/metrics.ts";
import { makeAugmenter } from "../experiment/augmenter.ts";
import {
  resultStore,
  type StoredTensor,
  tensorsFromJson,
  tensorsToJson,
} from "./cache.ts";
import {
  type AblationConfig,
  budgetName,
  fineTuneSchedule,
  headConfig,
  type HeadKind,
  type LabelBudget,
} from "./recipe.ts";
import {
  type AblationResults,
  type BudgetPoint,
  chooseBestByDev,
  type FeatureScores,
  type RunSummary,
  SELECTION_RULE,
} from "./report.ts";

/** Progress messages for a CLI or a notebook. */
export type Log = (message: string) => void;

/** Probe and kNN accuracies of one seed's features (h or z), on dev and test. */
interface SeedFeatureScores {
  probe: { dev: number; test: number };
  knn: { dev: number; test: number };
}

/** One pre-training run (head, temperature, seed) and its evaluation. */
interface SeedRun {
  h: SeedFeatureScores;
  z: SeedFeatureScores;
  loss: number[];
  seconds: number;
  /** Fraction of test images whose h is all zeros (a collapse of the features). */
  zeroH: number;
  /** The pre-trained backbone's weights (for the label curve); disposed at the end. */
  weights: tf.Tensor[];
}

/** The labelled, dev and unlabelled images of one seed. */
interface SeedSplit {
  seed: number;
  labelled: Int32Array;
  dev: Int32Array;
  pool: Int32Array;
}

/**
 * The `n` labelled images of a label budget: class-balanced when possible
 * (nested: a smaller budget of a seed is a subset of a larger one), a seeded
 * random draw when a class is too small, every labelled image for "all" or a
 * budget at least as large as the training set.
 */
export function drawLabelled(
  labels: Int32Array,
  budget: LabelBudget,
  seed: number,
  balanced: boolean,
  numClasses: number,
): Int32Array {
  const counts = new Array<number>(numClasses).fill(0);
  const all: number[] = [];
  labels.forEach((l, i) => {
    if (l >= 0) {
      counts[l]++;
      all.push(i);
    }
  });
  if (budget === "all" || budget >= all.length) return Int32Array.from(all);
  const fits = counts.every((c) => c >= Math.ceil(budget / numClasses));
  return sparseLabelSplit(labels, {
    labelled: budget,
    seed,
    balanced: balanced && fits,
    numClasses,
  }).labelled;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** One log line of scores. */
function describe(h: SeedFeatureScores, z?: SeedFeatureScores): string {
  return `probe h ${pct(h.probe.test)}${z ? ` z ${pct(z.probe.test)}` : ""}, kNN h ${
    pct(h.knn.test)
  }${z ? ` z ${pct(z.knn.test)}` : ""} (test); probe h ${pct(h.probe.dev)} (dev)`;
}

/** Averages a list of per-seed runs into the JSON summary. */
function summarise(runs: SeedRun[]): RunSummary {
  const feature = (f: "h" | "z"): FeatureScores => ({
    linear_probe: {
      test: runs.map((r) => r[f].probe.test),
      dev: runs.map((r) => r[f].probe.dev),
    },
    knn: { test: runs.map((r) => r[f].knn.test), dev: runs.map((r) => r[f].knn.dev) },
  });
  return {
    h: feature("h"),
    z: feature("z"),
    pretrain_loss: runs.map((r) => r.loss),
    pretrain_s: runs.map((r) => r.seconds),
    zero_h_fraction: runs.map((r) => r.zeroH),
  };
}

/**
 * Runs the parts of the study `config.parts` names; see the module doc. With
 * `cacheDir`, every finished pre-training run and fine-tune is stored there
 * and a rerun with the same settings resumes from it (`ablation_cache.ts`).
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
  const pretrainViews = makeAugmenter(base.pretrainAugment, shape);
  const fineTuneViews = makeAugmenter(config.finetune.augment, shape);
  const newBackbone = (seed: number) => buildBackbone(base.backbone, shape, seed);
  const probeModel = newBackbone(0);
  const featureDim = backboneOutputDim(probeModel);
  probeModel.dispose();

  const testCount = Math.min(test.count, config.maxTest ?? test.count);
  const testImages = test.images.subarray(0, testCount * size);
  const testLabels = test.labels.subarray(0, testCount);

  // Per seed: labelled budget, dev holdout, unlabelled pool.
  const splits: SeedSplit[] = config.seeds.map((seed) => {
    const split = sparseLabelSplit(train.labels, {
      labelled: config.labels,
      balanced: config.balanced,
      seed,
      classNames: train.classNames,
    });
    const rng = new Rng(seed);
    const rest = rng.fork("dev").shuffle(Int32Array.from(split.unlabelled));
    if (config.dev >= rest.length) {
      throw new Error(`ablation: the dev holdout (${config.dev}) leaves no unlabelled images`);
    }
    const dev = rest.slice(0, config.dev).sort();
    let pool = rest.slice(config.dev);
    if (config.maxUnlabelled !== undefined && pool.length > config.maxUnlabelled) {
      pool = pool.slice(0, config.maxUnlabelled);
    }
    return { seed, labelled: split.labelled, dev, pool: pool.sort() };
  });

  let pretrainSeconds = 0;
  const cache = new Map<string, SeedRun>();
  // What a stored run depends on (its head, temperature and seed are in its key).
  const sslSettings = {
    version: 1,
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
  type StoredRun = Omit<SeedRun, "weights"> & { weights: StoredTensor[] };

  /** Pre-trains (head, τ) for one seed and evaluates h and z; cached. */
  const sslRun = async (head: HeadKind, temperature: number, s: SeedSplit): Promise<SeedRun> => {
    const key = `${head}|${temperature}|${s.seed}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const storeKey = `ssl-${head}-t${temperature}-seed${s.seed}`;
    const stored = sslStore.get<StoredRun>(storeKey);
    if (stored) {
      const run: SeedRun = { ...stored, weights: tensorsFromJson(stored.weights) };
      cache.set(key, run);
      log(
        `  head ${head}, τ ${temperature}, seed ${s.seed}: read from ${sslStore.dir}; ` +
          describe(run.h, run.z),
      );
      return run;
    }
    const backbone = newBackbone(s.seed);
    const g = projectionHead(headConfig(head, featureDim, config.projectionDim, s.seed));
    const tp = performance.now();
    const pre = await pretrainContrastive({
      backbone,
      head: g,
      images: train.images,
      shape,
      indices: s.pool,
      makeViews: pretrainViews?.twoViews ?? ((b) => [b, b]),
      // The same stream for every head and temperature: runs differ only by what is studied.
      rng: new Rng(s.seed).fork("pretrain"),
      config: { ...config.pretrain, temperature },
      onEpoch: (e) => {
        const epoch = `${e.epoch + 1}/${config.pretrain.epochs}`;
        log(`    epoch ${epoch}: loss ${e.loss.toFixed(4)}, ${e.seconds.toFixed(0)} s`);
      },
    });
    const seconds = (performance.now() - tp) / 1000;
    pretrainSeconds += seconds;
    const { h, z, zeroH } = await evaluate(backbone, head === "none" ? undefined : g, s);
    const run: SeedRun = {
      h,
      z,
      zeroH,
      loss: pre.history.map((e) => e.loss),
      seconds,
      weights: backbone.getWeights().map((w) => w.clone()),
    };
    backbone.dispose();
    g.dispose();
    cache.set(key, run);
    sslStore.set(storeKey, { ...run, weights: tensorsToJson(run.weights) });
    log(
      `  head ${head}, τ ${temperature}, seed ${s.seed}: loss ${
        run.loss.map((l) => l.toFixed(3)).join(" → ")
      } (${seconds.toFixed(0)} s); ${describe(h, z)}; all-zero h ${pct(zeroH)}`,
    );
    return run;
  };

  /** Linear probe and kNN on h (and on z when a head is given), dev and test. */
  const evaluate = async (
    backbone: tf.LayersModel,
    g: tf.LayersModel | undefined,
    s: SeedSplit,
  ): Promise<{ h: SeedFeatureScores; z: SeedFeatureScores; zeroH: number }> => {
    const featuresOf = async (model: (x: tf.Tensor4D) => tf.Tensor) => {
      const run = async (images: Float32Array, n: number) =>
        (await extractFeatures(model, images, n, shape)).features;
      return {
        labelled: await run(gatherImages(train.images, size, s.labelled), s.labelled.length),
        dev: await run(gatherImages(train.images, size, s.dev), s.dev.length),
        test: await run(testImages, testCount),
      };
    };
    const yLabelled = gatherLabels(train.labels, s.labelled);
    const yDev = gatherLabels(train.labels, s.dev);
    const score = (f: { labelled: Float32Array; dev: Float32Array; test: Float32Array }) => {
      const dim = f.labelled.length / s.labelled.length;
      const probe = trainLinearProbe(f.labelled, yLabelled, dim, numClasses, {
        epochs: base.probe.epochs,
        learningRate: base.probe.learningRate,
        weightDecay: base.probe.weightDecay,
        seed: s.seed,
        batchSize: Infinity,
      });
      const probeDev = accuracy(probe.predict(f.dev), yDev);
      const probeTest = accuracy(probe.predict(f.test), testLabels);
      probe.dispose();
      const knnOpts = { k: base.knnK, numClasses };
      return {
        probe: { dev: probeDev, test: probeTest },
        knn: {
          dev: knnAccuracy(f.labelled, yLabelled, f.dev, yDev, dim, knnOpts),
          test: knnAccuracy(f.labelled, yLabelled, f.test, testLabels, dim, knnOpts),
        },
      };
    };
    const fh = await featuresOf((x) => backbone.apply(x) as tf.Tensor);
    const h = score(fh);
    const dim = fh.test.length / testCount;
    let zero = 0;
    for (let i = 0; i < testCount; i++) {
      if (fh.test.subarray(i * dim, (i + 1) * dim).every((v) => v === 0)) zero++;
    }
    const z = g ? score(await featuresOf((x) => g.apply(backbone.apply(x)) as tf.Tensor)) : h;
    return { h, z, zeroH: zero / testCount };
  };
  const runAll = async (head: HeadKind, temperature: number) => {
    const runs: SeedRun[] = [];
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
      const initial: SeedRun[] = [];
      for (const s of splits) {
        const backbone = newBackbone(s.seed);
        const { h, z, zeroH } = await evaluate(backbone, undefined, s);
        backbone.dispose();
        initial.push({ h, z, zeroH, loss: [], seconds: 0, weights: [] });
        log(`  no pre-training (random backbone), seed ${s.seed}: ${describe(h)}`);
      }
      const summaries: Record<string, RunSummary> = {};
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
      const rows: (RunSummary & { temperature: number; reused: boolean })[] = [];
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
        const pre = await sslRun(head, temperature, s);
        for (let i = 0; i < config.labelBudgets.length; i++) {
          const budget = config.labelBudgets[i];
          let idx = drawLabelled(train.labels, budget, s.seed, config.balanced, numClasses);
          const schedule = fineTuneSchedule(
            idx.length,
            config.finetune.config.epochs,
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
            const backbone = newBackbone(s.seed);
            if (arm === "ssl_new_head") backbone.setWeights(pre.weights);
            const classifier = articleHead(
              featureDim,
              numClasses,
              arm === "ssl_new_head" ? s.seed + 1000 : s.seed,
            );
            const tf0 = performance.now();
            await trainSupervised({
              backbone,
              head: classifier,
              images: train.images,
              shape,
              labels: train.labels,
              numClasses,
              train: idx,
              augment: fineTuneViews?.oneView,
              rng: new Rng(s.seed).fork(`labels-${budget}-${arm}`),
              config: {
                ...config.finetune.config,
                epochs: schedule.epochs,
                lrDecay: schedule.lrDecay,
              },
            });
            const { features: logits } = await extractFeatures(
              (x) => classifier.apply(backbone.apply(x)) as tf.Tensor,
              testImages,
              testCount,
              shape,
            );
            const acc = accuracy(argmaxRows(logits, numClasses), testLabels);
            points[i][arm].test_accuracy.push(acc);
            labelStore.set(storeKey, acc);
            backbone.dispose();
            classifier.dispose();
            log(
              `  labels ${budgetName(budget)} (${idx.length}), seed ${s.seed}, ${arm}: ` +
                `${schedule.epochs} epochs, test ${(acc * 100).toFixed(1)}% (${
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
    for (const run of cache.values()) tf.dispose(run.weights);
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
}
