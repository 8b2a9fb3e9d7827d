/**
 * What an image-folder load tells its user: the {@linkcode ImageFolderReport}
 * (classes, split, how the channels were chosen, conversions, skipped
 * files, links skipped as repeats, byte-identical images),
 * {@linkcode formatReport} to print it, and
 * {@linkcode consoleProgress}, the stderr progress line of long loads.
 *
 * @example
 * ```ts
 * import { consoleProgress } from "./folder_report.ts";
 * const progress = consoleProgress("image folder photos/");
 * progress(10, 20, "decoding"); // under 500 files: prints nothing
 * ```
 *
 * @module
 */
import path from "node:path";

/** Progress of a long step: `done` of `total` files, in `phase`. */
export type ProgressCallback = (
  done: number,
  total: number,
  phase: "reading headers" | "checking colour" | "decoding",
) => void;

/** A file that was not loaded, and why. */
export interface SkippedFile {
  /** The file's path (the root as given, joined with its path inside the root). */
  file: string;
  /** Why, in words, e.g. "corrupt or truncated image (pngload: end of stream)". */
  reason: string;
}

/** Folders and files reached a second time through a symbolic link, and skipped. */
export interface RepeatReport {
  /** Entries skipped because their real path was visited already. */
  count: number;
  /** The first few of them (paths as shown, sorted). */
  examples: string[];
}

/** Two files with the same bytes. */
export interface DuplicatePair {
  /** The later file (a test image, or a training image after its first copy). */
  file: string;
  /** The training image with the same bytes. */
  sameAs: string;
}

/** Byte-identical images (same SHA-256 of the file bytes) after the split. */
export interface DuplicateReport {
  /** Test images whose bytes equal those of a training image (labelled or unlabelled). */
  testInTrain: number;
  /** A few of them, each with a training image it equals. */
  testInTrainExamples: DuplicatePair[];
  /** Training images whose bytes equal those of another training image (informative). */
  withinTrain: number;
  /** A few of them, each with the first training image it equals. */
  withinTrainExamples: DuplicatePair[];
}

/** An image with colour in its pixels and how far from grey it is (levels of 0..255). */
export interface ColourExample {
  /** The file's path (as in {@linkcode SkippedFile.file}). */
  file: string;
  /** The mean over its pixels of max(R, G, B) − min(R, G, B). */
  mean: number;
  /** The largest such difference of any pixel. */
  max: number;
}

/** How the output channels were chosen, and what the pixels showed. */
export interface ChannelChoice {
  /** "auto": chosen from the pixels; "given": the `channels` option. */
  mode: "auto" | "given";
  /** The output channels: 3 = RGB, 1 = grey. */
  channels: 1 | 3;
  /** Images loaded. */
  images: number;
  /** Of them, stored with colour channels (RGB, RGBA, CMYK, palette, ...). */
  storedColour: number;
  /** Of them, with colour in their pixels; null when not measured (`channels: 1` given). */
  colour: number | null;
  /** The first few images with colour (by path), at most 5. */
  colourExamples: ColourExample[];
  /**
   * The largest channel difference of any pixel of the images found grey
   * (levels of 0..255); null when not measured or no image is grey.
   */
  greyMaxDifference: number | null;
  /** What an image may reach and still count as grey: mean and largest channel difference. */
  tolerance: { mean: number; max: number };
  /**
   * One line saying what was decided and why, e.g. `channels: 1 (auto):
   * every image is grey in its pixels (1,499 images, 750 of them stored as
   * RGB; largest channel difference 3/255)`.
   */
  reason: string;
}

