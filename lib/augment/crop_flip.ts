/**
 * The "crop-flip" augmentation preset, for photos of objects in grey (or
 * colour) where orientation carries meaning: Fashion-MNIST's clothes, a
 * folder of grey product shots. Random resized crop -> horizontal flip ->
 * mild rotation and shift -> brightness / contrast jitter -> optional blur,
 * every parameter drawn per image.
 *
 * Why not the digit preset: ARTICLE.md reports that the article's digit
 * augmentation (rotation ±50°, shear, perspective) made contrastive
 * pre-training on Fashion-MNIST *worse* than none. A shirt turned by 50° or
 * seen in perspective is not a view of the same shirt as a dataset photo,
 * while a shirt cropped, mirrored or lit differently is: clothes are
 * photographed upright and roughly left-right symmetric, so crops, flips and
 * lighting are the nuisances the features should ignore.
 *
 * @example
 * ```ts
 * import { cropFlipAugment } from "./crop_flip.ts";
 * import { twoViews } from "./compose.ts";
 * const [v1, v2] = twoViews(images, 256, 28, 28, 1, cropFlipAugment(), rng);
 * ```
 *
 * @module
 */
import { randomAffine } from "./affine_perspective.ts";
import { randomGaussianBlur } from "./blur.ts";
import { colourJitter, randomHorizontalFlip, randomResizedCrop } from "./colour.ts";
import { compose } from "./compose.ts";
import type { Transform } from "./types.ts";

/** Settings of {@linkcode cropFlipAugment} (plain JSON). */
export interface CropFlipAugmentConfig {
  /**
   * Scales everything below: 0 = identity, 1 = as given. It multiplies the
   * rotation and shift ranges, the jitter amounts and the flip, jitter and
   * blur probabilities, and moves the crop's smallest area towards 1
   * (`1 - strength * (1 - cropScale[0])`). Default 1.
   */
  strength: number;
  /** Random resized crop: area fraction range. Default [0.35, 1] (small images lose detail fast). */
  cropScale: [number, number];
  /** Random resized crop: aspect ratio (w/h) range. Default [3/4, 4/3]. */
  cropRatio: [number, number];
  /** Horizontal flip probability. Default 0.5. */
  flipP: number;
  /** Rotation range in degrees. Default [-10, 10]: mild, clothes are photographed upright. */
  rotationDeg: [number, number];
  /** Largest shift as a fraction of [width, height]. Default [0.05, 0.05]. */
  translate: [number, number];
  /** Brightness jitter (factor in [1 - b, 1 + b]). Default 0.4. */
  brightness: number;
  /** Contrast jitter (factor in [1 - c, 1 + c]). Default 0.4. */
  contrast: number;
  /** Saturation jitter on colour images (ignored on grey). Default 0.4. */
  saturation: number;
  /** Probability of the brightness / contrast / saturation jitter. Default 0.8. */
  jitterP: number;
  /** Probability of a 3x3 Gaussian blur (sigma 0.1..1). Default 0.2. */
  blurP: number;
}

/**
 * The defaults of {@linkcode cropFlipAugment}.
 *
 * @example
 * ```ts
 * console.log(CROP_FLIP_DEFAULTS.rotationDeg); // [-10, 10]
 * ```
 */
export const CROP_FLIP_DEFAULTS: Readonly<CropFlipAugmentConfig> = Object.freeze({
  strength: 1,
  cropScale: [0.35, 1],
  cropRatio: [3 / 4, 4 / 3],
  flipP: 0.5,
  rotationDeg: [-10, 10],
  translate: [0.05, 0.05],
  brightness: 0.4,
  contrast: 0.4,
  saturation: 0.4,
  jitterP: 0.8,
  blurP: 0.2,
}) as Readonly<CropFlipAugmentConfig>;

/**
 * The crop-flip pipeline described in the module documentation; any field of
 * {@linkcode CropFlipAugmentConfig} can be changed, the rest keep their
 * defaults. Throws on an unknown option name.
 *
 * @example
 * ```ts
 * const clothes = cropFlipAugment();
 * const noRotation = cropFlipAugment({ rotationDeg: [0, 0] });
 * ```
 */
export function cropFlipAugment(options: Partial<CropFlipAugmentConfig> = {}): Transform {
  for (const k of Object.keys(options)) {
    if (!(k in CROP_FLIP_DEFAULTS)) {
      throw new Error(
        `cropFlipAugment: unknown option "${k}" (known: ${
          Object.keys(CROP_FLIP_DEFAULTS).join(", ")
        })`,
      );
    }
  }
  const cfg: CropFlipAugmentConfig = structuredClone({ ...CROP_FLIP_DEFAULTS, ...options });
  const s = cfg.strength;
  if (!(s >= 0 && s <= 1)) {
    throw new Error(`cropFlipAugment: strength must be in [0, 1], got ${s}`);
  }
  const times = (r: [number, number]): [number, number] => [s * r[0], s * r[1]];
  const p = (v: number) => Math.min(1, s * v);
  const pipeline = compose(
    randomResizedCrop({
      scale: [1 - s * (1 - cfg.cropScale[0]), cfg.cropScale[1]],
      ratio: s === 0 ? [1, 1] : cfg.cropRatio,
    }),
    randomHorizontalFlip({ p: p(cfg.flipP) }),
    randomAffine({
      rotationDeg: times(cfg.rotationDeg),
      translate: times(cfg.translate),
      scale: [1, 1],
      shearDeg: [0, 0],
    }),
    colourJitter({
      brightness: s * cfg.brightness,
      contrast: s * cfg.contrast,
      saturation: s * cfg.saturation,
      hue: 0,
      p: p(cfg.jitterP),
    }),
    randomGaussianBlur({ kernelSize: 3, sigma: [0.1, 1], p: p(cfg.blurP) }),
  );
  return { name: `cropFlipAugment(strength=${s})`, config: cfg, apply: pipeline.apply };
}
