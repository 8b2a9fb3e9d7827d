/**
 * Supervised training and fine-tuning on the few labelled images: the
 * article's baseline (backbone + head from scratch), fine-tuning a pre-trained
 * backbone with its pre-training head kept or a new head, and a linear probe
 * (backbone frozen, a linear classifier on top). Cross-entropy on the head's
 * logits; SGD with momentum (the article's) or Adam; optional augmentation of
 * the labelled images. Model selection never looks at the test set: the
 * epoch with the best validation accuracy (validation carved out of the
 * labelled budget; ties go to the lower validation loss) is restored, or the
 * final epoch is kept when there is no validation split.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { Rng } from "../rng.ts";
 * import { trainSupervised } from "./supervised.ts";
 * const images = new Float32Array(20 * 28 * 28); // 20 labelled 28x28 images
 * const labels = Int32Array.from({ length: 20 }, (_, i) => i % 10);
 * const r = await trainSupervised({
 *   backbone: articleBackbone([28, 28, 1]),
 *   head: articleHead(32, 10),
 *   images,
 *   shape: [28, 28, 1],
 *   labels,
 *   train: Int32Array.from({ length: 15 }, (_, i) => i),
 *   validation: Int32Array.from({ length: 5 }, (_, i) => 15 + i),
 *   rng: new Rng(0),
 *   config: { epochs: 2, batchSize: 5, optimizer: "sgd", learningRate: 0.01 },
 * });
 * r.selectedBy; // "validation": the epoch with the best validation accuracy was kept
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../rng.ts";
import { batchesOf, gatherImages, gatherLabels } from "./batches.ts";
import { decayTo, epochsForSteps, type StepBudget } from "./schedule.ts";

/** Settings of supervised training (plain JSON). */
export interface SupervisedConfig {
  /** Passes over the labelled images (unless `steps` is set). */
  epochs: number;
  /**
   * A budget of optimiser steps instead of epochs: a number, or steps per
   * labelled image (clamped), so that 80 labels train as long as 800 do
   * per image and a tiny label budget is not two steps an epoch for a few epochs.
   */
  steps?: number | StepBudget;
  /** Decay the learning rate to this fraction of its start over the run (instead of `lrDecay`). */
  finalLrFraction?: number;
  batchSize: number;
  optimizer: "sgd" | "adam";
  learningRate: number;
  /** SGD momentum (the article: 0.9). */
  momentum?: number;
  /** Learning rate multiplier per epoch. */
  lrDecay?: number;
  /** Freeze the backbone (a linear probe when the head is one dense layer). */
  freezeBackbone?: boolean;
  /** Learning rate multiplier for the backbone when it is trained (e.g. 0.1 to fine-tune gently). */
  backboneLrScale?: number;
  /** L2 weight decay on all trained kernels. */
  weightDecay?: number;
}

/** One epoch, as reported to callbacks and kept in the history. */
export interface SupervisedEpoch {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  validationLoss?: number;
  validationAccuracy?: number;
  seconds: number;
}

/**
 * Distillation on unlabelled images (SimCLRv2's third step): with every
 * labelled batch, a batch of unlabelled images whose targets are a teacher's
 * soft labels. The loss is `weight · CE(true labels) + (1 - weight) · τ² ·
 * CE(teacher's softmax(logits / τ), student's softmax(logits / τ))`.
 */
export interface DistillTargets {
  /** The unlabelled images (indices into `images`). */
  indices: Int32Array;
  /** The teacher's softmax at `temperature`, `indices.length x numClasses`, row-major. */
  probs: Float32Array;
  /** τ of both softmaxes (SimCLRv2: 1). */
  temperature: number;
  /** Weight of the true labels' loss, in [0, 1) (the rest goes to the soft labels). */
  weight: number;
  /** Unlabelled images per step. */
  batchSize: number;
}

/** Everything `trainSupervised` needs. */
export interface SupervisedOptions {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  images: Float32Array;
  shape: [number, number, number];
  labels: Int32Array;
  numClasses?: number;
  /** Indices of the training images. */
  train: Int32Array;
  /** Indices of the validation images (may be empty: then the final epoch is kept). */
  validation?: Int32Array;
  /** Augments a batch of `count` images (one view); none when omitted. */
  augment?: (batch: Float32Array, count: number, rng: Rng) => Float32Array;
  rng: Rng;
  config: SupervisedConfig;
  onEpoch?: (e: SupervisedEpoch) => void | Promise<void>;
  /** Also learn a teacher's soft labels of unlabelled images (distillation). */
  distill?: DistillTargets;
}

/** What `trainSupervised` returns. */
export interface SupervisedResult {
  history: SupervisedEpoch[];
  /** The epoch whose weights the models hold now. */
  selectedEpoch: number;
  selectedBy: "validation" | "final";
}

