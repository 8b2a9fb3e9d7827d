/**
 * The settings of the augmentation presets of `presets.ts` — their types,
 * defaults and value rules — and {@linkcode checkPresetOptions}, the one
 * check every preset runs on the partial options it is given: known option
 * names only, and every value within its rule (a `strength` in [0, 1], a
 * probability in [0, 1], a `[lo, hi]` range within bounds, ...).
 *
 * @example
 * ```ts
 * import { checkPresetOptions, CROP_FLIP_DEFAULTS, CROP_FLIP_RULES } from "./preset_options.ts";
 * checkPresetOptions("cropFlipAugment", { strength: 0.5 }, CROP_FLIP_DEFAULTS, CROP_FLIP_RULES);
 * try {
 *   checkPresetOptions("cropFlipAugment", { strength: 2 }, CROP_FLIP_DEFAULTS, CROP_FLIP_RULES);
 * } catch (e) {
 *   console.log((e as Error).message); // cropFlipAugment: strength must be ... in [0, 1], got 2
 * }
 * ```
 *
 * @module
 */
import type { PerspectiveConfig } from "./affine_perspective.ts";
import type { BlurConfig } from "./blur.ts";
import { checkRange } from "./types.ts";

/**
 * How one preset option is checked:
 * - `{ number: [min, max] }`: a finite number in `[min, max]` (`max` may be `Infinity`);
 * - `{ range: [min, max] }`: a `[lo, hi]` pair of finite numbers, `min <= lo <= hi <= max`;
 * - `"probability"`: a number in [0, 1];
 * - `"fractions"`: a pair of numbers, each in [0, 1] (a shift as fractions of [width, height]);
 * - `"odd"`: an odd positive integer (a kernel size);
 * - `"list"`: an array; its items are checked by the transform they configure.
 */
export type OptionRule =
  | { number: readonly [number, number] }
  | { range: readonly [number, number] }
  | "probability"
  | "fractions"
  | "odd"
  | "list";

/** One rule for every option of a preset's settings `T`. */
export type PresetRules<T> = { readonly [K in keyof T]-?: OptionRule };

/** The rule of every `strength`: 0 = identity, 1 = the preset's settings as given. */
const STRENGTH: OptionRule = { number: [0, 1] };
/** Ranges whose bounds must be positive (zoom, crop area, aspect ratio, sigma). */
const POSITIVE = Number.MIN_VALUE;

function checkOption(where: string, field: string, rule: OptionRule, value: unknown): void {
  const fail = (what: string): never => {
    throw new Error(`${where}: ${field} must be ${what}, got ${JSON.stringify(value) ?? value}`);
  };
  const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  if (rule === "probability") {
    if (!isNumber(value) || value < 0 || value > 1) fail("a probability in [0, 1]");
  } else if (rule === "fractions") {
    if (
      !Array.isArray(value) || value.length !== 2 ||
      !value.every((v) => isNumber(v) && v >= 0 && v <= 1)
    ) fail("a pair [fx, fy] of fractions in [0, 1]");
  } else if (rule === "odd") {
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) % 2 === 0) {
      fail("an odd positive integer");
    }
  } else if (rule === "list") {
    if (!Array.isArray(value)) fail("an array");
  } else if ("number" in rule) {
    const [min, max] = rule.number;
    if (!isNumber(value) || value < min || value > max) {
      fail(`a finite number in [${min}, ${max}]`);
    }
  } else {
    checkRange(where, field, value as [number, number], rule.range[0], rule.range[1]);
  }
}

/**
 * The check every preset runs on its partial `options` before building its
 * pipeline: each option name must be one of `defaults`' (a typo would
 * otherwise be ignored silently), and each value given must satisfy its rule
 * in `rules`. Throws an `Error` naming the preset (`where`) and the option.
 *
 * @example
 * ```ts
 * import { checkPresetOptions, DIGIT_AUGMENT_DEFAULTS, DIGIT_AUGMENT_RULES } from "./preset_options.ts";
 * checkPresetOptions("digitAugment", { rotationDeg: [-10, 10] }, DIGIT_AUGMENT_DEFAULTS, DIGIT_AUGMENT_RULES);
 * ```
 */
export function checkPresetOptions<T extends object>(
  where: string,
  options: Partial<T>,
  defaults: Readonly<T>,
  rules: PresetRules<T>,
): void {
  for (const k of Object.keys(options)) {
    if (!Object.hasOwn(defaults, k)) {
      throw new Error(
        `${where}: unknown option "${k}" (known: ${Object.keys(defaults).join(", ")})`,
      );
    }
  }
  for (const [k, v] of Object.entries(options)) {
    checkOption(where, k, rules[k as keyof T], v);
  }
}

/**
 * Settings of `digitAugment` (plain JSON): the article's augmentation for
 * grey digits, and a `strength` that scales it.
 *
 * @example
 * ```ts
 * import type { DigitAugmentConfig } from "./preset_options.ts";
 * const milder: Partial<DigitAugmentConfig> = { strength: 0.5 };
 * const noTilt: Partial<DigitAugmentConfig> = { perspectives: [] };
 * ```
 */
