/**
 * One seed of the experiment: every arm of `arms.ts`, trained with
 * {@linkcode trainArm} and scored once on the test set. The supervised arms
 * run first, then one contrastive pre-training that every SSL arm reuses.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { loadMnist } from "../data/mnist.ts";
 * import { quickRecipe } from "./recipe.ts";
 * import { runSeed } from "./run_seed.ts";
 * await initBackend();
 * const r = await runSeed(quickRecipe(), await loadMnist(), 0, console.log);
 * r.testAccuracy.ssl_new_head;
 * ```
 *
 * @module
 */
import type { ImageDataset } from "../data/dataset.ts";
import type { PretrainEpoch } from "../train/pretrain.ts";
import type { SupervisedResult } from "../train/supervised.ts";
import { evaluate } from "../pipeline/evaluate.ts";
import { collapseWarning, isCollapsing } from "../eval/monitor.ts";
import type { FineTuned } from "../pipeline/fine_tune.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import type { ExperimentConfig } from "./recipe.ts";
import type { BaselinesConfig } from "./baselines.ts";
import {
  type Arm,
  armContext,
  ARMS,
  armUnavailable,
  type FineTunedArm,
  type FineTunedOf,
  isFineTunedArm,
  PRETRAINED_ARMS,
  pretrainFor,
  TEACHING_ARMS,
  trainArm,
} from "./arms.ts";
import { teacherArmsOf } from "./arm_table.ts";
import type { ArmPool } from "./arm_pool.ts";
import type { FineTunedTransfer } from "./arm_worker.ts";
import { trainArmsOnPool } from "./pooled_arms.ts";

export { type Arm, ARMS } from "./arms.ts";

/** What one seed produces. */
export interface SeedResult {
  seed: number;
  /** Test accuracy of every arm that ran (an arm the recipe cannot run is in `skipped`). */
  testAccuracy: Partial<Record<Arm, number>>;
  /** Arms that could not run with this recipe, and why. */
  skipped: Partial<Record<Arm, string>>;
  pretrainHistory: PretrainEpoch[];
  finetune: Partial<Record<FineTunedArm, SupervisedResult>>;
  /** Seconds: pre-training, the whole seed, and each arm (training and scoring). */
  timing: { pretrain: number; total: number; arms?: Partial<Record<Arm, number>> };
}

/** Progress messages for a CLI or a notebook. */
export type Log = (message: string) => void;

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** One log line for a fine-tuned arm: the epoch it kept, and why. */
export function fineTuneLine(arm: string, r: SupervisedResult, testAccuracy: number): string {
  const best = r.history[r.selectedEpoch];
  const kept = r.selectedBy === "final"
    ? `final epoch ${r.selectedEpoch + 1}/${r.history.length} `
    : `selected epoch ${r.selectedEpoch + 1}/${r.history.length} (validation ${
      pct(best.validationAccuracy ?? NaN)
    }), `;
  return `  ${arm}: ${kept}test ${pct(testAccuracy)}`;
}

/** What a distilled student adds to its log line: its teacher and the unlabelled images used. */
function distilledNote(model: object): string {
  const d = model as { teacher?: string; unlabelledUsed?: number; agreement?: number };
  return d.teacher === undefined ? "" : `; teacher ${d.teacher}, ${d.unlabelledUsed} unlabelled ` +
    `images, agrees with the teacher on ${pct(d.agreement ?? NaN)}`;
}

/** The log line of one pre-training epoch. */
export function pretrainLine(e: PretrainEpoch, batchSize: number): string {
  const monitor = e.contrastiveAccuracy === undefined
    ? ""
    : `, contrastive acc ${pct(e.contrastiveAccuracy)}, kNN (val) ${
      e.knnAccuracy === undefined ? "—" : pct(e.knnAccuracy)
    }, z spread ${e.zStd!.toFixed(3)} (1/√d ${(1 / Math.sqrt(e.zDim!)).toFixed(3)})${
      e.rankH === undefined
        ? ""
        : `, RankMe h ${e.rankH.toFixed(1)}/${e.hDim}, z ${e.rankZ!.toFixed(1)}/${e.zDim}`
    }`;
  const line = `  epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, lr ${
    e.learningRate.toExponential(2)
  }${monitor}, ${e.seconds.toFixed(1)} s (${
    ((e.steps * 2 * batchSize) / e.seconds).toFixed(0)
  } views/s)`;
  return e.zStd !== undefined && isCollapsing(e.zStd, e.zDim!)
    ? `${line}\n  ${collapseWarning(e.zStd, e.zDim!, e.epoch)}`
    : line;
}

/** Options of {@linkcode runSeed}. */
export interface RunSeedOptions {
  /** Resume pre-training from (and checkpoint it to) this folder. */
  checkpointDir?: string;
  /**
   * Train the fine-tuned arms on these workers, several at a time (`arm_pool.ts`); on the main
   * thread one after the other when omitted. The accuracies are the same either way.
   */
  pool?: ArmPool;
  /** Only these arms (and the teachers they need), in the table's order; default every arm. */
  arms?: readonly Arm[];
  /**
   * A pre-training to use instead of training one (the label curve reuses one per seed for
   * every budget: pre-training never reads a label). The caller keeps and disposes it.
   */
  pretrained?: Pretrained;
  /**
   * Called with every trained model that teaches another arm (the fine-tuned SSL arms and the
   * strong baseline), before it is freed: `--save-model` keeps the one it will export.
   */
  onModel?: (arm: Arm, model: FineTuned | FineTunedTransfer) => void;
}

