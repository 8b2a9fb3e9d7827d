/**
 * Augmentation pipelines for contrastive learning: {@linkcode compose} chains
 * transforms, {@linkcode augmentBatch} runs a pipeline on a raw batch,
 * {@linkcode twoViews} makes the two views of every image that SimCLR
 * compares, and the presets {@linkcode digitAugment} (the article's MNIST
 * pipeline), {@linkcode colourAugment} (SimCLR's pipeline for colour images)
 * and {@linkcode identityAugment} build ready-made pipelines from plain JSON
 * settings.
 *
 * ## Why every image gets its own random parameters
 *
 * The article's notebook calls its torchvision pipeline on a whole batch
 * tensor, and torchvision then draws ONE set of random parameters for the
 * batch: all 512 images of view 1 are turned by the same angle, all of view 2
 * by another. That weakens contrastive learning in two ways:
 * - a positive pair (two views of one image) should differ by its *own*
 *   random nuisance; with one transform per batch, every pair differs by the
 *   same nuisance, so the network sees only one kind of difference per step;
 * - the negatives must not share a transform with the anchor: when every
 *   image of view 1 carries the same rotation and every image of view 2
 *   another, "which view is this" is written identically into all images of a
 *   view, and the network can lower the loss by recognising the shared
 *   transform (and matching within or across views by it) instead of by the
 *   content that makes an image itself.
 *
 * So every transform here draws independent parameters for every image, and
 * the two views draw from two different random streams. Everything is seeded:
 * the same `Rng` seed gives bit-identical views.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { digitAugment, twoViews } from "./compose.ts";
 * const rng = new Rng(7).fork("augment");
 * const pipeline = digitAugment({ strength: 0.5 });
 * // each training step: two fresh, independent views of the batch
 * const [v1, v2] = twoViews(images, 512, 28, 28, 1, pipeline, rng);
 * ```
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import { type PerspectiveConfig, randomAffinePerspective } from "./affine_perspective.ts";
import { type BlurConfig, randomGaussianBlur } from "./blur.ts";
import {
  colourJitter,
  randomGreyscale,
  randomHorizontalFlip,
  randomResizedCrop,
} from "./colour.ts";
import { batchOf, checkBatch, type ImageBatch, type Transform } from "./types.ts";

/**
 * Chains transforms: the output of each is the input of the next. Each draws
 * its per-image parameters from the same `rng`, in order. No transforms =
 * identity.
 *
 * @example
 * ```ts
 * const pipeline = compose(randomAffine(affineCfg), randomGaussianBlur(blurCfg));
 * const out = pipeline.apply(batch, rng);
 * ```
 */
export function compose(...transforms: Transform[]): Transform {
  return {
    name: transforms.length ? transforms.map((t) => t.name).join(" -> ") : "identity",
    config: transforms.map((t) => t.config ?? t.name),
    apply(batch: ImageBatch, rng: Rng): ImageBatch {
      checkBatch(batch);
      if (transforms.length === 0) return { ...batch, data: batch.data.slice() };
      let out: ImageBatch = batch;
      for (const t of transforms) out = t.apply(out, rng);
      return out;
    },
  };
}

/**
 * The pipeline that changes nothing (it returns a copy): the "no
 * augmentation" arm of an experiment.
 *
 * @example
 * ```ts
 * const [v1, v2] = twoViews(images, n, 28, 28, 1, identityAugment(), rng); // v1, v2 equal images
 * ```
 */
export function identityAugment(): Transform {
  return compose();
}

/**
 * Runs `pipeline` on a raw batch of `count` images (NHWC `Float32Array`,
 * values in [0, 1]) and returns the augmented pixels as a new array, drawing
 * every image's parameters from `rng` (which advances, so the next call
 * augments differently).
 *
 * @example
 * ```ts
 * const out = augmentBatch(images, 512, 28, 28, 1, digitAugment(), rng);
 * ```
 */
export function augmentBatch(
  images: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  pipeline: Transform,
  rng: Rng,
): Float32Array {
  const batch = batchOf(images, count, height, width, channels);
  const out = pipeline.apply(batch, rng);
  checkBatch(out);
  if (
    out.count !== count || out.height !== height || out.width !== width ||
    out.channels !== channels
  ) {
    throw new Error(`augmentBatch: pipeline "${pipeline.name}" changed the batch shape`);
  }
  return out.data;
}

