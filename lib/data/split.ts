/**
 * The sparse-label split at the heart of semi-supervised experiments: of a
 * training set, keep the labels of only a few examples, hold some of those
 * back for validation (model selection), and treat the rest as unlabelled.
 *
 * The validation examples are carved out of the labelled budget, never taken
 * from the test set: with `labelled: 200, validation: 40`, 160 labels train
 * the model, 40 choose among models, and the test set is only reported.
 *
 * Three ways to choose the labelled examples:
 * - default: a seeded random draw from the training set;
 * - `balanced: true`: a seeded draw with the same number per class (the
 *   remainder of `labelled / classes` goes one each to classes in a seeded
 *   order), validation balanced the same way;
 * - `firstN: true`: the first `labelled` examples, as the article does
 *   ("keep labels for the first 200 training images"); the seed then only
 *   picks which of them are validation.
 *
 * The other split here, {@linkcode stratifiedHoldOut}, carves a test set out
 * of a labelled folder (the image-folder loader's seeded, stratified split).
 *
 * @example
 * ```ts
 * import { sparseLabelSplit, stratifiedHoldOut } from "./split.ts";
 * const labels = Int32Array.from({ length: 1000 }, (_, i) => i % 10);
 * const split = sparseLabelSplit(labels, { labelled: 200, validation: 40, seed: 0 });
 * split.labelled.length; // 160: train the classifier on these labels
 * split.validation.length; // 40: select the model on these
 * split.unlabelled.length; // 800: their labels must not be used
 * const names = Array.from({ length: 10 }, (_, c) => `digit ${c}`);
 * const held = stratifiedHoldOut(labels, { testFraction: 0.2, seed: 0, classNames: names });
 * held.test.length; // 200: 20 of each class
 * ```
 *
 * @module
 */
import { Rng } from "../rng.ts";

/** Options of {@linkcode sparseLabelSplit}. */
export interface SparseLabelSplitOptions {
  /** The label budget: examples whose labels are kept, validation included. */
  labelled: number;
  /** Seed of every random choice; the same seed gives the same split. */
  seed: number;
  /** Draw the same number of examples from each class (within one). Default false. */
  balanced?: boolean;
  /** Examples of the budget held out for validation (0 <= validation < labelled). Default 0. */
  validation?: number;
  /** Take the first `labelled` labelled examples instead of a random draw. Default false. */
  firstN?: boolean;
  /** The number of classes for `balanced` (default: the largest label + 1). */
  numClasses?: number;
  /** Class names, used in error messages (and as `numClasses` when that is not given). */
  classNames?: readonly string[];
}

/** Indices into the training set, each array sorted ascending, the three disjoint. */
export interface SparseLabelSplit {
  /** Examples whose labels train the model (`labelled - validation` of them). */
  labelled: Int32Array;
  /** Examples whose labels select the model (`validation` of them). */
  validation: Int32Array;
  /** Every other training example; its label must not be used. */
  unlabelled: Int32Array;
}

function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`sparseLabelSplit: ${what} must be a non-negative integer, got ${n}`);
  }
}

function sorted(indices: number[]): Int32Array {
  return Int32Array.from(indices).sort();
}

/**
 * Splits the training set whose labels are `labels` (-1 = already unlabelled)
 * into labelled, validation and unlabelled indices; see the module
 * documentation. Throws a clear `Error` for a negative or non-integer budget,
 * a budget larger than the labelled examples available, `validation >=
 * labelled`, `firstN` with `balanced`, or (balanced) a class with too few
 * examples, named in the message.
 */
