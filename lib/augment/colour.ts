/**
 * SimCLR's augmentations for natural (colour) images, each drawn
 * independently for every image:
 * - {@linkcode randomResizedCrop}: crop a random box (random area fraction and
 *   aspect ratio) and resize it back to the full image size, bilinear;
 * - {@linkcode randomHorizontalFlip}: mirror left-right with probability `p`;
 * - {@linkcode colourJitter}: with probability `p`, change brightness,
 *   contrast, saturation and hue by random amounts, in a random order;
 * - {@linkcode randomGreyscale}: replace the colours by their luma with
 *   probability `p`.
 *
 * SimCLR (Chen et al. 2020) found crop + colour distortion the decisive pair:
 * with crops alone, two views of an image can be matched by their colour
 * histogram, so colour must be distorted too. On 1-channel images colour
 * jitter changes brightness and contrast only, and greyscale does nothing.
 * Greyscale uses the ITU-R 601 luma `0.299 R + 0.587 G + 0.114 B`.
 * The crops and flips live in `crop_flip.ts` and are re-exported from here.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { colourJitter, randomResizedCrop } from "./colour.ts";
 * import { batchOf } from "./types.ts";
 * const batch = batchOf(new Float32Array(4 * 32 * 32 * 3), 4, 32, 32, 3);
 * const crop = randomResizedCrop({ scale: [0.08, 1], ratio: [3 / 4, 4 / 3] });
 * const jitter = colourJitter({ brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, p: 0.8 });
 * const out = jitter.apply(crop.apply(batch, new Rng(1)), new Rng(2));
 * ```
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { ProbabilityConfig } from "./crop_flip.ts";
import { checkBatch, checkProbability, type ImageBatch, type Transform } from "./types.ts";

export {
  type CropConfig,
  type ProbabilityConfig,
  randomHorizontalFlip,
  randomResizedCrop,
} from "./crop_flip.ts";

/**
 * Settings of {@linkcode colourJitter} (plain JSON). Brightness, contrast and
 * saturation factors are drawn from `[max(0, 1 - x), 1 + x]`, the hue shift
 * from `[-hue, hue]` (a fraction of the colour circle, at most 0.5).
 *
 * @example
 * ```ts
 * import type { JitterConfig } from "./colour.ts";
 * const simclr: JitterConfig = { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, p: 0.8 };
 * ```
 */
