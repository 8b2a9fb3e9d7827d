/**
 * Settings of the study's `methods` part (`deno task ablation --part methods`): which SSL
 * methods, which projection heads (none, linear, the method's own MLP), the predictor of BYOL
 * and SimSiam on and off, how each pre-trained model is fine-tuned (keep the head as the
 * classifier, discard it for a new one, keep its first k layers), and the budget of every
 * pre-training, probe and fine-tune, as one plain JSON object with a full and a quick preset.
 *
 * The grid is every method x head, and for BYOL and SimSiam x predictor on/off: 21
 * pre-trainings. Two of them are the collapse demos the papers describe: SimSiam without its
 * predictor, and BYOL with neither head nor predictor.
 *
 * The full preset is sized for one dataset in about half an hour on the 2-core machine, one
 * seed: every pre-training sees 153,600 augmented pairs (6 epochs of 100 steps at batch 256 on
 * both cores, about a third of the experiment's 8 epochs of 58,800 images; at 2 epochs SimSiam
 * stopped at 87.6% in the linear evaluation of h, at 6 it reaches 90.7%) at the method's own
 * learning rate ({@linkcode METHOD_LEARNING_RATES}), then the SSL papers' linear evaluation of
 * h and z (a linear classifier on 20,000 labelled pool images), every fine-tune
 * 300 optimiser steps of the strong recipe (a fifth of its 1,500), and the strong supervised
 * baseline trains at the same 300 steps and at its own 1,500.
 *
 * @example
 * ```ts
 * import { fineTunePlan, methodRuns, quickMethodsPart } from "./methods_recipe.ts";
 * const part = quickMethodsPart();
 * const runs = methodRuns(part);
 * runs.length; // 21: 3 heads x 5 methods, and the predictor off for BYOL and SimSiam
 * const run = runs.find((r) => r.name === "simclr, MLP head")!;
 * fineTunePlan(run, 32, 10).map((p) => p.mode); // ["discard", "keep", "keep-k"]
 * ```
 *
 * @module
 */
import type { HeadSetting } from "../models/heads/head_setting.ts";
import { headOutputWidth } from "../models/heads/head_setting.ts";
import { methodHead } from "../pipeline/defaults.ts";
import type { PretrainConfig } from "../train/pretrain.ts";
import type { SupervisedConfig } from "../train/supervised.ts";
import { SSL_METHODS, type SslMethod, usesPredictor } from "../train/ssl_method.ts";
import { decayTo } from "../train/schedule.ts";
import { FINE_TUNE_DEFAULTS } from "../pipeline/fine_tune.ts";

/** The heads of the part: none (z = h), one linear layer, the method's own MLP projector. */
export const METHOD_HEAD_KINDS = ["none", "linear", "mlp"] as const;
/** One head of the part. */
export type MethodHeadKind = typeof METHOD_HEAD_KINDS[number];

/** How a pre-trained model becomes a classifier (`fineTune`'s `head`). */
export const FINE_TUNE_MODES = ["discard", "keep", "keep-k"] as const;
/** One fine-tuning mode. */
export type FineTuneMode = typeof FINE_TUNE_MODES[number];

/** Plain-words names of the fine-tuning modes. */
export const FINE_TUNE_MODE_TITLES: Record<FineTuneMode, string> = {
  discard: "discard the head (new classifier)",
  keep: "keep the head as the classifier",
  "keep-k": "keep the head's first k layers + new classifier",
};

