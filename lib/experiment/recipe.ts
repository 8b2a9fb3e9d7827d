/**
 * The experiment's recipe: every setting of the article's experiment and of
 * our improvements, as one plain JSON object, with a full and a quick preset.
 *
 * What we changed from the article, and why (measured figures are in the
 * README): augmentations drawn independently per image (the article draws one
 * per batch), no softmax before the contrastive loss (it squashes z onto a
 * simplex), a lower temperature, fine-tuning with augmentation and Adam, and
 * honest model selection on a validation split carved from the 200 labels.
 *
 * @module
 */
import type { BackboneConfig } from "../models/backbones.ts";
import type { PretrainConfig } from "../train/pretrain.ts";
import type { SupervisedConfig } from "../train/supervised.ts";

/** Augmentation settings by preset name (see `lib/augment/`). */
export interface AugmentChoice {
  /** "digits": the article's affine + perspective + blur; "colour": SimCLR's; "none". */
  preset: "digits" | "colour" | "none";
  /** 0 = identity, 1 = the article's full strength (digits preset). */
  strength?: number;
}

/** Every setting of one experiment run. */
export interface ExperimentConfig {
  dataset: string;
  /** Labelled examples kept (validation included). */
  labels: number;
  /** Of those, held out to select models (never the test set). */
  validation: number;
  /** Draw the labelled examples class-balanced. */
  balanced: boolean;
  seeds: number[];
  quick: boolean;
  /** Cap on the unlabelled images used for pre-training (quick runs). */
  maxUnlabelled?: number;
  /** Cap on the test images evaluated (quick runs); all when omitted. */
  maxTest?: number;
  /** The backbone f(·); the head is always the article's MLP (its input width follows f). */
  backbone: BackboneConfig;
  pretrainAugment: AugmentChoice;
  finetuneAugment: AugmentChoice;
  pretrain: PretrainConfig;
  finetune: SupervisedConfig;
  /** Linear probe on frozen backbone features. */
  probe: { epochs: number; lr: number; weightDecay: number };
  /** k of the kNN classifier on backbone features. */
  knnK: number;
}

/** The full recipe (3 seeds; about 10 minutes a seed on a 2-core CPU). */
export function fullRecipe(dataset = "mnist"): ExperimentConfig {
  return {
    dataset,
    labels: 200,
    validation: 40,
    balanced: true,
    seeds: [0, 1, 2],
    quick: false,
    backbone: { kind: "article" },
    pretrainAugment: { preset: "digits", strength: 1 },
    finetuneAugment: { preset: "digits", strength: 0.5 },
    pretrain: {
      epochs: 8,
      batchSize: 512,
      learningRate: 1e-3,
      lrDecay: 0.95,
      temperature: 0.2,
      earlyStop: { minRelativeImprovement: 0.001, patience: 5 },
      softmaxBeforeLoss: false,
    },
    finetune: { epochs: 150, batchSize: 64, optimizer: "adam", learningRate: 1e-3 },
    probe: { epochs: 300, lr: 0.01, weightDecay: 1e-3 },
    knnK: 20,
  };
}

/** The quick recipe: every arm runs, on little data, in well under 3 minutes. */
export function quickRecipe(dataset = "mnist"): ExperimentConfig {
  const full = fullRecipe(dataset);
  return {
    ...full,
    seeds: [0],
    quick: true,
    maxUnlabelled: 4096,
    maxTest: 2000,
    pretrain: { ...full.pretrain, epochs: 3, batchSize: 256, maxStepsPerEpoch: 12 },
    finetune: { ...full.finetune, epochs: 60 },
    probe: { ...full.probe, epochs: 100 },
  };
}
