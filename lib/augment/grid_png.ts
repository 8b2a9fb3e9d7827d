/**
 * Pictures of augmentations: {@linkcode imagesToPng} lays a batch of images
 * out as a PNG grid, and {@linkcode renderViewsGrid} shows originals and their
 * two augmented views one above the other (row 1: originals, row 2: view 1,
 * row 3: view 2; each column is one image and its positive pair), so one
 * can see at a glance whether an augmentation keeps the digit recognisable.
 *
 * Pixels are scaled from [0, 1] to 0..255 (values outside are clipped),
 * upscaled by an integer factor with nearest-neighbour (so the pixels of a
 * 28x28 digit stay crisp squares) and separated by thin mid-grey lines. The
 * PNG is encoded by `sharp` from raw pixels; 1-channel images give a grey
 * PNG, 3-channel images an RGB one.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { twoViews } from "./compose.ts";
 * import { renderViewsGrid } from "./grid_png.ts";
 * import { digitAugment } from "./presets.ts";
 * const images = new Float32Array(12 * 28 * 28).fill(0.5);
 * const [v1, v2] = twoViews(images, 12, 28, 28, 1, digitAugment(), new Rng(0));
 * const png = await renderViewsGrid(images, v1, v2, {
 *   count: 12, height: 28, width: 28, channels: 1, path: "data/outputs/views.png",
 * });
 * ```
 *
 * @module
 */
import sharp from "sharp";

/**
 * Layout options of {@linkcode imagesToPng}.
 *
 * @example
 * ```ts
 * import type { GridOptions } from "./grid_png.ts";
 * const layout: GridOptions = { columns: 8, scale: 4 };
 * ```
 */
export interface GridOptions {
  /** Images per row (rows are added as needed). */
  columns: number;
  /** Integer upscaling factor (nearest neighbour). Default: about 96 px per image side. */
  scale?: number;
  /** Width in pixels of the grey lines between and around images (default 2; 0 = none). */
  separator?: number;
}

/** The default upscaling: an integer factor giving images about 96 px across. */
function defaultScale(height: number, width: number): number {
  return Math.max(1, Math.floor(96 / Math.max(height, width)));
}

/**
 * Lays out the first `count` images of an NHWC batch (values in [0, 1]) as a
 * grid, `columns` per row, upscaled by `scale`, and encodes it as a PNG
 * (grey for 1 channel, RGB for 3, RGBA for 4). Returns the PNG bytes.
 *
 * @example
 * ```ts
 * import { imagesToPng } from "./grid_png.ts";
 * const images = new Float32Array(32 * 28 * 28).fill(0.5);
 * const png = await imagesToPng(images, 32, 28, 28, 1, { columns: 8, scale: 3 });
 * await Deno.writeFile(`${await Deno.makeTempDir()}/digits.png`, png);
 * ```
 */
