/**
 * Contrastive pre-training (SimCLR, Chen et al. 2020): two random views of
 * every unlabelled image go through backbone f and projection head g; NT-Xent
 * on z = g(f(x)) pulls the two views of an image together and pushes the other
 * images of the batch away. Adam, exponential learning-rate decay per epoch and
 * early stopping on the relative loss improvement, as in the article; every
 * setting configurable. Checkpoints after each epoch, resumes after an
 * interruption with the same result, stops with a clear message on a NaN or
 * infinite loss.
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
import { ntXentLoss } from "../loss/ntxent.ts";
import type { Rng } from "../rng.ts";
import { batchesOf, gatherImages } from "./batches.ts";
import { Checkpoint, writeCheckpoint } from "./checkpoint.ts";
import { EarlyStopping, exponentialDecay } from "./schedule.ts";
import { SslWorkers } from "./parallel/ssl_workers.ts";
import { trainingWorkers } from "../backend.ts";
import { type MonitorLabels, type MonitorMetrics, pretrainMonitor } from "./pretrain_monitor.ts";

/** Settings of contrastive pre-training (plain JSON). */
export interface PretrainConfig {
  /** Maximum number of epochs (passes over the unlabelled images). */
  epochs: number;
  /** Positive pairs per step (2x as many views). */
  batchSize: number;
  /** Adam's initial learning rate. */
  learningRate: number;
  /** Learning rate multiplier per epoch (the article: 0.95). */
  lrDecay?: number;
  /** NT-Xent temperature τ. */
  temperature: number;
  /** Early stop: minimum relative improvement and patience (the article: 0.001, 5). */
  earlyStop?: { minRelativeImprovement: number; patience: number };
  /** Apply a softmax to z before the loss, as the article's notebook does (it hurts; default false). */
  softmaxBeforeLoss?: boolean;
  /** Cap on steps per epoch (quick runs). */
  maxStepsPerEpoch?: number;
  /**
   * Worker threads for data-parallel steps (`lib/train/parallel/`, one core each; the result
   * equals single-thread training up to float rounding). 1 (default): train on this thread;
   * `"auto"`: one per core (`navigator.hardwareConcurrency`, {@linkcode autoWorkers}).
   */
  workers?: number | "auto";
}

/** One epoch of pre-training, as reported to callbacks and kept in the history. */
export interface PretrainEpoch extends Partial<MonitorMetrics> {
  epoch: number;
  loss: number;
  learningRate: number;
  seconds: number;
  steps: number;
}

/** Everything `pretrainContrastive` needs. */
export interface PretrainOptions {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  /** All images, flat NHWC in [0, 1]. */
  images: Float32Array;
  /** Image shape [height, width, channels]. */
  shape: [number, number, number];
  /** Which images to pre-train on (the unlabelled ones). */
  indices: Int32Array;
  /** Two independently augmented views of a batch of `count` images. */
  makeViews: (batch: Float32Array, count: number, rng: Rng) => [Float32Array, Float32Array];
  rng: Rng;
  config: PretrainConfig;
  /** Called after every epoch (progress bars, plots). */
  onEpoch?: (e: PretrainEpoch) => void | Promise<void>;
  /**
   * Measure the run after every epoch (`pretrain_monitor.ts`): contrastive
   * accuracy and collapse of z on fixed views, kNN accuracy of h on these labels.
   */
  monitor?: MonitorLabels;
  /** Called after every step with the running mean loss of the epoch. */
  onStep?: (s: { epoch: number; step: number; steps: number; loss: number }) => void;
  /**
   * Save a checkpoint here after every epoch (`checkpoint.ts`: written whole or not at all), and
   * resume from it when present. A checkpoint made with other settings, or damaged, stops the
   * run with one line naming the folder and what to do.
   */
  checkpointDir?: string;
  /**
   * Settings beyond `config` that a resumed run must share, recorded in the checkpoint's
   * fingerprint (the caller's words for the backbone, the head, the augmentation, the seed:
   * `lib/pipeline/pretrain.ts`); the epoch budget and the worker count may change on resume.
   */
  checkpointSettings?: Record<string, unknown>;
  /** Free information recorded in the checkpoint (the dataset, its classes). */
  checkpointInfo?: Record<string, unknown>;
}

