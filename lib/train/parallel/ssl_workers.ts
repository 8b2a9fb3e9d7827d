/**
 * Data-parallel contrastive training on several CPU cores with Web Workers.
 *
 * tfjs's wasm backend runs one thread. `SslWorkers` starts W module workers
 * (default 2), each with its own tfjs + wasm and a replica of backbone + head,
 * and splits every batch of 2N views between them, while the main thread
 * keeps the one true copy of the weights and the optimizer (so checkpoints,
 * learning-rate schedules and resuming work as in single-thread training).
 *
 * One `step(views, n)`:
 * 1. main publishes the current weights and the views in shared memory and
 *    gives worker w the view rows `[2N·w/W, 2N·(w+1)/W)`;
 * 2. each worker runs the forward pass of its rows and writes z;
 * 3. NT-Xent couples all rows, so once every z is in, each worker computes
 *    its anchors' part of the loss and that part's gradient with respect to
 *    *all* of z (`ntXentLossRows`); their sum is the exact dL/dz. The other
 *    methods (`lib/train/ssl_objective.ts`: BYOL, SimSiam, Barlow Twins,
 *    VICReg) write what their loss reads (p, z and p, z) and, for BYOL, the
 *    momentum network's z of their rows; their losses do not split by rows,
 *    so every worker computes the whole loss on all the rows (cheap beside
 *    the networks) and keeps its own rows' gradient;
 * 4. each worker backpropagates dL/dz of its rows through its forward pass
 *    (same tape, no recomputation) to parameter gradients;
 * 5. main adds the workers' gradients and applies the optimizer (BYOL: the
 *    caller then moves the momentum network, `momentum_target.ts`, on main,
 *    exactly as single-thread training does).
 *
 * The result equals single-thread training up to float summation order, and
 * is bit-for-bit reproducible for a fixed number of workers, for models whose
 * rows are independent in the forward pass. Batch normalisation couples the
 * rows of a batch: with our `BatchNorm` layer (`lib/models/batch_norm.ts`)
 * each worker normalises its rows with their own batch statistics (per-worker
 * BN, so the training differs a little from one thread's), writes its updated
 * moving statistics back, and main sets its own to their mean, which it
 * publishes with the weights at the next step. tfjs's own
 * `BatchNormalization` layer is refused (see `create`).
 *
 * This module is the data-parallel step; the workers and their messages are
 * in `worker_pool.ts`, the weights' shared-memory layout and the gradient sum
 * in `shared_weights.ts`, the options in `ssl_workers_options.ts`, and the
 * step's timings and trace (`timings`, `lastStep`) in `step_trace.ts`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../../backend.ts";
 * import { articleBackbone } from "../../models/article_cnn.ts";
 * import { articleHead } from "../../models/heads/projection_heads.ts";
 * import { SslWorkers } from "./ssl_workers.ts";
 * await initBackend();
 * const par = await SslWorkers.create({
 *   backbone: articleBackbone([28, 28, 1]),
 *   head: articleHead(32, 10),
 *   shape: [28, 28, 1],
 *   temperature: 0.5,
 *   optimizer: tf.train.adam(1e-3),
 * });
 * try {
 *   const views = new Float32Array(2 * 8 * 784); // 8 first views, then their 8 twins
 *   const loss = await par.step(views, 8);
 * } finally {
 *   par.dispose();
 * }
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type {
  BatchBuffers,
  InitMessage,
  ModelTopology,
  ParallelStepSwitches,
  StepMessage,
} from "./protocol.ts";
import { TENSOR_IO } from "./tensor_io.ts";
import { outputWidth } from "../ssl_objective.ts";
import { parseSslMethod, type SslMethod, usesPredictor, usesTarget } from "../ssl_method.ts";
import { SharedWeights } from "./shared_weights.ts";
import { type Reply, SslWorkerPool } from "./worker_pool.ts";
import { PARALLEL_STEP, type SslWorkersOptions } from "./ssl_workers_options.ts";
import { clock, type SslStepTimings, type SslStepTrace } from "./step_trace.ts";

export { PARALLEL_STEP, type SslWorkersOptions } from "./ssl_workers_options.ts";
export { MAIN_PHASES, type SslStepTimings, type SslStepTrace } from "./step_trace.ts";

const FLOAT = 4;

/** A model's topology, as the workers rebuild it. */
const topology = (model: tf.LayersModel) => model.toJSON(null, false) as ModelTopology;

/** Class names of every layer of `model`, nested models included. */
function layerClasses(model: tf.LayersModel): string[] {
  return model.layers.flatMap((layer) =>
    layer instanceof tf.LayersModel ? layerClasses(layer) : [layer.getClassName()]
  );
}

/**
 * Coordinator of data-parallel SSL steps: W workers compute, the main thread
 * holds the weights and the optimizer. Make one with `SslWorkers.create`,
 * call `step` per batch, and `dispose` (or `using`) when done.
 */
