/**
 * Arms on every core: {@linkcode ArmPool} starts one Web Worker per core (`arm_worker.ts`),
 * each with its own tfjs and wasm, gives them the dataset once in shared memory, and trains
 * whole arms of the experiment on them, several at a time. An arm trained in a worker is the
 * same computation as on the main thread (the same seeds and streams, the same kernels), so a
 * run gives the same accuracies either way; it only finishes sooner. `runSeed` uses a pool
 * when the backend is wasm or cpu and the machine has more than one core.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { loadMnist } from "../data/mnist.ts";
 * import { ArmPool } from "./arm_pool.ts";
 * import { quickRecipe } from "./recipe.ts";
 * await initBackend();
 * const config = quickRecipe();
 * config.finetune = { ...config.finetune, steps: 5 };
 * config.baselines = undefined;
 * const data = await loadMnist();
 * const pool = await ArmPool.create({ backend: "wasm", config, data, workers: 1 });
 * try {
 *   const out = await pool.run({ seed: 0, arm: "supervised", teachers: [] });
 *   console.log(out.accuracy);
 * } finally {
 *   pool.dispose();
 * }
 * ```
 *
 * @module
 */
import type { BackendName } from "../backend.ts";
import type { ImageDataset } from "../data/dataset.ts";
import { modelToTransfer } from "../models/model_transfer.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import type { Arm } from "./arm_table.ts";
import type {
  ArmWorkerMessage,
  ArmWorkerReply,
  FineTunedTransfer,
  SharedDataset,
} from "./arm_worker.ts";
import type { ExperimentConfig } from "./recipe.ts";

/** What `ArmPool.create` needs. */
export interface ArmPoolOptions {
  /** The backend of the main thread (the workers start the same; wasm or cpu). */
  backend: BackendName;
  config: ExperimentConfig;
  data: { train: ImageDataset; test: ImageDataset };
  /** Number of workers. */
  workers: number;
}

/** One arm to train: the seed, the arm, what it starts from. */
export interface ArmJob {
  /** The recipe (the pool's when omitted). */
  config?: ExperimentConfig;
  seed: number;
  arm: Arm;
  /** The pre-trained encoder and head, for the arms that need them. */
  pretrained?: Pretrained;
  /** The trained teachers this arm may learn from. */
  teachers: FineTunedTransfer[];
  /** Bring the trained model back (it teaches a later arm). */
  returnModel?: boolean;
  /** Called after every epoch of a fine-tuned arm (`epoch` counts from 0). */
  onEpoch?: (epoch: number) => void;
}

/** A finished arm. */
export type ArmDone = Extract<ArmWorkerReply, { type: "done" }>;

/** A copy of a dataset whose images and labels live in shared memory. */
function toShared(d: ImageDataset): SharedDataset {
  const images = new SharedArrayBuffer(d.images.byteLength);
  new Float32Array(images).set(d.images);
  const labels = new SharedArrayBuffer(d.labels.byteLength);
  new Int32Array(labels).set(d.labels);
  return { ...d, images, labels };
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

/** Workers that train arms; see the module doc. `dispose` (or `using`) when done. */
export class ArmPool {
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<
    number,
    { resolve: (d: ArmDone) => void; reject: (e: Error) => void; onEpoch?: (e: number) => void }
  >();
  readonly #queue: (() => void)[] = [];
  #nextId = 1;
  #failure?: Error;
  #disposed = false;

  private constructor() {}

  /** Starts `options.workers` workers and waits until each holds the data. */
  static async create(options: ArmPoolOptions): Promise<ArmPool> {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`ArmPool: workers must be a positive integer, got ${options.workers}`);
    }
    const pool = new ArmPool();
    const init: ArmWorkerMessage = {
      type: "init",
      backend: options.backend,
      config: options.config,
      train: toShared(options.data.train),
      test: toShared(options.data.test),
    };
    try {
      await Promise.all(Array.from({ length: options.workers }, () => pool.#start(init)));
    } catch (e) {
      pool.dispose();
      throw e;
    }
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** Trains one arm on the next free worker and resolves with its score. */
  async run(job: ArmJob): Promise<ArmDone> {
    const slot = await this.#freeSlot();
    const id = this.#nextId++;
    const pre = job.pretrained;
    const message: ArmWorkerMessage = {
      type: "run",
      id,
      config: job.config,
      seed: job.seed,
      arm: job.arm,
      teachers: job.teachers,
      returnModel: job.returnModel ?? false,
      ...(pre
        ? {
          pretrained: {
            encoder: modelToTransfer(pre.encoder),
            head: modelToTransfer(pre.head),
            info: {
              history: pre.history,
              resumedAt: pre.resumedAt,
              backbone: pre.backbone,
              headSetting: pre.headSetting,
              shape: pre.shape,
              numClasses: pre.numClasses,
              seed: pre.seed,
            },
          },
        }
        : {}),
    };
    try {
      return await new Promise<ArmDone>((resolve, reject) => {
        this.#pending.set(id, { resolve, reject, onEpoch: job.onEpoch });
        slot.worker.postMessage(message);
      });
    } finally {
      slot.busy = false;
      this.#queue.shift()?.();
    }
  }

  /** Stops the workers; pending runs reject. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const s of this.#slots) s.worker.terminate();
    this.#fail(new Error("ArmPool: disposed while an arm was training"));
  }

  /** `using pool = await ArmPool.create(...)` disposes at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #start(init: ArmWorkerMessage): Promise<void> {
    const worker = new Worker(new URL("./arm_worker.ts", import.meta.url).href, { type: "module" });
    const slot: Slot = { worker, busy: false };
    this.#slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent) => {
        const reply = e.data as ArmWorkerReply;
        if (reply.type === "ready") return resolve();
        if (reply.type === "error" && reply.id === 0) {
          return reject(new Error(`ArmPool: a worker failed to start: ${reply.message}`));
        }
        this.#receive(reply);
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        const err = new Error(`ArmPool: a worker failed: ${e.message}`);
        reject(err);
        this.#fail(err);
      };
      worker.postMessage(init);
    });
  }

  #receive(reply: ArmWorkerReply): void {
    if (reply.type === "ready") return;
    const waiter = this.#pending.get(reply.id);
    if (!waiter) return;
    if (reply.type === "progress") return waiter.onEpoch?.(reply.epoch);
    this.#pending.delete(reply.id);
    if (reply.type === "error") waiter.reject(new Error(reply.message));
    else waiter.resolve(reply);
  }

  #freeSlot(): Promise<Slot> {
    return new Promise((resolve, reject) => {
      const take = () => {
        if (this.#failure) return reject(this.#failure);
        const slot = this.#slots.find((s) => !s.busy);
        if (!slot) return this.#queue.push(take);
        slot.busy = true;
        resolve(slot);
      };
      take();
    });
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const { reject } of this.#pending.values()) reject(err);
    this.#pending.clear();
    for (const next of this.#queue.splice(0)) next();
  }
}
