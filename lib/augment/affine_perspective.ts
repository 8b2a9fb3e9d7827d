/**
 * Random geometric augmentation: a random **affine** map (rotation,
 * translation, scaling, shear) followed by any number of random
 * **perspective** warps, drawn independently for every image.
 *
 * All the maps of one image are projective maps of the plane, so they are
 * multiplied into ONE 3x3 matrix (a homography) and the image is resampled
 * once, with bilinear interpolation and 0 (black) outside the source image.
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
  checkBatch,
  checkProbability,
  checkRange,
  type ImageBatch,
  type Transform,
} from "./types.ts";

/**
 * A 3x3 matrix, row-major: `[m00, m01, m02, m10, m11, m12, m20, m21, m22]`.
 * As a homography it maps `(x, y)` to `((m00 x + m01 y + m02) / w, (m10 x + m11 y + m12) / w)`
 * with `w = m20 x + m21 y + m22`.
 *
 * @example
 * ```ts
 * import type { Mat3 } from "./affine_perspective.ts";
 * const shiftRight: Mat3 = [1, 0, 3, 0, 1, 0, 0, 0, 1];
 * ```
 */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

/**
 * The identity homography.
 *
 * @example
 * ```ts
 * import { identityMat3 } from "./affine_perspective.ts";
 * const h = identityMat3(); // [1, 0, 0, 0, 1, 0, 0, 0, 1]
 * ```
 */
export function identityMat3(): Mat3 {
  return [1, 0, 0, 0, 1, 0, 0, 0, 1];
}

/**
 * The matrix product `a * b`: as maps, first `b`, then `a`.
 *
 * @example
 * ```ts
 * import { affineHomography, mulMat3, quadHomography } from "./affine_perspective.ts";
 * const turn = { angleDeg: 30, tx: 0, ty: 0, scale: 1, shearXDeg: 0, shearYDeg: 0 };
 * const affine = affineHomography(turn, 28, 28);
 * const perspective = quadHomography([0, 0, 22, 5, 27, 27, 0, 27], 28, 28);
 * const h = mulMat3(perspective, affine); // the affine map, then the perspective warp
 * ```
 */
export function mulMat3(a: Mat3, b: Mat3): Mat3 {
  const out = new Array<number>(9) as Mat3;
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[3 * r + c] = a[3 * r] * b[c] + a[3 * r + 1] * b[3 + c] + a[3 * r + 2] * b[6 + c];
    }
  }
  return out;
}

/**
 * The inverse of a 3x3 matrix (adjugate over determinant), or `null` when it
 * is singular (|det| below 1e-12 relative to the entries' size).
 *
 * @example
 * ```ts
 * import { invertMat3 } from "./affine_perspective.ts";
 * const back = invertMat3([2, 0, 0, 0, 2, 0, 0, 0, 1]); // [0.5, 0, 0, 0, 0.5, 0, 0, 0, 1]
 * ```
 */
export function invertMat3(m: Mat3): Mat3 | null {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  const size = Math.max(...m.map(Math.abs));
  if (!Number.isFinite(det) || Math.abs(det) <= 1e-12 * size * size * size) return null;
  const k = 1 / det;
  return [
    A * k,
    -(b * i - c * h) * k,
    (b * f - c * e) * k,
    B * k,
    (a * i - c * g) * k,
    -(a * f - c * d) * k,
    C * k,
    -(a * h - b * g) * k,
    (a * e - b * d) * k,
  ];
}

/**
 * Whether `m` is the identity homography up to `tol` in every entry (a map
 * that moves no pixel by more than about `tol * size`); such images are copied
 * instead of resampled, so identity settings return their input bit for bit.
 *
 * @example
 * ```ts
 * import { isIdentityMat3 } from "./affine_perspective.ts";
 * isIdentityMat3([1, 0, 0, 0, 1, 0, 0, 0, 1]); // true
 * ```
 */
