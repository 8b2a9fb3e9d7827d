/**
 * SimCLR's geometric augmentations for natural images, each drawn
 * independently for every image:
 * - {@linkcode randomResizedCrop}: crop a random box (random area fraction and
 *   aspect ratio) and resize it back to the full image size, bilinear;
 * - {@linkcode randomHorizontalFlip}: mirror left-right with probability `p`.
 *
 * They are re-exported from `colour.ts` together with the colour distortions
 * (SimCLR's decisive pair is crop + colour).
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { randomHorizontalFlip, randomResizedCrop } from "./crop_flip.ts";
 * import { batchOf } from "./types.ts";
 * const batch = batchOf(new Float32Array(4 * 32 * 32 * 3), 4, 32, 32, 3);
 * const crop = randomResizedCrop({ scale: [0.08, 1], ratio: [3 / 4, 4 / 3] });
 * const flip = randomHorizontalFlip({ p: 0.5 });
 * const out = flip.apply(crop.apply(batch, new Rng(1)), new Rng(2));
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
 * Settings of {@linkcode randomResizedCrop} (plain JSON).
 *
 * @example
 * ```ts
 * import type { CropConfig } from "./crop_flip.ts";
 * const simclr: CropConfig = { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] };
 * ```
 */
export interface CropConfig {
  /** Range of the crop's area as a fraction of the image's area, within (0, 1]. */
  scale: [number, number];
  /** Range of the crop's aspect ratio width / height (> 0), drawn log-uniformly. */
  ratio: [number, number];
}

/**
 * Settings of the flip and greyscale transforms (plain JSON).
 *
 * @example
 * ```ts
 * import type { ProbabilityConfig } from "./crop_flip.ts";
 * const flip: ProbabilityConfig = { p: 0.5 };
 * ```
 */
export interface ProbabilityConfig {
  /** The probability that the transform is applied to an image. */
  p: number;
}

/** Per output position: the two source indices (times `stride`) and the weight of the second. */
function resizeTable(
  outLength: number,
  start: number,
  extent: number,
  inLength: number,
  stride: number,
  i0: Int32Array,
  i1: Int32Array,
  frac: Float64Array,
): void {
  for (let j = 0; j < outLength; j++) {
    let s = start + ((j + 0.5) * extent) / outLength - 0.5;
    s = Math.min(inLength - 1, Math.max(0, s));
    const a = Math.floor(s);
    const b = Math.min(inLength - 1, a + 1);
    i0[j] = a * stride;
    i1[j] = b * stride;
    frac[j] = s - a;
  }
}

/**
 * A random resized crop per image (SimCLR's main augmentation): a box with
 * area fraction drawn from `scale` and aspect ratio (w/h) drawn log-uniformly
 * from `ratio`, placed uniformly at random, is resized to the full image size
 * with bilinear interpolation (pixel-area aligned, edges clamped). Ten tries
 * to find a box that fits; after that the whole image is kept. A box equal to
 * the whole image (e.g. `scale: [1, 1], ratio: [1, 1]` on square images)
 * copies the image bit for bit.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { randomResizedCrop } from "./crop_flip.ts";
 * import { batchOf } from "./types.ts";
 * const batch = batchOf(new Float32Array(4 * 32 * 32 * 3), 4, 32, 32, 3);
 * const rng = new Rng(0);
 * const crop = randomResizedCrop({ scale: [0.08, 1], ratio: [3 / 4, 4 / 3] });
 * const out = crop.apply(batch, rng); // same height and width as the input
 * ```
 */
export function randomResizedCrop(config: CropConfig): Transform {
  const where = "randomResizedCrop";
  checkRange(where, "scale", config.scale, Number.MIN_VALUE, 1);
  checkRange(where, "ratio", config.ratio, Number.MIN_VALUE);
  const [s0, s1] = config.scale;
  const logR0 = Math.log(config.ratio[0]);
  const logR1 = Math.log(config.ratio[1]);
  return {
    name: `randomResizedCrop(scale=${s0}..${s1}, ratio=${config.ratio[0]}..${config.ratio[1]})`,
    config,
    apply(batch: ImageBatch, rng: Rng): ImageBatch {
      checkBatch(batch);
      const { data, count, height: H, width: W, channels: C } = batch;
      const n = H * W * C;
      const out = new Float32Array(data.length);
      const area = H * W;
      const x0s = new Int32Array(W);
      const x1s = new Int32Array(W);
      const fxs = new Float64Array(W);
      const y0s = new Int32Array(H);
      const y1s = new Int32Array(H);
      const fys = new Float64Array(H);
      for (let img = 0; img < count; img++) {
        let bx = 0;
        let by = 0;
        let bw = W;
        let bh = H;
        for (let attempt = 0; attempt < 10; attempt++) {
          const s = rng.uniform(s0, s1);
          const r = Math.exp(rng.uniform(logR0, logR1));
          let cw = Math.sqrt(area * s * r);
          let ch = Math.sqrt(area * s / r);
          if (cw <= W + 1e-9 && ch <= H + 1e-9) {
            if (Math.abs(cw - W) < 1e-9) cw = W;
            if (Math.abs(ch - H) < 1e-9) ch = H;
            bx = rng.uniform(0, W - cw);
            by = rng.uniform(0, H - ch);
            bw = cw;
            bh = ch;
            break;
          }
        }
        const o = img * n;
        if (bx === 0 && by === 0 && bw === W && bh === H) {
          out.set(data.subarray(o, o + n), o);
          continue;
        }
        resizeTable(W, bx, bw, W, C, x0s, x1s, fxs);
        resizeTable(H, by, bh, H, W * C, y0s, y1s, fys);
        let q = o;
        for (let y = 0; y < H; y++) {
          const r0 = o + y0s[y];
          const r1 = o + y1s[y];
          const fy = fys[y];
          for (let x = 0; x < W; x++) {
            const a = x0s[x];
            const b = x1s[x];
            const fx = fxs[x];
            for (let c = 0; c < C; c++, q++) {
              const top = data[r0 + a + c] + fx * (data[r0 + b + c] - data[r0 + a + c]);
              const bottom = data[r1 + a + c] + fx * (data[r1 + b + c] - data[r1 + a + c]);
              out[q] = top + fy * (bottom - top);
            }
          }
        }
      }
      return { data: out, count, height: H, width: W, channels: C };
    },
  };
}

/**
 * Mirrors each image left-right with probability `p` (the column order of
 * every row is reversed; channels stay together).
 *
 * @example
 * ```ts
 * import { randomHorizontalFlip } from "./crop_flip.ts";
 * const flip = randomHorizontalFlip({ p: 0.5 });
 * ```
 */
export function randomHorizontalFlip(config: ProbabilityConfig): Transform {
  checkProbability("randomHorizontalFlip", "p", config.p);
  const { p } = config;
  return {
    name: `horizontalFlip(p=${p})`,
    config,
    apply(batch: ImageBatch, rng: Rng): ImageBatch {
      checkBatch(batch);
      const { data, count, height: H, width: W, channels: C } = batch;
      const n = H * W * C;
      const out = new Float32Array(data.length);
      for (let img = 0; img < count; img++) {
        const o = img * n;
        if (!(rng.next() < p)) {
          out.set(data.subarray(o, o + n), o);
          continue;
        }
        for (let y = 0; y < H; y++) {
          const row = o + y * W * C;
          for (let x = 0; x < W; x++) {
            const from = row + (W - 1 - x) * C;
            const to = row + x * C;
            for (let c = 0; c < C; c++) out[to + c] = data[from + c];
          }
        }
      }
      return { data: out, count, height: H, width: W, channels: C };
    },
  };
}
