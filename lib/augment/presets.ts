/**
 * The augmentation presets, built from plain JSON settings:
 * {@linkcode digitAugment} (the article's MNIST pipeline),
 * {@linkcode colourAugment} (SimCLR's pipeline for colour images) and
 * {@linkcode cropFlipAugment} (crops, flips and lighting, for clothes and
 * grey photos), {@linkcode mildAffine} (the textbook augmentation of
 * supervised training on few labels); {@linkcode makeAugmenter} turns a recipe's
 * {@linkcode AugmentChoice} into the view functions training calls. Every
 * preset checks its options with one helper, {@linkcode checkPresetOptions}:
 * a typo in an option name or a value out of range throws instead of being
 * ignored. The generic machinery (`compose`, `augmentBatch`, `twoViews`) is
 * in `compose.ts`.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { twoViews } from "./compose.ts";
 * import { digitAugment, makeAugmenter } from "./presets.ts";
 * const images = new Float32Array(4 * 28 * 28).fill(0.5); // four grey 28x28 images
 * const [v1, v2] = twoViews(images, 4, 28, 28, 1, digitAugment({ strength: 0.5 }), new Rng(7));
 * const clothes = makeAugmenter({ preset: "crop-flip", strength: 1 }, [28, 28, 1])!;
 * const one = clothes.oneView(images, 4, new Rng(8));
 * console.log(v1.length, v2.length, one.length); // 3136 3136 3136
 * ```
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import { randomAffine, randomAffinePerspective } from "./affine_perspective.ts";
import { randomGaussianBlur } from "./blur.ts";
import {
  colourJitter,
  randomGreyscale,
  randomHorizontalFlip,
  randomLevels,
  randomResizedCrop,
} from "./colour.ts";
import { augmentBatch, compose, twoViews } from "./compose.ts";
import {
  checkPresetOptions,
  COLOUR_AUGMENT_DEFAULTS,
  COLOUR_AUGMENT_RULES,
  type ColourAugmentConfig,
  CROP_FLIP_DEFAULTS,
  CROP_FLIP_RULES,
  type CropFlipAugmentConfig,
  DIGIT_AUGMENT_DEFAULTS,
  DIGIT_AUGMENT_RULES,
  type DigitAugmentConfig,
  MILD_AFFINE_DEFAULTS,
  MILD_AFFINE_RULES,
  type MildAffineConfig,
  STROKE_AUGMENT_DEFAULTS,
  STROKE_AUGMENT_RULES,
  type StrokeAugmentConfig,
} from "./preset_options.ts";
import type { Transform } from "./types.ts";

export {
  checkPresetOptions,
  COLOUR_AUGMENT_DEFAULTS,
  type ColourAugmentConfig,
  CROP_FLIP_DEFAULTS,
  type CropFlipAugmentConfig,
  DIGIT_AUGMENT_DEFAULTS,
  type DigitAugmentConfig,
  MILD_AFFINE_DEFAULTS,
  type MildAffineConfig,
  type OptionRule,
  type PresetRules,
  STROKE_AUGMENT_DEFAULTS,
  type StrokeAugmentConfig,
} from "./preset_options.ts";

/** Augmentation settings by preset name, as a recipe holds them. */
export interface AugmentChoice {
  /**
   * "digits": the article's affine + perspective + blur; "colour": SimCLR's;
   * "crop-flip": crops, flips, mild rotation, lighting (clothes, grey photos);
   * "crop": the same without flips (digits, letters, signs: a mirror changes their
   * meaning; the default for grey folders); "affine": the textbook augmentation of
   * supervised training (±12°, zoom 0.85..1.05, shift 6%); "affine-flip": the same with
   * mirror images and no rotation (clothes, photos); "stroke": contrastive views of grey
   * strokes (affine, lighting, blur; digits and letters); "none".
   */
  preset:
    | "digits"
    | "stroke"
    | "colour"
    | "crop-flip"
    | "crop"
    | "affine"
    | "affine-flip"
    | "none";
  /** 0 = identity, 1 = full strength (digits, crop-flip, crop and affine presets). */
  strength?: number;
}

/**
 * The grey-digit pipeline of the article: a random affine map (rotation
 * ±50°, shift 10%, zoom 0.5..1.5, shear ±0.2°) and three random perspective
 * warps (distortion 0.4, 0.2, 0.2, each p = 0.5), resampled once, then two
 * random 3x3 Gaussian blurs (σ 0.1..2.0, each p = 0.25) — every parameter
 * drawn per image. Change any field of {@linkcode DigitAugmentConfig}; the
 * rest keep the article's values.
 *
 * These settings are strong: half the images are shrunk to between 0.5 and
 * 1, turned by up to 50°, and often tilted, so a 6 and a 9, or a 1 and a 7,
 * can become hard to tell apart; and on other data they can hurt (ARTICLE.md:
 * on Fashion-MNIST the digit augmentation made SSL worse than no
 * pre-training). `strength` dials them down in one number: 0 = identity
 * (bit-identical output), 0.5 = half the ranges and half the blur
 * probability, 1 = the article's.
 *
 * @example
 * ```ts
 * import { digitAugment } from "./presets.ts";
 * const article = digitAugment();
 * const milder = digitAugment({ strength: 0.5 });
 * const noRotation = digitAugment({ rotationDeg: [0, 0] });
 * ```
 */
