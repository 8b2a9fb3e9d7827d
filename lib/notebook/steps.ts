/**
 * The experiment as resumable steps, for the notebooks: thin caching wrappers
 * over the arms of `arms.ts` (the same functions `deno task experiment`
 * runs). Each step saves what it produced under a checkpoint folder in
 * `data/checkpoints/` (tfjs's own model format) and the next notebook loads
 * it from there, or recomputes it when it is missing — so every notebook runs
 * top to bottom on its own.
 *
 * The folder name holds the dataset, label budget, seed and mode, plus a hash
 * of the whole recipe: changing any setting starts fresh instead of mixing
 * results of different recipes.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { prepareContext, pretrained, testPredictions, trainedArm } from "./steps.ts";
 * await initBackend();
 * const ctx = await prepareContext(quickRecipe(), 0);
 * const pre = await pretrained(ctx, { progress: true }); // trains, or loads the checkpoint
 * const arm = await trainedArm(ctx, "ssl_new_head", pre);
 * const { accuracy } = await testPredictions(ctx, arm);
 * arm.dispose();
 * pre.dispose();
 * ```
 *
 * @module
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "../data/dataset.ts";
import { loadDataset } from "../data/load_dataset.ts";
import type { PretrainEpoch } from "../train/pretrain.ts";
import type { SupervisedEpoch, SupervisedResult } from "../train/supervised.ts";
import { Checkpoint, CHECKPOINT_VERSION, writeCheckpoint } from "../train/checkpoint.ts";
import { gatherImages, gatherLabels } from "../train/batches.ts";
import { extractFeatures } from "../eval/features.ts";
import type { ImageClassifier } from "../pipeline/classifier.ts";
import { classifierOf, type FineTuned } from "../pipeline/fine_tune.ts";
import { evaluate, type Evaluation } from "../pipeline/evaluate.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import { progressBar } from "./progress.ts";
import { BestSslArm } from "../experiment/save_model.ts";
import { backboneSettingText } from "../models/backbones.ts";
import { headSettingText } from "../models/heads/head_setting.ts";
import { epochsForSteps } from "../train/schedule.ts";
import { trainingWorkers } from "../backend.ts";
import { ArmPool } from "../experiment/arm_pool.ts";
import { fineTunedFrom, fineTunedTo, type FineTunedTransfer } from "../experiment/arm_worker.ts";
import { trainArmsOnPool } from "../experiment/pooled_arms.ts";
import type { ExperimentConfig } from "../experiment/recipe.ts";
import {
  type Arm,
  type ArmContext,
  armContext,
  ARMS,
  armUnavailable,
  type FineTunedOf,
  fineTuneOptions,
  isFineTunedArm,
  PRETRAINED_ARMS,
  pretrainFor,
  teacherArmsOf,
  trainArm,
} from "../experiment/arms.ts";

/** Everything the steps share for one seed of one recipe. */
export interface StepContext extends ArmContext {
  /** Checkpoint folder of this recipe and seed; `undefined` disables caching. */
  dir?: string;
  /**
   * Export the fine-tuned SSL arm best on validation here (encoder, classifier, model card:
   * `lib/experiment/save_model.ts`) once {@linkcode evaluatedArms} has scored every arm.
   */
  saveModel?: string;
}

/**
 * The default checkpoint root: `$SSL_CHECKPOINT_DIR` when set (tests point it
 * at a temporary folder), else `data/checkpoints/` of the repository.
 */
export function checkpointRoot(): string {
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("SSL_CHECKPOINT_DIR");
  } catch {
    fromEnv = undefined; // no --allow-env
  }
  return fromEnv || fileURLToPath(new URL("../../data/checkpoints/", import.meta.url));
}

