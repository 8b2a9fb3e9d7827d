/**
 * What the `methods` part (`deno task ablation --part methods`) records: one
 * {@linkcode MethodRunResult} per pre-training (method, head, predictor, seed) with its probes on
 * h and z, RankMe, spread, collapse flag, per-layer table ({@linkcode MethodLayerRow}), rotation
 * and mirror probes and fine-tunes ({@linkcode FineTuneScore}); the strong supervised baseline
 * ({@linkcode StrongBaseline}); and the whole part ({@linkcode MethodsPartResults}, plain JSON in
 * `AblationResults.methods`). `methods_report.ts` reads them.
 *
 * @example
 * ```ts
 * import type { FineTuneScore, ValTest } from "./methods_results.ts";
 * const probe: ValTest = { validation: 0.91, test: 0.9 }; // the dev holdout chooses, test reports
 * const fineTunes: FineTuneScore[] = [
 *   { mode: "discard", validation: 0.93, test: 0.92, seconds: 41 },
 *   { mode: "keep-k", skipped: "no head to keep" }, // no accuracies when the mode cannot apply
 * ];
 * fineTunes.filter((f) => f.skipped === undefined).length; // 1
 * probe.test; // 0.9
 * ```
 *
 * @module
 */
import type { SslMethod } from "../train/ssl_method.ts";
import type { LabelFreeChoice } from "./label_free_choice.ts";
import type { FineTuneMode, MethodHeadKind, MethodsPartConfig } from "./methods_recipe.ts";

/** A validation (the dev holdout: choices only) and a test accuracy. */
export interface ValTest {
  validation: number;
  test: number;
}

/** One layer of backbone + head, from h to z. */
export interface MethodLayerRow {
  /** `"h"`, `"block 1"`, ..., `"z"`. */
  layer: string;
  depth: number;
  dim: number;
  /** RankMe on the unlabelled images. */
  rank_me: number;
  /** Singular values / the largest, descending (rounded to 4 significant digits). */
  spectrum: number[];
  /** Linear-probe test accuracy of this layer. */
  probe: number;
}

/** One fine-tune of a run, or why it did not apply. */
export interface FineTuneScore {
  mode: FineTuneMode;
  validation?: number;
  test?: number;
  /** Why the mode cannot apply to this run (then no accuracies). */
  skipped?: string;
  seconds?: number;
}

/** One pre-training of the part, scored. */
export interface MethodRunResult {
  name: string;
  key: string;
  method: SslMethod;
  head: MethodHeadKind;
  /** The head as `--head` spells it (`none`, `linear:64`, `mlp-bn:128,64`). */
  head_setting: string;
  /** BYOL and SimSiam: the predictor on or off; `null` for the others. */
  predictor: boolean | null;
  seed: number;
  /** Linear probe on h and on z (for no head, z = h). */
  probe: { h: ValTest; z: ValTest };
  /**
   * The SSL papers' linear evaluation: a linear classifier on h (and z) trained with `images`
   * labelled pool images (`linearEvaluation`); absent in results of earlier versions.
   */
  linear_eval?: { images: number; h: ValTest; z: ValTest };
  /** The run's pre-training learning rate (absent in results of earlier versions). */
  learning_rate?: number;
  /** kNN on h and z, test. */
  knn: { h: number; z: number };
  /** RankMe of h and z on unlabelled images, centred (as `layerDiagnostics`). */
  rank_me: { h: number; z: number };
  /** RankMe without centring (its paper's): about 1 when every image gives the same features. */
  rank_me_uncentred: { h: number; z: number };
  /**
   * SimSiam's collapse measure: the mean per-dimension std of the L2-normalised features
   * times √width (about 1 spread out, 0 when every image gives the same direction).
   */
  spread: { h: number; z: number };
  /** Share of test images whose h is all zeros. */
  zero_h: number;
  /** Uncentred RankMe of h or z below the part's threshold, or the spread of z below its. */
  collapsed: boolean;
  /** h, every block of the head, z. */
  layers: MethodLayerRow[];
  /** Linear probes of the applied quarter-turn and mirror, per layer (unlabelled images). */
  transforms: {
    rotation: { chance: number; accuracy: { layer: string; accuracy: number }[] };
    mirror: { chance: number; accuracy: { layer: string; accuracy: number }[] };
  };
  fine_tune: FineTuneScore[];
  pretrain_loss: number[];
  pretrain_s: number;
  /** Seconds for the whole run (pre-training, scores, fine-tunes). */
  seconds: number;
}

/** The strong supervised baseline at one budget, one value per seed. */
export interface StrongBaseline {
  steps: number;
  /** "the fine-tunes' budget" or "the recipe's budget". */
  what: string;
  validation: number[];
  test: number[];
}

/** The `methods` part's results (in `AblationResults.methods`). */
export interface MethodsPartResults {
  config: MethodsPartConfig;
  seeds: number[];
  /** Labelled images (all train), dev holdout (choices only), test images, unlabelled pool. */
  data: { labels: number; validation: number; test: number; unlabelled: number };
  /** The experiment's strong supervised arm on the same labels. */
  strong: StrongBaseline[];
  runs: MethodRunResult[];
  /** RankMe's pick against the validation pick, on the probe of h and on fine-tuning. */
  label_free: { probe: LabelFreeChoice; fine_tune: LabelFreeChoice };
}