/** Every setting of the part. */
export interface MethodsPartConfig {
  /** The methods compared. */
  methods: SslMethod[];
  /** The heads compared. */
  heads: MethodHeadKind[];
  /** The seeds (default one). */
  seeds: number[];
  /** The budget of every pre-training (the method is set per run). */
  pretrain: PretrainConfig;
  /**
   * Each method's pre-training learning rate; a method not named uses `pretrain.learningRate`
   * ({@linkcode METHOD_LEARNING_RATES}: chosen on the dev holdout by tools/methods_lr_sweep.ts).
   */
  learningRates: Partial<Record<SslMethod, number>>;
  /** Labelled pool images of the linear evaluation of h and z (`linearEvaluation`). */
  linearEvalImages: number;
  /** The budget of every fine-tune (the strong recipe's settings, fewer steps). */
  finetune: SupervisedConfig & { steps: number };
  /** Also train the strong supervised baseline at its own recipe's budget (1,500 steps). */
  strongAtRecipe: boolean;
  /** `keep-k`: the pre-trained head's first k layers stay (SimCLRv2's middle answer). */
  keepLayers: number;
  /** Unlabelled images RankMe and the spectra are computed on. */
  rankImages: number;
  /** Test images of the per-layer probes (the h and z probes use every test image). */
  layerTest: number;
  /** Unlabelled images each way (train, test) of the rotation and mirror probes. */
  transformImages: number;
  /** Epochs of the per-layer and transformation probes. */
  probeEpochs: number;
  /** Uncentred RankMe of h or z below this: the run is flagged as collapsed. */
  collapseRank: number;
  /** The spread of the normalised z (SimSiam's measure, ~1 healthy) below this: collapsed. */
  collapseSpread: number;
}

/** One pre-training of the grid. */
export interface MethodRun {
  /** E.g. `"simsiam, MLP head, no predictor"` (unique in the grid). */
  name: string;
  method: SslMethod;
  head: MethodHeadKind;
  /** BYOL and SimSiam: with the predictor or not; `null` for the other methods. */
  predictor: boolean | null;
}

/**
 * Each method's learning rate (Adam, falling tenfold over the pre-training), chosen at 200 steps
 * of 256 pairs (the part's budget then; it is 600 now) on the dev holdout among 0.001, 0.003,
 * 0.01 and 0.03 by the linear evaluation of h (`deno run -A tools/methods_lr_sweep.ts --epochs 2
 * --rates 0.001,0.003,0.01,0.03`, results/methods-lr-sweep.json: MNIST, seed 0, 2026-12-07).
 * At 1e-3, the experiment's rate for 8 epochs, 200 steps left every method short (linear
 * evaluation 75.6-92.0% on dev).
 */
export const METHOD_LEARNING_RATES: Readonly<Record<SslMethod, number>> = Object.freeze({
  simclr: 0.01,
  byol: 0.01,
  simsiam: 0.003,
  barlow: 0.01,
  vicreg: 0.003,
});

/** The full part (see the module doc for its time budget). */
export function fullMethodsPart(): MethodsPartConfig {
  const epochs = 6;
  return {
    methods: [...SSL_METHODS],
    heads: [...METHOD_HEAD_KINDS],
    seeds: [0],
    pretrain: {
      epochs,
      batchSize: 256,
      maxStepsPerEpoch: 100,
      learningRate: 1e-3,
      lrDecay: decayTo(0.1, epochs),
      temperature: 0.2,
      softmaxBeforeLoss: false,
      workers: "auto",
    },
    learningRates: { ...METHOD_LEARNING_RATES },
    linearEvalImages: 20_000,
    finetune: { ...FINE_TUNE_DEFAULTS, steps: 300 },
    strongAtRecipe: true,
    keepLayers: 1,
    rankImages: 2048,
    layerTest: 2000,
    transformImages: 300,
    probeEpochs: 200,
    collapseRank: 2,
    collapseSpread: 0.1,
  };
}

/** The quick part (CI): the same grid on tiny budgets. */
export function quickMethodsPart(): MethodsPartConfig {
  const full = fullMethodsPart();
  return {
    ...full,
    pretrain: {
      ...full.pretrain,
      epochs: 1,
      batchSize: 64,
      maxStepsPerEpoch: 3,
      lrDecay: decayTo(0.1, 1),
      workers: 1,
    },
    finetune: { ...full.finetune, steps: 20 },
    linearEvalImages: 256,
    strongAtRecipe: false,
    rankImages: 256,
    layerTest: 200,
    transformImages: 32,
    probeEpochs: 30,
  };
}

