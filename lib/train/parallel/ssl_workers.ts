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
 *    *all* of z (`ntXentLossRows`); their sum is the exact dL/dz;
 * 4. each worker backpropagates dL/dz of its rows through its forward pass
 *    (same tape, no recomputation) to parameter gradients;
 * 5. main adds the workers' gradients and applies the optimizer.
 *
 * The result equals single-thread training up to float summation order, and
 * is bit-for-bit reproducible for a fixed number of workers. Exact only for
 * models whose rows are independent in the forward pass (no batch
 * normalisation in training mode) — true of this project's models.
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
import {
  type BatchBuffers,
  CTRL_ABORT,
  CTRL_RELEASE,
  CTRL_WORDS,
  type InitMessage,
  type ModelTopology,
  type StepMessage,
  type WeightSpec,
  type WorkerReply,
} from "./protocol.ts";

/** What `SslWorkers.create` needs. */
export interface SslWorkersOptions {
  /** The main thread's backbone f: its weights are the ones trained. Built from tfjs's own layers. */
  backbone: tf.LayersModel;
  /** The main thread's projection head g (z = g(f(x))), trained like the backbone. */
  head: tf.LayersModel;
  /** Image shape [height, width, channels]. */
  shape: [number, number, number];
  /** NT-Xent temperature τ. */
  temperature: number;
  /** Softmax on z before the loss (as `PretrainConfig.softmaxBeforeLoss`). */
  softmaxBeforeLoss?: boolean;
  /** Applied on the main thread to the summed gradients. */
  optimizer: tf.Optimizer;
  /** Number of workers (default 2). */
  workers?: number;
}

type Reply<T extends WorkerReply["type"]> = Extract<WorkerReply, { type: T }>;

interface Waiter {
  type: WorkerReply["type"];
  seq: number;
  count: number;
  got: (WorkerReply | undefined)[];
  resolve: (replies: WorkerReply[]) => void;
  reject: (err: Error) => void;
}

const FLOAT = 4;

/** Class names of every layer of `model`, nested models included. */
function layerClasses(model: tf.LayersModel): string[] {
  return model.layers.flatMap((layer) =>
    layer instanceof tf.LayersModel ? layerClasses(layer) : [layer.getClassName()]
  );
}

/** Workers started by any `SslWorkers` and not yet terminated. */
let running = 0;

/** Milliseconds the main thread spent in each phase of the steps so far (`SslWorkers.timings`). */
export interface SslStepTimings {
  /** Steps timed. */
  steps: number;
  /** Publishing the weights and copying the views into shared memory. */
  publish: number;
  /** Until every worker's z was in (their forward passes). */
  forward: number;
  /** Until every worker's loss gradient was in. */
  loss: number;
  /** Until every worker's parameter gradients were in (their backward passes). */
  backward: number;
  /** Adding the gradients and applying the optimizer on the main thread. */
  optimizer: number;
}

/**
 * Coordinator of data-parallel SSL steps: W workers compute, the main thread
 * holds the weights and the optimizer. Make one with `SslWorkers.create`,
 * call `step` per batch, and `dispose` (or `using`) when done.
 */
