/**
 * Folders that look like real users' images, made from MNIST and
 * Fashion-MNIST written out as files: grey content stored as RGB PNG and JPEG
 * (JPEG's colour coding leaves R, G and B a little apart), every image at one
 * of several source sizes between 8x8 and 256x256, uneven classes, an
 * optional `unlabelled/` folder. The recipe that `deno task experiment`
 * chooses for a folder is checked on these (tests/e2e/realistic_folders_test.ts), and the
 * README's folder figures were measured on bigger ones written by this command:
 *
 * ```sh
 * deno run -A tools/realistic_folders.ts --source mnist --images 6000 --out /tmp/digits
 * ```
 *
 * @example
 * ```ts
 * import { writeRealisticFolder } from "./realistic_folders.ts";
 * const dir = await Deno.makeTempDir();
 * const report = await writeRealisticFolder(`${dir}/digits`, { source: "mnist", images: 100 });
 * report.perClass; // e.g. [52, 31, ...]: uneven on purpose
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
  oneOf,
  parseFlags,
  UsageError,
} from "../lib/cli/flags.ts";
import { runMain } from "../lib/cli/main.ts";
import { loadMnist } from "../lib/data/mnist.ts";
import { loadFashionMnist } from "../lib/data/fashion_mnist.ts";
import { Rng } from "../lib/rng.ts";

/** Options of {@linkcode writeRealisticFolder}. */
export interface RealisticFolderOptions {
  /** Where the images come from. */
  source: "mnist" | "fashion-mnist";
  /** Images written, about (classes get 0.5x to 1.5x their share). */
  images: number;
  /** Side lengths the images are stored at, drawn per image (default 8, 16, 28, 64, 256). */
  sizes?: number[];
  /** Share of the images stored as JPEG (default 0.5; the rest PNG). */
  jpegShare?: number;
  /** Share of the images put in `unlabelled/` (default 0). */
  unlabelledShare?: number;
  /** Seed of every choice (default 0). */
  seed?: number;
}

/** What was written. */
export interface RealisticFolderReport {
  dir: string;
  classNames: string[];
  /** Labelled images written per class. */
  perClass: number[];
  unlabelled: number;
}

const FASHION_NAMES = [
  "t-shirt",
  "trouser",
  "pullover",
  "dress",
  "coat",
  "sandal",
  "shirt",
  "sneaker",
  "bag",
  "boot",
];

/** Writes a realistic folder (see the module doc) to `dir`. */
export async function writeRealisticFolder(
  dir: string,
  options: RealisticFolderOptions,
): Promise<RealisticFolderReport> {
  const rng = new Rng(options.seed ?? 0);
  const sizes = options.sizes ?? [8, 16, 28, 64, 256];
  const jpegShare = options.jpegShare ?? 0.5;
  const { train } = options.source === "mnist" ? await loadMnist() : await loadFashionMnist();
  const k = train.classNames.length;
  const names = options.source === "mnist"
    ? train.classNames.map((c) => `digit-${c}`)
    : FASHION_NAMES.slice(0, k);
  const weights = Array.from({ length: k }, () => rng.uniform(0.5, 1.5));
  const total = weights.reduce((a, b) => a + b, 0);
  const perClass = weights.map((w) => Math.max(4, Math.round((options.images * w) / total)));
  const byClass: number[][] = Array.from({ length: k }, () => []);
  const order = rng.fork("order").permutation(train.count);
  for (const i of order) {
    const c = train.labels[i];
    if (byClass[c].length < perClass[c]) byClass[c].push(i);
    if (byClass.every((b, j) => b.length >= perClass[j])) break;
  }
  const unlabelledShare = options.unlabelledShare ?? 0;
  let unlabelled = 0;
  const px = train.height * train.width;
  const written: number[] = new Array(k).fill(0);
  for (let c = 0; c < k; c++) {
    for (const [n, i] of byClass[c].entries()) {
      const rgb = Buffer.alloc(px * 3);
      for (let p = 0; p < px; p++) {
        const v = Math.round(train.images[i * px + p] * 255);
        rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = v;
      }
      const side = sizes[rng.int(sizes.length)];
      const jpeg = rng.next() < jpegShare;
      const toUnlabelled = rng.next() < unlabelledShare;
      const folder = path.join(dir, toUnlabelled ? "unlabelled" : names[c]);
      await Deno.mkdir(folder, { recursive: true });
      const file = path.join(folder, `img_${String(n).padStart(5, "0")}.${jpeg ? "jpg" : "png"}`);
      const img = sharp(rgb, { raw: { width: train.width, height: train.height, channels: 3 } })
        .resize(side, side, { kernel: side < train.width ? "lanczos3" : "cubic" });
      await (jpeg ? img.jpeg({ quality: 85 }) : img.png()).toFile(file);
      if (toUnlabelled) unlabelled++;
      else written[c]++;
    }
  }
  return { dir, classNames: names, perClass: written, unlabelled };
}

/** The command's flags (`deno run -A tools/realistic_folders.ts --help`). */
export const REALISTIC_FOLDER_COMMAND = {
  name: "realistic_folders",
  usage: "deno run -A tools/realistic_folders.ts --out DIR [flags]",
  summary: "Writes a folder of images that looks like a user's (MNIST or Fashion-MNIST as RGB " +
    "PNG and JPEG files of mixed sizes, uneven classes), for `deno task experiment " +
    "--dataset folder:DIR`.",
  flags: {
    out: { type: "string", value: "DIR", description: "the folder to write (must not exist)" },
    source: {
      type: "string",
      value: "NAME",
      default: "mnist",
      description: "mnist or fashion-mnist",
    },
    images: { type: "string", value: "N", default: "1500", description: "images, about" },
    unlabelled: {
      type: "string",
      value: "SHARE",
      default: "0",
      description: "share of the images put in unlabelled/ (0..1)",
    },
    seed: { type: "string", value: "N", default: "1", description: "seed of every choice" },
  },
} as const satisfies CommandSpec;

async function main(argv: readonly string[]): Promise<void> {
  const v = parseFlags(REALISTIC_FOLDER_COMMAND, argv);
  if (v.out === undefined) throw new UsageError("--out DIR is required", { helpHint: true });
  if (existsSync(v.out)) throw new UsageError(`--out ${v.out} exists; give a new folder`);
  const source = oneOf("source", v.source, ["mnist", "fashion-mnist"]);
  const share = Number(v.unlabelled);
  if (!(share >= 0 && share <= 1)) {
    throw new UsageError(`--unlabelled must be a share in [0, 1], got "${v.unlabelled}"`);
  }
  const t0 = performance.now();
  const r = await writeRealisticFolder(v.out, {
    source,
    images: integerFlag("images", v.images, 20),
    unlabelledShare: share,
    seed: nonNegativeInt("seed", v.seed),
  });
  console.log(
    `${r.dir}: ${
      r.perClass.reduce((a, b) => a + b, 0)
    } labelled images in ${r.classNames.length} ` +
      `classes (${r.perClass.join(", ")}), ${r.unlabelled} unlabelled, ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
}

if (import.meta.main) await runMain("realistic_folders", () => main(Deno.args));
