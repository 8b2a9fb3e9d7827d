/**
 * Resampling an image through a homography: {@linkcode warpImage} reads every
 * output pixel at the inverse-mapped input position with bilinear
 * interpolation, 0 (black) outside the input. The geometric augmentations of
 * `affine_perspective.ts` resample each image once, through the product of
 * all its maps.
 *
 * @example
 * ```ts
 * import { quadHomography } from "./homography.ts";
 * import { warpImage } from "./warp.ts";
 * const image = new Float32Array(28 * 28).fill(1);
 * const out = new Float32Array(28 * 28);
 * // squeeze the image's top-right corner 5 px inwards
 * warpImage(image, 0, out, 0, 28, 28, 1, quadHomography([0, 0, 22, 5, 27, 27, 0, 27], 28, 28));
 * ```
 *
 * @module
 */
import { invertMat3, isIdentityMat3, type Mat3 } from "./homography.ts";

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
 * import { affineHomography } from "./homography.ts";
 * import { warpImage } from "./warp.ts";
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
