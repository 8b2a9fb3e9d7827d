/**
 * Assembling an image folder's datasets from its decoded files: which class
 * folders kept readable images (at least two are needed), the labelled and
 * unlabelled items of each side, the counts of the report (sizes, layouts,
 * formats, conversions, how the channels were chosen), and the packed bytes
 * turned into an `ImageDataset`.
 *
 * @example
 * ```ts
 * import { packItems, toDataset } from "./folder_assemble.ts";
 * const pixels = [new Uint8Array([0, 255]), new Uint8Array([255, 0])];
 * const part = packItems([{ file: 1, label: 0 }, { file: 0, label: 1 }], {
 *   pixels,
 *   height: 1,
 *   width: 2,
 *   channels: 1,
 * });
 * const ds = toDataset("tiny", part, { height: 1, width: 2, channels: 1, classNames: ["a", "b"] });
 * ds.images; // Float32Array [1, 0, 0, 1]
 * ```
 *
 * @module
 */
import path from "node:path";
import { checkDataset, type ImageDataset } from "./dataset.ts";
import type { Decoded } from "./folder_cache.ts";
import type { DecodedFiles } from "./folder_decode.ts";
import { GREY_TOLERANCE, isGrey } from "./folder_colour.ts";
import type { FoundFile } from "./folder_scan.ts";
import {
  bump,
  byCodepoint,
  type ChannelChoice,
  channelReason,
  type ColourExample,
  topCounts,
} from "./folder_report.ts";

const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Throws, naming `where`, unless there are two classes or more. */
export function needTwo(classes: string[], where: string, what: string): void {
  if (classes.length >= 2) return;
  throw new Error(
    `image folder ${where}: found ${classes.length} class folder(s) ${what}` +
      `${classes.length ? ` ("${classes.join('", "')}")` : ""}; the experiment needs at least ` +
      `2 classes (contrastive pre-training uses no labels, but the classifier and its test ` +
      `score need two or more). Put each class's images in its own folder: ` +
      `${path.join(where, "<class name>", "<image file>")}`,
  );
}

export function toDataset(
  name: string,
  part: { pixels: Uint8Array; labels: Int32Array; paths?: string[] },
  d: Pick<Decoded, "height" | "width" | "channels" | "classNames">,
): ImageDataset {
  const images = new Float32Array(part.pixels.length);
  for (let i = 0; i < images.length; i++) images[i] = UNIT[part.pixels[i]];
  const ds: ImageDataset = {
    name,
    images,
    labels: part.labels,
    count: part.labels.length,
    height: d.height,
    width: d.width,
    channels: d.channels,
    classNames: [...d.classNames],
    ...(part.paths ? { paths: [...part.paths] } : {}),
  };
  checkDataset(ds);
  return ds;
}

/** An image of the load: its index in the file list and its label (-1: unlabelled). */
export interface Item {
  file: number;
  label: number;
}