export class SslWorkers {
  readonly #pool: SslWorkerPool;
  readonly #opts: SslWorkersOptions;
  /** Main's weights and the workers' gradient slots. */
  readonly #weights: SharedWeights;
  readonly #method: SslMethod;
  /** Width of the outputs the loss reads. */
  readonly #zDim: number;
  /** Width of BYOL's targets (0 without a momentum network). */
  readonly #targetDim: number;
  readonly #size: number;
  #buffers?: BatchBuffers;
  #capacityRows = 0;
  #sentBuffers: (BatchBuffers | undefined)[];
  #seq = 0;
  #busy = false;
  #trace?: SslStepTrace;
  /** `PARALLEL_STEP` when the workers started. */
  readonly #switches: ParallelStepSwitches = { ...PARALLEL_STEP };
  #timings: SslStepTimings = {
    steps: 0,
    publish: 0,
    forward: 0,
    loss: 0,
    backward: 0,
    optimizer: 0,
  };

  private constructor(opts: SslWorkersOptions, count: number) {
    this.#opts = opts;
    const { backbone, head, shape, predictor, target } = opts;
    this.#method = parseSslMethod(opts.method ?? "simclr", "SslWorkers: method");
    this.#size = shape[0] * shape[1] * shape[2];
    const zShape = head.outputs[0].shape;
    const zDim = zShape[zShape.length - 1];
    if (zShape.length !== 2 || zDim === null) {
      throw new Error(`SslWorkers: the head must output flat z [batch, dim], got [${zShape}]`);
    }
    if (predictor && !usesPredictor(this.#method)) {
      throw new Error(`SslWorkers: ${this.#method} has no predictor; pass none`);
    }
    if (usesTarget(this.#method) !== (target !== undefined)) {
      throw new Error(
        `SslWorkers: ${this.#method} ${target ? "has no" : "needs its"} momentum network (target)`,
      );
    }
    this.#zDim = outputWidth(this.#method, zDim);
    this.#targetDim = target ? zDim : 0;
    const online = predictor ? [backbone, head, predictor] : [backbone, head];
    this.#weights = new SharedWeights(
      online,
      count,
      target ? [target.backbone, target.head] : [],
    );
    this.#sentBuffers = new Array(count).fill(undefined);
    this.#pool = new SslWorkerPool(count);
  }

  /**
   * Starts `opts.workers` workers, builds the replicas from the models'
   * topology (`model.toJSON`) and waits until they are ready. The main
   * thread's tfjs backend must be initialised (`initBackend`).
   */
  static async create(opts: SslWorkersOptions): Promise<SslWorkers> {
    const count = opts.workers ?? 2;
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`SslWorkers: workers must be a positive integer, got ${count}`);
    }
    if (!(opts.temperature > 0) || !Number.isFinite(opts.temperature)) {
      throw new Error(`SslWorkers: temperature must be a positive number, got ${opts.temperature}`);
    }
    // tfjs's own batch normalisation: our BatchNorm layer is the one the workers support.
    const models = [opts.backbone, opts.head, ...(opts.predictor ? [opts.predictor] : [])];
    const foreign = models.flatMap(layerClasses).filter((c) => /BatchNormalization/.test(c));
    if (foreign.length > 0) {
      throw new Error(
        `SslWorkers: tfjs's ${foreign[0]} layer is not supported by the workers; build the ` +
          `model with batchNorm() from lib/models/batch_norm.ts, or train on one thread`,
      );
    }
    const par = new SslWorkers(opts, count);
    try {
      const init: InitMessage = {
        type: "init",
        backend: tf.getBackend(),
        backbone: topology(opts.backbone),
        head: topology(opts.head),
        ...(opts.predictor ? { predictor: topology(opts.predictor) } : {}),
        ...(opts.target
          ? {
            target: { backbone: topology(opts.target.backbone), head: topology(opts.target.head) },
          }
          : {}),
        shape: opts.shape,
        outDim: par.#zDim,
        targetDim: par.#targetDim,
        objective: {
          method: par.#method,
          temperature: opts.temperature,
          softmaxBeforeLoss: opts.softmaxBeforeLoss ?? false,
          ...(opts.barlowLambda !== undefined ? { barlowLambda: opts.barlowLambda } : {}),
          ...(opts.vicreg !== undefined ? { vicreg: opts.vicreg } : {}),
        },
        weights: par.#weights.specs,
        trainable: par.#weights.trainable,
        ctrl: par.#pool.ctrl.buffer as SharedArrayBuffer,
        weightBuffer: par.#weights.buffer,
        gradBuffer: par.#weights.gradBuffer,
        state: par.#weights.state,
        stateBuffer: par.#weights.stateBuffer,
        switches: par.#switches,
      };
      TENSOR_IO.direct = par.#switches.directCopies;
      const ready = par.#pool.collect("ready", 0, count);
      for (let w = 0; w < count; w++) par.#pool.post(w, init);
      await ready;
    } catch (err) {
      par.dispose();
      throw err;
    }
    return par;
  }

  /** Workers started by any `SslWorkers` and not yet terminated (0 once all are disposed). */
  static get running(): number {
    return SslWorkerPool.running;
  }

  /** Number of workers. */
  get workers(): number {
    return this.#pool.size;
  }

  /**
   * One training step on `views`: 2n views of `shape`, flat, the n first views
   * then their n twins in the same order (as single-thread pre-training
   * stacks them). Updates the main thread's weights and returns the loss.
   */
  async step(views: Float32Array, n: number): Promise<number> {
    this.#usable();
    if (this.#busy) throw new Error("SslWorkers: step called while another step is running");
    const rows = 2 * n;
    if (!Number.isInteger(n) || n < 1 || views.length !== rows * this.#size) {
      throw new Error(
        `SslWorkers.step: expected 2 x ${n} views of ${this.#size} floats (${
          rows * this.#size
        }), got ${views.length}`,
      );
    }
    this.#busy = true;
    const t = this.#timings;
    const marks = [clock()];
    let t0 = marks[0];
    const lap = (phase?: Exclude<keyof SslStepTimings, "steps">) => {
      const now = clock();
      if (phase) t[phase] += now - t0;
      t0 = now;
      marks.push(now);
    };
    try {
      this.#weights.publish();
      lap();
      const buffers = this.#ensureCapacity(rows);
      new Float32Array(buffers.views, 0, views.length).set(views);
      const active = Math.min(this.#pool.size, rows);
      const seq = ++this.#seq;
      const release = this.#pool.releases;
      const switches = this.#switches;
      const zs = switches.workerBarriers ? undefined : this.#pool.collect("z", seq, active);
      for (let w = 0; w < active; w++) {
        const msg: StepMessage = {
          type: "step",
          seq,
          n,
          start: Math.floor((rows * w) / active),
          end: Math.floor((rows * (w + 1)) / active),
          slot: w,
          workers: active,
          release,
        };
        if (this.#sentBuffers[w] !== buffers) {
          msg.buffers = buffers;
          this.#sentBuffers[w] = buffers;
        }
        this.#pool.post(w, msg);
      }
      lap("publish");
      t.publish += marks[1] - marks[0];
      let grads: Reply<"grads">[];
      if (switches.workerBarriers) {
        // The workers wait for each other; their marks say when the barriers opened.
        grads = (await this.#pool.collect("grads", seq, active)) as Reply<"grads">[];
        this.#pool.released(2);
        const opened = (phase: number) => Math.max(...grads.map((g) => g.marks[phase]));
        for (const [phase, at] of [["forward", opened(4)], ["loss", opened(6)]] as const) {
          t[phase] += at - t0;
          t0 = at;
          marks.push(at);
        }
      } else {
        await zs!;
        lap("forward");
        const parts = this.#pool.collect("lossgrad", seq, active);
        this.#pool.release();
        await parts;
        lap("loss");
        const done = this.#pool.collect("grads", seq, active);
        this.#pool.release();
        grads = (await done) as Reply<"grads">[];
      }
      lap("backward");
      this.#weights.applyGradients(active, grads, this.#opts.optimizer);
      lap("optimizer");
      this.#weights.averageState(active);
      lap("optimizer");
      t.steps++;
      this.#trace = { main: marks, workers: grads.map((g) => g.marks) };
      return grads.reduce((s, r) => s + r.loss, 0);
    } finally {
      this.#busy = false;
    }
  }

  /** When each phase of the last step ended, on the main thread and in each worker. */
  get lastStep(): SslStepTrace | undefined {
    return this.#trace;
  }

  /** Where the main thread's time went, summed over the steps so far (a copy). */
  get timings(): SslStepTimings {
    return { ...this.#timings };
  }

  /**
   * The main thread's weights (`backbone.weights`, `head.weights`, then the predictor's and
   * the momentum network's when there are), as copies. They are the trained weights: the
   * workers only borrow them.
   */
  getWeights(): Float32Array[] {
    this.#usable();
    return this.#weights.get();
  }

  /** Sets the main thread's weights (`getWeights` order); the workers pick them up at the next step. */
  setWeights(weights: Float32Array[]): void {
    this.#usable();
    if (this.#busy) throw new Error("SslWorkers: setWeights called while a step is running");
    this.#weights.set(weights);
  }

  /** Stops the workers (a blocked step is woken up and abandoned). Safe to call twice. */
  dispose(): void {
    this.#pool.dispose();
  }

  /** `using par = await SslWorkers.create(...)` disposes at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #usable(): void {
    if (this.#pool.disposed) throw new Error("SslWorkers: already disposed");
    if (this.#pool.failure) throw this.#pool.failure;
  }

  #ensureCapacity(rows: number): BatchBuffers {
    if (this.#buffers && rows <= this.#capacityRows) return this.#buffers;
    const count = this.#pool.size;
    this.#buffers = {
      views: new SharedArrayBuffer(rows * this.#size * FLOAT),
      z: new SharedArrayBuffer(rows * this.#zDim * FLOAT),
      targets: new SharedArrayBuffer(rows * this.#targetDim * FLOAT),
      lossGrads: new SharedArrayBuffer(count * rows * this.#zDim * FLOAT),
    };
    this.#capacityRows = rows;
    return this.#buffers;
  }
}
