/**
 * Random **Gaussian blur**, drawn independently for every image: with
 * probability `p` an image is convolved with a normalised Gaussian kernel of
 * the given odd size and a standard deviation drawn uniformly from `sigma`.
 *
 * The 2-D Gaussian is separable, so the blur is a horizontal 1-D pass followed
 * by a vertical one (2k instead of k² multiplications per pixel). Pixels
 * beyond the border repeat the edge pixel ("clamp"), so a constant image stays
 * constant and the image does not darken at its edges.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { randomGaussianBlur } from "./blur.ts";
 * import { batchOf } from "./types.ts";
 * const batch = batchOf(new Float32Array(8 * 28 * 28), 8, 28, 28, 1);
 * const blur = randomGaussianBlur({ kernelSize: 3, sigma: [0.1, 2.0], p: 0.25 });
 * const out = blur.apply(batch, new Rng(3)); // about a quarter of the images blurred
 * ```
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import {
  checkBatch,
  checkProbability,
  checkRange,
  type ImageBatch,
  type Transform,
} from "./types.ts";

/**
 * Settings of {@linkcode randomGaussianBlur} (plain JSON).
 *
 * @example
 * ```ts
 * import type { BlurConfig } from "./blur.ts";
 * const article: BlurConfig = { kernelSize: 3, sigma: [0.1, 2.0], p: 0.25 };
 * ```
 */
export interface BlurConfig {
  /** Kernel width and height in pixels: an odd positive integer (1 = no blur). */
  kernelSize: number;
  /** Range of the Gaussian's standard deviation in pixels (lo > 0), drawn per image. */
  sigma: [number, number];
  /** The probability that an image is blurred. */
  p: number;
}

/**
 * The normalised 1-D Gaussian kernel of odd length `size` and standard
 * deviation `sigma` (pixels): weights `exp(-i² / 2σ²)` for `i = -r..r`,
 * divided by their sum.
 *
 * @example
 * ```ts
 * import { gaussianKernel } from "./blur.ts";
 * gaussianKernel(3, 1); // ≈ [0.274, 0.452, 0.274]
 * ```
 */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) {
    throw new Error(`gaussianKernel: size must be an odd positive integer, got ${size}`);
  }
  if (!(sigma > 0) || !Number.isFinite(sigma)) {
    throw new Error(`gaussianKernel: sigma must be > 0, got ${sigma}`);
  }
  const r = (size - 1) / 2;
  const k = new Float64Array(size);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + r] = v;
    sum += v;
  }
  for (let i = 0; i < size; i++) k[i] /= sum;
  return k;
}

/**
 * Blurs one image with the separable kernel `kernel` (odd length), clamping
 * at the borders: reads `height * width * channels` values of `src` from
 * `srcOffset`, writes as many into `dst` from `dstOffset`; `tmp` is scratch
 * space of at least `height * width * channels` values.
 *
 * @example
 * ```ts
 * import { blurImage, gaussianKernel } from "./blur.ts";
 * const image = new Float32Array(28 * 28).fill(0.5);
 * const out = new Float32Array(28 * 28);
 * blurImage(image, 0, out, 0, 28, 28, 1, gaussianKernel(3, 1), new Float32Array(28 * 28));
 * ```
 */
export function blurImage(
  src: Float32Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  height: number,
  width: number,
  channels: number,
  kernel: Float64Array,
  tmp: Float32Array,
): void {
  const r = (kernel.length - 1) / 2;
  const rowStride = width * channels;
  // horizontal pass: src -> tmp, each row a 1-D signal with taps `channels` apart
  for (let y = 0; y < height; y++) {
    blurLine(src, srcOffset + y * rowStride, tmp, y * rowStride, width, channels, kernel, r);
  }
  // vertical pass: tmp -> dst, each column a 1-D signal with taps `rowStride` apart
  blurLine(tmp, 0, dst, dstOffset, height, rowStride, kernel, r);
}