/** Mean cross-entropy and accuracy of backbone+head on `idx`, in chunks. */
export function evaluateLoss(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  labels: Int32Array,
  idx: Int32Array,
  numClasses: number,
  chunk = 500,
): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < idx.length; i += chunk) {
    const part = idx.subarray(i, Math.min(i + chunk, idx.length));
    const [l, c] = chunkLoss(backbone, head, images, shape, labels, part, numClasses);
    loss += l.dataSync()[0];
    correct += c.dataSync()[0];
    tf.dispose([l, c]);
  }
  return { loss: loss / idx.length, accuracy: correct / idx.length };
}

/**
 * {@linkcode evaluateLoss} reading with `await data()` (the same numbers; the
 * only form that runs on webgpu, which has no synchronous read in Deno).
 */
export async function evaluateLossAsync(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  labels: Int32Array,
  idx: Int32Array,
  numClasses: number,
  chunk = 500,
): Promise<{ loss: number; accuracy: number }> {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < idx.length; i += chunk) {
    const part = idx.subarray(i, Math.min(i + chunk, idx.length));
    const [l, c] = chunkLoss(backbone, head, images, shape, labels, part, numClasses);
    const [lv, cv] = await Promise.all([l.data(), c.data()]);
    tf.dispose([l, c]);
    loss += lv[0];
    correct += cv[0];
  }
  return { loss: loss / idx.length, accuracy: correct / idx.length };
}

/** Summed cross-entropy and number correct of one chunk, as scalars. */
function chunkLoss(
  backbone: tf.LayersModel,
  head: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  labels: Int32Array,
  part: Int32Array,
  numClasses: number,
): [tf.Scalar, tf.Scalar] {
  const size = shape[0] * shape[1] * shape[2];
  return tf.tidy(() => {
    const x = tf.tensor4d(gatherImages(images, size, part), [part.length, ...shape]);
    const y = tf.tensor1d(gatherLabels(labels, part), "int32");
    const logits = head.apply(backbone.apply(x)) as tf.Tensor2D;
    const l = tf.losses.softmaxCrossEntropy(
      tf.oneHot(y, numClasses),
      logits,
      undefined,
      0,
      tf.Reduction.SUM,
    ) as tf.Scalar;
    const c = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32")) as tf.Scalar;
    return [l, c];
  });
}

function makeOptimizer(config: SupervisedConfig, lr: number): tf.Optimizer {
  return config.optimizer === "sgd"
    ? tf.train.momentum(lr, config.momentum ?? 0.9)
    : tf.train.adam(lr);
}

/**
 * The unlabelled batches of one epoch of distillation: a seeded order over
 * the unlabelled images, taken `batchSize` at a time and started again when
 * it runs out.
 */
function distillBatches(d: DistillTargets, rng: Rng) {
  const order = rng.permutation(d.indices.length);
  let at = 0;
  return {
    next(
      images: Float32Array,
      size: number,
      numClasses: number,
      augment?: SupervisedOptions["augment"],
    ) {
      const count = Math.min(d.batchSize, d.indices.length);
      const rows = new Int32Array(count);
      for (let k = 0; k < count; k++) {
        if (at === order.length) at = 0;
        rows[k] = order[at++];
      }
      let batch = gatherImages(images, size, gatherLabels(d.indices, rows));
      if (augment) batch = augment(batch, count, rng);
      const probs = new Float32Array(count * numClasses);
      rows.forEach((r, k) =>
        probs.set(d.probs.subarray(r * numClasses, (r + 1) * numClasses), k * numClasses)
      );
      return { images: batch, probs, count };
    },
  };
}

