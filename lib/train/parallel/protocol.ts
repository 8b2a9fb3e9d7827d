/**
 * The messages and shared memory between the data-parallel SSL coordinator
 * (`ssl_workers.ts`, main thread) and its workers (`ssl_worker.ts`).
 *
 * Bulk data never travels in messages: the views, the outputs the loss reads
 * (`lib/train/ssl_objective.ts`: z, p, or both), BYOL's targets, the loss
 * gradients, the parameter gradients, the weights and the workers' moving
 * statistics of batch normalisation live in
 * `SharedArrayBuffer`s both sides see; messages only say "step k: your rows
 * are a..b" and "done". Inside a step a worker blocks (`Atomics.wait`) on the
 * control word {@linkcode CTRL_RELEASE} until every worker's z is written (and
 * later every worker's loss gradient): the workers count themselves in at
 * {@linkcode CTRL_ARRIVED} and the last one bumps the release word (or, with
 * `ParallelStepSwitches.workerBarriers` off, each reports to the main thread,
 * which bumps it once every report is in). Blocking keeps the worker inside
 * one `tf.variableGrads` call, so its forward pass's tape is reused by the
 * backward pass instead of being recomputed.
 *
 * @example
 * ```ts
 * import { CTRL_ABORT, CTRL_RELEASE, CTRL_WORDS, type StepMessage } from "./protocol.ts";
 * const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
 * const step: StepMessage = {
 *   type: "step", seq: 1, n: 4, start: 0, end: 4, slot: 0, workers: 2,
 *   release: Atomics.load(ctrl, CTRL_RELEASE),
 * };
 * // main, once every worker's z is in: let the blocked workers go on
 * Atomics.store(ctrl, CTRL_RELEASE, step.release + 1);
 * Atomics.notify(ctrl, CTRL_RELEASE);
 * Atomics.load(ctrl, CTRL_ABORT); // 0 until the coordinator shuts down
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { SslObjective } from "../ssl_objective.ts";

/** A model's topology as `model.toJSON(null, false)` returns it (plain JSON). */
export type ModelTopology = Exclude<ReturnType<tf.LayersModel["toJSON"]>, string>;

/** Index in the control `Int32Array`: a counter the main thread bumps to let blocked workers go on. */
export const CTRL_RELEASE = 0;
/** Index in the control `Int32Array`: non-zero once the coordinator is shutting down. */
export const CTRL_ABORT = 1;
/**
 * Index in the control `Int32Array`: how many workers reached the current barrier (with
 * `ParallelStepSwitches.workerBarriers`, the last one to arrive resets it and bumps
 * `CTRL_RELEASE` itself, without a message to the main thread).
 */
export const CTRL_ARRIVED = 2;
/** Length of the control `Int32Array`. */
export const CTRL_WORDS = 3;

/**
 * The phases of a worker's step, in order: the worker's reply "grads" carries the time each one
 * ended (`SslWorkers.lastStep`). `received` is when the step message was handled; `zWait` and
 * `lossWait` are its waits for the other workers.
 */
export const WORKER_PHASES = [
  "received",
  "weights",
  "input",
  "forward",
  "zWait",
  "loss",
  "lossWait",
  "backward",
  "grads",
] as const;

/** Where one weight lives in the flat weight buffer (float32 elements). */
export interface WeightSpec {
  /** Shape of the weight tensor. */
  shape: number[];
  /** First element in the buffer. */
  offset: number;
  /** Number of elements. */
  size: number;
}

/**
 * Main → worker, once: everything a worker needs to build its replica of the online network
 * (backbone, head, predictor) and of BYOL's momentum network.
 */
