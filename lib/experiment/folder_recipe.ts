/**
 * What the recipe for a folder of your own images takes from what is in it
 * (the budgets follow the folder's size in `recipeFor`, `recipe.ts`):
 *
 * - **backbone**: grey images up to 32 pixels get the modern CNN (batch
 *   normalisation, same padding, global average pooling) at 32/64/128
 *   channels (93k parameters; a quick run: the article's widths, 7k): on a
 *   realistic digit folder its best arm reached 95.6% where the article's
 *   widths reached 93.7%, in three times the time; colour images, or grey
 *   ones larger than 32 pixels, the small ResNet with batch normalisation
 *   (stages halve the resolution);
 * - **augmentation**: grey content gets "crop" for pre-training (crops, mild
 *   rotation, lighting, no mirror images: digits, letters and signs change
 *   meaning when flipped) and the mild affine augmentation for fine-tuning;
 *   colour gets SimCLR's "colour" pipeline for pre-training and the mild
 *   augmentation with mirror images ("affine-flip") for fine-tuning.
 *
 * @example
 * ```ts
 * import { chooseBackbone, folderChoices } from "./folder_recipe.ts";
 * const grey = { name: "mine", images: new Float32Array(0), labels: new Int32Array(0), count: 0,
 *   height: 28, width: 28, channels: 1, classNames: ["a", "b"] };
 * chooseBackbone(grey).backbone; // { kind: "cnn", channels: [32, 64, 128] }
 * chooseBackbone(grey, true).backbone; // { kind: "cnn" } (a quick run)
 * folderChoices(grey).pretrainAugment; // { preset: "crop", strength: 1 }
 * ```
 *
 * @module
 */
import type { AugmentChoice } from "../augment/presets.ts";
import type { ImageDataset } from "../data/dataset.ts";
import type { BackboneConfig } from "../models/backbones.ts";
import { MODERN_CNN_WIDE_CHANNELS } from "../models/modern_cnn.ts";

/** The backbone that fits images of `data` in a full run or a `quick` one, and why. */
export function chooseBackbone(
  data: Pick<ImageDataset, "height" | "width" | "channels">,
  quick = false,
): { backbone: BackboneConfig; why: string } {
  const side = Math.max(data.height, data.width);
  const size = `${data.height}x${data.width}`;
  if (data.channels === 1 && side <= 32) {
    return quick
      ? {
        backbone: { kind: "cnn" },
        why: `grey images of ${size}, a quick run: the modern CNN at the article's widths ` +
          `(7k parameters)`,
      }
      : {
        backbone: { kind: "cnn", channels: [...MODERN_CNN_WIDE_CHANNELS] },
        why: `grey images of ${size}: the modern CNN at 32/64/128 channels (93k parameters; ` +
          `on a realistic digit folder 95.6% against 93.7% at the article's widths, in three ` +
          `times the time: --backbone cnn for those)`,
      };
  }
  return {
    backbone: { kind: "resnet", width: 16, depth: 3 },
    why: data.channels === 3
      ? `colour images of ${size}: the small ResNet (16/32/64 channels) sees colour and texture`
      : `grey images of ${size}, larger than 32 pixels: the small ResNet halves the resolution ` +
        `in each of its 3 stages`,
  };
}

/**
 * The backbone and augmentations of a folder's recipe, full or `quick` (colour's when `train` is
 * not known).
 */
export function folderChoices(
  train: Pick<ImageDataset, "height" | "width" | "channels"> | undefined,
  quick = false,
): {
  backbone: BackboneConfig;
  pretrainAugment: AugmentChoice;
  finetuneAugment: AugmentChoice;
} {
  const grey = train?.channels === 1;
  return {
    backbone: train
      ? chooseBackbone(train, quick).backbone
      : { kind: "resnet", width: 16, depth: 3 },
    pretrainAugment: grey ? { preset: "crop", strength: 1 } : { preset: "colour" },
    finetuneAugment: grey
      ? { preset: "affine", strength: 1 }
      : { preset: "affine-flip", strength: 1 },
  };
}
