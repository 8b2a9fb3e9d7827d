/**
 * Decoding the files of an image folder with `sharp`: headers (format, size,
 * colour layout), EXIF rotation, alpha flattened onto a background, resize
 * by centre crop or letterbox pad, grey <-> RGB, 8-bit pixels; unreadable
 * files are skipped with a reason. {@linkcode decodeFiles} runs it over a
 * file list, a few files at a time, and takes each file's content hash.
 *
 * **Grey or colour, from the pixels.** With `channels: "auto"` the choice
 * is made from what the images look like, not how they are stored: every
 * image stored with colour channels is decoded once to RGB (at most
 * {@linkcode COLOUR_CHECK_SIDE} pixels on its longer side) and its colour
 * spread measured (`folder_colour.ts`).
 *
 * @example
 * ```ts
 * import { decodeImage } from "./folder_decode.ts";
 * async function thumbnail(file: string): Promise<Uint8Array> {
 *   // 16x16 grey bytes, the centre cropped, transparency flattened onto white
 *   return await decodeImage(file, {
 *     height: 16,
 *     width: 16,
 *     channels: 1,
 *     fit: "crop",
 *     background: "white",
 *   });
 * }
 * ```
 *
 * @module
 */
import sharp from "sharp";
import path from "node:path";
import { byCodepoint, type ProgressCallback, type SkippedFile } from "./folder_report.ts";
import type { FoundFile } from "./folder_scan.ts";
import { fileHash } from "./folder_duplicates.ts";
import { type ColourSpread, colourSpread, isGrey } from "./folder_colour.ts";

const IMAGE_EXTENSIONS = new Set([
  ".jpg",
  ".jpeg",
  ".jpe",
  ".jfif",
  ".png",
  ".webp",
  ".gif",
  ".tif",
  ".tiff",
  ".avif",
  ".heic",
  ".heif",
  ".svg",
  ".bmp",
]);

/** What an image's header says (width and height after EXIF rotation). */
export interface Header {
  /** The format as sharp names it ("png", "jpeg", ...). */
  format: string;
  width: number;
  height: number;
  /** "grey", "grey+alpha", "rgb", "rgba", "cmyk". */
  layout: string;
  /** Stored as grey (with or without alpha). */
  grey: boolean;
  /** Has an alpha channel. */
  alpha: boolean;
}

/** How every image is decoded. */
export interface DecodeSettings {
  height: number;
  width: number;
  channels: 1 | 3;
  fit: "crop" | "pad";
  background: "white" | "black";
}

/** The longer side images are reduced to (never enlarged) for the colour check. */
export const COLOUR_CHECK_SIDE = 512;

function describeLayout(m: sharp.Metadata): string {
  const alpha = m.hasAlpha ? "+alpha" : "";
  if (m.space === "cmyk") return "cmyk";
  if (m.space === "b-w" || m.channels === 1 || (m.channels === 2 && m.hasAlpha)) {
    return `grey${alpha}`;
  }
  return m.hasAlpha ? "rgba" : "rgb";
}

/** The reason a file was skipped, from sharp's error. */
function whyNotImage(file: FoundFile, e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  const ext = path.extname(file.abs).toLowerCase();
  if (/unsupported image format/i.test(msg) && !IMAGE_EXTENSIONS.has(ext)) {
    return `not an image (sharp: ${msg})`;
  }
  return `corrupt or truncated image (sharp: ${msg})`;
}

/** Reads one image's header; throws for a file sharp cannot read. */
export async function readHeader(file: string): Promise<Header> {
  const m = await sharp(file).metadata();
  if (!m.width || !m.height) throw new Error("no image size in the header");
  const swap = (m.orientation ?? 1) >= 5; // EXIF orientations 5-8 turn the image by 90°
  const layout = describeLayout(m);
  return {
    format: m.format ?? "unknown",
    width: swap ? m.height : m.width,
    height: swap ? m.width : m.height,
    layout,
    grey: layout.startsWith("grey"),
    alpha: !!m.hasAlpha,
  };
}

