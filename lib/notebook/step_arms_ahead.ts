/**
 * The fine-tuned arms of a notebook trained ahead, side by side: {@linkcode trainArmsAhead}
 * trains those that have no checkpoint yet (and the teachers their students need) one worker per
 * core on the arm workers of `deno task experiment`, and saves each to its checkpoint, where the
 * `trainedArm` calls that follow read them.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { prepareContext } from "./step_context.ts";
 * import { trainArmsAhead } from "./step_arms_ahead.ts";
 * await initBackend();
 * const root = await Deno.makeTempDir();
 * const ctx = await prepareContext(quickRecipe(), 0, { root });
 * // One arm missing is not worth the workers: it trains in `trainedArm`, as before.
 * await trainArmsAhead(ctx, undefined, ["supervised_strong"]); // []
 * ```
 *
 * @module
 */
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { Checkpoint } from "../train/checkpoint.ts";
import type { FineTuned } from "../pipeline/fine_tune.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import { trainingWorkers } from "../backend.ts";
import { ArmPool } from "../experiment/arm_pool.ts";
import { fineTunedFrom, fineTunedTo, type FineTunedTransfer } from "../experiment/arm_worker.ts";
import { trainArmsOnPool } from "../experiment/pooled_arms.ts";
import {
  type Arm,
  ARMS,
  armUnavailable,
  isFineTunedArm,
  PRETRAINED_ARMS,
  teacherArmsOf,
} from "../experiment/arms.ts";
import { progressBar } from "./progress.ts";
import { armSettings, loadArm, saveArm } from "./step_arm_checkpoint.ts";
import type { StepContext, StepOptions } from "./step_context.ts";
import { fineTuneEpochs } from "./step_trained_arm.ts";

/**
 * Trains the fine-tuned arms among `arms` that have no checkpoint yet (and the teachers their
 * students need) side by side, one worker per core (`ArmPool`, the workers of
 * `deno task experiment`), and saves each to its checkpoint: the {@linkcode trainedArm} calls
 * that follow read them, with the accuracies they would have had one after the other. Does
 * nothing without a checkpoint folder, on webgpu (one device), on one core, or when fewer than
 * two arms are missing. Returns the arms it trained.
 */
export async function trainArmsAhead(
  ctx: StepContext,
  pre: Pretrained | undefined,
  arms: readonly Arm[],
  options: StepOptions = {},
): Promise<Arm[]> {
  const root = ctx.dir;
  const backend = tf.getBackend();
  if (!root || (backend !== "wasm" && backend !== "cpu")) return [];
  const validation = ctx.split.validation.length > 0;
  const wanted = new Set<Arm>();
  const add = (arm: Arm) => {
    if (wanted.has(arm) || !isFineTunedArm(arm) || armUnavailable(ctx, arm)) return;
    if (PRETRAINED_ARMS.includes(arm) && !pre) return;
    wanted.add(arm);
    for (const t of teacherArmsOf(arm, validation)) add(t);
  };
  arms.forEach(add);
  const saved = (arm: Arm) =>
    Checkpoint.find(path.join(root, arm), { kind: "arm", settings: armSettings(ctx, arm) });
  const missing = ARMS.filter((a) => wanted.has(a) && saved(a) === undefined);
  const workers = Math.min(trainingWorkers("auto"), missing.length);
  if (workers < 2) return [];
  // The teachers trained before: the students learn from them as they would here.
  const known = new Map<Arm, FineTunedTransfer>();
  for (const arm of wanted) {
    if (missing.includes(arm)) continue;
    const model = (await loadArm(ctx, path.join(root, arm), arm))!;
    known.set(arm, fineTunedTo(arm, model));
    model.dispose();
  }
  // One bar for the arms together, in epochs (each arm's count as `trainedArm` shows it).
  const epochs = new Map(missing.map((arm) => [arm, 0]));
  const total = missing.reduce((n, arm) => n + fineTuneEpochs(ctx, arm), 0);
  const bar = options.progress
    ? progressBar(total, { label: `${missing.length} arms on ${workers} workers`, unit: "epochs" })
    : undefined;
  let finished = 0;
  const show = (arm: Arm, epoch: number) => {
    epochs.set(arm, epoch);
    const sum = [...epochs.values()].reduce((a, b) => a + b, 0);
    bar?.update(sum, { "arms done": `${finished}/${missing.length}` });
  };
  using pool = await ArmPool.create({
    backend,
    config: ctx.config,
    data: { train: ctx.train, test: ctx.test },
    workers,
  });
  await trainArmsOnPool(pool, {
    config: ctx.config,
    seed: ctx.seed,
    arms: missing,
    pre,
    known,
    returnModels: true,
    onEpoch: (arm, epoch) => show(arm, epoch + 1),
    onDone: async (arm, trained) => {
      const { model } = await fineTunedFrom(trained.model!, ctx.shape);
      try {
        const notes = trained.notes?.teacher === undefined ? {} : trained.notes;
        await saveArm(ctx, path.join(root, arm), arm, Object.assign(model as FineTuned, notes));
      } finally {
        model.dispose();
      }
      finished++;
      show(arm, fineTuneEpochs(ctx, arm));
    },
  });
  await bar?.done();
  return missing;
}
