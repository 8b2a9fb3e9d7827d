/**
 * The worker side of data-parallel contrastive training (started by
 * `SslWorkers` in `ssl_workers.ts`; see `protocol.ts` for the messages).
 *
 * Each worker has its own tfjs with its own wasm instance and a replica of
 * the online network (backbone + head, and BYOL's or SimSiam's predictor)
 * and of BYOL's momentum network. One step (BYOL: after a forward pass of its
 * slice through the momentum network, outside the tape, whose z it writes to
 * the shared targets buffer), inside a single `tf.variableGrads` call:
 *
 * 1. forward its slice of the views to the outputs the loss reads
 *    (`onlineOutputs` of `lib/train/ssl_objective.ts`: z, p or both), write
 *    them to the shared buffer, report, block until every worker's are there;
 * 2. SimCLR: compute its anchors' part of NT-Xent (`objectiveLossRows`) and
 *    that part's gradient with respect to all the outputs; the other methods:
 *    the whole loss (`objectiveLoss`, on every worker's outputs and targets)
 *    and its gradient. Write it to its slot, report, block until every slot
 *    is written;
 * 3. dL/d(outputs) of its own rows — SimCLR: the sum of every slot's rows;
 *    the others: its own slot's — and return `sum(out * dL/dout)`, whose
 *    gradient with respect to the weights is the vector-Jacobian product of
 *    its slice, computed on the forward pass's tape.
 *
 * The parameter gradients go to the worker's slot of the gradient buffer, and
 * the weights the step changed without gradients (batch normalisation's
 * moving statistics, updated by the forward pass in training mode) to its
 * slot of the state buffer; the main thread adds the gradient slots, applies
 * the optimizer, averages the state slots and publishes the new weights, which
 * the worker reads at the start of the next step.
 *
 * @example
 * ```ts
 * // Not imported: `SslWorkers.create` starts this file as a module worker,
 * // then sends it an `InitMessage` (see `protocol.ts`).
 * const worker = new Worker(new URL("./ssl_worker.ts", import.meta.url).href, { type: "module" });
 * worker.terminate();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type BackendName, initBackend } from "../../backend.ts";
import {
  objectiveLoss,
  objectiveLossRows,
  onlineOutputs,
  targetOutputs,
} from "../ssl_objective.ts";
import { splitsByRows } from "../ssl_method.ts";
import "../../models/batch_norm.ts"; // registers our BatchNorm layer, so replicas can have it
import {
  type BatchBuffers,
  CTRL_ABORT,
  CTRL_ARRIVED,
  CTRL_RELEASE,
  type InitMessage,
  type StepMessage,
  type WorkerReply,
} from "./protocol.ts";
import { readInto, TENSOR_IO, tensorOf } from "./tensor_io.ts";
import { clock } from "./step_trace.ts";

/** The bits of the worker global scope used here (the file is type-checked with the window lib). */
interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: WorkerReply): void;
}
const scope = self as unknown as WorkerScope;

/** Thrown out of a blocked step when the coordinator shuts down. */
class Aborted extends Error {}

interface Replica {
  init: InitMessage;
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  predictor?: tf.LayersModel;
  target?: { backbone: tf.LayersModel; head: tf.LayersModel };
  /** Every model's weights, the order of `init.weights`. */
  variables: tf.Variable[];
  /** Offsets of the trainable weights in a gradient slot. */
  gradOffsets: number[];
  gradSize: number;
  /** Floats in a state slot (the `init.state` weights). */
  stateSize: number;
  ctrl: Int32Array;
  buffers?: BatchBuffers;
}

let replica: Replica | undefined;