/** How a pipeline resizes: to the output size, or down to fit a square (the colour check). */
type Resize =
  | { height: number; width: number; fit: "crop" | "pad" }
  | { inside: number };

/** The decoding pipeline: orientation, alpha, resize, sRGB, 8-bit raw. */
function pipeline(
  file: string,
  background: "white" | "black",
  size: Resize,
  failOn: "warning" | "none",
): sharp.Sharp {
  const flat = background === "white" ? "#ffffff" : "#000000";
  return sharp(file, { failOn })
    .rotate()
    .flatten({ background: flat })
    .resize(
      "inside" in size
        ? { width: size.inside, height: size.inside, fit: "inside", withoutEnlargement: true }
        : {
          width: size.width,
          height: size.height,
          fit: size.fit === "crop" ? "cover" : "contain",
          position: "centre",
          background: { r: 0, g: 0, b: 0, alpha: 1 },
        },
    )
    .toColourspace("srgb")
    .raw({ depth: "uchar" });
}

/** Runs the pipeline strictly; damaged image data is an error saying what the decoder warned. */
async function decodeStrict(
  file: string,
  background: "white" | "black",
  size: Resize,
): Promise<{ data: Uint8Array; info: sharp.OutputInfo }> {
  try {
    return await pipeline(file, background, size, "warning").toBuffer({ resolveWithObject: true });
  } catch (e) {
    if (!/failOn/.test((e as Error).message)) throw e;
    // "Warning treated as error": decode leniently once to say what the warning was.
    const lenient = pipeline(file, background, size, "none");
    const warnings: string[] = [];
    lenient.on("warning", (w: string) => warnings.push(w));
    await lenient.toBuffer(); // throws the decoder's own message if it fails too
    throw new Error(`damaged image data (${warnings[0] ?? "decoder warning"})`);
  }
}

/**
 * The {@linkcode ColourSpread} of one image as decoded (rotated, flattened
 * onto `background`, in sRGB), reduced to at most
 * {@linkcode COLOUR_CHECK_SIDE} pixels on its longer side; damaged data is
 * an error, as in {@linkcode decodeImage}.
 */
export async function measureColour(
  file: string,
  background: "white" | "black",
): Promise<ColourSpread> {
  const { data, info } = await decodeStrict(file, background, { inside: COLOUR_CHECK_SIDE });
  return colourSpread(data, info.channels);
}

