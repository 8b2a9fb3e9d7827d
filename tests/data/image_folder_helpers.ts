/**
 * Test helpers: folders of generated images (coloured stripes, discs and
 * checkerboards) written with sharp, for the image-folder loader and the
 * experiment on `folder:<path>`.
 *
 * @module
 */
import sharp from "sharp";
import path from "node:path";
import { Rng } from "../../lib/rng.ts";

/** The pattern classes {@linkcode patternImage} draws. */
export const PATTERNS = ["stripes-h", "stripes-v", "disc", "checker"] as const;
/** One pattern class. */
export type Pattern = typeof PATTERNS[number];

/**
 * An RGB image (bytes, `h * w * 3`) of `pattern` in two random colours with a
 * random period / radius / phase and a little noise: the class is in the
 * shape, not the colour.
 */
export function patternImage(pattern: Pattern, h: number, w: number, rng: Rng): Uint8Array {
  const fg = [0, 1, 2].map(() => 60 + rng.int(196));
  const bg = fg.map((v) => (v + 80 + rng.int(96)) % 256);
  const period = 4 + rng.int(5);
  const phase = rng.int(period);
  const cx = w / 2 + rng.uniform(-w / 8, w / 8);
  const cy = h / 2 + rng.uniform(-h / 8, h / 8);
  const radius = Math.min(h, w) * rng.uniform(0.2, 0.4);
  const out = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let on: boolean;
      switch (pattern) {
        case "stripes-h":
          on = Math.floor((y + phase) / (period / 2)) % 2 === 0;
          break;
        case "stripes-v":
          on = Math.floor((x + phase) / (period / 2)) % 2 === 0;
          break;
        case "disc":
          on = (x - cx) ** 2 + (y - cy) ** 2 < radius ** 2;
          break;
        case "checker":
          on = (Math.floor((x + phase) / (period / 2)) + Math.floor((y + phase) / (period / 2))) %
              2 === 0;
          break;
      }
      const base = on ? fg : bg;
      for (let c = 0; c < 3; c++) {
        const v = base[c] + rng.int(21) - 10;
        out[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, v));
      }
    }
  }
  return out;
}

/**
 * Writes raw pixels as an image file; the format follows the extension (png,
 * jpg, webp, gif, tiff). JPEG quality `jpegQuality` (default 95).
 */
export async function writeImage(
  file: string,
  pixels: Uint8Array,
  h: number,
  w: number,
  channels: 1 | 3 | 4,
  jpegQuality = 95,
): Promise<void> {
  await Deno.mkdir(path.dirname(file), { recursive: true });
  let img = sharp(pixels, { raw: { width: w, height: h, channels } });
  if (channels === 1) img = img.toColourspace("b-w");
  const ext = path.extname(file).toLowerCase();
  if (ext === ".jpg" || ext === ".jpeg") img = img.jpeg({ quality: jpegQuality });
  else if (ext === ".webp") img = img.webp({ lossless: true });
  else if (ext === ".gif") img = img.gif();
  else if (ext === ".tif" || ext === ".tiff") img = img.tiff();
  else img = img.png();
  await img.toFile(file);
}

/** Options of {@linkcode makePatternFolder}. */
export interface PatternFolderOptions {
  /** Images per class. */
  perClass: number;
  /** Classes (default all four patterns). */
  classes?: readonly Pattern[];
  /** Image side. Default 32. */
  side?: number;
  /** Unlabelled images in `unlabeled/`. Default 0. */
  unlabelled?: number;
  /** Seed of the drawings. Default 1. */
  seed?: number;
  /** File extension. Default ".png". */
  ext?: string;
}

/** Fills `root` with `root/<pattern>/<i>.png` images (and `unlabeled/` ones); returns the count. */
export async function makePatternFolder(root: string, o: PatternFolderOptions): Promise<number> {
  const side = o.side ?? 32;
  const rng = new Rng(o.seed ?? 1);
  const classes = o.classes ?? PATTERNS;
  const ext = o.ext ?? ".png";
  const jobs: Promise<void>[] = [];
  for (const c of classes) {
    for (let i = 0; i < o.perClass; i++) {
      const px = patternImage(c, side, side, rng);
      jobs.push(
        writeImage(path.join(root, c, `${String(i).padStart(4, "0")}${ext}`), px, side, side, 3),
      );
    }
  }
  for (let i = 0; i < (o.unlabelled ?? 0); i++) {
    const px = patternImage(classes[i % classes.length], side, side, rng);
    jobs.push(writeImage(path.join(root, "unlabeled", `u${i}${ext}`), px, side, side, 3));
  }
  await Promise.all(jobs);
  return classes.length * o.perClass + (o.unlabelled ?? 0);
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "image_folder_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