export async function imagesToPng(
  images: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  options: GridOptions,
): Promise<Uint8Array> {
  const where = "imagesToPng";
  for (const [k, v] of [["height", height], ["width", width], ["channels", channels]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${where}: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (channels > 4) throw new Error(`${where}: at most 4 channels, got ${channels}`);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`${where}: count must be a positive integer, got ${count}`);
  }
  const n = height * width * channels;
  if (images.length < count * n) {
    throw new Error(
      `${where}: ${images.length} values hold fewer than ${count} images of ${height}x${width}x${channels}`,
    );
  }
  const columns = options.columns;
  if (!Number.isInteger(columns) || columns < 1) {
    throw new Error(`${where}: columns must be a positive integer, got ${columns}`);
  }
  const scale = options.scale ?? defaultScale(height, width);
  const sep = options.separator ?? 2;
  if (!Number.isInteger(scale) || scale < 1) {
    throw new Error(`${where}: scale must be a positive integer, got ${scale}`);
  }
  if (!Number.isInteger(sep) || sep < 0) {
    throw new Error(`${where}: separator must be a non-negative integer, got ${sep}`);
  }
  const rows = Math.ceil(count / columns);
  const cellW = width * scale;
  const cellH = height * scale;
  const outW = columns * cellW + (columns + 1) * sep;
  const outH = rows * cellH + (rows + 1) * sep;
  const C = channels;
  const raw = new Uint8Array(outW * outH * C).fill(128); // separators (and empty cells): grey
  if (C === 4) { for (let i = 3; i < raw.length; i += 4) raw[i] = 255; // opaque
   }
  for (let img = 0; img < count; img++) {
    const left = sep + (img % columns) * (cellW + sep);
    const top = sep + Math.floor(img / columns) * (cellH + sep);
    for (let y = 0; y < cellH; y++) {
      const srcRow = img * n + Math.floor(y / scale) * width * C;
      let q = ((top + y) * outW + left) * C;
      for (let x = 0; x < cellW; x++) {
        const p = srcRow + Math.floor(x / scale) * C;
        for (let c = 0; c < C; c++, q++) {
          const v = images[p + c];
          raw[q] = v >= 1 ? 255 : v > 0 ? Math.round(v * 255) : 0;
        }
      }
    }
  }
  let image = sharp(raw, { raw: { width: outW, height: outH, channels: C as 1 | 2 | 3 | 4 } });
  // sharp would otherwise save 1-channel pixels as RGB
  if (C === 1) image = image.toColourspace("b-w");
  const png = await image.png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/**
 * Options of {@linkcode renderViewsGrid}: the batch shape, how many images to
 * show, and optionally where to write the PNG.
 *
 * @example
 * ```ts
 * import type { ViewsGridOptions } from "./grid_png.ts";
 * const opts: ViewsGridOptions = { count: 10, height: 28, width: 28, channels: 1, scale: 4 };
 * ```
 */
export interface ViewsGridOptions {
  /** How many images to show: the first `count` of each array (one column each). */
  count: number;
  /** Rows per image. */
  height: number;
  /** Columns per image. */
  width: number;
  /** Channels per pixel (1 = grey, 3 = RGB). */
  channels: number;
  /** Integer upscaling factor (nearest neighbour). Default: about 96 px per image side. */
  scale?: number;
  /** Width in pixels of the grey separator lines (default 2). */
  separator?: number;
  /** If given, the PNG is also written here (parent folders are created). */
  path?: string;
}

/**
 * Renders originals and their two augmented views as a PNG grid of three
 * rows — originals, view 1, view 2 — with one column per image, so each
 * column shows an image above its positive pair. Shows the first `count`
 * images of each array, writes the PNG to `path` if given, and returns its
 * bytes.
 *
 * @example
 * ```ts
 * import { Rng } from "../rng.ts";
 * import { twoViews } from "./compose.ts";
 * import { renderViewsGrid } from "./grid_png.ts";
 * import { digitAugment } from "./presets.ts";
 * const images = new Float32Array(512 * 28 * 28).fill(0.5);
 * const rng = new Rng(0);
 * const [v1, v2] = twoViews(images, 512, 28, 28, 1, digitAugment(), rng);
 * await renderViewsGrid(images, v1, v2, { count: 12, height: 28, width: 28, channels: 1, path: `${await Deno.makeTempDir()}/views.png` });
 * ```
 */
export async function renderViewsGrid(
  originals: Float32Array,
  view1: Float32Array,
  view2: Float32Array,
  options: ViewsGridOptions,
): Promise<Uint8Array> {
  const { count, height, width, channels } = options;
  const n = count * height * width * channels;
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`renderViewsGrid: count must be a positive integer, got ${count}`);
  }
  for (const [k, a] of [["originals", originals], ["view1", view1], ["view2", view2]] as const) {
    if (a.length < n) {
      throw new Error(
        `renderViewsGrid: ${k} has ${a.length} values, fewer than ${count} images of ${height}x${width}x${channels}`,
      );
    }
  }
  const all = new Float32Array(3 * n);
  all.set(originals.subarray(0, n), 0);
  all.set(view1.subarray(0, n), n);
  all.set(view2.subarray(0, n), 2 * n);
  const png = await imagesToPng(all, 3 * count, height, width, channels, {
    columns: count,
    scale: options.scale,
    separator: options.separator,
  });
  if (options.path) {
    const slash = options.path.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(options.path.slice(0, slash), { recursive: true });
    await Deno.writeFile(options.path, png);
  }
  return png;
}
