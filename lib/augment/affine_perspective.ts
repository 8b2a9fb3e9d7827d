/**
 * Random geometric augmentation: a random **affine** map (rotation,
 * translation, scaling, shear) followed by any number of random
 * **perspective** warps, drawn independently for every image.
 *
 * All the maps of one image are projective maps of the plane, so they are
 * multiplied into ONE 3x3 matrix (a homography) and the image is resampled
 * once, with bilinear interpolation and 0 (black) outside the source image
 * (the matrix maths live in `homography.ts`, the resampling in `warp.ts`; both
 * are re-exported from here).
 * Resampling once is faster than warping four times and avoids blurring the
 * digit four times over; the result equals the step-by-step warps up to
 * interpolation error (and except that content pushed out of the frame by an
 * intermediate step and brought back by a later one is kept, not lost).
 *
 * Conventions (the same as torchvision's `RandomAffine` and
 * `RandomPerspective`, whose parameters the article's notebook uses):
 * - pixel centres sit at integer coordinates, x to the right, y down; the
 *   affine map is about the image centre `((W-1)/2, (H-1)/2)`;
 * - a positive rotation turns the content **counter-clockwise** as displayed;
 * - translation is a fraction of the image size: `translate: [0.1, 0.1]`
 *   shifts by up to ±10% of the width and of the height (continuously;
 *   torchvision rounds to whole pixels);
 * - shear is an **angle in degrees** (torchvision's unit): `shearDeg: [-a, a]`
 *   is a horizontal shear `x' = x + tan(angle) * y`. The article's notebook
 *   passes `shear=0.2`, which torchvision reads as ±0.2 degrees, i.e. a
 *   negligible shear (tan 0.2° = 0.0035, under 0.1 px across a digit). We
 *   keep that faithful reading in the digit preset; use e.g. `[-10, 10]` for a
 *   visible shear;
 * - a perspective step with probability `p` moves each image corner inwards
 *   by a random amount up to `distortion * (size - 1) / 2` in x and in y, and
 *   warps the image so that its corners land there.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { randomAffinePerspective } from "./affine_perspective.ts";
 * import { batchOf } from "./types.ts";
 * const batch = batchOf(new Float32Array(4 * 28 * 28), 4, 28, 28, 1);
 * const warp = randomAffinePerspective({
 *   affine: { rotationDeg: [-50, 50], translate: [0.1, 0.1], scale: [0.5, 1.5], shearDeg: [-0.2, 0.2] },
 *   perspectives: [{ distortion: 0.4, p: 0.5 }, { distortion: 0.2, p: 0.5 }],
 * });
 * const out = warp.apply(batch, new Rng(1)); // a new batch, each image warped its own way
 * ```
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import {
  affineHomography,
  type AffineParams,
  identityMat3,
  type Mat3,
  mulMat3,
  quadHomography,
} from "./homography.ts";
import {
  checkBatch,
  checkProbability,
  checkRange,
  type ImageBatch,
  type Transform,
} from "./types.ts";
import { warpImage } from "./warp.ts";

export {
  affineHomography,
  type AffineParams,
  identityMat3,
  invertMat3,
  isIdentityMat3,
  type Mat3,
  mulMat3,
  quadHomography,
} from "./homography.ts";
export { warpImage } from "./warp.ts";

/**
 * Settings of the random affine map (plain JSON). A value is drawn uniformly
 * from each range, for each image.
 *
 * @example
 * ```ts
 * import type { AffineConfig } from "./affine_perspective.ts";
 * const article: AffineConfig = { rotationDeg: [-50, 50], translate: [0.1, 0.1], scale: [0.5, 1.5], shearDeg: [-0.2, 0.2] };
 * ```
 */
