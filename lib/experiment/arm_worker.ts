/**
 * The worker side of the arm pool (`arm_pool.ts`): a Web Worker with its own tfjs and wasm
 * that trains whole arms of the experiment, one at a time, and scores them on the test set.
 *
 * Messages (see {@linkcode ArmWorkerMessage}): `init` brings the backend, the recipe and the
 * dataset's images in shared memory (no copy per worker); each `run` brings a seed, an arm, the
 * pre-trained encoder and head when the arm needs them, and its teachers (models as plain
 * data, `lib/models/model_transfer.ts`); the reply brings the test accuracy, the training
 * history and, when asked, the trained model back.
 *
 * @example
 * ```ts
 * // Not imported: `ArmPool.create` starts this file as a module worker and sends it an
 * // `init` message, then `run` messages.
 * const worker = new Worker(new URL("./arm_worker.ts", import.meta.url).href, { type: "module" });
 * worker.terminate();
 * ```
 *
 * @module
 */
import { type BackendName, initBackend } from "../backend.ts";
import type { ImageDataset } from "../data/dataset.ts";
import {
  modelFromTransfer,
  modelToTransfer,
  type ModelTransfer,
  transferables,
} from "../models/model_transfer.ts";
import { evaluate } from "../pipeline/evaluate.ts";
import { classifierOf, type FineTuned } from "../pipeline/fine_tune.ts";
import { asPretrained, type Pretrained } from "../pipeline/pretrain.ts";
import type { SupervisedResult } from "../train/supervised.ts";
import type { Arm } from "./arm_table.ts";
import { armContext, type FineTunedOf, trainArm } from "./arms.ts";
import type { ExperimentConfig } from "./recipe.ts";

/** A dataset whose images and labels live in shared memory. */
export interface SharedDataset extends Omit<ImageDataset, "images" | "labels"> {
  images: SharedArrayBuffer;
  labels: SharedArrayBuffer;
}

/** A fine-tuned model as plain data (a teacher going in, a trained arm coming out). */
export interface FineTunedTransfer {
  arm: Arm;
  backbone: ModelTransfer;
  head: ModelTransfer;
  result: SupervisedResult;
}

/** What the pool sends a worker. */
export type ArmWorkerMessage =
  | {
    type: "init";
    backend: BackendName;
    config: ExperimentConfig;
    train: SharedDataset;
    test: SharedDataset;
  }
  | {
    type: "run";
    id: number;
    /** The recipe of this run (the pool's when omitted). */
    config?: ExperimentConfig;
    seed: number;
    arm: Arm;
    pretrained?: {
      encoder: ModelTransfer;
      head: ModelTransfer;
      info: Omit<Pretrained, "encoder" | "head" | "dispose" | "featureDim">;
    };
    teachers: FineTunedTransfer[];
    /** Send the trained model back (a teacher of a later arm). */
    returnModel: boolean;
  };

/** What a worker answers. */
export type ArmWorkerReply =
  | { type: "ready" }
  /** An epoch of a fine-tuned arm finished (`epoch` counts from 0). */
  | { type: "progress"; id: number; epoch: number }
  | {
    type: "done";
    id: number;
    accuracy: number;
    seconds: number;
    result?: SupervisedResult;
    model?: FineTunedTransfer;
    /** A student's notes: its teacher, the unlabelled images used, its agreement. */
    notes?: { teacher?: string; unlabelledUsed?: number; agreement?: number };
  }
  | { type: "error"; id: number; message: string };

/** The bits of the worker global scope used here (the file is type-checked with the window lib). */
interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: ArmWorkerReply, transfer?: Transferable[]): void;
}

/** A dataset view over shared memory. */
export function fromShared(d: SharedDataset): ImageDataset {
  return { ...d, images: new Float32Array(d.images), labels: new Int32Array(d.labels) };
}

/** A fine-tuned model rebuilt from plain data. */
export async function fineTunedFrom(
  t: FineTunedTransfer,
  shape: [number, number, number],
): Promise<FineTunedOf> {
  const backbone = await modelFromTransfer(t.backbone);
  const head = await modelFromTransfer(t.head);
  return { arm: t.arm, model: classifierOf(backbone, head, t.result, shape) };
}

/** A fine-tuned model as plain data. */
export function fineTunedTo(arm: Arm, model: FineTuned): FineTunedTransfer {
  return {
    arm,
    backbone: modelToTransfer(model.backbone),
    head: modelToTransfer(model.head),
    result: model.result,
  };
}

let state: { config: ExperimentConfig; train: ImageDataset; test: ImageDataset } | undefined;

async function run(msg: Extract<ArmWorkerMessage, { type: "run" }>): Promise<void> {
  if (!state) throw new Error("run before init");
  const t0 = performance.now();
  const ctx = armContext(msg.config ?? state.config, state, msg.seed);
  const pre = msg.pretrained
    ? asPretrained(
      await modelFromTransfer(msg.pretrained.encoder),
      await modelFromTransfer(msg.pretrained.head),
      msg.pretrained.info,
    )
    : undefined;
  const teachers: FineTunedOf[] = [];
  try {
    for (const t of msg.teachers) teachers.push(await fineTunedFrom(t, ctx.shape));
    const onEpoch = (e: { epoch: number }) =>
      scope.postMessage({ type: "progress", id: msg.id, epoch: e.epoch });
    const model = await trainArm(ctx, msg.arm, pre, onEpoch, teachers);
    try {
      const { accuracy } = await evaluate(model, ctx.test, { count: ctx.testCount });
      const tuned = "result" in model ? model as FineTuned : undefined;
      const back = msg.returnModel && tuned ? fineTunedTo(msg.arm, tuned) : undefined;
      const notes = model as { teacher?: string; unlabelledUsed?: number; agreement?: number };
      scope.postMessage({
        type: "done",
        id: msg.id,
        accuracy,
        seconds: (performance.now() - t0) / 1000,
        result: tuned?.result,
        model: back,
        notes: {
          teacher: notes.teacher,
          unlabelledUsed: notes.unlabelledUsed,
          agreement: notes.agreement,
        },
      }, back ? [...transferables(back.backbone), ...transferables(back.head)] : []);
    } finally {
      model.dispose();
    }
  } finally {
    for (const t of teachers) t.model.dispose();
    pre?.dispose();
  }
}

const scope = self as unknown as WorkerScope;
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  scope.onmessage = async (e: MessageEvent) => {
    const msg = e.data as ArmWorkerMessage;
    try {
      if (msg.type === "init") {
        await initBackend(msg.backend, { log: () => {} });
        state = { config: msg.config, train: fromShared(msg.train), test: fromShared(msg.test) };
        scope.postMessage({ type: "ready" });
      } else {
        await run(msg);
      }
    } catch (err) {
      const message = err instanceof Error ? err.stack ?? err.message : String(err);
      scope.postMessage({ type: "error", id: msg.type === "run" ? msg.id : 0, message });
    }
  };
}
