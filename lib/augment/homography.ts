/**
 * 3x3 homography maths for the geometric augmentations: the matrix type
 * {@linkcode Mat3}, identity, product and inverse, and the homographies of an
 * affine map about the image centre ({@linkcode affineHomography}) and of a
 * perspective warp onto a quadrilateral ({@linkcode quadHomography}).
 *
 * Pixel centres sit at integer coordinates, x to the right, y down (see
 * `affine_perspective.ts` for the full conventions). Matrices map input pixel
 * positions to output positions; `warp.ts` resamples an image through one.
 *
 * @example
 * ```ts
 * import { affineHomography, invertMat3, mulMat3, quadHomography } from "./homography.ts";
 * const turn = affineHomography({ angleDeg: 30, tx: 0, ty: 0, scale: 1, shearXDeg: 0, shearYDeg: 0 }, 28, 28);
 * const tilt = quadHomography([0, 0, 22, 5, 27, 27, 0, 27], 28, 28);
 * const h = mulMat3(tilt, turn); // first the turn, then the tilt
 * const back = invertMat3(h); // maps output positions back to input positions
 * ```
 *
 * @module
 */

/**
 * A 3x3 matrix, row-major: `[m00, m01, m02, m10, m11, m12, m20, m21, m22]`.
 * As a homography it maps `(x, y)` to `((m00 x + m01 y + m02) / w, (m10 x + m11 y + m12) / w)`
 * with `w = m20 x + m21 y + m22`.
 *
 * @example
 * ```ts
 * import type { Mat3 } from "./homography.ts";
 * const shiftRight: Mat3 = [1, 0, 3, 0, 1, 0, 0, 0, 1];
 * ```
 */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

/**
 * The identity homography.
 *
 * @example
 * ```ts
 * import { identityMat3 } from "./homography.ts";
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
 * import { affineHomography, mulMat3, quadHomography } from "./homography.ts";
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
 * import { invertMat3 } from "./homography.ts";
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
 * import { isIdentityMat3 } from "./homography.ts";
 * isIdentityMat3([1, 0, 0, 0, 1, 0, 0, 0, 1]); // true
 * ```
 */
export function isIdentityMat3(m: Mat3, tol = 1e-12): boolean {
  const id = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let k = 0; k < 9; k++) if (!(Math.abs(m[k] - id[k]) <= tol)) return false;
  return true;
}

/** One image's affine parameters, as `randomAffine` (affine_perspective.ts) draws them. */
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
 * import { affineHomography } from "./homography.ts";
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
 * import { quadHomography } from "./homography.ts";
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