export interface AffineConfig {
  /** Rotation range in degrees, counter-clockwise positive; `[0, 0]` = none. */
  rotationDeg: [number, number];
  /** Largest shift as a fraction of `[width, height]`, each in [0, 1]; `[0, 0]` = none. */
  translate: [number, number];
  /** Zoom range (> 0); `[1, 1]` = none. */
  scale: [number, number];
  /** Horizontal shear angle range in degrees, within (-90, 90); `[0, 0]` = none. */
  shearDeg: [number, number];
  /** Vertical shear angle range in degrees (default `[0, 0]`). */
  shearYDeg?: [number, number];
}

/**
 * Settings of one random perspective step (plain JSON).
 *
 * @example
 * ```ts
 * import type { PerspectiveConfig } from "./affine_perspective.ts";
 * const step: PerspectiveConfig = { distortion: 0.4, p: 0.5 };
 * ```
 */
export interface PerspectiveConfig {
  /** How far corners may move inwards, as a fraction of half the image size, in [0, 1]. */
  distortion: number;
  /** The probability that this step is applied to an image. */
  p: number;
}

/**
 * Settings of {@linkcode randomAffinePerspective} (plain JSON): an optional
 * affine map, then the perspective steps in order.
 *
 * @example
 * ```ts
 * import type { AffinePerspectiveConfig } from "./affine_perspective.ts";
 * const cfg: AffinePerspectiveConfig = { affine: null, perspectives: [{ distortion: 0.3, p: 1 }] };
 * ```
 */
export interface AffinePerspectiveConfig {
  /** The random affine map applied first; `null` or absent = none. */
  affine?: AffineConfig | null;
  /** Random perspective steps applied after it, in order (default none). */
  perspectives?: PerspectiveConfig[];
}

function checkConfig(where: string, config: AffinePerspectiveConfig): void {
  const a = config.affine;
  if (a) {
    checkRange(where, "rotationDeg", a.rotationDeg);
    const t = a.translate;
    if (!Array.isArray(t) || t.length !== 2 || !t.every((v) => v >= 0 && v <= 1)) {
      throw new Error(
        `${where}: translate must be [fx, fy] with fractions in [0, 1], got ${JSON.stringify(t)}`,
      );
    }
    checkRange(where, "scale", a.scale, Number.MIN_VALUE);
    checkRange(where, "shearDeg", a.shearDeg, -89.9, 89.9);
    if (a.shearYDeg) checkRange(where, "shearYDeg", a.shearYDeg, -89.9, 89.9);
  }
  for (const [k, s] of (config.perspectives ?? []).entries()) {
    if (!(s.distortion >= 0 && s.distortion <= 1)) {
      throw new Error(
        `${where}: perspectives[${k}].distortion must be in [0, 1], got ${s.distortion}`,
      );
    }
    checkProbability(where, `perspectives[${k}].p`, s.p);
  }
}

/** Draws one image's affine parameters from `rng` (always five or six draws). */
function drawAffine(a: AffineConfig, height: number, width: number, rng: Rng): AffineParams {
  const angleDeg = rng.uniform(a.rotationDeg[0], a.rotationDeg[1]);
  const mx = a.translate[0] * width;
  const my = a.translate[1] * height;
  const tx = rng.uniform(-mx, mx);
  const ty = rng.uniform(-my, my);
  const scale = rng.uniform(a.scale[0], a.scale[1]);
  const shearXDeg = rng.uniform(a.shearDeg[0], a.shearDeg[1]);
  const shearYDeg = a.shearYDeg ? rng.uniform(a.shearYDeg[0], a.shearYDeg[1]) : 0;
  return { angleDeg, tx, ty, scale, shearXDeg, shearYDeg };
}

/**
 * Draws one perspective step's homography: `null` when the coin says "not
 * applied" or the distortion is 0. Always draws 9 numbers, so the stream stays
 * aligned whatever `p` is.
 */