/** Everything worth knowing about a load: what was found, converted, skipped. */
export interface ImageFolderReport {
  /** The folder the training images came from. */
  root: string;
  /** The test folder, or null when the test set was split off the training folder. */
  testRoot: string | null;
  /** "folder": a separate test folder; "seeded": a stratified seeded split. */
  split: "folder" | "seeded";
  /** The split's seed. */
  seed: number;
  /** The split's test fraction (unused with a test folder). */
  testFraction: number;
  /** Class names, in label order (sorted folder names). */
  classNames: string[];
  /** Images per class in each set. */
  classes: { name: string; train: number; test: number }[];
  /** Unlabelled images (label -1), all in the training set. */
  unlabelled: number;
  /** Files looked at (hidden files and repeats excluded). */
  filesFound: number;
  /** Images decoded and kept. */
  decoded: number;
  /** Files not loaded, each with its reason. */
  skipped: SkippedFile[];
  /** Hidden and system files ignored silently. */
  ignored: number;
  /** Symbolic links to a folder or file already visited, skipped (each real path is read once). */
  repeats: RepeatReport;
  /** Byte-identical images across the split and within the training set. */
  duplicates: DuplicateReport;
  /** Human-readable warnings; each names the file or folder concerned. */
  warnings: string[];
  /** The output image size [height, width]. */
  size: [number, number];
  /** The output channels: 3 = RGB, 1 = grey. */
  channels: 1 | 3;
  /** How `channels` was chosen ("auto": from the pixels) and why. */
  channelChoice: ChannelChoice;
  /** How images were fitted to `size`. */
  fit: "crop" | "pad";
  /** Images whose stored size differed from `size` (all are resized). */
  resized: number;
  /** Images whose colour channels were converted (grey -> RGB or colour -> grey). */
  converted: number;
  /** Images with an alpha channel, flattened onto the background. */
  alphaFlattened: number;
  /** Stored sizes "WIDTHxHEIGHT" and how many images had each (the 20 most common). */
  sizes: Record<string, number>;
  /** Stored colour layouts ("grey", "grey+alpha", "rgb", "rgba", "cmyk", ...) and counts. */
  colourLayouts: Record<string, number>;
  /** File formats as sharp reports them ("jpeg", "png", ...) and counts. */
  formats: Record<string, number>;
  /** "hit": read from the cache; "miss": decoded (and cached); "off": no cache. */
  cache: "hit" | "miss" | "off";
  /** The cache's header file, when the cache is on. */
  cacheFile?: string;
  /** Seconds the load took. */
  seconds: number;
}

/** Sorts strings by code point (not by locale): the order of every listing. */
export const byCodepoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Adds one to `key`'s count. */
export function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The `keep` largest counts, as an object (ties in code-point order). */
export function topCounts(counts: Map<string, number>, keep = 20): Record<string, number> {
  return Object.fromEntries(
    [...counts.entries()].sort((a, b) => b[1] - a[1] || byCodepoint(a[0], b[0])).slice(0, keep),
  );
}

/**
 * A progress printer for scripts: at most one line a second on stderr (and
 * the final one), e.g. `image folder photos/: decoding 1200/2000 (60%)`.
 * Folders smaller than `minTotal` print nothing.
 */
export function consoleProgress(label: string, minTotal = 500): ProgressCallback {
  let last = 0;
  const tty = (() => {
    try {
      return Deno.stderr.isTerminal();
    } catch {
      return false;
    }
  })();
  const encoder = new TextEncoder();
  return (done, total, phase) => {
    if (total < minTotal) return;
    const now = performance.now();
    if (done < total && now - last < 1000) return;
    last = now;
    const line = `${label}: ${phase} ${done}/${total} (${Math.floor((100 * done) / total)}%)`;
    const end = done === total ? "\n" : "";
    try {
      Deno.stderr.writeSync(encoder.encode(tty ? `\r${line}${end}` : `${line}\n`));
    } catch {
      // no stderr (embedded use): progress is optional
    }
  };
}

/** `file` relative to the first of `roots` it lies inside; else as is. */
export function relativeTo(roots: readonly (string | null)[], file: string): string {
  for (const base of roots) {
    if (base === null) continue;
    const rel = path.relative(base, file);
    if (rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel)) return rel;
  }
  return file;
}

/** `file` relative to the report's root (or test root) when it lies inside; else as is. */
function short(r: ImageFolderReport, file: string): string {
  return relativeTo([r.root, r.testRoot], file);
}

const count = (n: number) => n.toLocaleString("en-US");
const level = (v: number) => `${Number.isInteger(v) ? v : v.toFixed(1)}/255`;

/**
 * The {@linkcode ChannelChoice.reason} line of `c` (without `reason`);
 * example paths are shown relative to the first of `roots` they lie in.
 */