/**
 * Two independently augmented copies of a batch, `[view1, view2]`: image `i`
 * of `view1` and image `i` of `view2` form SimCLR's positive pair. The views
 * use two different forks of `rng`, keyed by a number drawn from `rng`, so
 * each call (each training step) gets fresh views while the whole sequence
 * is fixed by the seed.
 *
 * @example
 * ```ts
 * const [v1, v2] = twoViews(images, 512, 28, 28, 1, digitAugment(), rng);
 * ```
 */
export function twoViews(
  images: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  pipeline: Transform,
  rng: Rng,
): [Float32Array, Float32Array] {
  const key = rng.int(0x100000000);
  const rng1 = rng.fork(`twoViews:${key}:1`);
  const rng2 = rng.fork(`twoViews:${key}:2`);
  return [
    augmentBatch(images, count, height, width, channels, pipeline, rng1),
    augmentBatch(images, count, height, width, channels, pipeline, rng2),
  ];
}

/** Throws on option names the preset does not know (a typo would otherwise be ignored). */
function checkKeys(where: string, options: object, defaults: object): void {
  for (const k of Object.keys(options)) {
    if (!(k in defaults)) {
      throw new Error(
        `${where}: unknown option "${k}" (known: ${Object.keys(defaults).join(", ")})`,
      );
    }
  }
}

/**
 * Settings of {@linkcode digitAugment} (plain JSON): the article's augmentation
 * for grey digits, and a `strength` that scales it.
 *
 * @example
 * ```ts
 * const milder: Partial<DigitAugmentConfig> = { strength: 0.5 };
 * const noTilt: Partial<DigitAugmentConfig> = { perspectives: [] };
 * ```
 */
export interface DigitAugmentConfig {
  /**
   * Scales the whole augmentation: 0 = identity, 1 = the settings below as
   * given (the article's). It multiplies the rotation, translation, shear and
   * perspective-distortion ranges and the blur probabilities, and shrinks the
   * scale range towards 1 (`1 + strength * (scale - 1)`).
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

/**
 * The article's digit augmentation (its notebook's torchvision settings),
 * at strength 1.
 *
 * @example
 * ```ts
 * console.log(DIGIT_AUGMENT_DEFAULTS.rotationDeg); // [-50, 50]
 * ```
 */
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
 * const article = digitAugment();
 * const milder = digitAugment({ strength: 0.5 });
 * const noRotation = digitAugment({ rotationDeg: [0, 0] });
 * ```
 */
export function digitAugment(options: Partial<DigitAugmentConfig> = {}): Transform {
  const where = "digitAugment";
  checkKeys(where, options, DIGIT_AUGMENT_DEFAULTS);
  const cfg: DigitAugmentConfig = structuredClone({ ...DIGIT_AUGMENT_DEFAULTS, ...options });
  const s = cfg.strength;
  if (!(s >= 0) || !Number.isFinite(s)) {
    throw new Error(`${where}: strength must be a finite number >= 0, got ${s}`);
  }
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
 * Settings of {@linkcode colourAugment} (plain JSON): SimCLR's augmentation
 * for colour images, in its order crop -> flip -> colour jitter -> greyscale
 * -> blur.
 *
 * @example
 * ```ts
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
   * SimCLR's colour distortion strength s: jitter brightness, contrast and
   * saturation 0.8 s, hue 0.2 s. SimCLR: 1 on ImageNet, 0.5 on CIFAR-10
   * (our default, for small images); 0 = no jitter.
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

/**
 * SimCLR's colour-image augmentation with its CIFAR-10 settings (colour
 * strength 0.5, no blur).
 *
 * @example
 * ```ts
 * console.log(COLOUR_AUGMENT_DEFAULTS.cropScale); // [0.08, 1]
 * ```
 */
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
 * const cifar = colourAugment();
 * const imagenetLike = colourAugment({ colourStrength: 1, blurP: 0.5 });
 * ```
 */
export function colourAugment(options: Partial<ColourAugmentConfig> = {}): Transform {
  const where = "colourAugment";
  checkKeys(where, options, COLOUR_AUGMENT_DEFAULTS);
  const cfg: ColourAugmentConfig = structuredClone({ ...COLOUR_AUGMENT_DEFAULTS, ...options });
  const s = cfg.colourStrength;
  if (!(s >= 0) || !Number.isFinite(s) || 0.2 * s > 0.5) {
    throw new Error(`${where}: colourStrength must be in [0, 2.5], got ${s}`);
  }
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
