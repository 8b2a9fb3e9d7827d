/**
 * The label curve of the study (`deno task ablation --part labels`): where does
 * self-supervision pay? For each label budget (10, 20, 50, 200 and 1,000 labelled
 * images by default) and seed, the experiment's own arms ({@linkcode LABEL_CURVE_ARMS}:
 * the raw-pixel baselines, the strong supervised baseline, self-training without
 * pre-training, the pre-trained backbone with a new head, and SSL then self-training), each
 * trained exactly as `deno task experiment --labels N` trains it, scored on the test set.
 *
 * Two differences from the experiment, both so that a budget of 10 labels (one an image
 * class) can be measured honestly: no validation images are carved out (every arm reports
 * its final model and every label trains; the recipes were chosen at 200 labels), so the
 * student of `ssl_distilled` learns from the one teacher it can have without a choice,
 * `ssl_new_head`; and one pre-training per seed serves every budget (pre-training never reads
 * a label; its unlabelled pool is the study's).
 *
 * @example
 * ```ts
 * import { LABEL_CURVE_ARMS, labelCurveRecipe } from "./label_curve.ts";
 * import { quickRecipe } from "../experiment/recipe.ts";
 * const r = labelCurveRecipe(quickRecipe(), 20); // 20 labels, no validation
 * r.validation; // 0
 * LABEL_CURVE_ARMS.includes("ssl_distilled"); // true
 * ```
 *
 * @module
 */
import type { ImageDataset } from "../data/dataset.ts";
import type { Arm } from "../experiment/arm_table.ts";
import type { ArmPool } from "../experiment/arm_pool.ts";
import type { ExperimentConfig } from "../experiment/recipe.ts";
import { runSeed } from "../experiment/run_seed.ts";
import type { Pretrained } from "../pipeline/pretrain.ts";
import type { ResultStore } from "./cache.ts";

/** The arms of the curve, in the order of its tables and charts. */
export const LABEL_CURVE_ARMS = [
  "pixels_linear",
  "pixels_knn",
  "supervised_strong",
  "self_trained",
  "ssl_new_head",
  "ssl_distilled",
] as const satisfies readonly Arm[];

/** One of {@linkcode LABEL_CURVE_ARMS}. */
export type LabelCurveArm = typeof LABEL_CURVE_ARMS[number];

/** One budget of the curve: every arm's test accuracy, one per seed. */
export interface LabelCurvePoint {
  /** Labelled images (all of them train). */
  labels: number;
  arms: Record<LabelCurveArm, { test_accuracy: number[] }>;
  /** Seconds per seed (every arm of the budget). */
  seconds: number[];
}

/** The experiment's recipe at `labels` labels, without validation images (see the module doc). */
export function labelCurveRecipe(base: ExperimentConfig, labels: number): ExperimentConfig {
  return { ...structuredClone(base), labels, validation: 0 };
}

/** What {@linkcode runLabelCurve} needs besides the recipe and the data. */
export interface LabelCurveOptions {
  /** Label budgets, in order. */
  budgets: readonly number[];
  /** The seeds, and each seed's pre-training (made by the caller, disposed by the caller). */
  seeds: readonly { seed: number; pre: () => Promise<Pretrained> }[];
  /** Trains the fine-tuned arms side by side (`arm_pool.ts`). */
  pool?: ArmPool;
  /** Keeps every finished budget and seed; a rerun reads them back. */
  store?: ResultStore;
  log?: (line: string) => void;
}

/** Runs the curve (see the module doc); one point per budget. */
export async function runLabelCurve(
  base: ExperimentConfig,
  data: { train: ImageDataset; test: ImageDataset },
  options: LabelCurveOptions,
): Promise<LabelCurvePoint[]> {
  const log = options.log ?? (() => {});
  const points: LabelCurvePoint[] = options.budgets.map((labels) => ({
    labels,
    arms: Object.fromEntries(
      LABEL_CURVE_ARMS.map((a) => [a, { test_accuracy: [] as number[] }]),
    ) as LabelCurvePoint["arms"],
    seconds: [],
  }));
  for (const { seed, pre } of options.seeds) {
    for (const point of points) {
      const key = `curve-${point.labels}-seed${seed}`;
      type Stored = { accuracy: Partial<Record<Arm, number>>; seconds: number };
      let stored = options.store?.get<Stored>(key);
      if (stored) {
        log(`labels ${point.labels}, seed ${seed}: read from ${options.store!.dir}`);
      } else {
        const config = labelCurveRecipe(base, point.labels);
        const r = await runSeed(config, data, seed, (line) => log(`  ${line.trim()}`), {
          pool: options.pool,
          arms: LABEL_CURVE_ARMS,
          pretrained: await pre(),
        });
        stored = { accuracy: r.testAccuracy, seconds: r.timing.total };
        options.store?.set(key, stored);
        log(`labels ${point.labels}, seed ${seed}: ${(r.timing.total / 60).toFixed(1)} min`);
      }
      for (const arm of LABEL_CURVE_ARMS) {
        const acc = stored.accuracy[arm];
        if (acc !== undefined) point.arms[arm].test_accuracy.push(acc);
      }
      point.seconds.push(stored.seconds);
    }
  }
  return points;
}