function drawPerspective(
  s: PerspectiveConfig,
  height: number,
  width: number,
  rng: Rng,
): Mat3 | null {
  const coin = rng.next();
  const mx = s.distortion * (width - 1) / 2;
  const my = s.distortion * (height - 1) / 2;
  const d = new Array<number>(8);
  for (let k = 0; k < 8; k++) d[k] = rng.next();
  if (!(coin < s.p) || s.distortion === 0 || width < 2 || height < 2) return null;
  const W1 = width - 1;
  const H1 = height - 1;
  const quad = [
    d[0] * mx,
    d[1] * my, // top-left moves right and down
    W1 - d[2] * mx,
    d[3] * my, // top-right moves left and down
    W1 - d[4] * mx,
    H1 - d[5] * my, // bottom-right moves left and up
    d[6] * mx,
    H1 - d[7] * my, // bottom-left moves right and up
  ];
  return quadHomography(quad, height, width);
}

/**
 * A random affine map followed by random perspective steps, drawn per image
 * and applied as one homography with a single bilinear resampling (fill 0).
 * Works for any number of channels. Identity settings (rotation `[0, 0]`,
 * translate `[0, 0]`, scale `[1, 1]`, shear `[0, 0]`, every `p = 0` or
 * `distortion = 0`) return the input bit for bit.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { randomAffinePerspective } from "./affine_perspective.ts";
 * import { batchOf } from "./types.ts";
 * const batch = batchOf(new Float32Array(4 * 28 * 28), 4, 28, 28, 1);
 * const rng = new Rng(0);
 * const warp = randomAffinePerspective({
 *   affine: { rotationDeg: [-50, 50], translate: [0.1, 0.1], scale: [0.5, 1.5], shearDeg: [-0.2, 0.2] },
 *   perspectives: [{ distortion: 0.4, p: 0.5 }, { distortion: 0.2, p: 0.5 }, { distortion: 0.2, p: 0.5 }],
 * });
 * const out = warp.apply(batch, rng);
 * ```
 */
export function randomAffinePerspective(config: AffinePerspectiveConfig): Transform {
  const where = "randomAffinePerspective";
  checkConfig(where, config);
  const affine = config.affine ?? null;
  const steps = config.perspectives ?? [];
  const parts = [
    ...(affine ? ["affine"] : []),
    ...steps.map((s) => `perspective(${s.distortion}, p=${s.p})`),
  ];
  return {
    name: parts.length ? parts.join(" + ") : "identity geometry",
    config,
    apply(batch: ImageBatch, rng: Rng): ImageBatch {
      checkBatch(batch);
      const { data, count, height, width, channels } = batch;
      const n = height * width * channels;
      const out = new Float32Array(data.length);
      for (let img = 0; img < count; img++) {
        let h: Mat3 = affine
          ? affineHomography(drawAffine(affine, height, width, rng), height, width)
          : identityMat3();
        for (const s of steps) {
          const p = drawPerspective(s, height, width, rng);
          if (p) h = mulMat3(p, h);
        }
        warpImage(data, img * n, out, img * n, height, width, channels, h);
      }
      return { data: out, count, height, width, channels };
    },
  };
}

/**
 * A random affine map per image (rotation, translation, scale, shear);
 * shorthand for `randomAffinePerspective({ affine: config })`.
 *
 * @example
 * ```ts
 * import { randomAffine } from "./affine_perspective.ts";
 * const turn = randomAffine({ rotationDeg: [-15, 15], translate: [0, 0], scale: [1, 1], shearDeg: [0, 0] });
 * ```
 */
export function randomAffine(config: AffineConfig): Transform {
  return randomAffinePerspective({ affine: config });
}

/**
 * One random perspective warp per image, applied with probability `p`;
 * shorthand for `randomAffinePerspective({ perspectives: [config] })`.
 *
 * @example
 * ```ts
 * import { randomPerspective } from "./affine_perspective.ts";
 * const tilt = randomPerspective({ distortion: 0.4, p: 0.5 });
 * ```
 */
export function randomPerspective(config: PerspectiveConfig): Transform {
  return randomAffinePerspective({ perspectives: [config] });
}