async function build(init: InitMessage): Promise<Replica> {
  TENSOR_IO.direct = init.switches.directCopies;
  await initBackend(init.backend as BackendName);
  const model = (modelTopology: InitMessage["backbone"]) =>
    tf.models.modelFromJSON({ modelTopology });
  const backbone = await model(init.backbone);
  const head = await model(init.head);
  const predictor = init.predictor ? await model(init.predictor) : undefined;
  const target = init.target
    ? { backbone: await model(init.target.backbone), head: await model(init.target.head) }
    : undefined;
  const models = [backbone, head, predictor, target?.backbone, target?.head]
    .filter((m) => m !== undefined);
  const variables = models.flatMap((m) => m.weights).map((w) => w.read() as tf.Variable);
  if (variables.length !== init.weights.length) {
    throw new Error(
      `the worker's replica has ${variables.length} weights, the main thread's models ${init.weights.length}`,
    );
  }
  variables.forEach((v, i) => {
    if (v.shape.join() !== init.weights[i].shape.join()) {
      throw new Error(
        `weight ${i} (${v.name}) is [${v.shape}] here, [${init.weights[i].shape}] on main`,
      );
    }
  });
  const gradOffsets: number[] = [];
  let gradSize = 0;
  for (const k of init.trainable) {
    gradOffsets.push(gradSize);
    gradSize += init.weights[k].size;
  }
  return {
    init,
    backbone,
    head,
    predictor,
    target,
    variables,
    gradOffsets,
    gradSize,
    stateSize: init.state.reduce((s, k) => s + init.weights[k].size, 0),
    ctrl: new Int32Array(init.ctrl),
  };
}

/** Copies the published weights into the replica's variables. */
function loadWeights(r: Replica): void {
  const all = new Float32Array(r.init.weightBuffer);
  tf.tidy(() => {
    r.init.weights.forEach((spec, i) => {
      r.variables[i].assign(
        tensorOf(all.subarray(spec.offset, spec.offset + spec.size), spec.shape),
      );
    });
  });
}

/** Copies the weights without gradients (moving statistics) into the worker's state slot. */
function writeState(r: Replica, slot: number): void {
  if (r.stateSize === 0) return;
  const out = new Float32Array(r.init.stateBuffer, slot * r.stateSize * 4, r.stateSize);
  let offset = 0;
  for (const k of r.init.state) {
    readInto(r.variables[k], out, offset);
    offset += r.init.weights[k].size;
  }
}

/** Blocks until the release counter reaches `target`; throws `Aborted` on shutdown. */
function waitRelease(ctrl: Int32Array, target: number): void {
  // A short spin first: a worker that arrives last at a barrier releases the others within
  // microseconds, sooner than a blocked thread wakes up.
  for (let i = 0; i < SPIN && Atomics.load(ctrl, CTRL_RELEASE) < target; i++);
  for (;;) {
    if (Atomics.load(ctrl, CTRL_ABORT) !== 0) throw new Aborted("aborted");
    const now = Atomics.load(ctrl, CTRL_RELEASE);
    if (now >= target) return;
    Atomics.wait(ctrl, CTRL_RELEASE, now, 250); // the timeout only bounds a missed wake-up
  }
}

/** Spins of `waitRelease` before it blocks (a few tens of microseconds). */
const SPIN = 20_000;

/**
 * Waits until `workers` workers have arrived (`workerBarriers`); the last one to arrive releases
 * the others by setting the release counter to `target` itself.
 */
function barrier(ctrl: Int32Array, target: number, workers: number): void {
  if (Atomics.add(ctrl, CTRL_ARRIVED, 1) === workers - 1) {
    Atomics.store(ctrl, CTRL_ARRIVED, 0); // nobody arrives again before the release below
    Atomics.store(ctrl, CTRL_RELEASE, target);
    Atomics.notify(ctrl, CTRL_RELEASE);
  } else {
    waitRelease(ctrl, target);
  }
}

/** Reports phase `type` of step `seq` to the main thread and waits until it releases `target`. */
function report(r: Replica, msg: StepMessage, type: "z" | "lossgrad", target: number): void {
  if (r.init.switches.workerBarriers) {
    barrier(r.ctrl, target, msg.workers);
  } else {
    scope.postMessage({ type, seq: msg.seq });
    waitRelease(r.ctrl, target);
  }
}

