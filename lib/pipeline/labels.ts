/**
 * The seeded label split of a run: which training images keep their labels
 * (for training and for validation) and which are unlabelled (for
 * pre-training), optionally capping the unlabelled pool for a quick run.
 *
 * @example
 * ```ts
 * import { loadMnist } from "../data/mnist.ts";
 * import { splitLabels } from "./labels.ts";
 * const { train } = await loadMnist();
 * const split = splitLabels(train, { labels: 200, validation: 40, seed: 0 });
 * split.labelled.length; // 160
 * ```
 *
 * @module
 */
import type { ImageDataset } from "../data/dataset.ts";
import { type SparseLabelSplit, sparseLabelSplit } from "../data/split.ts";
import { Rng } from "../rng.ts";

/** Options of {@linkcode splitLabels}. */
export interface SplitLabelsOptions {
  /** Labelled images kept, validation included. */
  labels: number;
  /** Of those, held out to select models (default: a fifth, at least 1). */
  validation?: number;
  /** Draw the labelled images class-balanced (default true). */
  balanced?: boolean;
  /** Seed of the draw. */
  seed: number;
  /** Keep at most this many unlabelled images (a seeded subset; quick runs). */
  maxUnlabelled?: number;
}

/** The validation share of a label budget: a fifth of it, at least 1. */
export function defaultValidation(labels: number): number {
  return Math.max(1, Math.round(labels * 0.2));
}

/** Splits `train` into labelled, validation and unlabelled indices (each sorted). */
export function splitLabels(train: ImageDataset, options: SplitLabelsOptions): SparseLabelSplit {
  const { labels, seed } = options;
  const split = sparseLabelSplit(train.labels, {
    labelled: labels,
    validation: options.validation ?? defaultValidation(labels),
    balanced: options.balanced ?? true,
    seed,
    classNames: train.classNames,
  });
  const cap = options.maxUnlabelled;
  if (cap === undefined || split.unlabelled.length <= cap) return split;
  if (!Number.isInteger(cap) || cap < 0) {
    throw new RangeError(`splitLabels: maxUnlabelled must be a non-negative integer, got ${cap}`);
  }
  const unlabelled = new Rng(seed).fork("unlabelled-subset")
    .shuffle(Int32Array.from(split.unlabelled)).subarray(0, cap).sort();
  return { ...split, unlabelled };
}