export function sparseLabelSplit(
  labels: Int32Array,
  options: SparseLabelSplitOptions,
): SparseLabelSplit {
  const { labelled: budget, seed, balanced = false, validation = 0, firstN = false } = options;
  checkCount("labelled", budget);
  checkCount("validation", validation);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`sparseLabelSplit: seed must be an integer, got ${seed}`);
  }
  if (firstN && balanced) {
    throw new Error("sparseLabelSplit: firstN and balanced cannot be combined");
  }
  if (validation > 0 && validation >= budget) {
    throw new Error(
      `sparseLabelSplit: validation ${validation} must be smaller than the labelled budget ` +
        `${budget}: it is carved out of that budget and would leave no labels for training`,
    );
  }
  const candidates: number[] = [];
  let maxLabel = -1;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < -1) throw new Error(`sparseLabelSplit: label ${l} at index ${i} is invalid`);
    if (l >= 0) {
      candidates.push(i);
      if (l > maxLabel) maxLabel = l;
    }
  }
  if (budget > candidates.length) {
    throw new Error(
      `sparseLabelSplit: the labelled budget ${budget} exceeds the ${candidates.length} ` +
        `labelled examples available`,
    );
  }

  const rng = new Rng(seed);
  const train: number[] = [];
  const held: number[] = [];
  if (balanced) {
    const k = options.numClasses ?? options.classNames?.length ?? maxLabel + 1;
    if (maxLabel >= k) {
      throw new Error(`sparseLabelSplit: label ${maxLabel} is not below numClasses ${k}`);
    }
    const byClass: number[][] = Array.from({ length: k }, () => []);
    for (const i of candidates) byClass[labels[i]].push(i);
    // Class at position r of this seeded order gets one of the remainder if r < remainder.
    const rank = new Int32Array(k);
    rng.fork("class order").permutation(k).forEach((c, r) => (rank[c] = r));
    const share = (total: number, c: number) =>
      Math.floor(total / k) + (rank[c] < total % k ? 1 : 0);
    for (let c = 0; c < k; c++) {
      const n = share(budget, c);
      if (byClass[c].length < n) {
        const name = options.classNames?.[c];
        throw new Error(
          `sparseLabelSplit: class ${c}${name ? ` ("${name}")` : ""} has only ` +
            `${byClass[c].length} examples; a balanced split of ${budget} labels over ${k} ` +
            `classes needs ${n}`,
        );
      }
      // The validation share is never above n: both shares use the same class order.
      const picked = rng.fork(`class ${c}`).shuffle(byClass[c]).slice(0, n);
      const v = share(validation, c);
      held.push(...picked.slice(0, v));
      train.push(...picked.slice(v));
    }
  } else {
    const picked = firstN
      ? rng.fork("validation").shuffle(candidates.slice(0, budget))
      : rng.fork("labelled").shuffle(candidates).slice(0, budget);
    held.push(...picked.slice(0, validation));
    train.push(...picked.slice(validation));
  }

  const used = new Uint8Array(labels.length);
  for (const i of train) used[i] = 1;
  for (const i of held) used[i] = 1;
  const rest: number[] = [];
  for (let i = 0; i < labels.length; i++) if (!used[i]) rest.push(i);
  return { labelled: sorted(train), validation: sorted(held), unlabelled: sorted(rest) };
}

/** Options of {@linkcode stratifiedHoldOut}. */
export interface StratifiedHoldOutOptions {
  /** Fraction of each class held out, strictly between 0 and 1. */
  testFraction: number;
  /** Seed of the draws; the same seed gives the same hold-out. */
  seed: number;
  /** Class names in label order: class `c`'s draw is seeded by its name, `classNames[c]`. */
  classNames: readonly string[];
}

/** What {@linkcode stratifiedHoldOut} returns: indices into `labels`, the two disjoint. */
export interface StratifiedHoldOut {
  /** Kept for training: every unlabelled index (in index order), then class by class, in draw order. */
  train: Int32Array;
  /** Held out: class by class, in draw order. */
  test: Int32Array;
  /** Per class (label order): its examples and how many of them were held out. */
  classes: { total: number; test: number }[];
}

/**
 * Holds out a seeded, stratified test set: of a class with `n >= 2`
 * examples, `round(n * testFraction)` go to the test side, at least one and
 * never all (`n - 1` at most); a class with fewer than two examples keeps
 * them all for training. Examples labelled -1 (unlabelled) always train.
 *
 * Each class draws from its own stream, `new Rng(seed).fork("image-folder
 * class " + name)`, over its examples in index order: adding or removing a
 * class leaves the other classes' hold-outs unchanged, and the image-folder
 * loader's split stays what it has always been for a given seed. Throws an
 * `Error` for a test fraction outside (0, 1), a non-integer seed, or a label
 * below -1 or without a class name.
 */
export function stratifiedHoldOut(
  labels: ArrayLike<number>,
  options: StratifiedHoldOutOptions,
): StratifiedHoldOut {
  const { testFraction, seed, classNames } = options;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new Error(
      `stratifiedHoldOut: testFraction must be between 0 and 1 (exclusive), got ${testFraction}`,
    );
  }
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`stratifiedHoldOut: seed must be an integer, got ${seed}`);
  }
  const byClass: number[][] = classNames.map(() => []);
  const train: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === -1) train.push(i);
    else if (Number.isInteger(l) && l >= 0 && l < classNames.length) byClass[l].push(i);
    else {
      throw new Error(
        `stratifiedHoldOut: label ${l} at index ${i} is not -1 nor a class of the ` +
          `${classNames.length} class names`,
      );
    }
  }
  const rng = new Rng(seed);
  const test: number[] = [];
  const classes = classNames.map((name, c) => {
    const mine = byClass[c];
    const n = mine.length;
    const nTest = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * testFraction)));
    const perm = rng.fork(`image-folder class ${name}`).permutation(n);
    for (let k = 0; k < n; k++) (k < nTest ? test : train).push(mine[perm[k]]);
    return { total: n, test: nTest };
  });
  return { train: Int32Array.from(train), test: Int32Array.from(test), classes };
}