/** The decoded files sorted into classes, sides and the counts of the report. */
export function collect(
  files: readonly FoundFile[],
  nTrainFiles: number,
  dec: DecodedFiles,
  classFolders: string[],
  trainRoot: string,
  testRoot: string | null,
  warnings: string[],
) {
  const kept = new Map<string, number>();
  files.forEach((f, i) => {
    if (dec.pixels[i] && f.cls !== null && i < nTrainFiles) bump(kept, f.cls);
  });
  const classNames = classFolders.filter((c) => {
    if (kept.has(c)) return true;
    warnings.push(
      `class folder ${path.join(trainRoot, c)} has no readable image: class "${c}" dropped`,
    );
    return false;
  });
  needTwo(classNames, trainRoot, "with readable images");
  const classIndex = new Map(classNames.map((c, i) => [c, i]));
  const sizes = new Map<string, number>();
  const layouts = new Map<string, number>();
  const formats = new Map<string, number>();
  const counts = { resized: 0, converted: 0, alphaFlattened: 0 };
  const trainItems: Item[] = [];
  const testItems: Item[] = [];
  const strayTest = new Map<string, number>();
  files.forEach((f, i) => {
    const h = dec.headers[i];
    if (!h || !dec.pixels[i]) return;
    bump(sizes, `${h.width}x${h.height}`);
    bump(layouts, h.layout);
    bump(formats, h.format);
    if (h.width !== dec.width || h.height !== dec.height) counts.resized++;
    if (h.grey !== (dec.channels === 1)) counts.converted++;
    if (h.alpha) counts.alphaFlattened++;
    const isTest = i >= nTrainFiles;
    const label = f.cls === null ? -1 : classIndex.get(f.cls);
    if (label === undefined) {
      if (isTest) bump(strayTest, f.cls!);
      return;
    }
    (isTest ? testItems : trainItems).push({ file: i, label });
  });
  for (const [c, n] of strayTest) {
    warnings.push(
      `${n} image(s) of ${
        path.join(testRoot!, c)
      } ignored: the training folder has no class "${c}"`,
    );
  }
  const channelChoice = describeChannels(files, dec, [trainRoot, testRoot]);
  if (
    channelChoice.mode === "given" && channelChoice.channels === 3 && channelChoice.colour === 0
  ) {
    warnings.push(
      `every image is grey in its pixels but channels: 3 was given: channels: 1 ` +
        `(--channels 1) would train on 1 channel, 3x faster`,
    );
  }
  const stats = {
    ...counts,
    sizes: topCounts(sizes),
    colourLayouts: topCounts(layouts),
    formats: topCounts(formats),
  };
  return { classNames, trainItems, testItems, stats, channelChoice };
}

/**
 * The {@linkcode ChannelChoice} of the decoded files: how many were loaded,
 * stored as colour and have colour in their pixels (the first few named),
 * and its reason line (example paths relative to the first of `roots`).
 */
export function describeChannels(
  files: readonly FoundFile[],
  dec: Pick<DecodedFiles, "headers" | "pixels" | "spreads" | "channels" | "channelMode">,
  roots: readonly (string | null)[],
): ChannelChoice {
  let images = 0;
  let storedColour = 0;
  let onlyRgb = true;
  let greyMax: number | null = null;
  const colour: ColourExample[] = [];
  files.forEach((f, i) => {
    const h = dec.headers[i];
    if (!h || !dec.pixels[i]) return;
    images++;
    if (!h.grey) {
      storedColour++;
      if (h.layout !== "rgb" && h.layout !== "rgba") onlyRgb = false;
    }
    const s = dec.spreads[i];
    if (!s) return;
    if (isGrey(s)) greyMax = Math.max(greyMax ?? 0, s.max);
    else colour.push({ file: f.shown, mean: Math.round(s.mean * 100) / 100, max: s.max });
  });
  colour.sort((a, b) => byCodepoint(a.file, b.file));
  const c: Omit<ChannelChoice, "reason"> = {
    mode: dec.channelMode,
    channels: dec.channels,
    images,
    storedColour,
    colour: dec.channelMode === "given" && dec.channels === 1 ? null : colour.length,
    colourExamples: colour.slice(0, 5),
    greyMaxDifference: greyMax,
    tolerance: { ...GREY_TOLERANCE },
  };
  return { ...c, reason: channelReason(c, roots, onlyRgb ? "RGB" : "colour") };
}

/** The pixels (bytes) and labels of `items`, in their order, and their paths when `files` are given. */
export function packItems(
  items: readonly Item[],
  dec: Pick<DecodedFiles, "pixels" | "height" | "width" | "channels">,
  files?: readonly { shown: string }[],
): { pixels: Uint8Array; labels: Int32Array; paths?: string[] } {
  const size = dec.height * dec.width * dec.channels;
  const pixels = new Uint8Array(items.length * size);
  const labels = new Int32Array(items.length);
  items.forEach((it, k) => {
    pixels.set(dec.pixels[it.file]!, k * size);
    labels[k] = it.label;
  });
  return files
    ? { pixels, labels, paths: items.map((it) => files[it.file].shown) }
    : { pixels, labels };
}
