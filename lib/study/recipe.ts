/**
 * Settings of the projection-head study (`deno task ablation`): which heads,
 * temperatures and label budgets, and the budget of every pre-training run,
 * as one plain JSON object with a full and a quick preset.
 *
 * Every pre-training run of the full study has the main experiment's budget
 * (`recipeFor(dataset).pretrain`: on MNIST 8 epochs over 58,800 unlabelled
 * images at batch 512, workers on every core, 20-30 s an epoch on the 2-core
 * machine). The full study (3 seeds): part 1, 4 heads x 3 seeds = 12
 * pre-training runs; part 2, 3 more temperatures x 3 seeds = 9 (the head
 * study's temperature is not run twice); part 3, the label-budget curve (8
 * budgets x 2 arms x 3 seeds, each fine-tune capped at 60,000 images seen,
 * reusing the chosen run's pre-training). Measured on 2026-12-02 with other
 * jobs sharing the 2 cores: 42.8, 31.8 and 5.6 minutes (the label curve has since become
 * the experiment's arms at every budget: `label_curve.ts`). `--part` runs some
 * of them; `--cache-dir` keeps every finished run, so a rerun resumes.
 *
 * @example
 * ```ts
 * import { headConfig, parseParts, quickAblation } from "./recipe.ts";
 * const config = quickAblation("mnist");
 * config.parts = parseParts("labels,heads"); // ["heads", "labels"]: the study's order
 * console.log(headConfig("mlp2", 32, 10, 0)); // the article's head: 32 → 32 → 16 → 10
 * ```
 *
 * of them; `--cache-dir` keeps every finished run, so a rerun resumes.
 *
 * @module
 */
import type { ImageDataset } from "../data/dataset.ts";
import type { ProjectionHeadConfig } from "../models/heads/projection_heads.ts";
import type { PretrainConfig } from "../train/pretrain.ts";
import { type ExperimentConfig, recipeFor } from "../experiment/recipe.ts";
import { fullMethodsPart, type MethodsPartConfig, quickMethodsPart } from "./methods_recipe.ts";

/** The projection heads compared: none, linear, MLP with one and with two hidden layers. */
export const HEAD_KINDS = ["none", "linear", "mlp1", "mlp2"] as const;
/** One head of the study. */
export type HeadKind = typeof HEAD_KINDS[number];
/** Where features are taken: the backbone's output h, or the head's output z. */
export const FEATURES = ["h", "z"] as const;
/** h or z. */
export type FeatureKind = typeof FEATURES[number];
/** The three parts of the head study, in the order they run: what `--part` runs by default. */
export const PARTS = ["heads", "temperature", "labels"] as const;
/**
 * Every part `--part` accepts: the head study's three and `methods`, the projection head
 * across SSL methods (`methods.ts`), which runs only when asked for.
 */
export const ALL_PARTS = [...PARTS, "methods"] as const;
/** One part of the study. */
export type AblationPart = typeof ALL_PARTS[number];
/** A number of labelled images, or every training label (the probes of parts 1 and 2). */
export type LabelBudget = number | "all";

/** Plain-words names of the heads for tables and charts. */
export const HEAD_TITLES: Record<HeadKind, string> = {
  none: "none (z = h)",
  linear: "linear",
  mlp1: "MLP, 1 hidden layer",
  mlp2: "MLP, 2 hidden layers (article)",
};