function step(r: Replica, msg: StepMessage): void {
  const marks = [clock()];
  const mark = () => marks.push(clock());
  if (msg.buffers) r.buffers = msg.buffers;
  const buffers = r.buffers;
  if (!buffers) throw new Error("step before any batch buffers were sent");
  loadWeights(r);
  mark();
  const { n, start, end, slot, workers, seq } = msg;
  const { shape, outDim, targetDim, objective } = r.init;
  const split = splitsByRows(objective.method);
  const rows = 2 * n;
  const m = end - start;
  const size = shape[0] * shape[1] * shape[2];
  const zAll = new Float32Array(buffers.z, 0, rows * outDim);
  const targetsAll = new Float32Array(buffers.targets, 0, rows * targetDim);
  const lossGrads = new Float32Array(buffers.lossGrads);
  const x = tensorOf(new Float32Array(buffers.views, start * size * 4, m * size), [m, ...shape]);
  if (r.target) {
    // BYOL's targets of this worker's rows, outside the tape: no gradient reaches them.
    const t = targetOutputs(r.target, x);
    targetsAll.set(t.dataSync(), start * targetDim);
    t.dispose();
  }
  mark();
  let loss = 0;
  const trainable = r.init.trainable.map((k) => r.variables[k]);
  const { value, grads } = tf.variableGrads(() => {
    // Training mode: batch normalisation uses this worker's rows' statistics and updates its
    // moving statistics (sent back below).
    const out = onlineOutputs(objective.method, r, x);
    zAll.set(out.dataSync(), start * outDim);
    mark();
    report(r, msg, "z", msg.release + 1);
    mark();

    // SimCLR: this worker's anchors' part of the loss; the others: the whole loss. And its
    // gradient with respect to all the outputs.
    loss = tf.tidy(() => {
      const targets = r.target ? tf.tensor2d(targetsAll.slice(), [rows, targetDim]) : undefined;
      const lossOf = (o: tf.Tensor) =>
        split
          ? objectiveLossRows(objective, o as tf.Tensor2D, start, end)
          : objectiveLoss(objective, o as tf.Tensor2D, targets);
      const { value, grad } = tf.valueAndGrad(lossOf)(
        tf.tensor2d(zAll.slice(), [rows, outDim]),
      );
      lossGrads.set(grad.dataSync(), slot * rows * outDim);
      // A whole loss is reported once (by slot 0): main adds the workers' parts.
      return split || slot === 0 ? value.dataSync()[0] : 0;
    });
    mark();
    report(r, msg, "lossgrad", msg.release + 2);
    mark();

    // dL/dout of this worker's rows: SimCLR, the sum of every worker's part, in slot order;
    // a whole loss, this worker's own slot.
    const dz = new Float32Array(m * outDim);
    for (let w = split ? 0 : slot; w < (split ? workers : slot + 1); w++) {
      const from = w * rows * outDim + start * outDim;
      for (let j = 0; j < dz.length; j++) dz[j] += lossGrads[from + j];
    }
    return tf.sum(tf.mul(out, tf.tensor2d(dz, [m, outDim])));
  }, trainable);
  mark();

  const out = new Float32Array(r.init.gradBuffer, slot * r.gradSize * 4, r.gradSize);
  const hasGrad = trainable.map((v, k) => {
    const g = grads[v.name];
    if (g) readInto(g, out, r.gradOffsets[k]);
    return g !== undefined && g !== null;
  });
  tf.dispose([x, value, ...Object.values(grads)]);
  writeState(r, slot);
  mark();
  scope.postMessage({ type: "grads", seq, loss, hasGrad, marks });
}

scope.onmessage = async (e: MessageEvent) => {
  const msg = e.data as InitMessage | StepMessage;
  const seq = msg.type === "step" ? msg.seq : 0;
  try {
    if (msg.type === "init") {
      replica = await build(msg);
      scope.postMessage({ type: "ready", seq: 0 });
    } else {
      if (!replica) throw new Error("step before init");
      step(replica, msg);
    }
  } catch (err) {
    if (err instanceof Aborted) return; // the coordinator is terminating this worker
    const message = err instanceof Error ? err.stack ?? err.message : String(err);
    scope.postMessage({ type: "error", seq, message });
  }
};
