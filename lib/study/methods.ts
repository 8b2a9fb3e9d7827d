/**
 * The study's `methods` part (`deno task ablation --part methods`): the projection head across
 * SSL methods, and why it helps. For every run of the grid (`methods_recipe.ts`: SimCLR, BYOL,
 * SimSiam, Barlow Twins, VICReg x no head / linear / the method's MLP, BYOL and SimSiam with
 * the predictor on and off), on the experiment's backbone and augmentation:
 *
 * 1. pre-train on the unlabelled pool (`pretrain` with `method`, `head`, `predictor`);
 * 2. score the frozen model: linear probe and kNN on h and on z (`scores.ts`: trained on the
 *    labelled images, measured on the dev holdout and the test set), and the SSL papers'
 *    linear evaluation of h and z (`linearEvaluation`: trained on many labelled pool images,
 *    whether the pre-training learned at all, apart from the few labels); RankMe and the spectrum
 *    of every layer from h to z on unlabelled images, and each layer's probe
 *    (`layerDiagnostics`); a probe of the applied quarter-turn and mirror at every layer
 *    (`transformProbe`, unlabelled images); a collapse flag: RankMe without centring (its
 *    paper's) of h or z below the part's threshold, or the spread of the L2-normalised z
 *    (SimSiam's measure, `collapseIndicator` x √width: about 1 spread out, 0 collapsed) below
 *    its threshold;
 * 3. fine-tune it on the labelled images three ways (`fineTune`): discard the head, keep it
 *    as the classifier (only a head with one output per class), keep its first k layers;
 *    each scored on the dev holdout (which chooses) and the test set (reported).
 *
 * Beside them, the experiment's strong supervised arm (`supervised_strong`) on the same labels,
 * at the fine-tunes' budget and at its own recipe's. Every finished run is kept in the
 * `cacheDir` store (`cache.ts`) under its settings; a rerun reads it back. Labels choose
 * nothing but on the dev holdout; RankMe's pick over the sweep is set against the validation
 * pick (`label_free_choice.ts`).
 *
 * @example
 * ```ts
 * import { runMethodsPart } from "./methods.ts";
 * import { quickAblation } from "./recipe.ts";
 * // `data`: loadMnist(); the quick grid takes about a minute on two cores.
 * export const quick = (data: Parameters<typeof runMethodsPart>[1]) =>
 *   runMethodsPart({ ...quickAblation("mnist"), parts: ["methods"] }, data);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "../data/dataset.ts";
import { gatherImages, gatherLabels } from "../train/batches.ts";
import { accuracy } from "../eval/metrics.ts";
import { layerDiagnostics } from "../eval/layer_diagnostics.ts";
import { layerFeatures } from "../eval/layer_features.ts";
import { collapseIndicator } from "../eval/monitor.ts";
import { rankMe, singularValues } from "../eval/rank.ts";
import { transformProbe } from "../eval/transform_probe.ts";
import { headSettingText } from "../models/heads/head_setting.ts";
import { featureDimOf, pretrain, type Pretrained } from "../pipeline/pretrain.ts";
import { fineTune } from "../pipeline/fine_tune.ts";
import { baselinesFor } from "../experiment/baselines.ts";
import { resultStore } from "./cache.ts";
import type { AblationConfig } from "./recipe.ts";
import {
  fineTunePlan,
  methodHeadSetting,
  type MethodRun,
  methodRuns,
  runKey,
} from "./methods_recipe.ts";
import {
  type FineTuneScore,
  isCollapsed,
  type MethodRunResult,
  methodsLabelFreeChoice,
  type MethodsPartResults,
  type StrongBaseline,
} from "./methods_report.ts";
import { linearEvaluation, type ScoreData, scoreModel } from "./scores.ts";
import { type SeedSplit, studySplits } from "./splits.ts";

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const round4 = (v: number) => Number(v.toPrecision(4));

/** What the part took: its results and the seconds spent pre-training. */
export interface MethodsPartRun {
  results: MethodsPartResults;
  pretrainSeconds: number;
}

