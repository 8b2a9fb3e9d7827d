/**
 * The data of the projection-head study, per seed: the labelled images the
 * probes train on, a dev holdout that alone chooses the head and the
 * temperature, and the unlabelled pool of pre-training; and the nested label
 * budgets of the label curve.
 *
 * @example
 * ```ts
 * import { drawLabelled } from "./splits.ts";
 * const labels = Int32Array.from({ length: 100 }, (_, i) => i % 4);
 * drawLabelled(labels, 8, 0, true, 4).length; // 8, two per class
 * ```
 *
 * @module
 */
import type { ImageDataset } from "../data/dataset.ts";
import { sparseLabelSplit } from "../data/split.ts";
import { Rng } from "../rng.ts";
import type { AblationConfig, LabelBudget } from "./recipe.ts";

/** The labelled, dev and unlabelled images of one seed. */
export interface SeedSplit {
  seed: number;
  labelled: Int32Array;
  dev: Int32Array;
  pool: Int32Array;
}

/** The split of every seed of `config` (see the module doc). */
export function studySplits(config: AblationConfig, train: ImageDataset): SeedSplit[] {
  return config.seeds.map((seed) => {
    const split = sparseLabelSplit(train.labels, {
      labelled: config.labels,
      balanced: config.balanced,
      seed,
      classNames: train.classNames,
    });
    const rest = new Rng(seed).fork("dev").shuffle(Int32Array.from(split.unlabelled));
    if (config.dev >= rest.length) {
      throw new RangeError(`ablation: the dev holdout (${config.dev}) leaves no unlabelled images`);
    }
    const dev = rest.slice(0, config.dev).sort();
    let pool = rest.slice(config.dev);
    if (config.maxUnlabelled !== undefined && pool.length > config.maxUnlabelled) {
      pool = pool.slice(0, config.maxUnlabelled);
    }
    return { seed, labelled: split.labelled, dev, pool: pool.sort() };
  });
}

/**
 * The `n` labelled images of a label budget: class-balanced when possible
 * (nested: a smaller budget of a seed is a subset of a larger one), a seeded
 * random draw when a class is too small, every labelled image for "all" or a
 * budget at least as large as the training set.
 */
export function drawLabelled(
  labels: Int32Array,
  budget: LabelBudget,
  seed: number,
  balanced: boolean,
  numClasses: number,
): Int32Array {
  const counts = new Array<number>(numClasses).fill(0);
  const all: number[] = [];
  labels.forEach((l, i) => {
    if (l >= 0) {
      counts[l]++;
      all.push(i);
    }
  });
  if (budget === "all" || budget >= all.length) return Int32Array.from(all);
  const fits = counts.every((c) => c >= Math.ceil(budget / numClasses));
  return sparseLabelSplit(labels, {
    labelled: budget,
    seed,
    balanced: balanced && fits,
    numClasses,
  }).labelled;
}