/** What pre-training returns. */
export interface PretrainResult {
  history: PretrainEpoch[];
  /** True when early stopping ended training before `epochs`. */
  stoppedEarly: boolean;
  /** The epoch training resumed from (0 for a fresh run). */
  resumedAt: number;
}

interface PretrainState {
  epoch: number;
  history: PretrainEpoch[];
  stopper: { best: number | null; epochsWithoutProgress: number };
  stopped: boolean;
  config: PretrainConfig;
}

/** The settings a checkpoint is made with: `config` but the epoch budget and the worker count. */
function checkpointSettings(opts: PretrainOptions): Record<string, unknown> {
  const { epochs: _epochs, workers: _workers, ...rest } = opts.config;
  return { ...opts.checkpointSettings, ...rest };
}

/** Runs contrastive pre-training; see the module doc. */
export async function pretrainContrastive(opts: PretrainOptions): Promise<PretrainResult> {
  const { backbone, head, images, indices, config, rng } = opts;
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
  const settings = checkpointSettings(opts);
  const saved = opts.checkpointDir
    ? Checkpoint.find(opts.checkpointDir, { kind: "pretrain", settings })
    : undefined;
  const optimizer = tf.train.adam(config.learningRate);
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
      await saved.restoreOptimizer(optimizer);
    } catch (e) {
      optimizer.dispose();
      throw e;
    }
    history = state.history;
    stopper.restore(state.stopper);
    start = state.epoch + 1;
    stopped = state.stopped;
  }
  const resumedAt = start;
  const monitor = opts.monitor ? pretrainMonitor({ ...opts, monitor: opts.monitor }) : undefined;
  // Data-parallel steps on worker threads; `using` stops the workers however this function ends.
  using parallel = workers > 1
    ? await SslWorkers.create({
      backbone,
      head,
      shape: opts.shape,
      temperature: config.temperature,
      softmaxBeforeLoss: config.softmaxBeforeLoss,
      optimizer,
      workers,
    })
    : undefined;

  const lossOf = (views: tf.Tensor4D, n: number) => {
    // Training mode: batch normalisation uses (and updates) the batch's statistics.
    const h = backbone.apply(views, { training: true }) as tf.Tensor;
    let z = head.apply(h, { training: true }) as tf.Tensor2D;
    if (config.softmaxBeforeLoss) z = tf.softmax(z);
    const [a, b] = tf.split(z, [n, n], 0) as [tf.Tensor2D, tf.Tensor2D];
    return ntXentLoss(a, b, config.temperature);
  };

  for (let epoch = start; epoch < config.epochs && !stopped; epoch++) {
    const t0 = performance.now();
    const lr = exponentialDecay(config.learningRate, config.lrDecay ?? 1, epoch);
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
    // Each epoch draws from its own fork, so a resumed run replays exactly.
    const epochRng = rng.fork(`pretrain-epoch-${epoch}`);
    const order = epochRng.shuffle(Int32Array.from(indices));
    let batches = batchesOf(order, batchSize, true);
    if (config.maxStepsPerEpoch !== undefined) batches = batches.slice(0, config.maxStepsPerEpoch);
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
        const lossT = optimizer.minimize(() => lossOf(x, n), true)!;
        loss = (await lossT.data())[0];
        tf.dispose([x, lossT]);
      }
      if (!Number.isFinite(loss)) {
        optimizer.dispose();
        throw new Error(
          `pre-training stopped: the loss became ${loss} at epoch ${epoch + 1}, step ${s + 1} ` +
            `(learning rate ${lr}, temperature ${config.temperature}); lower the learning rate or raise the temperature`,
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
      await writeCheckpoint(
        opts.checkpointDir,
        { models: { backbone, head }, optimizer, json: { "state.json": state } },
        { kind: "pretrain", settings, info: opts.checkpointInfo },
      );
    }
    await opts.onEpoch?.(record);
  }
  optimizer.dispose();
  return { history, stoppedEarly: stopped, resumedAt };
}
