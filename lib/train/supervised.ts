/**
 * Supervised training and fine-tuning on the few labelled images: the
 * article's baseline (backbone + head from scratch), fine-tuning a pre-trained
 * backbone with its pre-training head kept or a new head (the linear probe on
 * frozen features is `lib/eval/linear_probe.ts`). Cross-entropy on the head's
 * logits (optionally with label smoothing); SGD with momentum (the article's),
 * Adam or AdamW (`optimizer.ts`); a budget in optimiser steps (or the
 * article's epochs) with a constant, cosine or per-epoch exponential rate;
 * optional augmentation of the labelled images; optionally, a teacher's soft
 * labels or the model's own pseudo-labels on unlabelled images
 * (`unlabelled.ts`); optionally, an exponential moving average of the weights
 * kept as the model (`averageWeights`). The models are called in training mode
 * (batch statistics, dropout) while they learn and in inference mode otherwise.
 * Model selection never looks at the test set: the record (every
 * `evalEvery` steps, one epoch by default) with the best validation accuracy
 * (validation carved out of the labelled budget; ties go to the lower
 * validation loss) is restored, or the final model is kept when there is no
 * validation split.
 *
 * The parts, one concept a module: `supervised_config.ts` (the settings,
 * {@linkcode SupervisedConfig}, and their budget in steps, {@linkcode supervisedSteps}),
 * `supervised_options.ts` (what {@linkcode trainSupervised} takes and returns) and
 * `supervised_evaluation.ts` (the validation score, {@linkcode evaluateLoss}); their names
 * import from here too.
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
import { cloneModel } from "../models/model_transfer.ts";
import { batchesOf, gatherImages, gatherLabels } from "./batches.ts";
import { decayTo } from "./schedule.ts";
import {
  learningRateAt,
  makeOptimizer,
  optimizerStep,
  type ScheduleSettings,
} from "./optimizer.ts";
import { gatherRows, unlabelledSampler } from "./unlabelled.ts";
import { supervisedSteps } from "./supervised_config.ts";
import type { SupervisedEpoch, SupervisedOptions, SupervisedResult } from "./supervised_options.ts";
import { evaluateLoss } from "./supervised_evaluation.ts";

export type { DistillTargets, SelfTraining } from "./unlabelled.ts";
export { type SupervisedConfig, supervisedSteps } from "./supervised_config.ts";
export type { SupervisedEpoch, SupervisedOptions, SupervisedResult } from "./supervised_options.ts";
export { evaluateLoss } from "./supervised_evaluation.ts";

/** The extra batch of unlabelled images one step learns from, if any. */
interface UnlabelledBatch {
  count: number;
  /** What the model trains on (the strong view, or the augmented image for distillation). */
  images: Float32Array;
  /** Distillation: the teacher's probabilities of those images. */
  probs?: Float32Array;
  /** Self-training: the weak view, whose prediction is the pseudo-label. */
  weak?: Float32Array;
}