export interface DigitAugmentConfig {
  /**
   * Scales the whole augmentation, in [0, 1]: 0 = identity, 1 = the settings
   * below as given (the article's). It multiplies the rotation, translation,
   * shear and perspective-distortion ranges and the blur probabilities, and
   * shrinks the scale range towards 1 (`1 + strength * (scale - 1)`).
   */
  strength: number;
  /** Rotation range in degrees, counter-clockwise positive. Article: [-50, 50]. */
  rotationDeg: [number, number];
  /** Largest shift as a fraction of [width, height]. Article: [0.1, 0.1]. */
  translate: [number, number];
  /** Zoom range. Article: [0.5, 1.5]. */
  scale: [number, number];
  /** Horizontal shear angle range in degrees. Article: `shear=0.2`, read as ±0.2° (torchvision). */
  shearDeg: [number, number];
  /** Perspective steps, in order. Article: distortion 0.4, 0.2, 0.2, each with p = 0.5. */
  perspectives: PerspectiveConfig[];
  /** Gaussian blurs, in order. Article: two, kernel 3, sigma 0.1..2.0, each with p = 0.25. */
  blurs: BlurConfig[];
}

/** The article's digit augmentation (its notebook's torchvision settings), at strength 1. */
export const DIGIT_AUGMENT_DEFAULTS: Readonly<DigitAugmentConfig> = Object.freeze({
  strength: 1,
  rotationDeg: [-50, 50],
  translate: [0.1, 0.1],
  scale: [0.5, 1.5],
  shearDeg: [-0.2, 0.2],
  perspectives: [
    { distortion: 0.4, p: 0.5 },
    { distortion: 0.2, p: 0.5 },
    { distortion: 0.2, p: 0.5 },
  ],
  blurs: [
    { kernelSize: 3, sigma: [0.1, 2.0], p: 0.25 },
    { kernelSize: 3, sigma: [0.1, 2.0], p: 0.25 },
  ],
}) as Readonly<DigitAugmentConfig>;

/** What `digitAugment` accepts for each option. */
export const DIGIT_AUGMENT_RULES: PresetRules<DigitAugmentConfig> = Object.freeze<
  PresetRules<DigitAugmentConfig>
>({
  strength: STRENGTH,
  rotationDeg: { range: [-Infinity, Infinity] },
  translate: "fractions",
  scale: { range: [POSITIVE, Infinity] },
  shearDeg: { range: [-89.9, 89.9] },
  perspectives: "list",
  blurs: "list",
});

/**
 * Settings of `colourAugment` (plain JSON): SimCLR's augmentation for colour
 * images, in its order crop -> flip -> colour jitter -> greyscale -> blur.
 *
 * @example
 * ```ts
 * import type { ColourAugmentConfig } from "./preset_options.ts";
 * const imagenet: Partial<ColourAugmentConfig> = { colourStrength: 1, blurP: 0.5, blurKernelSize: 23 };
 * ```
 */
export interface ColourAugmentConfig {
  /** Random resized crop: area fraction range. SimCLR: [0.08, 1]. */
  cropScale: [number, number];
  /** Random resized crop: aspect ratio (w/h) range. SimCLR: [3/4, 4/3]. */
  cropRatio: [number, number];
  /** Horizontal flip probability. SimCLR: 0.5. */
  flipP: number;
  /**
   * SimCLR's colour distortion strength s, in [0, 2.5]: jitter brightness,
   * contrast and saturation 0.8 s, hue 0.2 s. SimCLR: 1 on ImageNet, 0.5 on
   * CIFAR-10 (our default, for small images); 0 = no jitter.
   */
  colourStrength: number;
  /** Probability of applying the colour jitter. SimCLR: 0.8. */
  jitterP: number;
  /** Random greyscale probability. SimCLR: 0.2. */
  greyscaleP: number;
  /** Gaussian blur probability. SimCLR: 0.5 on ImageNet, none on CIFAR-10 (our default, 0). */
  blurP: number;
  /** Gaussian blur kernel size (odd). SimCLR: 10% of the image side. Default 3. */
  blurKernelSize: number;
  /** Gaussian blur sigma range in pixels. SimCLR: [0.1, 2.0]. */
  blurSigma: [number, number];
}

/** SimCLR's colour-image augmentation with its CIFAR-10 settings (colour strength 0.5, no blur). */
export const COLOUR_AUGMENT_DEFAULTS: Readonly<ColourAugmentConfig> = Object.freeze({
  cropScale: [0.08, 1],
  cropRatio: [3 / 4, 4 / 3],
  flipP: 0.5,
  colourStrength: 0.5,
  jitterP: 0.8,
  greyscaleP: 0.2,
  blurP: 0,
  blurKernelSize: 3,
  blurSigma: [0.1, 2.0],
}) as Readonly<ColourAugmentConfig>;

