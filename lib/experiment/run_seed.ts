/**
 * One seed of the article's experiment, every arm:
 * - `supervised`: backbone + head trained on the labelled images only (the
 *   SSL arms' fine-tuning recipe, without augmentation);
 * - `ssl_same_head`: contrastive pre-training, then fine-tuning with the
 *   pre-training (projection) head kept as the classifier;
 * - `ssl_new_head`: the same pre-trained backbone with the projection head
 *   discarded and a freshly initialised head, fine-tuned;
 * - `linear_probe`: a linear classifier on the frozen pre-trained features h;
 * - `knn`: k-nearest-neighbour vote on the frozen pre-trained features h;
 * - `supervised_article`: the article's supervised recipe as published (SGD
 *   lr 0.001, momentum 0.9, batch 64, no augmentation), fixed epochs, final
 *   model (the article's max-over-epochs on the test set is not honest);
 * - `supervised_strong`: a well-trained supervised model on the same labels
 *   (Adam, augmentation, decaying rate, tuned on validation); see `baselines.ts`.
 * All arms select on the validation split (or keep their final model) and are
 * scored once on the test set.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "../data/dataset.ts";
import { sparseLabelSplit } from "../data/split.ts";
import { Rng } from "../rng.ts";
import { backboneOutputDim, buildBackbone } from "../models/backbones.ts";
import { articleHead } from "../models/heads/projection_heads.ts";
import { pretrainContrastive, type PretrainEpoch } from "../train/pretrain.ts";
import { type SupervisedResult, trainSupervised } from "../train/supervised.ts";
import { gatherImages, gatherLabels } from "../train/batches.ts";
import { extractFeatures } from "../eval/features.ts";
import { knnAccuracy } from "../eval/knn.ts";
import { linearProbeAccuracy } from "../eval/linear_probe.ts";
import { accuracy, argmaxRows } from "../eval/metrics.ts";
import { checkLabelBudget, type ExperimentConfig } from "./recipe.ts";
import { makeAugmenter } from "./augmenter.ts";
import { type BaselinesConfig, baselinesFor, type SupervisedRecipe } from "./baselines.ts";

/** The arms of the experiment, in the order they are reported. */
export const ARMS = [
  "supervised",
  "ssl_same_head",
  "ssl_new_head",
  "linear_probe",
  "knn",
  "supervised_article",
  "supervised_strong",
] as const;
/** One arm's name. */
export type Arm = typeof ARMS[number];

/** What one seed produces. */
export interface SeedResult {
  seed: number;
  testAccuracy: Record<Arm, number>;
  pretrainHistory: PretrainEpoch[];
  finetune: Record<
    | "supervised"
    | "ssl_same_head"
    | "ssl_new_head"
    | "supervised_article"
    | "supervised_strong",
    SupervisedResult
  >;
  timing: { pretrain: number; total: number };
}

/** Progress messages for a CLI or a notebook. */
export type Log = (message: string) => void;

/** Test accuracy of backbone + head, in chunks. */
async function testAccuracy(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
  test: ImageDataset,
  count: number,
): Promise<number> {
  const shape: [number, number, number] = [test.height, test.width, test.channels];
  const { features: logits, dim } = await extractFeatures(
    (x) => head.apply(backbone.apply(x)) as tf.Tensor,
    test.images.subarray(0, count * shape[0] * shape[1] * shape[2]),
    count,
    shape,
  );
  return accuracy(argmaxRows(logits, dim), test.labels.subarray(0, count));
}

/** A copy of `model` with the same weights. */
function copyOf<M extends tf.LayersModel>(model: M, build: () => M): M {
  const copy = build();
  copy.setWeights(model.getWeights());
  return copy;
}