export function digitAugment(options: Partial<DigitAugmentConfig> = {}): Transform {
  checkPresetOptions("digitAugment", options, DIGIT_AUGMENT_DEFAULTS, DIGIT_AUGMENT_RULES);
  const cfg: DigitAugmentConfig = structuredClone({ ...DIGIT_AUGMENT_DEFAULTS, ...options });
  const s = cfg.strength;
  const times = (r: [number, number]): [number, number] => [s * r[0], s * r[1]];
  const geometry = randomAffinePerspective({
    affine: {
      rotationDeg: times(cfg.rotationDeg),
      translate: times(cfg.translate),
      scale: [1 + s * (cfg.scale[0] - 1), 1 + s * (cfg.scale[1] - 1)],
      shearDeg: times(cfg.shearDeg),
    },
    perspectives: cfg.perspectives.map((p) => ({ distortion: s * p.distortion, p: p.p })),
  });
  const blurs = cfg.blurs.map((b) => randomGaussianBlur({ ...b, p: Math.min(1, s * b.p) }));
  const pipeline = compose(geometry, ...blurs);
  return { name: `digitAugment(strength=${s})`, config: cfg, apply: pipeline.apply };
}

/**
 * SimCLR's augmentation for colour images: random resized crop (area
 * 8%..100%, aspect 3/4..4/3) -> horizontal flip (p 0.5) -> colour jitter
 * (brightness, contrast, saturation 0.8 s, hue 0.2 s; p 0.8) -> greyscale
 * (p 0.2) -> optional Gaussian blur, all drawn per image. On 1-channel images
 * the jitter changes brightness and contrast only and greyscale does nothing.
 * Identity settings (`cropScale: [1, 1], cropRatio: [1, 1]` on square images,
 * all probabilities 0) return the input bit for bit.
 *
 * @example
 * ```ts
 * import { colourAugment } from "./presets.ts";
 * const cifar = colourAugment();
 * const imagenetLike = colourAugment({ colourStrength: 1, blurP: 0.5 });
 * ```
 */
export function colourAugment(options: Partial<ColourAugmentConfig> = {}): Transform {
  checkPresetOptions("colourAugment", options, COLOUR_AUGMENT_DEFAULTS, COLOUR_AUGMENT_RULES);
  const cfg: ColourAugmentConfig = structuredClone({ ...COLOUR_AUGMENT_DEFAULTS, ...options });
  const s = cfg.colourStrength;
  const pipeline = compose(
    randomResizedCrop({ scale: cfg.cropScale, ratio: cfg.cropRatio }),
    randomHorizontalFlip({ p: cfg.flipP }),
    colourJitter({
      brightness: 0.8 * s,
      contrast: 0.8 * s,
      saturation: 0.8 * s,
      hue: 0.2 * s,
      p: cfg.jitterP,
    }),
    randomGreyscale({ p: cfg.greyscaleP }),
    randomGaussianBlur({ kernelSize: cfg.blurKernelSize, sigma: cfg.blurSigma, p: cfg.blurP }),
  );
  return { name: `colourAugment(s=${s})`, config: cfg, apply: pipeline.apply };
}

/**
 * The "crop-flip" preset, for photos of objects in grey (or colour) where
 * orientation carries meaning: Fashion-MNIST's clothes, a folder of grey
 * product shots. Random resized crop -> horizontal flip -> mild rotation and
 * shift -> brightness / contrast jitter -> optional blur, every parameter
 * drawn per image. Any field of {@linkcode CropFlipAugmentConfig} can be
 * changed, the rest keep their defaults.
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
 * import { cropFlipAugment } from "./presets.ts";
 * const clothes = cropFlipAugment();
 * const noRotation = cropFlipAugment({ rotationDeg: [0, 0] });
 * ```
 */
