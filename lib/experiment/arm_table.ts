/**
 * The experiment's arms, written once: each arm's name (the stable names of the results JSON),
 * its title in tables and charts, what it learns from (raw pixels, the labels, the unlabelled
 * images through self-training, or contrastive pre-training), whether it fine-tunes a backbone,
 * where its teacher comes from, and the article's reported figure. Every list of arms elsewhere
 * (`ARMS`, the arms that need pre-training, the teacher candidates, the table's groups) is
 * derived from {@linkcode ARM_TABLE}.
 *
 * @example
 * ```ts
 * import { ARM_TABLE, ARMS, armsWhere } from "./arm_table.ts";
 * ARMS[0]; // "pixels_linear": the table's order is the report's
 * ARM_TABLE.ssl_distilled.teacher; // "ssl": the best fine-tuned SSL arm on validation
 * armsWhere((a) => a.uses === "pretraining" && a.fineTuned); // the fine-tuned SSL arms
 * ```
 *
 * @module
 */

/** What an arm learns from. */
export type ArmSource =
  /** a classifier on the raw pixels of the labelled images */
  | "pixels"
  /** the labelled images only */
  | "labels"
  /** the labels, then the unlabelled images through self-training (no pre-training) */
  | "self-training"
  /** contrastive pre-training on the unlabelled images, then the labels */
  | "pretraining";

/** One arm's row of the table. */
export interface ArmInfo {
  /** Plain-words name for tables and charts. */
  title: string;
  /** What it learns from. */
  uses: ArmSource;
  /** Trains a backbone + head on the labels (so it has a history and can be cached). */
  fineTuned: boolean;
  /** May be the teacher of `ssl_distilled` (chosen among these on validation). */
  teacherCandidate?: boolean;
  /**
   * Where its teacher comes from: "ssl", the best teacher candidate on validation; or an arm's
   * name (the teacher is that arm's model).
   */
  teacher?: "ssl" | "supervised_strong";
  /** The article's reported test accuracy (selected on the test set), where it has one. */
  article?: number;
}

/** Every arm, in the order of the report: baselines first, then the SSL arms. */
export const ARM_TABLE = {
  pixels_linear: {
    title: "pixels, linear classifier on the raw pixels of the labels",
    uses: "pixels",
    fineTuned: false,
  },
  pixels_knn: {
    title: "pixels, kNN on the raw pixels of the labels (k chosen on validation)",
    uses: "pixels",
    fineTuned: false,
  },
  supervised_article: {
    title: "supervised, the article's CNN and recipe (SGD, no augmentation, final epoch)",
    uses: "labels",
    fineTuned: true,
    article: 0.525,
  },
  supervised: {
    title: "supervised on the labels only (no augmentation)",
    uses: "labels",
    fineTuned: true,
    article: 0.525,
  },
  supervised_strong: {
    title: "supervised, strong recipe (the SSL arms' backbone; tuned on a dev holdout)",
    uses: "labels",
    fineTuned: true,
  },
  self_trained: {
    title: "strong supervised + self-training on the unlabelled images (no pre-training)",
    uses: "self-training",
    fineTuned: true,
    teacher: "supervised_strong",
  },
  ssl_same_head: {
    title: "SSL, fine-tuned with the same head",
    uses: "pretraining",
    fineTuned: true,
    teacherCandidate: true,
    article: 0.597,
  },
  ssl_new_head: {
    title: "SSL, head discarded, new head fine-tuned",
    uses: "pretraining",
    fineTuned: true,
    teacherCandidate: true,
    article: 0.636,
  },
  ssl_head_layer1: {
    title: "SSL, first layer of the head kept + new linear classifier (SimCLRv2)",
    uses: "pretraining",
    fineTuned: true,
    teacherCandidate: true,
  },
  ssl_distilled: {
    title: "SSL, then self-training on the unlabelled images (SimCLRv2's third step)",
    uses: "pretraining",
    fineTuned: true,
    teacher: "ssl",
  },
  linear_probe: {
    title: "SSL, linear probe on frozen h",
    uses: "pretraining",
    fineTuned: false,
  },
  knn: {
    title: "SSL, kNN on frozen h",
    uses: "pretraining",
    fineTuned: false,
  },
} as const satisfies Record<string, ArmInfo>;

/** One arm's name. */
export type Arm = keyof typeof ARM_TABLE;

/** Every arm, in the report's order. */
export const ARMS: readonly Arm[] = Object.keys(ARM_TABLE) as Arm[];

/** The arms whose row satisfies `test`, in the report's order. */
export function armsWhere(test: (info: ArmInfo, arm: Arm) => boolean): Arm[] {
  return ARMS.filter((a) => test(ARM_TABLE[a], a));
}

/** The arms that start from the contrastive pre-training. */
export const PRETRAINED_ARMS: readonly Arm[] = armsWhere((a) => a.uses === "pretraining");

/** An arm that trains a backbone + head. */
export type FineTunedArm = {
  [A in Arm]: typeof ARM_TABLE[A]["fineTuned"] extends true ? A : never;
}[Arm];

/** The arms fine-tuned end to end (backbone + head) on the labels. */
export const FINE_TUNED_ARMS: readonly FineTunedArm[] = armsWhere((a) =>
  a.fineTuned
) as FineTunedArm[];

/** Whether `arm` trains a backbone + head (so it has a history and can be cached). */
export function isFineTunedArm(arm: Arm): arm is FineTunedArm {
  return ARM_TABLE[arm].fineTuned;
}

/** The fine-tuned SSL arms a teacher for `ssl_distilled` is chosen from (on validation). */
export const TEACHER_ARMS: readonly Arm[] = armsWhere((a) => a.teacherCandidate === true);

/**
 * The teacher `ssl_distilled` takes when there are no validation images to choose one with:
 * the article's "discard the head" arm, SimCLR's own way to fine-tune.
 */
export const DEFAULT_TEACHER: Arm = "ssl_new_head";

/**
 * The arms `arm` may take as its teacher (none for an arm without one). Without validation
 * images (`validation` false) there is nothing to choose with, so only
 * {@linkcode DEFAULT_TEACHER} is a candidate.
 */
export function teacherArmsOf(arm: Arm, validation = true): readonly Arm[] {
  const t = (ARM_TABLE[arm] as ArmInfo).teacher;
  if (t === undefined) return [];
  if (t !== "ssl") return [t];
  return validation ? TEACHER_ARMS : [DEFAULT_TEACHER];
}

/** The arms another arm takes as its teacher (kept alive until the students have trained). */
export const TEACHING_ARMS: readonly Arm[] = [
  ...TEACHER_ARMS,
  ...armsWhere((_, arm) => ARMS.some((s) => (ARM_TABLE[s] as ArmInfo).teacher === arm)),
];

/** The article's reported test accuracies (with its selection on the test set). */
export const ARTICLE_FIGURES: Partial<Record<Arm, number>> = Object.fromEntries(
  armsWhere((a) => a.article !== undefined).map((a) => [a, (ARM_TABLE[a] as ArmInfo).article]),
);

/** Plain-words names of the arms for tables and charts. */
export const ARM_TITLES: Record<Arm, string> = Object.fromEntries(
  ARMS.map((a) => [a, ARM_TABLE[a].title]),
) as Record<Arm, string>;