/** Runs every arm for one seed. */
export async function runSeed(
  config: ExperimentConfig & { baselines?: BaselinesConfig },
  data: { train: ImageDataset; test: ImageDataset },
  seed: number,
  log: Log = () => {},
  checkpointDir?: string,
): Promise<SeedResult> {
  const t0 = performance.now();
  const { train, test } = data;
  checkLabelBudget(config, train);
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  const numClasses = train.classNames.length;
  const rng = new Rng(seed);
  const split = sparseLabelSplit(train.labels, {
    labelled: config.labels,
    validation: config.validation,
    balanced: config.balanced,
    seed,
    classNames: train.classNames,
  });
  let unlabelled = split.unlabelled;
  if (config.maxUnlabelled !== undefined && unlabelled.length > config.maxUnlabelled) {
    unlabelled = rng.fork("unlabelled-subset").shuffle(Int32Array.from(unlabelled))
      .subarray(0, config.maxUnlabelled).sort();
  }
  const testCount = Math.min(test.count, config.maxTest ?? test.count);
  const pretrainViews = makeAugmenter(config.pretrainAugment, shape);
  const finetuneViews = makeAugmenter(config.finetuneAugment, shape);
  const newBackbone = () => buildBackbone(config.backbone, shape, seed);
  const probe = newBackbone();
  const featureDim = backboneOutputDim(probe);
  probe.dispose();
  const newHead = (s: number) => articleHead(featureDim, numClasses, s);

  const finetune = async (
    name: string,
    backbone: tf.LayersModel,
    head: tf.LayersModel,
    recipe?: SupervisedRecipe,
  ): Promise<[number, SupervisedResult]> => {
    const r = await trainSupervised({
      backbone,
      head,
      images: train.images,
      shape,
      labels: train.labels,
      numClasses,
      train: split.labelled,
      validation: recipe?.select === "final" ? undefined : split.validation,
      augment: recipe ? makeAugmenter(recipe.augment, shape)?.oneView : finetuneViews?.oneView,
      rng: rng.fork(`finetune-${name}`),
      config: recipe?.config ?? config.finetune,
    });
    const acc = await testAccuracy(backbone, head, test, testCount);
    const best = r.history[r.selectedEpoch];
    log(
      `  ${name}: ${r.selectedBy === "final" ? "final" : "selected"} epoch ${
        r.selectedEpoch + 1
      }/${r.history.length} ` +
        (r.selectedBy === "final"
          ? ""
          : `(validation ${((best.validationAccuracy ?? NaN) * 100).toFixed(1)}%), `) +
        `test ${(acc * 100).toFixed(1)}%`,
    );
    return [acc, r];
  };

  // 1. Supervised on the labels only.
  log(
    `seed ${seed}: supervised baseline on ${split.labelled.length} labels (+${split.validation.length} validation)`,
  );
  const supBackbone = newBackbone();
  const supHead = newHead(seed);
  // "On the labels only": the fine-tuning recipe of the SSL arms, without augmentation
  // (no data beyond the labelled images), as the article's baseline.
  const [supAcc, supRun] = await finetune("supervised", supBackbone, supHead, {
    config: config.finetune,
    augment: { preset: "none" },
    select: "validation",
  });
  supBackbone.dispose();
  supHead.dispose();

  // 1b. The two supervised baselines: the article's recipe, and a strong one.
  const baselines = baselinesFor(config);
  const baseline = async (name: string, recipe: SupervisedRecipe) => {
    const b = newBackbone();
    const h = newHead(seed);
    const out = await finetune(name, b, h, recipe);
    b.dispose();
    h.dispose();
    return out;
  };
  const [articleAcc, articleRun] = await baseline("supervised_article", baselines.article);
  const [strongAcc, strongRun] = await baseline("supervised_strong", baselines.strong);

  // 2. Contrastive pre-training on the unlabelled images.
  log(`seed ${seed}: contrastive pre-training on ${unlabelled.length} unlabelled images`);
  const tp = performance.now();
  const backbone = newBackbone();
  const projection = newHead(seed);
  const pre = await pretrainContrastive({
    backbone,
    head: projection,
    images: train.images,
    shape,
    indices: unlabelled,
    makeViews: pretrainViews?.twoViews ?? ((b) => [b, b]),
    rng: rng.fork("pretrain"),
    config: config.pretrain,
    checkpointDir,
    onEpoch: (e) =>
      log(
        `  epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, lr ${
          e.learningRate.toExponential(2)
        }, ` +
          `${e.seconds.toFixed(1)} s (${
            ((e.steps * 2 * config.pretrain.batchSize) / e.seconds).toFixed(0)
          } views/s)`,
      ),
  });
  const pretrainSeconds = (performance.now() - tp) / 1000;

  // 3-4. Fine-tune with the head kept, and with a new head.
  const keptBackbone = copyOf(backbone, newBackbone);
  const keptHead = copyOf(projection, () => newHead(seed));
  const [sameAcc, sameRun] = await finetune("ssl_same_head", keptBackbone, keptHead);
  keptBackbone.dispose();
  keptHead.dispose();
  const freshBackbone = copyOf(backbone, newBackbone);
  const freshHead = newHead(seed + 1000);
  const [newAcc, newRun] = await finetune("ssl_new_head", freshBackbone, freshHead);
  freshBackbone.dispose();
  freshHead.dispose();

  // 5-6. Frozen features h: linear probe and kNN.
  const size = shape[0] * shape[1] * shape[2];
  const feats = async (idx: Int32Array) =>
    (await extractFeatures(backbone, gatherImages(train.images, size, idx), idx.length, shape))
      .features;
  const hTrain = await feats(split.labelled);
  const allLabelled = Int32Array.from([...split.labelled, ...split.validation]);
  const hAll = await feats(allLabelled);
  const hTest =
    (await extractFeatures(backbone, test.images.subarray(0, testCount * size), testCount, shape))
      .features;
  const testLabels = test.labels.subarray(0, testCount);
  const probeAcc = linearProbeAccuracy(
    hTrain,
    gatherLabels(train.labels, split.labelled),
    hTest,
    testLabels,
    featureDim,
    numClasses,
    {
      epochs: config.probe.epochs,
      lr: config.probe.lr,
      weightDecay: config.probe.weightDecay,
      seed,
      batchSize: Infinity,
    },
  );
  const knnAcc = knnAccuracy(
    hAll,
    gatherLabels(train.labels, allLabelled),
    hTest,
    testLabels,
    featureDim,
    {
      k: config.knnK,
      numClasses,
    },
  );
  log(
    `  linear_probe: test ${(probeAcc * 100).toFixed(1)}%; knn (k=${config.knnK}): test ${
      (knnAcc * 100).toFixed(1)
    }%`,
  );
  backbone.dispose();
  projection.dispose();
  return {
    seed,
    testAccuracy: {
      supervised: supAcc,
      ssl_same_head: sameAcc,
      ssl_new_head: newAcc,
      linear_probe: probeAcc,
      knn: knnAcc,
      supervised_article: articleAcc,
      supervised_strong: strongAcc,
    },
    pretrainHistory: pre.history,
    finetune: {
      supervised: supRun,
      ssl_same_head: sameRun,
      ssl_new_head: newRun,
      supervised_article: articleRun,
      supervised_strong: strongRun,
    },
    timing: { pretrain: pretrainSeconds, total: (performance.now() - t0) / 1000 },
  };
}