/** Runs the `methods` part of `config` (see the module doc). */
export async function runMethodsPart(
  config: AblationConfig,
  data: { train: ImageDataset; test: ImageDataset },
  log: (message: string) => void = () => {},
  cacheDir?: string,
): Promise<MethodsPartRun> {
  const part = config.methods;
  const { train, test } = data;
  const base = config.base;
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  const size = shape[0] * shape[1] * shape[2];
  const numClasses = train.classNames.length;
  const featureDim = featureDimOf(base.backbone, shape);
  const testCount = Math.min(test.count, config.maxTest ?? test.count);
  const testImages = test.images.subarray(0, testCount * size);
  const testLabels = test.labels.subarray(0, testCount);
  const scoreData: ScoreData = { train, testImages, testLabels, base };
  const splits = studySplits({ ...config, seeds: part.seeds }, train);
  const runs = methodRuns(part);
  const store = resultStore(cacheDir, {
    version: 3,
    kind: "methods",
    dataset: config.dataset,
    backbone: base.backbone,
    augment: base.pretrainAugment,
    finetuneAugment: base.finetuneAugment,
    classifier: base.classifier,
    labels: config.labels,
    dev: config.dev,
    balanced: config.balanced,
    maxUnlabelled: config.maxUnlabelled ?? null,
    maxTest: config.maxTest ?? null,
    probe: base.probe,
    knnK: base.knnK,
    // The collapse thresholds only read the stored measures: a rerun may change them.
    part: {
      ...part,
      methods: null,
      heads: null,
      seeds: null,
      collapseRank: null,
      collapseSpread: null,
    },
  });
  let pretrainSeconds = 0;

  /** The fine-tuned classifier's accuracy on the dev holdout and the test set. */
  const scoreClassifier = async (
    model: { predict(images: Float32Array, count: number): Promise<Int32Array> },
    s: SeedSplit,
  ) => {
    const devImages = gatherImages(train.images, size, s.dev);
    return {
      validation: accuracy(
        await model.predict(devImages, s.dev.length),
        gatherLabels(train.labels, s.dev),
      ),
      test: accuracy(await model.predict(testImages, testCount), testLabels),
    };
  };

  /** The strong supervised arm's recipe, at `steps`. */
  const strongRun = async (s: SeedSplit, steps: number) => {
    const key = `methods-strong-${steps}-seed${s.seed}`;
    const hit = store.get<{ validation: number; test: number }>(key);
    if (hit) return hit;
    const recipe = baselinesFor(base).strong;
    const model = await fineTune(null, train, { labelled: s.labelled }, {
      ...recipe.config,
      steps,
      augment: recipe.augment,
      select: "final",
      backbone: recipe.backbone ?? base.backbone,
      classifier: recipe.classifier ?? base.classifier,
      seed: s.seed,
      stream: "finetune-supervised_strong",
    });
    try {
      const score = await scoreClassifier(model, s);
      store.set(key, score);
      return score;
    } finally {
      model.dispose();
    }
  };

  /** The collapse flag of a run's measures, with the part's thresholds. */
  const collapsedRun = (r: MethodRunResult) =>
    isCollapsed(
      { rankH: r.rank_me_uncentred.h, rankZ: r.rank_me_uncentred.z, spreadZ: r.spread.z },
      part.collapseRank,
      part.collapseSpread,
    );

  /** One run of the grid for one seed: pre-train, score, fine-tune. */
  const oneRun = async (run: MethodRun, s: SeedSplit): Promise<MethodRunResult> => {
    const key = `methods-${runKey(run)}-seed${s.seed}`;
    const hit = store.get<MethodRunResult>(key);
    if (hit) {
      log(`  ${run.name}, seed ${s.seed}: read from ${store.dir}`);
      return { ...hit, collapsed: collapsedRun(hit) };
    }
    const t0 = performance.now();
    const setting = methodHeadSetting(run.method, run.head);
    let pre: Pretrained | undefined;
    const learningRate = part.learningRates[run.method] ?? part.pretrain.learningRate;
    try {
      pre = await pretrain(train, {
        ...part.pretrain,
        ...(learningRate === undefined ? {} : { learningRate }),
        method: run.method,
        indices: s.pool,
        backbone: base.backbone,
        head: setting,
        ...(run.predictor === false ? { predictor: false as const } : {}),
        augment: base.pretrainAugment,
        seed: s.seed,
        onEpoch: (e) =>
          log(
            `    epoch ${e.epoch + 1}/${part.pretrain.epochs}: loss ${e.loss.toFixed(4)}, ` +
              `${e.seconds.toFixed(0)} s`,
          ),
      });
      const pretrainS = (performance.now() - t0) / 1000;
      pretrainSeconds += pretrainS;
      const hasHead = run.head !== "none";
      const scores = await scoreModel(pre.encoder, hasHead ? pre.head : undefined, s, scoreData);
      const encoder = pre.encoder;
      const head = pre.head;
      const evalH = await linearEvaluation(
        (x) => encoder.apply(x) as tf.Tensor,
        s,
        scoreData,
        part.linearEvalImages,
      );
      const evalZ = hasHead
        ? await linearEvaluation(
          (x) => head.apply(encoder.apply(x)) as tf.Tensor,
          s,
          scoreData,
          part.linearEvalImages,
        )
        : evalH;
      // Per layer, h to z: rank and spectrum on unlabelled images, probe on the test images.
      const rankIdx = s.pool.subarray(0, Math.min(part.rankImages, s.pool.length));
      const layerTest = Math.min(part.layerTest, testCount);
      const probe = { epochs: part.probeEpochs, seed: s.seed, batchSize: Infinity };
      const rankImages = gatherImages(train.images, size, rankIdx);
      const layers = await layerDiagnostics(pre.encoder, pre.head, {
        train: {
          images: gatherImages(train.images, size, s.labelled),
          labels: gatherLabels(train.labels, s.labelled),
        },
        test: {
          images: testImages.subarray(0, layerTest * size),
          labels: testLabels.subarray(0, layerTest),
        },
      }, { shape, numClasses, probe, rankImages });
      // Collapse, as the papers read it: RankMe without centring (its paper's) and the spread
      // of the L2-normalised features (SimSiam's), of h and z on the same unlabelled images.
      const feats = await layerFeatures(pre.encoder, pre.head, rankImages, rankIdx.length, shape);
      const collapse = (f: (typeof feats)[number]) => ({
        rank: rankMe(singularValues(f.features, f.count, f.dim, { centre: false })),
        spread: collapseIndicator(f.features, f.count, f.dim) * Math.sqrt(f.dim),
      });
      const cH = collapse(feats[0]);
      const cZ = collapse(feats[feats.length - 1]);
      // The transformation probes: unlabelled images from the end of the pool.
      const n = Math.min(part.transformImages, Math.floor(s.pool.length / 2));
      const tIdx = s.pool.subarray(s.pool.length - 2 * n);
      const tData = {
        train: gatherImages(train.images, size, tIdx.subarray(0, n)),
        test: gatherImages(train.images, size, tIdx.subarray(n)),
      };
      const transform = async (transformation: "rotation" | "mirror") => {
        const r = await transformProbe(pre!.encoder, pre!.head, tData, {
          shape,
          transformation,
          probe,
        });
        return {
          chance: r.chance,
          accuracy: r.rows.map((row) => ({ layer: row.layer, accuracy: row.accuracy })),
        };
      };
      const transforms = {
        rotation: shape[0] === shape[1]
          ? await transform("rotation")
          : { chance: 0.25, accuracy: [] },
        mirror: await transform("mirror"),
      };
      const rankH = layers[0].effectiveRank;
      const rankZ = layers[layers.length - 1].effectiveRank;
      // Fine-tuning: discard, keep, keep the first k layers (or why not).
      const fine: FineTuneScore[] = [];
      for (const item of fineTunePlan(run, featureDim, numClasses, part.keepLayers)) {
        if ("skip" in item) {
          fine.push({ mode: item.mode, skipped: item.skip });
          continue;
        }
        const tf0 = performance.now();
        const model = await fineTune(pre, train, { labelled: s.labelled }, {
          ...part.finetune,
          head: item.head,
          augment: base.finetuneAugment,
          classifier: base.classifier,
          select: "final",
          seed: s.seed,
          stream: `finetune-methods-${item.mode}`,
        });
        try {
          fine.push({
            mode: item.mode,
            ...(await scoreClassifier(model, s)),
            seconds: (performance.now() - tf0) / 1000,
          });
        } finally {
          model.dispose();
        }
      }
      const result: MethodRunResult = {
        name: run.name,
        key: runKey(run),
        method: run.method,
        head: run.head,
        head_setting: headSettingText(setting),
        predictor: run.predictor,
        seed: s.seed,
        probe: {
          h: { validation: scores.h.probe.dev, test: scores.h.probe.test },
          z: { validation: scores.z.probe.dev, test: scores.z.probe.test },
        },
        linear_eval: {
          images: evalH.images,
          h: { validation: evalH.dev, test: evalH.test },
          z: { validation: evalZ.dev, test: evalZ.test },
        },
        ...(learningRate === undefined ? {} : { learning_rate: learningRate }),
        knn: { h: scores.h.knn.test, z: scores.z.knn.test },
        rank_me: { h: rankH, z: rankZ },
        rank_me_uncentred: { h: cH.rank, z: cZ.rank },
        spread: { h: cH.spread, z: cZ.spread },
        zero_h: scores.zeroH,
        collapsed: false,
        layers: layers.map((l) => ({
          layer: l.layer,
          depth: l.depth,
          dim: l.dim,
          rank_me: l.effectiveRank,
          spectrum: l.spectrum.map(round4),
          probe: l.probeAccuracy,
        })),
        transforms,
        fine_tune: fine,
        pretrain_loss: pre.history.map((e) => e.loss),
        pretrain_s: pretrainS,
        seconds: (performance.now() - t0) / 1000,
      };
      result.collapsed = collapsedRun(result);
      store.set(key, result);
      const ft = fine.map((f) => `${f.mode} ${f.test === undefined ? "—" : pct(f.test)}`);
      log(
        `  ${run.name}, seed ${s.seed}: RankMe h ${rankH.toFixed(1)} z ${rankZ.toFixed(1)} ` +
          `(uncentred ${cH.rank.toFixed(1)}, ${cZ.rank.toFixed(1)}), spread of z ` +
          `${cZ.spread.toFixed(2)}, ` +
          `probe h ${pct(result.probe.h.test)} z ${pct(result.probe.z.test)}, linear eval h ` +
          `${pct(evalH.test)}` +
          `${result.collapsed ? " (collapsed)" : ""}; fine-tuned ${ft.join(", ")} ` +
          `(${result.seconds.toFixed(0)} s)`,
      );
      return result;
    } finally {
      pre?.dispose();
    }
  };

  log(
    `methods: ${part.methods.join(", ")} x heads ${part.heads.join(", ")} (${runs.length} ` +
      `pre-trainings per seed, seeds ${part.seeds.join(",")})`,
  );
  const strong: StrongBaseline[] = [
    { steps: part.finetune.steps, what: "the fine-tunes' budget", validation: [], test: [] },
  ];
  const recipeSteps = baselinesFor(base).strong.config.steps;
  if (
    part.strongAtRecipe && typeof recipeSteps === "number" && recipeSteps !== strong[0].steps
  ) {
    strong.push({ steps: recipeSteps, what: "the recipe's budget", validation: [], test: [] });
  }
  const results: MethodRunResult[] = [];
  for (const s of splits) {
    for (const b of strong) {
      const r = await strongRun(s, b.steps);
      b.validation.push(r.validation);
      b.test.push(r.test);
      log(`  strong supervised, ${b.steps} steps, seed ${s.seed}: ${pct(r.test)}`);
    }
    for (const run of runs) results.push(await oneRun(run, s));
  }
  return {
    results: {
      config: structuredClone(part),
      seeds: [...part.seeds],
      data: {
        labels: splits[0]?.labelled.length ?? 0,
        validation: splits[0]?.dev.length ?? 0,
        test: testCount,
        unlabelled: splits[0]?.pool.length ?? 0,
      },
      strong,
      runs: results,
      label_free: methodsLabelFreeChoice(results),
    },
    pretrainSeconds,
  };
}
