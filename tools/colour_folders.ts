/**
 * A realistic folder of colour images, for sizing the experiment's colour runs: the emoji of the
 * `emoji-datasource-<vendor>` npm packages (64x64 PNG drawings by Google, Twitter, Apple and
 * Facebook, MIT / CC-BY / Apple's licences as each package says), sorted into their Unicode
 * categories ("animals-nature", "food-drink", "flags", ...: nine uneven classes, the skin-tone
 * variants left out), each laid on a random background colour and stored at one of several sizes
 * between 24x24 and 96x96, as PNG or JPEG. Nothing here is downloaded at run time: the packages are
 * fetched once with npm's own client and unpacked (`docs/your-images.md`):
 *
 * ```sh
 * for v in google twitter apple facebook; do
 *   npm pack emoji-datasource-$v@16.0.0 && mkdir -p /tmp/emoji/$v &&
 *   tar xzf emoji-datasource-$v-16.0.0.tgz -C /tmp/emoji/$v
 * done
 * deno run -A tools/colour_folders.ts --packages /tmp/emoji --images 6000 --out /tmp/emoji-6000
 * ```
 *
 * @example
 * ```ts
 * import { emojiCategoryFolder } from "./colour_folders.ts";
 * emojiCategoryFolder("Animals & Nature"); // "animals-nature"
 * ```
 *
 * @module
 */
import sharp from "sharp";
import path from "node:path";
import { existsSync } from "node:fs";
import {
  type CommandSpec,
  integerFlag,
  nonNegativeInt,
  parseFlags,
  UsageError,
} from "../lib/cli/flags.ts";
import { runMain } from "../lib/cli/main.ts";
import { Rng } from "../lib/rng.ts";

/** The vendors whose packages the tool reads, in this order. */
export const VENDORS = ["google", "twitter", "apple", "facebook"] as const;

/** A category's folder name: "Animals & Nature" → "animals-nature". */
export function emojiCategoryFolder(category: string): string {
  return category.toLowerCase().replace(/[^a-z]+/g, "-").replace(/^-|-$/g, "");
}

/** Options of {@linkcode writeColourFolder}. */
export interface ColourFolderOptions {
  /** A folder holding `<vendor>/package/` unpacked from `emoji-datasource-<vendor>`. */
  packages: string;
  /** Labelled images written, at most (every (emoji, vendor) pair once). */
  images: number;
  /** Side lengths drawn per image (default 24, 32, 48, 64, 96). */
  sizes?: number[];
  /** Share stored as JPEG (default 0.5). */
  jpegShare?: number;
  seed?: number;
}

interface Emoji {
  image: string;
  category: string;
  [vendorFlag: string]: unknown;
}

/** Writes the folder to `dir`; returns the class names and the images per class. */
export async function writeColourFolder(
  dir: string,
  options: ColourFolderOptions,
): Promise<{ classNames: string[]; perClass: number[] }> {
  const rng = new Rng(options.seed ?? 0);
  const sizes = options.sizes ?? [24, 32, 48, 64, 96];
  const jpegShare = options.jpegShare ?? 0.5;
  const pairs: { file: string; category: string }[] = [];
  for (const vendor of VENDORS) {
    const root = path.join(options.packages, vendor, "package");
    if (!existsSync(root)) continue;
    const list = JSON.parse(await Deno.readTextFile(path.join(root, "emoji.json"))) as Emoji[];
    for (const e of list) {
      const file = path.join(root, "img", vendor, "64", e.image);
      if (e.category === "Component" || !e[`has_img_${vendor}`] || !existsSync(file)) continue;
      pairs.push({ file, category: e.category });
    }
  }
  if (pairs.length === 0) {
    throw new Error(`no emoji-datasource package unpacked under ${options.packages}`);
  }
  const order = rng.fork("order").permutation(pairs.length).slice(0, options.images);
  const chosen = Array.from(order, (i) => pairs[i]);
  const classNames = [...new Set(pairs.map((p) => emojiCategoryFolder(p.category)))].sort();
  const perClass = new Array(classNames.length).fill(0);
  for (const p of chosen) {
    const name = emojiCategoryFolder(p.category);
    const c = classNames.indexOf(name);
    const side = sizes[rng.int(sizes.length)];
    const jpeg = rng.next() < jpegShare;
    const background = { r: rng.int(256), g: rng.int(256), b: rng.int(256) };
    const folder = path.join(dir, name);
    await Deno.mkdir(folder, { recursive: true });
    const file = path.join(
      folder,
      `img_${String(perClass[c]).padStart(5, "0")}.${jpeg ? "jpg" : "png"}`,
    );
    const img = sharp(p.file).flatten({ background }).resize(side, side, { kernel: "lanczos3" });
    await (jpeg ? img.jpeg({ quality: 85 }) : img.png()).toFile(file);
    perClass[c]++;
  }
  return { classNames, perClass };
}

/** The command's flags (`deno run -A tools/colour_folders.ts --help`). */
export const COLOUR_FOLDER_COMMAND = {
  name: "colour_folders",
  usage: "deno run -A tools/colour_folders.ts --packages DIR --out DIR [flags]",
  summary: "Writes a folder of colour images (emoji drawings in nine categories, on random " +
    "backgrounds, PNG and JPEG of mixed sizes) for `deno task experiment --dataset folder:DIR`.",
  flags: {
    packages: {
      type: "string",
      value: "DIR",
      description: "holds <vendor>/package/ unpacked from emoji-datasource-<vendor>@16.0.0",
    },
    out: { type: "string", value: "DIR", description: "the folder to write (must not exist)" },
    images: { type: "string", value: "N", default: "6000", description: "images, at most" },
    seed: { type: "string", value: "N", default: "1", description: "seed of every choice" },
  },
} as const satisfies CommandSpec;

async function main(argv: readonly string[]): Promise<void> {
  const v = parseFlags(COLOUR_FOLDER_COMMAND, argv);
  if (v.out === undefined || v.packages === undefined) {
    throw new UsageError("--packages DIR and --out DIR are required", { helpHint: true });
  }
  if (existsSync(v.out)) throw new UsageError(`--out ${v.out} exists; give a new folder`);
  const t0 = performance.now();
  const r = await writeColourFolder(v.out, {
    packages: v.packages,
    images: integerFlag("images", v.images, 20),
    seed: nonNegativeInt("seed", v.seed),
  });
  console.log(
    `${v.out}: ${r.perClass.reduce((a, b) => a + b, 0)} images in ${r.classNames.length} ` +
      `classes (${r.classNames.map((n, i) => `${n} ${r.perClass[i]}`).join(", ")}), ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
}

if (import.meta.main) await runMain("colour_folders", () => main(Deno.args));
