/**
 * Turns an augmentation choice of the recipe (`{ preset, strength }`) into the
 * view functions training needs.
 *
 * @module
 */
import { augmentBatch, colourAugment, digitAugment, twoViews } from "../augment/compose.ts";
import { cropFlipAugment } from "../augment/crop_flip.ts";
import type { Transform } from "../augment/types.ts";
import type { Rng } from "../rng.ts";
import type { AugmentChoice } from "./recipe.ts";

/** Two views and one view of a batch, or `undefined` for no augmentation. */
export interface Augmenter {
  twoViews: (batch: Float32Array, count: number, rng: Rng) => [Float32Array, Float32Array];
  oneView: (batch: Float32Array, count: number, rng: Rng) => Float32Array;
  pipeline: Transform;
}

/** The transform pipeline of a choice; `undefined` for preset "none". */
export function augmentPipeline(choice: AugmentChoice): Transform | undefined {
  switch (choice.preset) {
    case "none":
      return undefined;
    case "digits":
      return digitAugment({ strength: choice.strength ?? 1 });
    case "colour":
      return colourAugment();
    case "crop-flip":
      return cropFlipAugment({ strength: choice.strength ?? 1 });
    default:
      throw new Error(
        `unknown augmentation preset "${
          (choice as { preset: string }).preset
        }"; use digits, colour, crop-flip or none`,
      );
  }
}

/** View functions for images of `shape`; `undefined` for preset "none". */
export function makeAugmenter(
  choice: AugmentChoice,
  shape: [number, number, number],
): Augmenter | undefined {
  const pipeline = augmentPipeline(choice);
  if (!pipeline) return undefined;
  const [h, w, c] = shape;
  return {
    pipeline,
    twoViews: (b, n, rng) => twoViews(b, n, h, w, c, pipeline, rng),
    oneView: (b, n, rng) => augmentBatch(b, n, h, w, c, pipeline, rng),
  };
}