export function isIdentityMat3(m: Mat3, tol = 1e-12): boolean {
  const id = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let k = 0; k < 9; k++) if (!(Math.abs(m[k] - id[k]) <= tol)) return false;
  return true;
}

/** One image's affine parameters, as drawn by {@linkcode randomAffine}. */
export interface AffineParams {
  /** Rotation in degrees, counter-clockwise as displayed. */
  angleDeg: number;
  /** Shift right, in pixels. */
  tx: number;
  /** Shift down, in pixels. */
  ty: number;
  /** Zoom factor (> 1 enlarges the content). */
  scale: number;
  /** Horizontal shear angle in degrees: `x' = x + tan(shearXDeg) * y`. */
  shearXDeg: number;
  /** Vertical shear angle in degrees: `y' = y + tan(shearYDeg) * x`. */
  shearYDeg: number;
}

/**
 * The homography of an affine map about the image centre: scale, then shear,
 * then rotate, then translate (the order torchvision uses).
 *
 * @example
 * ```ts
 * import { affineHomography } from "./affine_perspective.ts";
 * // turn a 28x28 image by 90 degrees counter-clockwise
 * const h = affineHomography({ angleDeg: 90, tx: 0, ty: 0, scale: 1, shearXDeg: 0, shearYDeg: 0 }, 28, 28);
 * ```
 */