export interface InitMessage {
  /** Message kind. */
  type: "init";
  /** tfjs backend of the main thread ("wasm" or "cpu"); the worker uses the same. */
  backend: string;
  /** `model.toJSON(null, false)` of the backbone. */
  backbone: ModelTopology;
  /** `model.toJSON(null, false)` of the head. */
  head: ModelTopology;
  /** The predictor's topology (BYOL, SimSiam), when there is one. */
  predictor?: ModelTopology;
  /** The momentum network's backbone and head (BYOL): copies of `backbone` and `head`. */
  target?: { backbone: ModelTopology; head: ModelTopology };
  /** Image shape [height, width, channels]. */
  shape: [number, number, number];
  /** Width of the outputs the loss reads (`outputWidth` of `ssl_objective.ts`). */
  outDim: number;
  /** Width of the momentum network's z (0 without one). */
  targetDim: number;
  /** The method and its hyper-parameters. */
  objective: SslObjective;
  /**
   * Every weight of backbone, head, predictor, target backbone, target head (each in
   * `model.weights` order), in the weight buffer.
   */
  weights: WeightSpec[];
  /** The weights that get gradients, as indices into `weights`, in the optimizer's order. */
  trainable: number[];
  /** `CTRL_WORDS` int32 control words. */
  ctrl: SharedArrayBuffer;
  /** The weights, float32, laid out by `weights`. */
  weightBuffer: SharedArrayBuffer;
  /** One slot of `gradSize` float32 per worker: parameter gradients, `trainable` order. */
  gradBuffer: SharedArrayBuffer;
  /**
   * The weights a step changes without gradients (the moving statistics of batch
   * normalisation, and the momentum network's weights, which only main's EMA moves): every
   * weight not in `trainable`, as indices into `weights`.
   */
  state: number[];
  /** One slot per worker: its `state` weights after each step, in `state` order. */
  stateBuffer: SharedArrayBuffer;
  /** The main thread's `PARALLEL_STEP` switches (`ssl_workers.ts`) when the workers started. */
  switches: ParallelStepSwitches;
}

/** Paths of the data-parallel step that benchmarks switch off to time what they replaced. */
export interface ParallelStepSwitches {
  /** Tensors read and written straight from the wasm heap (`tensor_io.ts`'s `TENSOR_IO`). */
  directCopies: boolean;
  /**
   * The workers wait for each other's z and loss gradients at barriers in shared memory (the
   * last to arrive releases the others); else each reports to the main thread, which releases
   * them all once every report is in.
   */
  workerBarriers: boolean;
}

/** Shared buffers sized for a batch; re-sent when a larger batch needs larger ones. */
export interface BatchBuffers {
  /** The views, 2N x H x W x C float32. */
  views: SharedArrayBuffer;
  /** The outputs the loss reads (z, p or both), 2N x outDim float32. */
  z: SharedArrayBuffer;
  /** BYOL's targets, the momentum network's z, 2N x targetDim float32 (empty without one). */
  targets: SharedArrayBuffer;
  /**
   * One 2N x outDim slot per worker: the gradient of its part of the loss (SimCLR: its
   * anchors'; the other methods: the whole loss) with respect to all of the outputs.
   */
  lossGrads: SharedArrayBuffer;
}

/** Main → worker: run one step on view rows `start..end-1` of `2 * n`. */
export interface StepMessage {
  /** Message kind. */
  type: "step";
  /** Step number (1, 2, ...), echoed in the replies. */
  seq: number;
  /** Positive pairs: the batch has 2n views. */
  n: number;
  /** First view row of this worker. */
  start: number;
  /** One past the last view row of this worker. */
  end: number;
  /** This worker's slot in the gradient buffers. */
  slot: number;
  /** How many workers take part in this step (slots 0..workers-1). */
  workers: number;
  /** Value of `ctrl[CTRL_RELEASE]` when the step began; the step waits for +1 and +2. */
  release: number;
  /** Present when the batch buffers changed. */
  buffers?: BatchBuffers;
}

/** Worker → main. */
export type WorkerReply =
  | { type: "ready"; seq: 0 }
  /** The outputs (and targets) of the worker's rows are in the shared buffers. */
  | { type: "z"; seq: number }
  /** The worker's loss gradient is in its slot. */
  | { type: "lossgrad"; seq: number }
  /**
   * Parameter gradients are in the worker's gradient slot and its state weights in its state
   * slot; `loss` is its part of the loss; `hasGrad[k]` is false for a weight not reached; `marks`
   * are the worker's clock
   * (`performance.timeOrigin + performance.now()`, ms) at the ends of its phases
   * (`WORKER_PHASES`).
   */
  | { type: "grads"; seq: number; loss: number; hasGrad: boolean[]; marks: number[] }
  | { type: "error"; seq: number; message: string };