/** Every setting of the study. */
export interface AblationConfig {
  /** `mnist`, `fashion-mnist` or `folder:<path>`. */
  dataset: string;
  /** One pre-training per (head, temperature, seed). */
  seeds: number[];
  /** The quick preset (CI): little data, tiny budgets. */
  quick: boolean;
  /** Which parts run. */
  parts: AblationPart[];
  /** Labelled images the linear probe and kNN are trained on (balanced draw). */
  labels: number;
  /**
   * Dev holdout: training images, disjoint from the labelled ones and left out
   * of pre-training, whose labels are used ONLY to choose the head and the
   * temperature (never the test set).
   */
  dev: number;
  /** Draw labelled images class-balanced. */
  balanced: boolean;
  /** Cap on the unlabelled images of pre-training (quick runs). */
  maxUnlabelled?: number;
  /** Cap on the test images evaluated (quick runs). */
  maxTest?: number;
  /** The experiment recipe the study starts from (backbone, augmentation, probe, kNN). */
  base: ExperimentConfig;
  /** The SSL budget of every run; its temperature is the head study's. */
  pretrain: PretrainConfig;
  /** The heads of part 1. */
  heads: HeadKind[];
  /** Width of z for the linear and MLP heads (the article: 10). */
  projectionDim: number;
  /** The NT-Xent temperatures of part 2. */
  temperatures: number[];
  /** Head used by the label curve when the head study is not run. */
  defaultHead: HeadKind;
  /** The label budgets of part 3 (the label curve, `label_curve.ts`). */
  labelBudgets: number[];
  /** The `methods` part: methods x heads x fine-tuning (`methods_recipe.ts`). */
  methods: MethodsPartConfig;
}

/**
 * The full study (see the module doc for its time budget). It starts from the
 * experiment's recipe for the dataset (`recipeFor`: backbone, augmentation,
 * probe, kNN; pass `train` for a `folder:` dataset).
 */
export function fullAblation(dataset = "mnist", train?: ImageDataset): AblationConfig {
  const base = recipeFor(dataset, false, train);
  return {
    dataset,
    seeds: [0, 1, 2],
    quick: false,
    parts: [...PARTS],
    labels: base.labels,
    dev: 1000,
    balanced: true,
    base,
    pretrain: { ...base.pretrain },
    heads: [...HEAD_KINDS],
    projectionDim: 10,
    temperatures: [0.1, 0.2, 0.5, 1.0],
    defaultHead: "mlp2",
    labelBudgets: [10, 20, 50, 200, 1000],
    methods: fullMethodsPart(),
  };
}

/** The quick study: every part, head, temperature and budget, on little data (CI). */
export function quickAblation(dataset = "mnist", train?: ImageDataset): AblationConfig {
  const full = fullAblation(dataset, train);
  const base = recipeFor(dataset, true, train);
  return {
    ...full,
    seeds: [0, 1],
    quick: true,
    dev: 200,
    maxUnlabelled: 2048,
    maxTest: 1000,
    base: { ...base, probe: { ...base.probe, epochs: 60 } },
    pretrain: { ...full.pretrain, epochs: 1, batchSize: 128, maxStepsPerEpoch: 3 },
    labelBudgets: [10, 50],
    methods: quickMethodsPart(),
  };
}

/** The projection head `kind` on features of width `inputDim`. */
export function headConfig(
  kind: HeadKind,
  inputDim: number,
  projectionDim: number,
  seed: number,
): ProjectionHeadConfig {
  switch (kind) {
    case "none":
      return { kind: "none", inputDim, seed };
    case "linear":
      return { kind: "linear", inputDim, outputDim: projectionDim, seed };
    case "mlp1":
      return { kind: "mlp", inputDim, hidden: [32], outputDim: projectionDim, seed };
    case "mlp2":
      return { kind: "mlp", inputDim, hidden: [32, 16], outputDim: projectionDim, seed };
    default:
      throw new Error(`unknown head "${kind}"; use one of ${HEAD_KINDS.join(", ")}`);
  }
}

/**
 * Parses `--part heads,temperature,labels,methods` (any subset, any order; run in the study's
 * order).
 */
export function parseParts(spec: string): AblationPart[] {
  const asked = spec.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const p of asked) {
    if (!(ALL_PARTS as readonly string[]).includes(p)) {
      throw new Error(`unknown part "${p}"; use any of ${ALL_PARTS.join(", ")}`);
    }
  }
  if (asked.length === 0) throw new Error(`no part given; use any of ${ALL_PARTS.join(", ")}`);
  return ALL_PARTS.filter((p) => asked.includes(p));
}