export function affineHomography(p: AffineParams, height: number, width: number): Mat3 {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const rad = (p.angleDeg * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const shx = Math.tan((p.shearXDeg * Math.PI) / 180);
  const shy = Math.tan((p.shearYDeg * Math.PI) / 180);
  // M = scale * R * Sh, with R = [[cos, sin], [-sin, cos]] (counter-clockwise with y down)
  // and Sh = [[1, shx], [shy, 1]].
  const m00 = p.scale * (cos + sin * shy);
  const m01 = p.scale * (cos * shx + sin);
  const m10 = p.scale * (-sin + cos * shy);
  const m11 = p.scale * (-sin * shx + cos);
  return [
    m00,
    m01,
    cx + p.tx - (m00 * cx + m01 * cy),
    m10,
    m11,
    cy + p.ty - (m10 * cx + m11 * cy),
    0,
    0,
    1,
  ];
}

/**
 * The homography that maps the image's corner pixels (0, 0), (W-1, 0),
 * (W-1, H-1), (0, H-1) onto the quadrilateral `quad` =
 * `[x0, y0, x1, y1, x2, y2, x3, y3]` (same corner order), i.e. the
 * perspective warp that squeezes the image into `quad`. Built as the
 * closed-form unit-square-to-quad map (Heckbert 1989) after scaling the image
 * to the unit square. Needs `height, width >= 2`.
 *
 * @example
 * ```ts
 * import { quadHomography } from "./affine_perspective.ts";
 * // pull the top-right corner of a 28x28 image 5 px inwards
 * const h = quadHomography([0, 0, 22, 5, 27, 27, 0, 27], 28, 28);
 * ```
 */
export function quadHomography(quad: readonly number[], height: number, width: number): Mat3 {
  const [x0, y0, x1, y1, x2, y2, x3, y3] = quad;
  const sx = x0 - x1 + x2 - x3;
  const sy = y0 - y1 + y2 - y3;
  let g = 0;
  let h = 0;
  if (sx !== 0 || sy !== 0) {
    const dx1 = x1 - x2;
    const dx2 = x3 - x2;
    const dy1 = y1 - y2;
    const dy2 = y3 - y2;
    const den = dx1 * dy2 - dx2 * dy1;
    g = (sx * dy2 - dx2 * sy) / den;
    h = (dx1 * sy - sx * dy1) / den;
  }
  const u = 1 / (width - 1);
  const v = 1 / (height - 1);
  // unit square -> quad, right-multiplied by diag(u, v, 1) (pixels -> unit square)
  return [
    (x1 - x0 + g * x1) * u,
    (x3 - x0 + h * x3) * v,
    x0,
    (y1 - y0 + g * y1) * u,
    (y3 - y0 + h * y3) * v,
    y0,
    g * u,
    h * v,
    1,
  ];
}

/**
 * Resamples one image through the homography `forward` (which maps input
 * pixel positions to output positions): each output pixel reads the input at
 * `forward⁻¹(x, y)` with bilinear interpolation, 0 outside the input. Reads
 * `height * width * channels` values of `src` from `srcOffset`, writes as many
 * into `dst` from `dstOffset`. An identity `forward` copies the pixels
 * exactly; a singular one writes zeros.
 *
 * @example
 * ```ts
 * import { affineHomography, warpImage } from "./affine_perspective.ts";
 * const image = new Float32Array(28 * 28).fill(0.5);
 * const params = { angleDeg: 15, tx: 2, ty: 0, scale: 1, shearXDeg: 0, shearYDeg: 0 };
 * const out = new Float32Array(28 * 28);
 * warpImage(image, 0, out, 0, 28, 28, 1, affineHomography(params, 28, 28));
 * ```
 */
export function warpImage(
  src: Float32Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  height: number,
  width: number,
  channels: number,
  forward: Mat3,
): void {
  const n = height * width * channels;
  if (isIdentityMat3(forward)) {
    dst.set(src.subarray(srcOffset, srcOffset + n), dstOffset);
    return;
  }
  const inv = invertMat3(forward);
  if (inv === null) {
    dst.fill(0, dstOffset, dstOffset + n);
    return;
  }
  const [a, b, c, d, e, f, g, h, i] = inv;
  const rowStride = width * channels;
  const C = channels;
  const xLast = width - 1;
  const yLast = height - 1;
  let o = dstOffset;
  for (let y = 0; y < height; y++) {
    // source coordinates of (0, y), advanced by (a, d, g) per output column
    let u = b * y + c;
    let v = e * y + f;
    let w = h * y + i;
    for (let x = 0; x < width; x++, u += a, v += d, w += g, o += C) {
      const iw = 1 / w;
      const sx = u * iw;
      const sy = v * iw;
      // beyond one pixel outside the image (or behind the camera, w <= 0): fill 0
      if (!(w > 1e-12 && sx > -1 && sy > -1 && sx < width && sy < height)) {
        for (let k = 0; k < C; k++) dst[o + k] = 0;
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const p = srcOffset + y0 * rowStride + x0 * C;
      if (x0 >= 0 && y0 >= 0 && x0 < xLast && y0 < yLast) {
        // all four neighbours inside: interpolate along x, then along y
        if (C === 1) {
          const top = src[p] + fx * (src[p + 1] - src[p]);
          const q = p + rowStride;
          const bottom = src[q] + fx * (src[q + 1] - src[q]);
          dst[o] = top + fy * (bottom - top);
          continue;
        }
        for (let k = 0; k < C; k++) {
          const q = p + k;
          const r = q + rowStride;
          const top = src[q] + fx * (src[q + C] - src[q]);
          const bottom = src[r] + fx * (src[r + C] - src[r]);
          dst[o + k] = top + fy * (bottom - top);
        }
      } else {
        // on the border: neighbours outside the image count as 0
        const inX0 = x0 >= 0;
        const inX1 = x0 < xLast;
        const inY0 = y0 >= 0;
        const inY1 = y0 < yLast;
        for (let k = 0; k < C; k++) {
          const q = p + k;
          const r = q + rowStride;
          const s00 = inY0 && inX0 ? src[q] : 0;
          const s01 = inY0 && inX1 ? src[q + C] : 0;
          const s10 = inY1 && inX0 ? src[r] : 0;
          const s11 = inY1 && inX1 ? src[r + C] : 0;
          const top = s00 + fx * (s01 - s00);
          const bottom = s10 + fx * (s11 - s10);
          dst[o + k] = top + fy * (bottom - top);
        }
      }
    }
  }
}

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