/** Plain-words name of a head kind. */
export const METHOD_HEAD_TITLES: Record<MethodHeadKind, string> = {
  none: "no head",
  linear: "linear head",
  mlp: "MLP head",
};

/** The pre-trainings of the grid, in order: each method, each head, predictor on then off. */
export function methodRuns(config: Pick<MethodsPartConfig, "methods" | "heads">): MethodRun[] {
  const runs: MethodRun[] = [];
  for (const method of config.methods) {
    for (const head of config.heads) {
      const base = `${method}, ${METHOD_HEAD_TITLES[head]}`;
      if (usesPredictor(method)) {
        runs.push({ name: base, method, head, predictor: true });
        runs.push({ name: `${base}, no predictor`, method, head, predictor: false });
      } else {
        runs.push({ name: base, method, head, predictor: null });
      }
    }
  }
  return runs;
}

/** A stable key of a run (cache keys, JSON). */
export function runKey(run: MethodRun): string {
  const p = run.predictor === null ? "" : run.predictor ? "-pred" : "-nopred";
  return `${run.method}-${run.head}${p}`;
}

/**
 * The projection head of a run: none; one linear layer as wide as the method's projector's
 * output (SimCLR: one output per class); or the method's own projector (`methodHead`).
 */
export function methodHeadSetting(method: SslMethod, head: MethodHeadKind): HeadSetting {
  const own = methodHead(method);
  if (head === "none") return { kind: "none" };
  if (head === "linear") {
    return own.outputDim === undefined
      ? { kind: "linear" }
      : { kind: "linear", outputDim: own.outputDim };
  }
  return own;
}

/** Layers of a head setting (`none`: 0). */
export function headLayerCount(setting: HeadSetting): number {
  if (setting.kind === "none") return 0;
  if (setting.kind === "linear") return 1;
  return (setting.hidden?.length ?? 0) + 1;
}

/** One fine-tune of a run: the `fineTune` head option, or why it cannot apply. */
export type FineTunePlanItem =
  | { mode: FineTuneMode; head: "keep" | "new" | { layers: number } }
  | { mode: FineTuneMode; skip: string };

/**
 * The fine-tunes of a run, one per mode: `discard` always; `keep` only when the head has one
 * output per class (it becomes the classifier); `keep-k` when the head has at least k layers.
 */
export function fineTunePlan(
  run: MethodRun,
  featureDim: number,
  numClasses: number,
  keepLayers = 1,
): FineTunePlanItem[] {
  const setting = methodHeadSetting(run.method, run.head);
  const layers = headLayerCount(setting);
  const width = headOutputWidth(setting, featureDim, numClasses);
  const items: FineTunePlanItem[] = [{ mode: "discard", head: "new" }];
  if (layers === 0) {
    items.push({ mode: "keep", skip: "no head to keep" });
    items.push({ mode: "keep-k", skip: "no head to keep" });
    return items;
  }
  items.push(
    width === numClasses ? { mode: "keep", head: "keep" } : {
      mode: "keep",
      skip: `z has ${width} outputs, not one per class (${numClasses})`,
    },
  );
  items.push(
    layers >= keepLayers
      ? { mode: "keep-k", head: { layers: keepLayers } }
      : { mode: "keep-k", skip: `the head has ${layers} layer(s), fewer than k = ${keepLayers}` },
  );
  return items;
}

/**
 * Parses a list of methods (`"simclr,byol"`), for `--method` on the part; a one-line
 * `RangeError` for an unknown one.
 */
export function parseMethodList(spec: string): SslMethod[] {
  const asked = spec.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  for (const m of asked) {
    if (!(SSL_METHODS as readonly string[]).includes(m)) {
      throw new RangeError(`unknown method "${m}"; use any of ${SSL_METHODS.join(", ")}`);
    }
  }
  if (asked.length === 0) throw new RangeError(`no method given; use any of ${SSL_METHODS}`);
  return SSL_METHODS.filter((m) => asked.includes(m));
}