/** Trains backbone + head on the labelled images; see the module doc. */
export async function trainSupervised(opts: SupervisedOptions): Promise<SupervisedResult> {
  const { backbone, head, images, shape, labels, config, rng, distill } = opts;
  const numClasses = opts.numClasses ?? 10;
  const validation = opts.validation ?? new Int32Array(0);
  if (opts.train.length === 0) throw new Error("trainSupervised: no labelled training images");
  for (const i of opts.train) {
    if (!(labels[i] >= 0 && labels[i] < numClasses)) {
      throw new Error(
        `trainSupervised: training image ${i} has label ${labels[i]}, outside 0..${numClasses - 1}`,
      );
    }
  }
  const size = shape[0] * shape[1] * shape[2];
  const headVars = head.trainableWeights.map((w) => w.read() as tf.Variable);
  const backboneVars = backbone.trainableWeights.map((w) => w.read() as tf.Variable);
  const trainBackbone = !config.freezeBackbone;
  const lrScale = config.backboneLrScale ?? 1;
  const headOpt = makeOptimizer(config, config.learningRate);
  const backboneOpt = trainBackbone
    ? makeOptimizer(config, config.learningRate * lrScale)
    : undefined;

  const history: SupervisedEpoch[] = [];
  let best: { acc: number; loss: number; epoch: number; weights: tf.Tensor[] } | undefined;
  const snapshot = () => [...backbone.getWeights(), ...head.getWeights()].map((w) => w.clone());

  const epochs = config.steps === undefined
    ? config.epochs
    : epochsForSteps(config.steps, opts.train.length, config.batchSize);
  const lrDecay = config.finalLrFraction === undefined
    ? config.lrDecay ?? 1
    : decayTo(config.finalLrFraction, epochs);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const t0 = performance.now();
    const decay = Math.pow(lrDecay, epoch);
    (headOpt as unknown as { learningRate: number }).learningRate = config.learningRate * decay;
    if (backboneOpt) {
      (backboneOpt as unknown as { learningRate: number }).learningRate = config.learningRate *
        lrScale * decay;
    }
    const epochRng = rng.fork(`supervised-epoch-${epoch}`);
    const order = epochRng.shuffle(Int32Array.from(opts.train));
    const unlabelledBatches = distill
      ? distillBatches(distill, epochRng.fork("distill"))
      : undefined;
    let lossSum = 0;
    let correct = 0;
    for (const batch of batchesOf(order, config.batchSize, false)) {
      let xs = gatherImages(images, size, batch);
      if (opts.augment) xs = opts.augment(xs, batch.length, epochRng);
      const ys = gatherLabels(labels, batch);
      const soft = unlabelledBatches?.next(images, size, numClasses, opts.augment);
      const n = batch.length;
      const [lT, cT] = tf.tidy(() => {
        const x = tf.tensor4d(xs, [n, ...shape]);
        const y = tf.oneHot(tf.tensor1d(ys, "int32"), numClasses);
        const vars = trainBackbone ? [...backboneVars, ...headVars] : headVars;
        let logits: tf.Tensor2D | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const input = soft ? tf.concat([x, tf.tensor4d(soft.images, [soft.count, ...shape])]) : x;
          const feats = backbone.apply(input, { training: true }) as tf.Tensor;
          const all = head.apply(feats, { training: true }) as tf.Tensor2D;
          logits = tf.keep(soft ? tf.slice(all, [0, 0], [n, -1]) : all);
          let loss = tf.losses.softmaxCrossEntropy(y, logits);
          if (soft && distill) {
            const t = distill.temperature;
            const student = tf.div(tf.slice(all, [n, 0], [soft.count, -1]), t);
            const targets = tf.tensor2d(soft.probs, [soft.count, numClasses]);
            const kd = tf.mul(tf.losses.softmaxCrossEntropy(targets, student), t * t);
            loss = tf.add(tf.mul(loss, distill.weight), tf.mul(kd, 1 - distill.weight));
          }
          if (config.weightDecay) {
            const l2 = tf.addN(vars.filter((v) => v.rank > 1).map((v) => tf.sum(tf.square(v))));
            loss = tf.add(loss, tf.mul(l2, config.weightDecay));
          }
          return loss as tf.Scalar;
        }, vars);
        headOpt.applyGradients(Object.fromEntries(headVars.map((v) => [v.name, grads[v.name]])));
        if (backboneOpt) {
          backboneOpt.applyGradients(
            Object.fromEntries(backboneVars.map((v) => [v.name, grads[v.name]])),
          );
        }
        // Training accuracy of the batch as it was seen (before this update).
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits!, 1), tf.argMax(y, 1)), "float32"));
        tf.dispose(logits);
        return [value, hits];
      });
      const [lv, cv] = await Promise.all([lT.data(), cT.data()]);
      tf.dispose([lT, cT]);
      const l = lv[0] * batch.length;
      const c = cv[0];
      if (!Number.isFinite(l)) {
        tf.dispose(best?.weights ?? []);
        headOpt.dispose();
        backboneOpt?.dispose();
        throw new Error(`supervised training stopped: the loss became ${l} at epoch ${epoch + 1}`);
      }
      lossSum += l;
      correct += c;
    }
    const record: SupervisedEpoch = {
      epoch,
      loss: lossSum / opts.train.length,
      trainAccuracy: correct / opts.train.length,
      seconds: 0,
    };
    if (validation.length > 0) {
      const v = await evaluateLossAsync(
        backbone,
        head,
        images,
        shape,
        labels,
        validation,
        numClasses,
      );
      record.validationLoss = v.loss;
      record.validationAccuracy = v.accuracy;
      if (!best || v.accuracy > best.acc || (v.accuracy === best.acc && v.loss < best.loss)) {
        tf.dispose(best?.weights ?? []);
        best = { acc: v.accuracy, loss: v.loss, epoch, weights: snapshot() };
      }
    }
    record.seconds = (performance.now() - t0) / 1000;
    history.push(record);
    await opts.onEpoch?.(record);
  }
  headOpt.dispose();
  backboneOpt?.dispose();
  if (best) {
    const nb = backbone.getWeights().length;
    backbone.setWeights(best.weights.slice(0, nb));
    head.setWeights(best.weights.slice(nb));
    tf.dispose(best.weights);
    return { history, selectedEpoch: best.epoch, selectedBy: "validation" };
  }
  return { history, selectedEpoch: config.epochs - 1, selectedBy: "final" };
}