/** Trains backbone + head on the labelled images; see the module doc. */
export async function trainSupervised(opts: SupervisedOptions): Promise<SupervisedResult> {
  const { backbone, head, images, shape, labels, config, rng, distill, selfTrain } = opts;
  const numClasses = opts.numClasses ?? 10;
  const validation = opts.validation ?? new Int32Array(0);
  if (opts.train.length === 0) throw new Error("trainSupervised: no labelled training images");
  if (distill && selfTrain) throw new Error("trainSupervised: distill or selfTrain, not both");
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
  const lrScale = config.backboneLrScale ?? 1;
  const headOpt = makeOptimizer(config);
  const backboneOpt = makeOptimizer({ ...config, learningRate: config.learningRate * lrScale });
  const stepsPerEpoch = Math.ceil(opts.train.length / config.batchSize);
  const total = supervisedSteps(config, opts.train.length);
  const schedule: ScheduleSettings = config.finalLrFraction === undefined ? config : {
    ...config,
    schedule: "exponential",
    lrDecay: decayTo(config.finalLrFraction, Math.ceil(total / stepsPerEpoch)),
  };
  const evalEvery = config.evalEvery ?? stepsPerEpoch;
  if (!Number.isInteger(evalEvery) || evalEvery < 1) {
    throw new RangeError(`trainSupervised: evalEvery must be a positive integer, got ${evalEvery}`);
  }
  const smoothing = config.labelSmoothing ?? 0;
  const l2 = config.optimizer === "adamw" ? 0 : config.weightDecay ?? 0;
  const extra = distill ?? selfTrain;
  const nextUnlabelled = extra
    ? unlabelledSampler(extra.indices.length, extra.batchSize, rng.fork("unlabelled"))
    : undefined;
  const unlabelledBatch = (stepRng: Rng): UnlabelledBatch | undefined => {
    if (!extra || !nextUnlabelled) return undefined;
    const rows = nextUnlabelled();
    const count = rows.length;
    const raw = gatherImages(images, size, gatherLabels(extra.indices, rows));
    if (distill) {
      return {
        count,
        images: opts.augment ? opts.augment(raw, count, stepRng) : raw,
        probs: gatherRows(distill.probs, numClasses, rows),
      };
    }
    return {
      count,
      images: selfTrain!.strong(raw, count, stepRng),
      weak: selfTrain!.weak ? selfTrain!.weak(raw, count, stepRng) : raw,
    };
  };

  // Copies of the models whose weights trail the student's: self-training's mean teacher
  // (pseudo-labels) and the averaged weights kept as the model (`averageWeights`).
  const teacherMomentum = selfTrain?.emaMomentum ?? 0;
  const averaged = config.averageWeights ?? 0;
  for (
    const [name, m] of Object.entries({ emaMomentum: teacherMomentum, averageWeights: averaged })
  ) {
    if (!(m >= 0 && m < 1)) {
      throw new RangeError(`trainSupervised: ${name} must be in [0, 1), got ${m}`);
    }
  }
  if (teacherMomentum > 0 && averaged > 0 && teacherMomentum !== averaged) {
    throw new RangeError(
      `trainSupervised: the mean teacher is the averaged model: emaMomentum ${teacherMomentum} ` +
        `and averageWeights ${averaged} must be the same`,
    );
  }
  const momentum = Math.max(teacherMomentum, averaged);
  const ema = momentum > 0
    ? { backbone: await cloneModel(backbone), head: await cloneModel(head) }
    : undefined;
  const emaPairs = ema
    ? [...ema.backbone.weights, ...ema.head.weights].map((w, i) => [
      w.read() as tf.Variable,
      [...backbone.weights, ...head.weights][i].read() as tf.Variable,
    ])
    : [];
  const history: SupervisedEpoch[] = [];
  let best: { acc: number; loss: number; record: number; weights: tf.Tensor[] } | undefined;
  // The model validated, selected and returned: the averaged one when weights are averaged.
  const kept = averaged > 0 ? ema! : { backbone, head };
  const snapshot = () =>
    [...kept.backbone.getWeights(), ...kept.head.getWeights()].map((w) => w.clone());
  const fail = (why: string): never => {
    ema?.backbone.dispose();
    ema?.head.dispose();
    tf.dispose(best?.weights ?? []);
    headOpt.dispose();
    backboneOpt.dispose();
    throw new Error(why);
  };

  let step = 0;
  let period = { loss: 0, correct: 0, seen: 0, masked: 0, unlabelled: 0, t0: performance.now() };
  let lr = config.learningRate;
  for (let epoch = 0; step < total; epoch++) {
    const epochRng = rng.fork(`supervised-epoch-${epoch}`);
    const order = epochRng.shuffle(Int32Array.from(opts.train));
    for (const batch of batchesOf(order, config.batchSize, false)) {
      if (step >= total) break;
      lr = learningRateAt(schedule, step, total, stepsPerEpoch);
      let xs = gatherImages(images, size, batch);
      if (opts.augment) xs = opts.augment(xs, batch.length, epochRng);
      const ys = gatherLabels(labels, batch);
      const u = unlabelledBatch(epochRng);
      const n = batch.length;
      const [lossT, hitsT, maskT] = tf.tidy(() => {
        const x = tf.tensor4d(xs, [n, ...shape]);
        const y = tf.oneHot(tf.tensor1d(ys, "int32"), numClasses);
        const vars = [...backboneVars, ...headVars];
        // Self-training: the pseudo-labels of the weak views, in inference mode, no gradient.
        let pseudo: { target: tf.Tensor2D; mask: tf.Tensor1D } | undefined;
        if (u?.weak) {
          const teacher = teacherMomentum > 0 ? ema! : { backbone, head };
          const weak = tf.tensor4d(u.weak, [u.count, ...shape]);
          const p = tf.softmax(teacher.head.apply(teacher.backbone.apply(weak)) as tf.Tensor2D);
          pseudo = {
            target: tf.oneHot(tf.argMax(p, 1), numClasses) as tf.Tensor2D,
            mask: tf.cast(tf.greater(tf.max(p, 1), selfTrain!.threshold), "float32") as tf.Tensor1D,
          };
        }
        let logits: tf.Tensor2D | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const input = u ? tf.concat([x, tf.tensor4d(u.images, [u.count, ...shape])]) : x;
          const feats = backbone.apply(input, { training: true }) as tf.Tensor;
          const all = head.apply(feats, { training: true }) as tf.Tensor2D;
          logits = tf.keep(u ? tf.slice(all, [0, 0], [n, -1]) : all);
          let loss = tf.losses.softmaxCrossEntropy(y, logits, undefined, smoothing);
          if (u) {
            const rest = tf.slice(all, [n, 0], [u.count, -1]);
            if (distill && u.probs) {
              const t = distill.temperature;
              const targets = tf.tensor2d(u.probs, [u.count, numClasses]);
              const kd = tf.mul(tf.losses.softmaxCrossEntropy(targets, tf.div(rest, t)), t * t);
              loss = tf.add(tf.mul(loss, distill.weight), tf.mul(kd, 1 - distill.weight));
            } else if (pseudo) {
              const ce = tf.losses.softmaxCrossEntropy(
                pseudo.target,
                rest,
                undefined,
                0,
                tf.Reduction.NONE,
              );
              const masked = tf.mean(tf.mul(ce, pseudo.mask));
              loss = tf.add(loss, tf.mul(masked, selfTrain!.weight));
            }
          }
          if (l2) {
            const sq = tf.addN(vars.filter((v) => v.rank > 1).map((v) => tf.sum(tf.square(v))));
            loss = tf.add(loss, tf.mul(sq, l2));
          }
          return loss as tf.Scalar;
        }, vars);
        const pick = (vs: tf.Variable[]) =>
          Object.fromEntries(vs.map((v) => [v.name, grads[v.name]]));
        optimizerStep(headOpt, pick(headVars), headVars, lr, config);
        optimizerStep(backboneOpt, pick(backboneVars), backboneVars, lr * lrScale, config);
        // The momentum warms up as TensorFlow's moving averages do, (1 + k) / (10 + k) after k
        // updates, so that the starting weights (random, for a model trained from scratch)
        // do not linger in the average of a short run.
        const mk = Math.min(momentum, (2 + step) / (11 + step));
        for (const [avg, w] of emaPairs) {
          avg.assign(tf.add(tf.mul(avg, mk), tf.mul(w, 1 - mk)));
        }
        // Training accuracy of the batch as it was seen (before this update).
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits!, 1), tf.argMax(y, 1)), "float32"));
        tf.dispose(logits);
        return [value, hits, pseudo ? tf.sum(pseudo.mask) : tf.scalar(0)];
      });
      const [lv, cv, mv] = await Promise.all([lossT.data(), hitsT.data(), maskT.data()]);
      tf.dispose([lossT, hitsT, maskT]);
      step++;
      if (!Number.isFinite(lv[0])) {
        fail(`supervised training stopped: the loss became ${lv[0]} at step ${step} of ${total}`);
      }
      period.loss += lv[0] * n;
      period.correct += cv[0];
      period.seen += n;
      period.masked += mv[0];
      period.unlabelled += u?.count ?? 0;
      if (step % evalEvery !== 0 && step !== total) continue;
      const record: SupervisedEpoch = {
        epoch: history.length,
        step,
        loss: period.loss / period.seen,
        trainAccuracy: period.correct / period.seen,
        learningRate: lr,
        seconds: 0,
      };
      if (selfTrain) record.maskRate = period.masked / Math.max(1, period.unlabelled);
      if (validation.length > 0) {
        const v = await evaluateLoss(
          kept.backbone,
          kept.head,
          images,
          shape,
          labels,
          validation,
          numClasses,
        );
        record.validationLoss = v.loss;
        record.validationAccuracy = v.accuracy;
        const better = !best || v.accuracy > best.acc ||
          (v.accuracy === best.acc && v.loss < best.loss);
        if (opts.select !== "final" && better) {
          tf.dispose(best?.weights ?? []);
          best = { acc: v.accuracy, loss: v.loss, record: history.length, weights: snapshot() };
        }
      }
      record.seconds = (performance.now() - period.t0) / 1000;
      history.push(record);
      await opts.onEpoch?.(record);
      period = { loss: 0, correct: 0, seen: 0, masked: 0, unlabelled: 0, t0: performance.now() };
    }
  }
  headOpt.dispose();
  backboneOpt.dispose();
  if (averaged > 0 && !best) {
    backbone.setWeights(ema!.backbone.getWeights());
    head.setWeights(ema!.head.getWeights());
  }
  ema?.backbone.dispose();
  ema?.head.dispose();
  if (best) {
    const nb = backbone.getWeights().length;
    backbone.setWeights(best.weights.slice(0, nb));
    head.setWeights(best.weights.slice(nb));
    tf.dispose(best.weights);
    return { history, selectedEpoch: best.record, selectedBy: "validation" };
  }
  return { history, selectedEpoch: Math.max(0, history.length - 1), selectedBy: "final" };
}
