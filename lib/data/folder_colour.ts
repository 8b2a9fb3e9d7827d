/**
 * Grey or colour, from the pixels: an image's {@linkcode colourSpread} is,
 * per pixel, max(R, G, B) − min(R, G, B), its mean and its maximum over the
 * image. An image is grey when both stay within {@linkcode GREY_TOLERANCE};
 * an image folder keeps one channel when every image is grey, however the
 * files store it (`folder_decode.ts` measures, `folder_assemble.ts` decides).
 *
 * @example
 * ```ts
 * import { colourSpread, isGrey } from "./folder_colour.ts";
 * // Two RGB pixels: a grey one, and one whose red is 12 levels up.
 * const spread = colourSpread(new Uint8Array([90, 90, 90, 102, 90, 90]), 3);
 * spread; // { mean: 6, max: 12 }
 * isGrey(spread); // false: a faint tint is colour
 * ```
 *
 * @module
 */

/**
 * How far an image's pixels are from grey, in levels of 0..255: per pixel the
 * spread max(R, G, B) − min(R, G, B) (0 for a grey pixel), its mean over
 * the image and its largest value.
 */
export interface ColourSpread {
  /** The mean spread over the pixels. */
  mean: number;
  /** The largest spread of any pixel. */
  max: number;
}

/**
 * The largest {@linkcode ColourSpread} of an image that is still grey: mean
 * 1.5 and max 24 levels (of 255). Grey pictures saved as RGB JPEG decode to
 * R = G = B, or a few levels apart when the source had colour noise (noise
 * of σ = 3 levels per channel, JPEG quality 75–95: mean ≤ 0.9, max ≤ 7);
 * a faint tint of R + 12 on white or black MNIST digits keeps a mean of 4.9
 * or more through JPEG quality 75, and a colour photo a mean of tens. The
 * max catches a grey picture with a small, strongly coloured part (a red
 * stamp) whose mean is low.
 */
export const GREY_TOLERANCE: Readonly<ColourSpread> = Object.freeze({ mean: 1.5, max: 24 });

/** The {@linkcode ColourSpread} of interleaved 8-bit pixels with `channels` channels (1–4). */
export function colourSpread(pixels: Uint8Array, channels: number): ColourSpread {
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) {
    throw new Error(`colourSpread: channels must be 1, 2, 3 or 4, got ${channels}`);
  }
  if (pixels.length % channels !== 0) {
    throw new Error(
      `colourSpread: ${pixels.length} bytes are not whole pixels of ${channels} channels`,
    );
  }
  const n = pixels.length / channels;
  if (channels < 3 || n === 0) return { mean: 0, max: 0 };
  let sum = 0;
  let max = 0;
  for (let i = 0; i < pixels.length; i += channels) {
    const r = pixels[i];
    const g = pixels[i + 1];
    const b = pixels[i + 2];
    const d = (r > g ? (r > b ? r : b) : (g > b ? g : b)) -
      (r < g ? (r < b ? r : b) : (g < b ? g : b));
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / n, max };
}

/** Whether `s` is grey within `tolerance` (default {@linkcode GREY_TOLERANCE}). */
export function isGrey(s: ColourSpread, tolerance: ColourSpread = GREY_TOLERANCE): boolean {
  return s.mean <= tolerance.mean && s.max <= tolerance.max;
}