export function channelReason(
  c: Omit<ChannelChoice, "reason">,
  roots: readonly (string | null)[] = [],
  storedAs = "colour",
): string {
  const head = `channels: ${c.channels} (${c.mode})`;
  const n = count(c.images);
  if (c.images === 0) return `${head}: no image was loaded`;
  const stored = c.storedColour === 0
    ? "all stored as grey"
    : c.storedColour === c.images
    ? `all stored as ${storedAs}`
    : `${count(c.storedColour)} of them stored as ${storedAs}`;
  if (c.colour === null) {
    return `${head}: ${
      c.storedColour === 0
        ? `every image is stored as grey (${n} images)`
        : `${count(c.storedColour)} of ${n} images stored as ${storedAs} converted to grey (luma)`
    }`;
  }
  if (c.colour === 0) {
    const diff = c.greyMaxDifference === null
      ? ""
      : `; largest channel difference ${level(c.greyMaxDifference)}`;
    return `${head}: every image is grey in its pixels (${n} images, ${stored}${diff})`;
  }
  const ex = c.colourExamples.slice(0, 3).map((e) => relativeTo(roots, e.file));
  const first = c.colourExamples[0];
  const how = first
    ? `; in ${ex[0]} R, G, B differ by ${first.mean.toFixed(1)}/255 on average and up to ` +
      `${level(first.max)}, grey allows ${c.tolerance.mean.toFixed(1)}/255 and ` +
      `${level(c.tolerance.max)}`
    : "";
  return `${head}: ${count(c.colour)} of ${n} images have colour in their pixels ` +
    `(e.g. ${ex.join(", ")}${how})`;
}

/** "a/x.png = a/y.png, ..." for up to `n` pairs. */
function pairs(r: ImageFolderReport, list: DuplicatePair[], n = 2): string {
  return list.slice(0, n).map((p) => `${short(r, p.file)} = ${short(r, p.sameAs)}`).join(", ");
}

/**
 * A few lines for a log or a notebook: what was loaded, the split, how the
 * channels were chosen and why, how many images were resized or converted, every file skipped with its reason,
 * links skipped as repeats, and a warning when test images are byte-identical
 * to training images (which inflates test accuracy).
 */
export function formatReport(r: ImageFolderReport): string {
  const trainN = r.classes.reduce((n, c) => n + c.train, 0) + r.unlabelled;
  const testN = r.classes.reduce((n, c) => n + c.test, 0);
  const lines = [
    `${r.root}: ${r.decoded} of ${r.filesFound} files loaded as ${r.size[0]}x${r.size[1]}x` +
    `${r.channels} (${r.fit}), ${r.classNames.length} classes, ${trainN} train` +
    `${r.unlabelled ? ` (${r.unlabelled} unlabelled)` : ""} / ${testN} test ` +
    (r.split === "folder"
      ? `(test folder ${r.testRoot})`
      : `(seeded stratified split, ${Math.round(r.testFraction * 100)}% test, seed ${r.seed})`) +
    `, cache ${r.cache}, ${r.seconds.toFixed(1)} s`,
    `  classes: ${r.classes.map((c) => `${c.name} ${c.train}/${c.test}`).join(", ")}`,
    `  ${r.channelChoice.reason}`,
    `  resized ${r.resized}, colour converted ${r.converted}, alpha flattened ${r.alphaFlattened}`,
  ];
  const d = r.duplicates;
  if (d.testInTrain) {
    const n = d.testInTrain;
    lines.push(
      `  warning: ${n} test image${n === 1 ? " is" : "s are"} byte-identical to training ` +
        `images (e.g. ${pairs(r, d.testInTrainExamples)}): test accuracy will be inflated`,
    );
  }
  if (d.withinTrain) {
    lines.push(
      `  note: ${d.withinTrain} training image(s) are byte-identical to other training images ` +
        `(e.g. ${pairs(r, d.withinTrainExamples)})`,
    );
  }
  if (r.repeats.count) {
    lines.push(
      `  skipped ${r.repeats.count} repeat(s): symbolic links to a folder or file already ` +
        `visited, each read once (e.g. ${
          r.repeats.examples.slice(0, 3).map((f) => short(r, f))
            .join(", ")
        })`,
    );
  }
  if (r.skipped.length) {
    const reasons = new Map<string, number>();
    for (const s of r.skipped) bump(reasons, s.reason.split(" (")[0]);
    lines.push(
      `  skipped ${r.skipped.length} file(s): ` +
        [...reasons].map(([k, n]) => `${n} ${k}`).join(", "),
    );
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join("\n");
}