/**
 * Convolves `lanes` interleaved 1-D signals of `length` samples (sample `j`
 * of lane `l` at `offset + j * lanes + l`) with `kernel`, clamping at the
 * ends. The horizontal pass calls it per row with lanes = channels; the
 * vertical pass once per image with lanes = width * channels.
 */
function blurLine(
  src: Float32Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  length: number,
  lanes: number,
  kernel: Float64Array,
  r: number,
): void {
  const size = 2 * r + 1;
  const last = length - 1;
  // interior samples (no clamping): one flat loop over all lanes
  const lo = Math.min(r, length) * lanes;
  const hi = Math.max(lo, (length - r) * lanes);
  const shift = srcOffset - dstOffset - r * lanes;
  if (size === 3) {
    const k0 = kernel[0];
    const k1 = kernel[1];
    const k2 = kernel[2];
    for (let i = dstOffset + lo, end = dstOffset + hi; i < end; i++) {
      const q = i + shift;
      dst[i] = k0 * src[q] + k1 * src[q + lanes] + k2 * src[q + 2 * lanes];
    }
  } else {
    for (let i = dstOffset + lo, end = dstOffset + hi; i < end; i++) {
      let s = 0;
      for (let t = 0, q = i + shift; t < size; t++, q += lanes) s += kernel[t] * src[q];
      dst[i] = s;
    }
  }
  // the first and last r samples: clamp the taps to the ends
  for (let j = 0; j < length; j++) {
    if (j === r && length - r > r) j = length - r;
    for (let l = 0; l < lanes; l++) {
      let s = 0;
      for (let t = 0; t < size; t++) {
        const jj = Math.min(last, Math.max(0, j + t - r));
        s += kernel[t] * src[srcOffset + jj * lanes + l];
      }
      dst[dstOffset + j * lanes + l] = s;
    }
  }
}

/**
 * A random Gaussian blur per image: with probability `p`, a `kernelSize` x
 * `kernelSize` Gaussian with σ drawn uniformly from `sigma`, separable, borders
 * clamped. Images not blurred (and all images when `p = 0` or
 * `kernelSize = 1`) are copied bit for bit. Works for any number of channels.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { randomGaussianBlur } from "./blur.ts";
 * import { batchOf } from "./types.ts";
 * const batch = batchOf(new Float32Array(4 * 28 * 28), 4, 28, 28, 1);
 * const rng = new Rng(0);
 * const blur = randomGaussianBlur({ kernelSize: 3, sigma: [0.1, 2.0], p: 0.25 });
 * const out = blur.apply(batch, rng);
 * ```
 */
export function randomGaussianBlur(config: BlurConfig): Transform {
  const where = "randomGaussianBlur";
  const { kernelSize, sigma, p } = config;
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
    throw new Error(`${where}: kernelSize must be an odd positive integer, got ${kernelSize}`);
  }
  checkRange(where, "sigma", sigma, Number.MIN_VALUE);
  checkProbability(where, "p", p);
  return {
    name: `gaussianBlur(k=${kernelSize}, sigma=${sigma[0]}..${sigma[1]}, p=${p})`,
    config,
    apply(batch: ImageBatch, rng: Rng): ImageBatch {
      checkBatch(batch);
      const { data, count, height, width, channels } = batch;
      const n = height * width * channels;
      const out = new Float32Array(data.length);
      const tmp = new Float32Array(n);
      for (let img = 0; img < count; img++) {
        const coin = rng.next();
        const s = rng.uniform(sigma[0], sigma[1]);
        const o = img * n;
        if (coin < p && kernelSize > 1) {
          blurImage(data, o, out, o, height, width, channels, gaussianKernel(kernelSize, s), tmp);
        } else {
          out.set(data.subarray(o, o + n), o);
        }
      }
      return { data: out, count, height, width, channels };
    },
  };
}