export interface JitterConfig {
  /** Brightness change: multiply every value by a factor in `[1 - b, 1 + b]`; 0 = none. */
  brightness: number;
  /** Contrast change: blend with the image's mean grey by a factor in `[1 - c, 1 + c]`; 0 = none. */
  contrast: number;
  /** Saturation change: blend with the pixel's grey by a factor in `[1 - s, 1 + s]`; 0 = none. */
  saturation: number;
  /** Hue rotation by up to ±`hue` turns of the colour circle, in [0, 0.5]; 0 = none. */
  hue: number;
  /** The probability that an image is jittered at all. */
  p: number;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** The mean luma (RGB) or mean value (grey) of one image. */
function meanGrey(d: Float32Array, o: number, pixels: number, C: number): number {
  let s = 0;
  if (C === 1) {
    for (let i = 0; i < pixels; i++) s += d[o + i];
  } else {
    for (let i = 0; i < pixels; i++) {
      const q = o + 3 * i;
      s += 0.299 * d[q] + 0.587 * d[q + 1] + 0.114 * d[q + 2];
    }
  }
  return s / pixels;
}

/** Rotates the hue of one RGB image by `shift` turns, through HSV. */
function shiftHue(d: Float32Array, o: number, pixels: number, shift: number): void {
  for (let i = 0; i < pixels; i++) {
    const q = o + 3 * i;
    const r = d[q];
    const g = d[q + 1];
    const b = d[q + 2];
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const delta = max - min;
    if (delta <= 0) continue; // grey pixels have no hue
    let h = max === r ? (g - b) / delta : max === g ? (b - r) / delta + 2 : (r - g) / delta + 4;
    h = h / 6 + shift;
    h -= Math.floor(h);
    const s = delta / max;
    const v = max;
    const h6 = h * 6;
    const sector = Math.floor(h6) % 6;
    const f = h6 - Math.floor(h6);
    const p = v * (1 - s);
    const qq = v * (1 - s * f);
    const t = v * (1 - s * (1 - f));
    const rgb = sector === 0
      ? [v, t, p]
      : sector === 1
      ? [qq, v, p]
      : sector === 2
      ? [p, v, t]
      : sector === 3
      ? [p, qq, v]
      : sector === 4
      ? [t, p, v]
      : [v, p, qq];
    d[q] = clamp01(rgb[0]);
    d[q + 1] = clamp01(rgb[1]);
    d[q + 2] = clamp01(rgb[2]);
  }
}

/**
 * Colour jitter per image (SimCLR's colour distortion): with probability `p`,
 * brightness, contrast, saturation and hue are changed by factors drawn
 * per image (see {@linkcode JitterConfig}), applied in a random order per
 * image, each clamped to [0, 1]. Brightness multiplies the values; contrast
 * blends with the image's mean grey; saturation blends each pixel with its own
 * grey; hue rotates the HSV hue. On 1-channel images only brightness and
 * contrast apply. Needs 1 or 3 channels.
 *
 * @example
 * ```ts
 * import { colourJitter } from "./colour.ts";
 * const s = 0.5; // SimCLR's colour strength for CIFAR-10
 * const jitter = colourJitter({ brightness: 0.8 * s, contrast: 0.8 * s, saturation: 0.8 * s, hue: 0.2 * s, p: 0.8 });
 * ```
 */
export function colourJitter(config: JitterConfig): Transform {
  const where = "colourJitter";
  const { brightness, contrast, saturation, hue, p } = config;
  for (
    const [k, v] of [["brightness", brightness], ["contrast", contrast], [
      "saturation",
      saturation,
    ]] as const
  ) {
    if (!(v >= 0) || !Number.isFinite(v)) {
      throw new Error(`${where}: ${k} must be a finite number >= 0, got ${v}`);
    }
  }
  if (!(hue >= 0 && hue <= 0.5)) throw new Error(`${where}: hue must be in [0, 0.5], got ${hue}`);
  checkProbability(where, "p", p);
  return {
    name: `colourJitter(b=${brightness}, c=${contrast}, s=${saturation}, h=${hue}, p=${p})`,
    config,
    apply(batch: ImageBatch, rng: Rng): ImageBatch {
      checkBatch(batch);
      const { data, count, height: H, width: W, channels: C } = batch;
      if (C !== 1 && C !== 3) {
        throw new Error(`${where}: needs 1 or 3 channels, got ${C}`);
      }
      const out = data.slice();
      const pixels = H * W;
      const n = pixels * C;
      for (let img = 0; img < count; img++) {
        const coin = rng.next();
        const fb = rng.uniform(Math.max(0, 1 - brightness), 1 + brightness);
        const fc = rng.uniform(Math.max(0, 1 - contrast), 1 + contrast);
        const fs = rng.uniform(Math.max(0, 1 - saturation), 1 + saturation);
        const fh = rng.uniform(-hue, hue);
        const order = rng.permutation(4);
        if (!(coin < p)) continue;
        const o = img * n;
        for (const op of order) {
          if (op === 0 && fb !== 1) {
            for (let i = o; i < o + n; i++) out[i] = clamp01(out[i] * fb);
          } else if (op === 1 && fc !== 1) {
            const m = (1 - fc) * meanGrey(out, o, pixels, C);
            for (let i = o; i < o + n; i++) out[i] = clamp01(fc * out[i] + m);
          } else if (op === 2 && fs !== 1 && C === 3) {
            for (let q = o; q < o + n; q += 3) {
              const g = (1 - fs) * (0.299 * out[q] + 0.587 * out[q + 1] + 0.114 * out[q + 2]);
              out[q] = clamp01(fs * out[q] + g);
              out[q + 1] = clamp01(fs * out[q + 1] + g);
              out[q + 2] = clamp01(fs * out[q + 2] + g);
            }
          } else if (op === 3 && fh !== 0 && C === 3) {
            shiftHue(out, o, pixels, fh);
          }
        }
      }
      return { data: out, count, height: H, width: W, channels: C };
    },
  };
}

/**
 * Converts each RGB image to grey with probability `p`: all three channels
 * become the luma `0.299 R + 0.587 G + 0.114 B` (the image stays 3-channel).
 * 1-channel images are returned unchanged. Needs 1 or 3 channels.
 *
 * @example
 * ```ts
 * import { randomGreyscale } from "./colour.ts";
 * const grey = randomGreyscale({ p: 0.2 });
 * ```
 */
export function randomGreyscale(config: ProbabilityConfig): Transform {
  const where = "randomGreyscale";
  checkProbability(where, "p", config.p);
  const { p } = config;
  return {
    name: `greyscale(p=${p})`,
    config,
    apply(batch: ImageBatch, rng: Rng): ImageBatch {
      checkBatch(batch);
      const { data, count, height: H, width: W, channels: C } = batch;
      if (C !== 1 && C !== 3) throw new Error(`${where}: needs 1 or 3 channels, got ${C}`);
      const out = data.slice();
      const n = H * W * C;
      for (let img = 0; img < count; img++) {
        if (!(rng.next() < p) || C === 1) continue;
        for (let q = img * n; q < (img + 1) * n; q += 3) {
          const g = 0.299 * out[q] + 0.587 * out[q + 1] + 0.114 * out[q + 2];
          out[q] = g;
          out[q + 1] = g;
          out[q + 2] = g;
        }
      }
      return { data: out, count, height: H, width: W, channels: C };
    },
  };
}

/** Settings of {@linkcode randomLevels} (plain JSON). */
export interface LevelsConfig {
  /** Contrast about mid-grey: a factor in `[1 - c, 1 + c]`; 0 = none. */
  contrast: number;
  /** An offset added to every value, in `[-o, o]`; 0 = none. */
  offset: number;
  /** The probability that an image is changed at all. */
  p: number;
}

/**
 * Random grey levels per image: with probability `p`, `v ← clamp((v - 0.5) · c + 0.5 + o)`
 * with `c` in `[1 - contrast, 1 + contrast]` and `o` in `[-offset, offset]`, the same for
 * every channel. Unlike {@linkcode colourJitter}'s multiplicative brightness, which keeps a
 * black background black, it moves the background too: the ink of a digit and the paper it
 * is on both change, so a network cannot match two views of a digit by their overall
 * brightness. Always draws three numbers per image.
 *
 * @example
 * ```ts
 * import { randomLevels } from "./colour.ts";
 * const levels = randomLevels({ contrast: 0.4, offset: 0.2, p: 1 });
 * ```
 */
export function randomLevels(config: LevelsConfig): Transform {
  const where = "randomLevels";
  checkProbability(where, "p", config.p);
  for (const k of ["contrast", "offset"] as const) {
    if (!(config[k] >= 0 && config[k] <= 1)) {
      throw new Error(`${where}: ${k} must be in [0, 1], got ${config[k]}`);
    }
  }
  const { contrast, offset, p } = config;
  return {
    name: `levels(contrast=${contrast}, offset=${offset}, p=${p})`,
    config,
    apply(batch: ImageBatch, rng: Rng): ImageBatch {
      checkBatch(batch);
      const { data, count, height: H, width: W, channels: C } = batch;
      const out = data.slice();
      const n = H * W * C;
      for (let img = 0; img < count; img++) {
        const coin = rng.next();
        const c = rng.uniform(1 - contrast, 1 + contrast);
        const o = rng.uniform(-offset, offset);
        if (!(coin < p) || (contrast === 0 && offset === 0)) continue;
        for (let q = img * n; q < (img + 1) * n; q++) {
          out[q] = clamp01((out[q] - 0.5) * c + 0.5 + o);
        }
      }
      return { data: out, count, height: H, width: W, channels: C };
    },
  };
}