export function cropFlipAugment(options: Partial<CropFlipAugmentConfig> = {}): Transform {
  checkPresetOptions("cropFlipAugment", options, CROP_FLIP_DEFAULTS, CROP_FLIP_RULES);
  const cfg: CropFlipAugmentConfig = structuredClone({ ...CROP_FLIP_DEFAULTS, ...options });
  const s = cfg.strength;
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

/**
 * The textbook augmentation of supervised training on few labels: a random
 * rotation (±12°), zoom (0.85..1.05) and shift (6% of the size), and a
 * mirror image with probability `flipP` (0 by default), every parameter drawn
 * per image and resampled once. Mild on purpose: it adds variety to 160
 * labelled digits without changing what they show. `strength` scales the
 * ranges (0 = identity, bit for bit).
 *
 * @example
 * ```ts
 * import { mildAffine } from "./presets.ts";
 * const digits = mildAffine();
 * const clothes = mildAffine({ rotationDeg: [0, 0], flipP: 0.5 });
 * ```
 */
export function mildAffine(options: Partial<MildAffineConfig> = {}): Transform {
  checkPresetOptions("mildAffine", options, MILD_AFFINE_DEFAULTS, MILD_AFFINE_RULES);
  const cfg: MildAffineConfig = structuredClone({ ...MILD_AFFINE_DEFAULTS, ...options });
  const s = cfg.strength;
  const pipeline = compose(
    randomHorizontalFlip({ p: Math.min(1, s * cfg.flipP) }),
    randomAffine({
      rotationDeg: [s * cfg.rotationDeg[0], s * cfg.rotationDeg[1]],
      translate: [s * cfg.translate[0], s * cfg.translate[1]],
      scale: [1 + s * (cfg.scale[0] - 1), 1 + s * (cfg.scale[1] - 1)],
      shearDeg: [0, 0],
    }),
  );
  return { name: `mildAffine(strength=${s})`, config: cfg, apply: pipeline.apply };
}

/**
 * Contrastive views of grey strokes (digits, letters, signs): a random affine map (rotation
 * ±25°, zoom 0.6..1.1, shift 12.5%, shear ±11°), random grey levels (contrast about mid-grey
 * by a factor in 0.6..1.4 and an offset of ±0.2, which moves the background too) and a light
 * Gaussian blur half of the time, every parameter drawn per image. The
 * article's pipeline ({@linkcode digitAugment}: ±50°, zoom 0.5..1.5, perspective) is harder
 * on a 7k-parameter CNN: on 200 MNIST labels, 4 epochs of SimCLR gave a linear probe of 75%
 * with it against the README's figure with this one. `strength` scales every range (0 =
 * identity, bit for bit).
 *
 * @example
 * ```ts
 * import { strokeAugment } from "./presets.ts";
 * const views = strokeAugment();
 * const gentler = strokeAugment({ strength: 0.5 });
 * ```
 */
export function strokeAugment(options: Partial<StrokeAugmentConfig> = {}): Transform {
  checkPresetOptions("strokeAugment", options, STROKE_AUGMENT_DEFAULTS, STROKE_AUGMENT_RULES);
  const cfg: StrokeAugmentConfig = structuredClone({ ...STROKE_AUGMENT_DEFAULTS, ...options });
  const s = cfg.strength;
  const times = (r: [number, number]): [number, number] => [s * r[0], s * r[1]];
  const pipeline = compose(
    randomAffine({
      rotationDeg: times(cfg.rotationDeg),
      translate: times(cfg.translate),
      scale: [1 + s * (cfg.scale[0] - 1), 1 + s * (cfg.scale[1] - 1)],
      shearDeg: times(cfg.shearDeg),
    }),
    randomLevels({ contrast: s * cfg.jitter, offset: (s * cfg.jitter) / 2, p: 1 }),
    randomGaussianBlur({ kernelSize: 3, sigma: [0.1, 1.5], p: Math.min(1, s * cfg.blurP) }),
  );
  return { name: `strokeAugment(strength=${s})`, config: cfg, apply: pipeline.apply };
}

/**
 * Two views and one view of a batch (raw NHWC pixels, `count` images of the
 * shape given to {@linkcode makeAugmenter}), and the pipeline behind them.
 */
export interface Augmenter {
  twoViews: (batch: Float32Array, count: number, rng: Rng) => [Float32Array, Float32Array];
  oneView: (batch: Float32Array, count: number, rng: Rng) => Float32Array;
  pipeline: Transform;
}

/**
 * The transform pipeline of a choice; `undefined` for preset "none". A
 * missing `strength` means 1.
 *
 * @example
 * ```ts
 * import { augmentPipeline } from "./presets.ts";
 * console.log(augmentPipeline({ preset: "digits", strength: 0.5 })!.name); // digitAugment(strength=0.5)
 * ```
 */
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
    case "crop":
      return cropFlipAugment({ strength: choice.strength ?? 1, flipP: 0 });
    case "affine":
      return mildAffine({ strength: choice.strength ?? 1 });
    case "stroke":
      return strokeAugment({ strength: choice.strength ?? 1 });
    case "affine-flip":
      return mildAffine({ strength: choice.strength ?? 1, rotationDeg: [0, 0], flipP: 0.5 });
    default:
      throw new Error(
        `unknown augmentation preset "${
          (choice as { preset: string }).preset
        }"; use digits, stroke, colour, crop-flip, crop, affine, affine-flip or none`,
      );
  }
}

/**
 * View functions for images of `shape` (`[height, width, channels]`);
 * `undefined` for preset "none".
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { makeAugmenter } from "./presets.ts";
 * const views = makeAugmenter({ preset: "digits", strength: 1 }, [28, 28, 1])!;
 * const [v1, v2] = views.twoViews(new Float32Array(2 * 784), 2, new Rng(0));
 * ```
 */
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