/** What `colourAugment` accepts for each option (hue 0.2 s must stay <= 0.5, hence s <= 2.5). */
export const COLOUR_AUGMENT_RULES: PresetRules<ColourAugmentConfig> = Object.freeze<
  PresetRules<ColourAugmentConfig>
>({
  cropScale: { range: [POSITIVE, 1] },
  cropRatio: { range: [POSITIVE, Infinity] },
  flipP: "probability",
  colourStrength: { number: [0, 2.5] },
  jitterP: "probability",
  greyscaleP: "probability",
  blurP: "probability",
  blurKernelSize: "odd",
  blurSigma: { range: [POSITIVE, Infinity] },
});

/** Settings of `cropFlipAugment` (plain JSON). */
export interface CropFlipAugmentConfig {
  /**
   * Scales everything below, in [0, 1]: 0 = identity, 1 = as given. It
   * multiplies the rotation and shift ranges, the jitter amounts and the
   * flip, jitter and blur probabilities, and moves the crop's smallest area
   * towards 1 (`1 - strength * (1 - cropScale[0])`). Default 1.
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

/** The defaults of `cropFlipAugment`. */
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

/** What `cropFlipAugment` accepts for each option. */
export const CROP_FLIP_RULES: PresetRules<CropFlipAugmentConfig> = Object.freeze<
  PresetRules<CropFlipAugmentConfig>
>({
  strength: STRENGTH,
  cropScale: { range: [POSITIVE, 1] },
  cropRatio: { range: [POSITIVE, Infinity] },
  flipP: "probability",
  rotationDeg: { range: [-Infinity, Infinity] },
  translate: "fractions",
  brightness: { number: [0, Infinity] },
  contrast: { number: [0, Infinity] },
  saturation: { number: [0, Infinity] },
  jitterP: "probability",
  blurP: "probability",
});

/** Settings of `mildAffine`, the textbook augmentation for supervised training on few labels. */
export interface MildAffineConfig {
  /** 0 = identity, 1 = the ranges below. */
  strength: number;
  /** Rotation range in degrees (default ±12°). */
  rotationDeg: [number, number];
  /** Zoom range (default 0.85..1.05). */
  scale: [number, number];
  /** Largest shift as a fraction of [width, height] (default 6%). */
  translate: [number, number];
  /** Probability of a mirror image (default 0: digits and letters change meaning). */
  flipP: number;
}

/** The defaults of `mildAffine`: ±12°, zoom 0.85..1.05, shift 6%, no mirror. */
export const MILD_AFFINE_DEFAULTS: Readonly<MildAffineConfig> = Object.freeze({
  strength: 1,
  rotationDeg: [-12, 12],
  scale: [0.85, 1.05],
  translate: [0.06, 0.06],
  flipP: 0,
}) as Readonly<MildAffineConfig>;

/** What `mildAffine` accepts for each option. */
export const MILD_AFFINE_RULES: PresetRules<MildAffineConfig> = Object.freeze<
  PresetRules<MildAffineConfig>
>({
  strength: STRENGTH,
  rotationDeg: { range: [-180, 180] },
  scale: { range: [POSITIVE, Infinity] },
  translate: "fractions",
  flipP: "probability",
});

/** Settings of `strokeAugment`, the contrastive views of grey strokes (digits, letters, signs). */
export interface StrokeAugmentConfig {
  /** 0 = identity, 1 = the ranges below. */
  strength: number;
  /** Rotation range in degrees (default ±25°). */
  rotationDeg: [number, number];
  /** Zoom range (default 0.6..1.1: mostly smaller, so the whole stroke stays in view). */
  scale: [number, number];
  /** Largest shift as a fraction of [width, height] (default 12.5%). */
  translate: [number, number];
  /** Horizontal shear range in degrees (default ±11°). */
  shearDeg: [number, number];
  /** Grey levels: contrast about mid-grey by a factor in [1 - j, 1 + j], an offset in ±j/2 (default 0.4). */
  jitter: number;
  /** Probability of a light blur (default 0.5). */
  blurP: number;
}

/** The defaults of `strokeAugment`. */
export const STROKE_AUGMENT_DEFAULTS: Readonly<StrokeAugmentConfig> = Object.freeze({
  strength: 1,
  rotationDeg: [-25, 25],
  scale: [0.6, 1.1],
  translate: [0.125, 0.125],
  shearDeg: [-11, 11],
  jitter: 0.4,
  blurP: 0.5,
}) as Readonly<StrokeAugmentConfig>;

/** What `strokeAugment` accepts for each option. */
export const STROKE_AUGMENT_RULES: PresetRules<StrokeAugmentConfig> = Object.freeze<
  PresetRules<StrokeAugmentConfig>
>({
  strength: STRENGTH,
  rotationDeg: { range: [-180, 180] },
  scale: { range: [POSITIVE, Infinity] },
  translate: "fractions",
  shearDeg: { range: [-89, 89] },
  jitter: { number: [0, 1] },
  blurP: "probability",
});
