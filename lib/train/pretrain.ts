/**
 * Self-supervised pre-training: two random views of every unlabelled image go
 * through backbone f and projection head g, and the method's loss on
 * z = g(f(x)) trains both (`config.method`, `ssl_objective.ts`):
 *
 * - `"simclr"` (default; Chen et al. 2020): NT-Xent pulls the two views of an
 *   image together and pushes the other images of the batch away, at
 *   temperature `temperature` (which only SimCLR reads);
 * - `"byol"` (Grill et al. 2020): a predictor q on the online branch (the
 *   `predictor` option) chases the z of a momentum network, a copy of f and g
 *   moved after every optimiser step by an EMA with τ rising from `emaTau`
 *   (default 0.99) to 1 on BYOL's cosine schedule over the run's steps
 *   (`epochs` × steps per epoch; `emaSchedule: "fixed"` holds τ), symmetric
 *   negative cosine loss, no gradient to the target (`momentum_target.ts`). The
 *   target's batch normalisation runs in training mode, as BYOL's. The
 *   schedule follows the epoch budget: a run resumed with a larger budget
 *   continues on the new schedule;
 * - `"simsiam"` (Chen & He 2021): the predictor on the online branch, a
 *   stop-gradient on the other branch's z, the symmetric loss; no target
 *   network;
 * - `"barlow"` (Zbontar et al. 2021) and `"vicreg"` (Bardes et al. 2022):
 *   their losses on z, no predictor; Barlow Twins' λ `barlowLambda` (default
 *   the paper's 5e-3: its table 11 shows little change over a decade around
 *   it, and 1/d, the scale suggested for small widths, is 4e-3 at our wide
 *   projector's 256), VICReg's weights `vicreg` (default the paper's 25, 25, 1;
 *   its covariance term is already divided by the width d).
 *
 * Without a `predictor`, BYOL and SimSiam use p = z: the collapse the papers
 * report (`pretrain`'s `predictor: false`). The predictor is trained with f and
 * g but is a training-only part: the caller keeps f and g.
 *
 * Adam, exponential learning-rate decay per epoch and early stopping on the
 * relative loss improvement, as in the article; every setting configurable.
 * Checkpoints after each epoch (the predictor and the momentum network too),
 * resumes after an interruption with the same result, stops with a clear
 * message on a NaN or infinite loss.
 *
 * The parts, one concept a module: `pretrain_config.ts` (the settings,
 * {@linkcode PretrainConfig}, and their method's check), `pretrain_options.ts`
 * (what {@linkcode pretrainContrastive} takes and returns) and
 * `pretrain_checkpoint.ts` (what a checkpoint holds beside the models); their
 * names import from here too.
 *
 * @example
 * ```ts
 * import { twoViews } from "../augment/compose.ts";
 * import { digitAugment } from "../augment/presets.ts";
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { Rng } from "../rng.ts";
 * import { pretrainContrastive } from "./pretrain.ts";
 * const images = new Float32Array(32 * 28 * 28).fill(0.5); // 32 unlabelled 28x28 images
 * const pipeline = digitAugment();
 * const { history } = await pretrainContrastive({
 *   backbone: articleBackbone([28, 28, 1]),
 *   head: articleHead(32, 10),
 *   images,
 *   shape: [28, 28, 1],
 *   indices: Int32Array.from({ length: 32 }, (_, i) => i),
 *   makeViews: (batch, count, rng) => twoViews(batch, count, 28, 28, 1, pipeline, rng),
 *   rng: new Rng(0),
 *   config: { epochs: 1, batchSize: 16, learningRate: 1e-3, temperature: 0.2 },
 * });
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { objectiveLoss, onlineOutputs, type SslObjective, targetOutputs } from "./ssl_objective.ts";
import { usesTarget } from "./ssl_method.ts";
import {
  BYOL_TAU,
  emaUpdate,
  type MomentumTarget,
  momentumTarget,
  tauAt,
} from "./momentum_target.ts";
import { batchesOf, gatherImages } from "./batches.ts";
import { Checkpoint, writeCheckpoint } from "./checkpoint.ts";
import { EarlyStopping, exponentialDecay } from "./schedule.ts";
import { SslWorkers } from "./parallel/ssl_workers.ts";
import { trainingWorkers } from "../backend.ts";
import { pretrainMonitor } from "./pretrain_monitor.ts";
import { methodOf } from "./pretrain_config.ts";
import type { PretrainEpoch, PretrainOptions, PretrainResult } from "./pretrain_options.ts";
import { checkpointSettings, type PretrainState } from "./pretrain_checkpoint.ts";

export type { PretrainConfig } from "./pretrain_config.ts";
export type { PretrainEpoch, PretrainOptions, PretrainResult } from "./pretrain_options.ts";

/** Runs contrastive pre-training; see the module doc. */
export async function pretrainContrastive(opts: PretrainOptions): Promise<PretrainResult> {
  const { backbone, head, predictor, images, indices, config, rng } = opts;
  const method = methodOf(config, predictor);
  const size = opts.shape[0] * opts.shape[1] * opts.shape[2];
  if (indices.length < 2 * Math.min(config.batchSize, 2)) {
    throw new Error(`pretrainContrastive: need at least 2 images, got ${indices.length}`);
  }
  const batchSize = Math.min(config.batchSize, indices.length);
  const workers = trainingWorkers(config.workers ?? 1); // 1 on webgpu: one device
  if (!Number.isInteger(workers) || workers < 1) {
    throw new Error(`pretrainContrastive: workers must be a positive integer, got ${workers}`);
  }
  // The checkpoint is validated before anything is built: a bad one costs nothing.
  const settings = checkpointSettings(opts, method);
  const saved = opts.checkpointDir
    ? Checkpoint.find(opts.checkpointDir, { kind: "pretrain", settings })
    : undefined;
  // BYOL's momentum network starts as a copy of f and g, made before the optimiser's variables.
  const target: MomentumTarget | undefined = usesTarget(method)
    ? await momentumTarget(backbone, head)
    : undefined;
  const optimizer = tf.train.adam(config.learningRate);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    optimizer.dispose();
    target?.dispose();
  };
  const stopper = new EarlyStopping(
    config.earlyStop ?? { minRelativeImprovement: 0, patience: Infinity },
  );
  let history: PretrainEpoch[] = [];
  let start = 0;
  let stopped = false;
  if (saved) {
    // Everything but the epoch budget must match (the fingerprint): a run may be resumed to
    // train longer. The worker count may change too: it changes float rounding, not the training.
    let state: PretrainState;
    try {
      state = saved.json<PretrainState>("state.json");
      saved.restoreModel("backbone", backbone);
      saved.restoreModel("head", head);
      if (predictor) saved.restoreModel("predictor", predictor);
      if (target) {
        saved.restoreModel("target_backbone", target.backbone);
        saved.restoreModel("target_head", target.head);
      }
      await saved.restoreOptimizer(optimizer);
    } catch (e) {
      release();
      throw e;
    }
    history = state.history;
    stopper.restore(state.stopper);
    start = state.epoch + 1;
    stopped = state.stopped;
  }
  const resumedAt = start;
  const monitor = opts.monitor ? pretrainMonitor({ ...opts, monitor: opts.monitor }) : undefined;
  const objective: SslObjective = {
    method,
    temperature: config.temperature,
    softmaxBeforeLoss: config.softmaxBeforeLoss,
    barlowLambda: config.barlowLambda,
    vicreg: config.vicreg,
  };
  // Data-parallel steps on worker threads; `using` stops the workers however this function ends.
  let parallel: SslWorkers | undefined;
  try {
    parallel = workers > 1
      ? await SslWorkers.create({
        backbone,
        head,
        predictor,
        target,
        method,
        shape: opts.shape,
        temperature: config.temperature,
        softmaxBeforeLoss: config.softmaxBeforeLoss,
        barlowLambda: config.barlowLambda,
        vicreg: config.vicreg,
        optimizer,
        workers,
      })
      : undefined;
  } catch (e) {
    release();
    throw e;
  }
  using _stopWorkers = parallel;

  // Training mode: batch normalisation uses (and updates) the batch's statistics.
  const lossOf = (views: tf.Tensor4D, targets?: tf.Tensor2D) =>
    objectiveLoss(objective, onlineOutputs(method, { backbone, head, predictor }, views), targets);
  // BYOL's τ follows the run's steps (every epoch has the same number of steps).
  const stepsPerEpoch = Math.min(
    Math.floor(indices.length / batchSize),
    config.maxStepsPerEpoch ?? Infinity,
  );
  const totalSteps = config.epochs * stepsPerEpoch;

  try {
    for (let epoch = start; epoch < config.epochs && !stopped; epoch++) {
      const t0 = performance.now();
      const lr = exponentialDecay(config.learningRate, config.lrDecay ?? 1, epoch);
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
      // Each epoch draws from its own fork, so a resumed run replays exactly.
      const epochRng = rng.fork(`pretrain-epoch-${epoch}`);
      const order = epochRng.shuffle(Int32Array.from(indices));
      let batches = batchesOf(order, batchSize, true);
      if (config.maxStepsPerEpoch !== undefined) {
        batches = batches.slice(0, config.maxStepsPerEpoch);
      }
      let sum = 0;
      for (let s = 0; s < batches.length; s++) {
        const n = batches[s].length;
        const [v1, v2] = opts.makeViews(gatherImages(images, size, batches[s]), n, epochRng);
        const both = new Float32Array(2 * n * size);
        both.set(v1, 0);
        both.set(v2, n * size);
        let loss: number;
        if (parallel) {
          loss = await parallel.step(both, n);
        } else {
          const x = tf.tensor4d(both, [2 * n, ...opts.shape]);
          // BYOL's targets, computed outside the gradient function: no gradient reaches them.
          const targets = target ? targetOutputs(target, x) : undefined;
          const lossT = optimizer.minimize(() => lossOf(x, targets), true)!;
          loss = (await lossT.data())[0];
          tf.dispose([x, lossT, ...(targets ? [targets] : [])]);
        }
        // After the optimiser step, on main's models: the same update on one thread or several.
        if (target) {
          const tau = tauAt(
            epoch * stepsPerEpoch + s,
            totalSteps,
            config.emaTau ?? BYOL_TAU,
            config.emaSchedule ?? "cosine",
          );
          emaUpdate(target, { backbone, head }, tau);
        }
        if (!Number.isFinite(loss)) {
          const where = `at epoch ${epoch + 1}, step ${s + 1} (learning rate ${lr}`;
          throw new Error(
            method === "simclr"
              ? `pre-training stopped: the loss became ${loss} ${where}, temperature ` +
                `${config.temperature}); lower the learning rate or raise the temperature`
              : `pre-training stopped: the ${method} loss became ${loss} ${where}); lower the ` +
                `learning rate`,
          );
        }
        sum += loss;
        opts.onStep?.({ epoch, step: s + 1, steps: batches.length, loss: sum / (s + 1) });
      }
      const record: PretrainEpoch = {
        epoch,
        loss: sum / batches.length,
        learningRate: lr,
        seconds: (performance.now() - t0) / 1000,
        steps: batches.length,
      };
      if (monitor) Object.assign(record, await monitor.measure(backbone, head));
      history.push(record);
      stopped = stopper.update(record.loss);
      if (opts.checkpointDir) {
        const state: PretrainState = { epoch, history, stopper: stopper.state(), stopped, config };
        const models: Record<string, tf.LayersModel> = { backbone, head };
        if (predictor) models.predictor = predictor;
        if (target) {
          models.target_backbone = target.backbone;
          models.target_head = target.head;
        }
        await writeCheckpoint(
          opts.checkpointDir,
          { models, optimizer, json: { "state.json": state } },
          { kind: "pretrain", settings, info: opts.checkpointInfo },
        );
      }
      await opts.onEpoch?.(record);
    }
  } finally {
    release();
  }
  return { history, stoppedEarly: stopped, resumedAt };
}