/**
 * Runs every arm for one seed: the arms that need no pre-training, the contrastive
 * pre-training, then the arms built on it; a student after its teachers.
 */
export async function runSeed(
  config: ExperimentConfig & { baselines?: BaselinesConfig },
  data: { train: ImageDataset; test: ImageDataset },
  seed: number,
  log: Log = () => {},
  options: RunSeedOptions | string = {},
): Promise<SeedResult> {
  const { checkpointDir, pool, arms, pretrained, onModel } = typeof options === "string"
    ? { checkpointDir: options, pool: undefined, arms: undefined, pretrained: undefined }
    : options;
  // The arms asked for, and the teachers their students need.
  const wanted = new Set(arms ?? ARMS);
  const validation = config.validation > 0;
  for (const a of [...wanted]) for (const t of teacherArmsOf(a, validation)) wanted.add(t);
  const t0 = performance.now();
  const ctx = armContext(config, data, seed);
  const out: SeedResult = {
    seed,
    testAccuracy: {},
    skipped: {},
    pretrainHistory: [],
    finetune: {},
    timing: { pretrain: 0, total: 0, arms: {} },
  };
  const runnable = ARMS.filter((a) => wanted.has(a)).filter((arm) => {
    const why = armUnavailable(ctx, arm);
    if (why) {
      out.skipped[arm] = why;
      log(`  ${arm}: skipped: ${why}`);
    }
    return why === undefined;
  });
  const report = (
    arm: Arm,
    accuracy: number,
    seconds: number,
    result?: SupervisedResult,
    notes = "",
  ) => {
    out.testAccuracy[arm] = accuracy;
    out.timing.arms![arm] = seconds;
    const took = ` (${seconds.toFixed(0)} s)`;
    if (result) {
      out.finetune[arm as FineTunedArm] = result;
      log(fineTuneLine(arm, result, accuracy) + notes + took);
    } else {
      log(`  ${arm}: test ${pct(accuracy)}${took}`);
    }
  };
  // The teachers stay alive until their students have trained.
  const teachers: FineTunedOf[] = [];
  const score = async (arm: Arm, pre?: Pretrained) => {
    const ta = performance.now();
    const model = await trainArm(ctx, arm, pre, undefined, teachers);
    let keep = false;
    try {
      const { accuracy } = await evaluate(model, data.test, { count: ctx.testCount });
      const tuned = isFineTunedArm(arm) ? model as FineTuned : undefined;
      report(arm, accuracy, (performance.now() - ta) / 1000, tuned?.result, distilledNote(model));
      keep = tuned !== undefined && TEACHING_ARMS.includes(arm);
      if (keep) teachers.push({ arm, model: tuned! });
      if (keep) onModel?.(arm, tuned!);
    } finally {
      if (!keep) model.dispose();
    }
  };

  log(
    `seed ${seed}: supervised baselines on ${ctx.split.labelled.length} labels ` +
      `(+${ctx.split.validation.length} validation)`,
  );
  const early = runnable.filter((a) => !PRETRAINED_ARMS.includes(a));
  if (!pool) { for (const arm of early) await score(arm); }
  else for (const arm of early.filter((a) => !isFineTunedArm(a))) await score(arm);

  const tp = performance.now();
  let pre: Pretrained;
  if (pretrained) {
    pre = pretrained;
  } else {
    log(
      `seed ${seed}: contrastive pre-training on ${ctx.split.unlabelled.length} unlabelled images`,
    );
    pre = await pretrainFor(ctx, {
      checkpointDir,
      onEpoch: (e) => log(pretrainLine(e, config.pretrain.batchSize)),
    });
  }
  out.timing.pretrain = (performance.now() - tp) / 1000;
  out.pretrainHistory = pre.history;
  try {
    const late = runnable.filter((a) => PRETRAINED_ARMS.includes(a));
    if (!pool) {
      for (const arm of late) await score(arm, pre);
    } else {
      // The fine-tuned arms on the pool (those before pre-training too), the rest here.
      const tuned = runnable.filter((a) => isFineTunedArm(a));
      const onPool = trainArmsOnPool(pool, {
        config,
        seed,
        arms: tuned,
        pre,
        onDone: (arm, done) => {
          if (done.model) onModel?.(arm, done.model);
          report(arm, done.accuracy, done.seconds, done.result, distilledNote(done.notes ?? {}));
        },
      });
      for (const arm of late.filter((a) => !isFineTunedArm(a))) await score(arm, pre);
      await onPool;
    }
  } finally {
    for (const t of teachers) t.model.dispose();
    if (pre !== pretrained) pre.dispose();
  }
  out.timing.total = (performance.now() - t0) / 1000;
  return out;
}