export class SslWorkers {
  readonly #workers: Worker[];
  readonly #opts: SslWorkersOptions;
  /** Main's weights, `backbone.weights ++ head.weights`. */
  readonly #variables: tf.Variable[];
  readonly #specs: WeightSpec[];
  /** Indices into `#variables` of the trainable weights, in the optimizer's order. */
  readonly #trainable: number[];
  readonly #gradSize: number;
  readonly #zDim: number;
  readonly #size: number;
  readonly #ctrl: Int32Array;
  readonly #weightBuffer: SharedArrayBuffer;
  readonly #gradBuffer: SharedArrayBuffer;
  #buffers?: BatchBuffers;
  #capacityRows = 0;
  #sentBuffers: (BatchBuffers | undefined)[];
  #releases = 0;
  #seq = 0;
  #waiter?: Waiter;
  #inbox: { from: number; reply: WorkerReply }[] = [];
  #failure?: Error;
  #busy = false;
  #disposed = false;
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
    const { backbone, head, shape } = opts;
    this.#size = shape[0] * shape[1] * shape[2];
    const zShape = head.outputs[0].shape;
    const zDim = zShape[zShape.length - 1];
    if (zShape.length !== 2 || zDim === null) {
      throw new Error(`SslWorkers: the head must output flat z [batch, dim], got [${zShape}]`);
    }
    this.#zDim = zDim;
    const layerVars = [...backbone.weights, ...head.weights];
    this.#variables = layerVars.map((w) => w.read() as tf.Variable);
    let offset = 0;
    this.#specs = this.#variables.map((v) => {
      const spec = { shape: v.shape.slice(), offset, size: v.size };
      offset += v.size;
      return spec;
    });
    // The optimizer's order: Adam keeps its moments by position, and `minimize`
    // hands it the gradients in the order the variables were registered.
    const registered = Object.keys(tf.engine().registeredVariables);
    const position = new Map(registered.map((name, i) => [name, i]));
    this.#trainable = layerVars.map((w, i) => ({ w, i }))
      .filter(({ w }) => w.trainable)
      .sort((a, b) =>
        (position.get(this.#variables[a.i].name) ?? 0) -
        (position.get(this.#variables[b.i].name) ?? 0)
      )
      .map(({ i }) => i);
    if (this.#trainable.length === 0) {
      throw new Error("SslWorkers: the models have no trainable weights");
    }
    this.#gradSize = this.#trainable.reduce((s, k) => s + this.#specs[k].size, 0);
    this.#ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    this.#weightBuffer = new SharedArrayBuffer(offset * FLOAT);
    this.#gradBuffer = new SharedArrayBuffer(count * this.#gradSize * FLOAT);
    this.#sentBuffers = new Array(count).fill(undefined);
    this.#workers = [];
    for (let w = 0; w < count; w++) {
      const worker = new Worker(new URL("./ssl_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = (e: MessageEvent) => this.#receive(w, e.data as WorkerReply);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#fail(new Error(`SslWorkers: worker ${w} failed: ${e.message}`));
      };
      worker.onmessageerror = () => this.#fail(new Error(`SslWorkers: worker ${w}: bad message`));
      this.#workers.push(worker);
      running++;
    }
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
    // Splitting the batch is exact only when the forward pass treats rows independently.
    const coupled = [...layerClasses(opts.backbone), ...layerClasses(opts.head)]
      .filter((c) => /BatchNormalization/.test(c));
    if (coupled.length > 0) {
      throw new Error(
        `SslWorkers: ${coupled[0]} mixes the rows of a batch, so splitting the batch between ` +
          `workers would change the training; train this model on one thread`,
      );
    }
    const par = new SslWorkers(opts, count);
    try {
      const init: InitMessage = {
        type: "init",
        backend: tf.getBackend(),
        backbone: opts.backbone.toJSON(null, false) as ModelTopology,
        head: opts.head.toJSON(null, false) as ModelTopology,
        shape: opts.shape,
        zDim: par.#zDim,
        temperature: opts.temperature,
        softmaxBeforeLoss: opts.softmaxBeforeLoss ?? false,
        weights: par.#specs,
        trainable: par.#trainable,
        ctrl: par.#ctrl.buffer as SharedArrayBuffer,
        weightBuffer: par.#weightBuffer,
        gradBuffer: par.#gradBuffer,
      };
      const ready = par.#collect("ready", 0, count);
      for (const w of par.#workers) w.postMessage(init);
      await ready;
    } catch (err) {
      par.dispose();
      throw err;
    }
    return par;
  }

  /** Workers started by any `SslWorkers` and not yet terminated (0 once all are disposed). */
  static get running(): number {
    return running;
  }

  /** Number of workers. */
  get workers(): number {
    return this.#workers.length;
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
    let t0 = performance.now();
    const lap = (phase: Exclude<keyof SslStepTimings, "steps">) => {
      const now = performance.now();
      t[phase] += now - t0;
      t0 = now;
    };
    try {
      this.#publishWeights();
      const buffers = this.#ensureCapacity(rows);
      new Float32Array(buffers.views, 0, views.length).set(views);
      const active = Math.min(this.#workers.length, rows);
      const seq = ++this.#seq;
      const release = this.#releases;
      const zs = this.#collect("z", seq, active);
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
        this.#workers[w].postMessage(msg);
      }
      lap("publish");
      await zs;
      lap("forward");
      const parts = this.#collect("lossgrad", seq, active);
      this.#release();
      const losses = (await parts) as Reply<"lossgrad">[];
      lap("loss");
      const done = this.#collect("grads", seq, active);
      this.#release();
      const grads = (await done) as Reply<"grads">[];
      lap("backward");
      this.#applyGradients(active, grads);
      lap("optimizer");
      t.steps++;
      return losses.reduce((s, r) => s + r.loss, 0);
    } finally {
      this.#busy = false;
    }
  }

  /** Where the main thread's time went, summed over the steps so far (a copy). */
  get timings(): SslStepTimings {
    return { ...this.#timings };
  }

  /**
   * The main thread's weights (`backbone.weights` then `head.weights`), as
   * copies. They are the trained weights: the workers only borrow them.
   */
  getWeights(): Float32Array[] {
    this.#usable();
    return this.#variables.map((v) => (v.dataSync() as Float32Array).slice());
  }

  /** Sets the main thread's weights (`getWeights` order); the workers pick them up at the next step. */
  setWeights(weights: Float32Array[]): void {
    this.#usable();
    if (this.#busy) throw new Error("SslWorkers: setWeights called while a step is running");
    if (weights.length !== this.#variables.length) {
      throw new Error(
        `SslWorkers.setWeights: expected ${this.#variables.length} arrays, got ${weights.length}`,
      );
    }
    weights.forEach((w, i) => {
      if (w.length !== this.#specs[i].size) {
        throw new Error(
          `SslWorkers.setWeights: weight ${i} needs ${this.#specs[i].size} values, got ${w.length}`,
        );
      }
    });
    tf.tidy(() =>
      weights.forEach((w, i) =>
        this.#variables[i].assign(tf.tensor(w, this.#specs[i].shape, "float32"))
      )
    );
  }

  /** Stops the workers (a blocked step is woken up and abandoned). Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // Wake any worker blocked in Atomics.wait first: terminating a blocked thread can hang.
    Atomics.store(this.#ctrl, CTRL_ABORT, 1);
    Atomics.notify(this.#ctrl, CTRL_RELEASE);
    for (const w of this.#workers) {
      w.terminate();
      running--;
    }
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(new Error("SslWorkers: disposed while a step was running"));
  }

  /** `using par = await SslWorkers.create(...)` disposes at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #usable(): void {
    if (this.#disposed) throw new Error("SslWorkers: already disposed");
    if (this.#failure) throw this.#failure;
  }

  /** Lets the blocked workers go on to their next phase. */
  #release(): void {
    this.#releases++;
    Atomics.store(this.#ctrl, CTRL_RELEASE, this.#releases);
    Atomics.notify(this.#ctrl, CTRL_RELEASE);
  }

  #ensureCapacity(rows: number): BatchBuffers {
    if (this.#buffers && rows <= this.#capacityRows) return this.#buffers;
    const count = this.#workers.length;
    this.#buffers = {
      views: new SharedArrayBuffer(rows * this.#size * FLOAT),
      z: new SharedArrayBuffer(rows * this.#zDim * FLOAT),
      lossGrads: new SharedArrayBuffer(count * rows * this.#zDim * FLOAT),
    };
    this.#capacityRows = rows;
    return this.#buffers;
  }

  #publishWeights(): void {
    const all = new Float32Array(this.#weightBuffer);
    this.#variables.forEach((v, i) => all.set(v.dataSync() as Float32Array, this.#specs[i].offset));
  }

  /** Adds the workers' gradient slots (in slot order) and applies the optimizer. */
  #applyGradients(active: number, replies: Reply<"grads">[]): void {
    const size = this.#gradSize;
    const sum = new Float32Array(this.#gradBuffer, 0, size).slice();
    for (let w = 1; w < active; w++) {
      const slot = new Float32Array(this.#gradBuffer, w * size * FLOAT, size);
      for (let j = 0; j < size; j++) sum[j] += slot[j];
    }
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      let offset = 0;
      this.#trainable.forEach((k, pos) => {
        const spec = this.#specs[k];
        if (replies.some((r) => r.hasGrad[pos])) {
          named[this.#variables[k].name] = tf.tensor(
            sum.subarray(offset, offset + spec.size),
            spec.shape,
            "float32",
          );
        }
        offset += spec.size;
      });
      this.#opts.optimizer.applyGradients(named);
    });
  }

  /** A promise for `count` replies of `type` to step `seq`, one per worker 0..count-1. */
  #collect(type: WorkerReply["type"], seq: number, count: number): Promise<WorkerReply[]> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#waiter = { type, seq, count, got: new Array(count).fill(undefined), resolve, reject };
      const early = this.#inbox;
      this.#inbox = [];
      for (const { from, reply } of early) this.#receive(from, reply);
    });
  }

  #receive(from: number, reply: WorkerReply): void {
    if (reply.type === "error") {
      const when = reply.seq === 0 ? "while starting" : `in step ${reply.seq}`;
      this.#fail(new Error(`SslWorkers: worker ${from} failed ${when}: ${reply.message}`));
      return;
    }
    const waiter = this.#waiter;
    if (!waiter || waiter.type !== reply.type || waiter.seq !== reply.seq) {
      this.#inbox.push({ from, reply });
      return;
    }
    waiter.got[from] = reply;
    if (waiter.got.every((r) => r !== undefined)) {
      this.#waiter = undefined;
      waiter.resolve(waiter.got as WorkerReply[]);
    }
  }

  /** A worker failed: wake the others, reject the running step, refuse further steps. */
  #fail(err: Error): void {
    if (this.#failure || this.#disposed) return;
    this.#failure = err;
    Atomics.store(this.#ctrl, CTRL_ABORT, 1);
    Atomics.notify(this.#ctrl, CTRL_RELEASE);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(err);
  }
}