/** A short stable hash (FNV-1a, hex) of a JSON-able value. */
export function configHash(value: unknown): string {
  const text = JSON.stringify(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** The checkpoint folder of `config` and `seed` under `root`. */
export function checkpointDir(
  config: ExperimentConfig,
  seed: number,
  root: string = checkpointRoot(),
): string {
  const { seeds: _seeds, ...recipe } = config;
  const name = config.dataset.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 40);
  // The checkpoint format is part of the hash: folders of another format are not read.
  return path.join(
    root,
    `${name}-${config.labels}labels-seed${seed}-${config.quick ? "quick" : "full"}-${
      configHash({ ...recipe, checkpointFormat: CHECKPOINT_VERSION })
    }`,
  );
}

/** Loads the data (unless given) and makes the seeded split; `cache: false` disables checkpoints. */
export async function prepareContext(
  config: ExperimentConfig,
  seed: number,
  options: { cache?: boolean; root?: string; data?: { train: ImageDataset; test: ImageDataset } } =
    {},
): Promise<StepContext> {
  const data = options.data ?? await loadDataset(config.dataset);
  return {
    ...armContext(config, data, seed),
    dir: options.cache === false ? undefined : checkpointDir(config, seed, options.root),
  };
}

/** Options of the training steps. */
export interface StepOptions {
  /** Show a live progress bar (in place in a notebook; lines elsewhere). */
  progress?: boolean;
}

/** Steps per pre-training epoch of a context (what the progress bar counts). */
export function pretrainStepsPerEpoch(ctx: ArmContext): number {
  const { batchSize, maxStepsPerEpoch } = ctx.config.pretrain;
  const n = ctx.split.unlabelled.length;
  return Math.min(Math.floor(n / Math.min(batchSize, n)), maxStepsPerEpoch ?? Infinity);
}

/** Contrastive pre-training of the recipe's backbone + head; resumes or loads from the checkpoint. */
export async function pretrained(
  ctx: StepContext,
  options: StepOptions & {
    onEpoch?: (e: PretrainEpoch) => void | Promise<void>;
    onStep?: (s: { epoch: number; step: number; steps: number; loss: number }) => void;
  } = {},
): Promise<Pretrained> {
  const steps = pretrainStepsPerEpoch(ctx);
  const bar = options.progress
    ? progressBar(ctx.config.pretrain.epochs * steps, { label: "pre-training", unit: "steps" })
    : undefined;
  const pre = await pretrainFor(ctx, {
    checkpointDir: ctx.dir ? path.join(ctx.dir, "pretrain") : undefined,
    onEpoch: options.onEpoch,
    onStep: (s) => {
      bar?.update(s.epoch * steps + s.step, { epoch: s.epoch + 1, loss: s.loss });
      options.onStep?.(s);
    },
  });
  bar?.update(pre.history.length * steps); // also right when it was loaded from the checkpoint
  await bar?.done();
  return pre;
}

/** A trained arm: a classifier, how it trained (fine-tuned arms), and whether it was loaded. */
export type TrainedArm = (ImageClassifier | FineTuned) & DistilledInfo & {
  arm: Arm;
  /** The training history of a fine-tuned arm. */
  result?: SupervisedResult;
  /** True when it was loaded from a checkpoint rather than trained now. */
  loaded: boolean;
};

/** What a distilled student records beside its models: its teacher and the images it used. */
export interface DistilledInfo {
  teacher?: string;
  unlabelledUsed?: number;
  agreement?: number;
}

/** What an arm's checkpoint is made with: a cached arm of another recipe or seed is refused. */
function armSettings(ctx: StepContext, arm: Arm): Record<string, unknown> {
  const { seeds: _seeds, ...recipe } = ctx.config;
  return { arm, seed: ctx.seed, recipe: configHash(recipe) };
}

async function loadArm(ctx: StepContext, dir: string, arm: Arm) {
  const saved = Checkpoint.find(dir, { kind: "arm", settings: armSettings(ctx, arm) });
  if (!saved) return undefined;
  const model = classifierOf(
    await saved.model("backbone"),
    await saved.model("head"),
    saved.json<SupervisedResult>("result.json"),
    ctx.shape,
  );
  return Object.assign(model, saved.has("info.json") ? saved.json<DistilledInfo>("info.json") : {});
}

async function saveArm(
  ctx: StepContext,
  dir: string,
  arm: Arm,
  model: FineTuned & DistilledInfo,
): Promise<void> {
  const { teacher, unlabelledUsed, agreement } = model;
  await writeCheckpoint(dir, {
    models: { backbone: model.backbone, head: model.head },
    json: {
      "result.json": model.result,
      ...(teacher === undefined ? {} : { "info.json": { teacher, unlabelledUsed, agreement } }),
    },
  }, {
    kind: "arm",
    settings: armSettings(ctx, arm),
    // What `deno task export --from` needs for the model card.
    info: {
      method: "simclr",
      dataset: ctx.config.dataset,
      classNames: ctx.train.classNames,
      shape: ctx.shape,
      arm,
      seed: ctx.seed,
      backbone: backboneSettingText(ctx.config.backbone),
      projectionHead: headSettingText(ctx.config.head),
      recipe: ctx.config,
    },
  });
}

/** The teachers `student` may learn from, trained or loaded (those this recipe runs). */
async function teacherCandidates(
  ctx: StepContext,
  pre: Pretrained | undefined,
  student: Arm,
): Promise<FineTunedOf[]> {
  const out: FineTunedOf[] = [];
  for (const arm of teacherArmsOf(student, ctx.split.validation.length > 0)) {
    if (armUnavailable(ctx, arm)) continue;
    const from = PRETRAINED_ARMS.includes(arm) ? pre : undefined;
    out.push({ arm, model: await trainedArm(ctx, arm, from) as FineTuned });
  }
  return out;
}

/**
 * Trains one arm (see `arms.ts`), or loads a fine-tuned arm from its
 * checkpoint. The pre-trained arms need `pre` (from {@linkcode pretrained}).
 */
export async function trainedArm(
  ctx: StepContext,
  arm: Arm,
  pre?: Pretrained,
  options: StepOptions & { onEpoch?: (e: SupervisedEpoch) => void | Promise<void> } = {},
): Promise<TrainedArm> {
  const dir = ctx.dir && isFineTunedArm(arm) ? path.join(ctx.dir, arm) : undefined;
  const saved = dir ? await loadArm(ctx, dir, arm) : undefined;
  if (saved) return { ...saved, arm, loaded: true };
  let bar: ReturnType<typeof progressBar> | undefined;
  const teachers = await teacherCandidates(ctx, pre, arm);
  const model = await trainArm(ctx, arm, pre, async (e) => {
    bar ??= options.progress
      ? progressBar(fineTuneEpochs(ctx, arm), { label: arm, unit: "epochs" })
      : undefined;
    bar?.update(e.epoch + 1, {
      loss: e.loss,
      ...(e.validationAccuracy === undefined ? {} : { "val acc": e.validationAccuracy }),
    });
    await options.onEpoch?.(e);
  }, teachers).finally(() => teachers.forEach((t) => t.model.dispose()));
  await bar?.done();
  if (dir) await saveArm(ctx, dir, arm, model as FineTuned);
  return { ...model, arm, loaded: false };
}

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

/** The epochs a fine-tuned arm trains for (0 = not known: a frozen arm). */
export function fineTuneEpochs(ctx: ArmContext, arm: Arm): number {
  if (!isFineTunedArm(arm)) return 0;
  const o = fineTuneOptions(ctx, arm);
  return o.steps === undefined
    ? o.epochs ?? 0
    : epochsForSteps(o.steps, ctx.split.labelled.length, o.batchSize ?? 64);
}

/** Test-set accuracy, predictions and confusion of a classifier (on the context's test images). */
export function testPredictions(ctx: ArmContext, model: ImageClassifier): Promise<Evaluation> {
  return evaluate(model, ctx.test, { count: ctx.testCount });
}

/** One arm's test evaluation, or why the recipe cannot run it. */
export type ArmOutcome =
  | ({ arm: Arm; skipped?: undefined; result?: SupervisedResult } & Evaluation)
  | { arm: Arm; skipped: string };

/**
 * Every arm of the experiment (or those named), trained or loaded and scored
 * on the test images: what `deno task experiment` reports for this seed.
 */
export async function evaluatedArms(
  ctx: StepContext,
  pre: Pretrained,
  options: StepOptions & { arms?: readonly Arm[] } = {},
): Promise<ArmOutcome[]> {
  const out: ArmOutcome[] = [];
  const best = ctx.saveModel ? new BestSslArm() : undefined;
  await trainArmsAhead(ctx, pre, options.arms ?? ARMS, options);
  for (const arm of options.arms ?? ARMS) {
    const why = armUnavailable(ctx, arm);
    if (why) {
      out.push({ arm, skipped: why });
      continue;
    }
    const model = await trainedArm(ctx, arm, PRETRAINED_ARMS.includes(arm) ? pre : undefined, {
      progress: options.progress,
    });
    try {
      out.push({ arm, result: model.result, ...await testPredictions(ctx, model) });
      if (best && model.result) best.offer(ctx.seed, arm, model as FineTuned);
    } finally {
      model.dispose();
    }
  }
  if (best && ctx.saveModel) {
    const saved = await best.save(ctx.saveModel, {
      config: ctx.config,
      classNames: ctx.train.classNames,
      testAccuracy: Object.fromEntries(
        out.flatMap((o) => o.skipped === undefined ? [[o.arm, [o.accuracy]]] : []),
      ),
      command: `notebook configuration: ${JSON.stringify({ saveModel: ctx.saveModel })}`,
    });
    if (saved) {
      console.log(
        `model saved to ${ctx.saveModel}: ${saved.arm} (best on validation), its encoder, ` +
          `classifier and model card`,
      );
    }
  }
  return out;
}

/** Backbone features h of the labelled (train + validation) images and of the test images. */
export async function backboneFeatures(ctx: ArmContext, backbone: tf.LayersModel): Promise<{
  labelled: Float32Array;
  labelledLabels: Int32Array;
  test: Float32Array;
  testLabels: Int32Array;
}> {
  const size = ctx.shape[0] * ctx.shape[1] * ctx.shape[2];
  const idx = Int32Array.from([...ctx.split.labelled, ...ctx.split.validation]);
  const labelled = (await extractFeatures(
    backbone,
    gatherImages(ctx.train.images, size, idx),
    idx.length,
    ctx.shape,
  )).features;
  const test = (await extractFeatures(
    backbone,
    ctx.test.images.subarray(0, ctx.testCount * size),
    ctx.testCount,
    ctx.shape,
  )).features;
  return {
    labelled,
    labelledLabels: gatherLabels(ctx.train.labels, idx),
    test,
    testLabels: ctx.test.labels.subarray(0, ctx.testCount),
  };
}