/** Decodes one image to `height * width * channels` bytes; damaged data is an error. */
export async function decodeImage(file: string, s: DecodeSettings): Promise<Uint8Array> {
  const decoded = await decodeStrict(file, s.background, s);
  const { data, info } = decoded;
  const n = s.height * s.width;
  const c = info.channels;
  if (info.width !== s.width || info.height !== s.height || data.length !== n * c) {
    throw new Error(
      `decoded to ${info.width}x${info.height}x${c}, expected ${s.width}x${s.height}`,
    );
  }
  const out = new Uint8Array(n * s.channels);
  for (let p = 0; p < n; p++) {
    const r = data[p * c];
    const g = c >= 3 ? data[p * c + 1] : r;
    const b = c >= 3 ? data[p * c + 2] : r;
    if (s.channels === 3) {
      out[3 * p] = r;
      out[3 * p + 1] = g;
      out[3 * p + 2] = b;
    } else {
      out[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  return out;
}

/** Runs `fn` on every item, at most `limit` at a time; results in item order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  onDone?: (done: number) => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** What {@linkcode decodeFiles} asks for (unset size and "auto" channels are chosen). */
export interface DecodeRequest {
  /** [height, width]; unset: 32x32 for colour, 28x28 for grey. */
  size?: [number, number];
  /** 1, 3, or "auto"/unset: 1 when every readable image is grey in its pixels. */
  channels?: 1 | 3 | "auto";
  /** Centre crop or letterbox pad. */
  fit: "crop" | "pad";
  /** What transparent pixels are flattened onto. */
  background: "white" | "black";
  /** Files read at the same time. */
  concurrency: number;
  /** Called once per file and phase ("checking colour": only files stored as colour, "auto" only). */
  progress: ProgressCallback;
}

/** Every file decoded: per file (in list order) its header, pixels and hash, null if skipped. */
export interface DecodedFiles {
  headers: (Header | null)[];
  pixels: (Uint8Array | null)[];
  /** SHA-256 (hex) of each decoded file's bytes. */
  hashes: (string | null)[];
  /**
   * Each loaded image's {@linkcode ColourSpread}: with "auto" channels
   * measured before the choice (0 for images stored as grey), with 3 given
   * measured on the output pixels, with 1 given not measured (null).
   */
  spreads: (ColourSpread | null)[];
  /** Files not loaded, sorted by path. */
  skipped: SkippedFile[];
  /** Files whose header could be read. */
  readable: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** "auto": the channels were chosen from the pixels; "given": by the request. */
  channelMode: "auto" | "given";
}

/**
 * Reads every header; with "auto" channels measures the
 * {@linkcode ColourSpread} of every image stored as colour and keeps 1
 * channel when every image is grey within {@linkcode GREY_TOLERANCE} (3
 * otherwise, and when no image is readable); chooses the size (default
 * 32x32 for colour, 28x28 for grey), then decodes and hashes every readable
 * file, `concurrency` at a time; `progress` is called once per file and
 * phase.
 */
export async function decodeFiles(
  files: readonly FoundFile[],
  o: DecodeRequest,
): Promise<DecodedFiles> {
  const total = files.length;
  const skipped: SkippedFile[] = [];
  const skip = (i: number, e: unknown) => {
    skipped.push({ file: files[i].shown, reason: whyNotImage(files[i], e) });
    headers[i] = null;
    spreads[i] = null;
  };
  const headers: (Header | null)[] = await mapLimit(
    files,
    o.concurrency,
    async (f) => {
      try {
        return await readHeader(f.abs);
      } catch (e) {
        skipped.push({ file: f.shown, reason: whyNotImage(f, e) });
        return null;
      }
    },
    (done) => o.progress(done, total, "reading headers"),
  );
  const readable = headers.filter((h) => h !== null).length;
  const spreads: (ColourSpread | null)[] = files.map(() => null);
  const given = o.channels === 1 || o.channels === 3;
  let channels: 1 | 3;
  if (o.channels === 1 || o.channels === 3) {
    channels = o.channels;
  } else {
    // "auto": decide from the pixels of every image stored as colour.
    const check = files.flatMap((_, i) => {
      const h = headers[i];
      if (h?.grey) spreads[i] = { mean: 0, max: 0 };
      return h && !h.grey ? [i] : [];
    });
    await mapLimit(
      check,
      o.concurrency,
      async (i) => {
        try {
          spreads[i] = await measureColour(files[i].abs, o.background);
        } catch (e) {
          skip(i, e);
        }
      },
      (done) => o.progress(done, check.length, "checking colour"),
    );
    const measured = spreads.filter((s) => s !== null);
    channels = measured.length > 0 && measured.every((s) => isGrey(s)) ? 1 : 3;
  }
  const [height, width] = o.size ?? (channels === 3 ? [32, 32] : [28, 28]);

  const settings: DecodeSettings = {
    height,
    width,
    channels,
    fit: o.fit,
    background: o.background,
  };
  const hashes: (string | null)[] = files.map(() => null);
  const pixels = await mapLimit(
    files,
    o.concurrency,
    async (f, i) => {
      if (headers[i] === null) return null;
      try {
        const px = await decodeImage(f.abs, settings);
        if (given && channels === 3) spreads[i] = colourSpread(px, 3);
        hashes[i] = await fileHash(f.abs).catch(() => null);
        return px;
      } catch (e) {
        skip(i, e);
        return null;
      }
    },
    (done) => o.progress(done, total, "decoding"),
  );
  skipped.sort((a, b) => byCodepoint(a.file, b.file));
  return {
    headers,
    pixels,
    hashes,
    spreads,
    skipped,
    readable,
    height,
    width,
    channels,
    channelMode: given ? "given" : "auto",
  };
}
